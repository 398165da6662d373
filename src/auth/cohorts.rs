//! Cohorts: who teaches whom. The `cohorts`, `cohort_instructors` and
//! `cohort_members` tables, and [`can_view_learner`], the one rule every page
//! that shows someone's work must ask.
//!
//! A cohort's owner is also recorded in `cohort_instructors`, so "the
//! instructors of a cohort" is one table; co-teachers are added there too.

use sqlx::PgPool;
use time::OffsetDateTime;

use crate::auth::secret;
use crate::auth::users::{Role, User};

/// Characters in a join code (5 bits each: 50 bits, far beyond guessing).
pub const JOIN_CODE_LENGTH: usize = 10;

/// A cohort as its instructors and members see it.
#[derive(Clone, Debug)]
pub struct Cohort {
    /// `cohorts.id`
    pub id: i64,
    /// Its name, as given.
    pub name: String,
    /// The code learners join with.
    pub join_code: String,
    /// Who created it.
    pub owner_id: i64,
    /// How many learners have joined.
    pub members: i64,
    /// When it was created.
    pub created_at: OffsetDateTime,
}

/// Someone in a cohort's roster.
#[derive(Clone, Debug)]
pub struct Person {
    /// `users.id`
    pub id: i64,
    /// Their name, as given.
    pub display_name: String,
    /// Their email, as given.
    pub email: String,
    /// When they joined (learners) or the cohort was created (instructors).
    pub since: OffsetDateTime,
}

/// A cohort's name: 1 to 100 characters, no control characters.
#[derive(Clone, Debug)]
pub struct CohortName(String);

impl CohortName {
    /// Trims and checks the name.
    pub fn parse(value: &str) -> Result<Self, String> {
        let value = value.trim();
        if value.is_empty() {
            return Err("Name the cohort, e.g. \"Spring 2026, Berlin\".".into());
        }
        if value.chars().count() > 100 {
            return Err("Use at most 100 characters.".into());
        }
        if value.chars().any(char::is_control) {
            return Err("Use letters, digits, spaces and punctuation only.".into());
        }
        Ok(Self(value.to_string()))
    }

    /// The name as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A join code as typed: case and separators are forgiven.
pub fn normalise_code(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// Creates a cohort owned (and taught) by `owner`, with a fresh join code.
pub async fn create(db: &PgPool, owner: &User, name: &CohortName) -> Result<Cohort, sqlx::Error> {
    loop {
        let code = secret::random_code(JOIN_CODE_LENGTH);
        let mut tx = db.begin().await?;
        let inserted = sqlx::query_scalar!(
            "INSERT INTO cohorts (name, join_code, owner_id) VALUES ($1, $2, $3) RETURNING id",
            name.as_str(),
            code,
            owner.id,
        )
        .fetch_one(&mut *tx)
        .await;
        let id = match inserted {
            Ok(id) => id,
            // A code collision (one in 2^50 per pair): draw another.
            Err(sqlx::Error::Database(e)) if e.constraint() == Some("cohorts_join_code_key") => {
                continue;
            }
            Err(error) => return Err(error),
        };
        sqlx::query!(
            "INSERT INTO cohort_instructors (cohort_id, user_id) VALUES ($1, $2)",
            id,
            owner.id,
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        return find(db, id).await?.ok_or(sqlx::Error::RowNotFound);
    }
}

// Every read of a cohort selects the same columns; `members` counts the
// learners who joined (`count(*)` is never NULL, hence the `!`).

async fn find(db: &PgPool, id: i64) -> Result<Option<Cohort>, sqlx::Error> {
    sqlx::query_as!(
        Cohort,
        r#"SELECT c.id, c.name, c.join_code, c.owner_id,
                  (SELECT count(*) FROM cohort_members m WHERE m.cohort_id = c.id) AS "members!",
                  c.created_at
             FROM cohorts c WHERE c.id = $1"#,
        id,
    )
    .fetch_optional(db)
    .await
}

/// The cohorts `viewer` teaches (all of them for an admin), newest first.
pub async fn teaching(db: &PgPool, viewer: &User) -> Result<Vec<Cohort>, sqlx::Error> {
    if !viewer.role.can_teach() {
        return Ok(Vec::new());
    }
    sqlx::query_as!(
        Cohort,
        r#"SELECT c.id, c.name, c.join_code, c.owner_id,
                  (SELECT count(*) FROM cohort_members m WHERE m.cohort_id = c.id) AS "members!",
                  c.created_at
             FROM cohorts c
            WHERE $2 OR c.owner_id = $1
               OR EXISTS (SELECT 1 FROM cohort_instructors i WHERE i.cohort_id = c.id AND i.user_id = $1)
            ORDER BY c.id DESC"#,
        viewer.id,
        viewer.role == Role::Admin,
    )
    .fetch_all(db)
    .await
}

/// The cohort `id` if `viewer` teaches it (or is an admin); `None` otherwise,
/// so callers answer 404 and do not reveal that it exists.
pub async fn find_taught(
    db: &PgPool,
    viewer: &User,
    id: i64,
) -> Result<Option<Cohort>, sqlx::Error> {
    if !viewer.role.can_teach() {
        return Ok(None);
    }
    sqlx::query_as!(
        Cohort,
        r#"SELECT c.id, c.name, c.join_code, c.owner_id,
                  (SELECT count(*) FROM cohort_members m WHERE m.cohort_id = c.id) AS "members!",
                  c.created_at
             FROM cohorts c
            WHERE c.id = $1 AND ($3 OR c.owner_id = $2 OR EXISTS
                  (SELECT 1 FROM cohort_instructors i WHERE i.cohort_id = c.id AND i.user_id = $2))"#,
        id,
        viewer.id,
        viewer.role == Role::Admin,
    )
    .fetch_optional(db)
    .await
}

/// The cohorts `user_id` has joined as a learner.
pub async fn joined(db: &PgPool, user_id: i64) -> Result<Vec<Cohort>, sqlx::Error> {
    sqlx::query_as!(
        Cohort,
        r#"SELECT c.id, c.name, c.join_code, c.owner_id,
                  (SELECT count(*) FROM cohort_members m WHERE m.cohort_id = c.id) AS "members!",
                  c.created_at
             FROM cohorts c JOIN cohort_members j ON j.cohort_id = c.id
            WHERE j.user_id = $1 ORDER BY j.joined_at DESC"#,
        user_id,
    )
    .fetch_all(db)
    .await
}

/// The cohort with this join code (normalised first).
pub async fn find_by_code(db: &PgPool, code: &str) -> Result<Option<Cohort>, sqlx::Error> {
    let code = normalise_code(code);
    if code.len() != JOIN_CODE_LENGTH {
        return Ok(None);
    }
    sqlx::query_as!(
        Cohort,
        r#"SELECT c.id, c.name, c.join_code, c.owner_id,
                  (SELECT count(*) FROM cohort_members m WHERE m.cohort_id = c.id) AS "members!",
                  c.created_at
             FROM cohorts c WHERE c.join_code = $1"#,
        code,
    )
    .fetch_optional(db)
    .await
}

/// Adds `user_id` to the cohort as a learner (joining twice is harmless).
pub async fn join(db: &PgPool, cohort_id: i64, user_id: i64) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO cohort_members (cohort_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        cohort_id,
        user_id,
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Adds `user_id` as a co-teacher (adding twice is harmless).
pub async fn add_instructor(db: &PgPool, cohort_id: i64, user_id: i64) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO cohort_instructors (cohort_id, user_id) VALUES ($1, $2)
         ON CONFLICT DO NOTHING",
        cohort_id,
        user_id,
    )
    .execute(db)
    .await?;
    Ok(())
}

/// The cohort's instructors, owner first.
pub async fn instructors(db: &PgPool, cohort: &Cohort) -> Result<Vec<Person>, sqlx::Error> {
    sqlx::query_as!(
        Person,
        "SELECT u.id, u.display_name, u.email, u.created_at AS since FROM users u
           JOIN cohort_instructors i ON i.user_id = u.id WHERE i.cohort_id = $1
          ORDER BY (u.id = $2) DESC, u.display_name",
        cohort.id,
        cohort.owner_id,
    )
    .fetch_all(db)
    .await
}

/// The cohort's learners, in the order they joined.
pub async fn members(db: &PgPool, cohort_id: i64) -> Result<Vec<Person>, sqlx::Error> {
    sqlx::query_as!(
        Person,
        "SELECT u.id, u.display_name, u.email, m.joined_at AS since FROM users u
           JOIN cohort_members m ON m.user_id = u.id WHERE m.cohort_id = $1
          ORDER BY m.joined_at, u.id",
        cohort_id,
    )
    .fetch_all(db)
    .await
}

/// Learner `user_id` of the cohort, if they joined it.
pub async fn member(
    db: &PgPool,
    cohort_id: i64,
    user_id: i64,
) -> Result<Option<Person>, sqlx::Error> {
    sqlx::query_as!(
        Person,
        "SELECT u.id, u.display_name, u.email, m.joined_at AS since FROM cohort_members m
           JOIN users u ON u.id = m.user_id WHERE m.cohort_id = $1 AND m.user_id = $2",
        cohort_id,
        user_id,
    )
    .fetch_optional(db)
    .await
}

/// The ids of every learner in a cohort `teacher_id` owns or co-teaches.
pub async fn learners_taught_by(db: &PgPool, teacher_id: i64) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query_scalar!(
        "SELECT DISTINCT m.user_id FROM cohort_members m JOIN cohorts c ON c.id = m.cohort_id
          WHERE c.owner_id = $1 OR EXISTS
                (SELECT 1 FROM cohort_instructors i WHERE i.cohort_id = c.id AND i.user_id = $1)",
        teacher_id,
    )
    .fetch_all(db)
    .await
}

/// Whether `viewer` may see `learner_id`'s work (submissions, code, progress):
/// it is their own, `viewer` is an admin, or `viewer` is an instructor of a
/// cohort the learner has joined. Callers that get `false` answer **404**,
/// not 403, so ids cannot be probed.
pub async fn can_view_learner(
    viewer: &User,
    learner_id: i64,
    db: &PgPool,
) -> Result<bool, sqlx::Error> {
    if viewer.id == learner_id || viewer.role == Role::Admin {
        return Ok(true);
    }
    if !viewer.role.can_teach() {
        return Ok(false);
    }
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM cohort_members m JOIN cohorts c ON c.id = m.cohort_id
            WHERE m.user_id = $1 AND (c.owner_id = $2 OR EXISTS
                  (SELECT 1 FROM cohort_instructors i WHERE i.cohort_id = c.id AND i.user_id = $2))) AS "visible!""#,
        learner_id,
        viewer.id,
    )
    .fetch_one(db)
    .await
}
