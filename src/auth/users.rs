//! Accounts: the `users` table, roles, and the values an account is made of.
//!
//! [`Email`] and [`DisplayName`] can only be built valid (parse, don't
//! validate). Text is stored exactly as given — trimmed, nothing escaped —
//! because escaping is the templates' job at output time.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;
use sqlx::PgPool;

/// What an account may do (`users.role`, a checked `TEXT` column).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, sqlx::Type)]
#[serde(rename_all = "lowercase")]
#[sqlx(type_name = "text", rename_all = "lowercase")]
pub enum Role {
    /// Reads lessons, solves exercises, joins cohorts.
    Learner,
    /// Also creates cohorts and follows the learners in the cohorts they teach.
    Instructor,
    /// Sees every cohort.
    Admin,
}

impl Role {
    /// The value stored in `users.role`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Learner => "learner",
            Role::Instructor => "instructor",
            Role::Admin => "admin",
        }
    }

    /// Whether this role may create and teach cohorts.
    pub fn can_teach(self) -> bool {
        matches!(self, Role::Instructor | Role::Admin)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, String> {
        match value {
            "learner" => Ok(Role::Learner),
            "instructor" => Ok(Role::Instructor),
            "admin" => Ok(Role::Admin),
            other => Err(format!(
                "unknown role {other:?}: use learner, instructor or admin"
            )),
        }
    }
}

/// An email address of plausible shape (the only way to be sure is to send
/// mail, which Lockstep does not do).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// Longest address accepted (RFC 5321's path limit).
    pub const MAX_LENGTH: usize = 254;

    /// Trims, then checks for `local@domain` with no spaces or control characters.
    pub fn parse(value: &str) -> Result<Self, String> {
        let value = value.trim();
        if value.is_empty() {
            return Err("Enter your email address.".into());
        }
        if value.len() > Self::MAX_LENGTH {
            return Err(format!("Use at most {} characters.", Self::MAX_LENGTH));
        }
        let valid = match value.rsplit_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && !domain.is_empty()
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !value.chars().any(|c| c.is_whitespace() || c.is_control())
            }
            None => false,
        };
        if !valid {
            return Err("Enter an email address like name@example.com.".into());
        }
        Ok(Self(value.to_string()))
    }

    /// The address as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The name shown to instructors and in the header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    /// Longest name accepted, in characters.
    pub const MAX_LENGTH: usize = 80;

    /// Trims, then checks the length and that there are no control characters.
    pub fn parse(value: &str) -> Result<Self, String> {
        let value = value.trim();
        if value.is_empty() {
            return Err("Enter the name your instructors will see.".into());
        }
        if value.chars().count() > Self::MAX_LENGTH {
            return Err(format!("Use at most {} characters.", Self::MAX_LENGTH));
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

/// An account, without its password hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct User {
    /// `users.id`
    pub id: i64,
    /// As given at sign-up; unique regardless of case.
    pub email: String,
    /// The name shown to others.
    pub display_name: String,
    /// What the account may do.
    pub role: Role,
}

/// Why an account could not be created.
#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    /// Another account has this email (in any letter case).
    #[error("an account with this email already exists")]
    EmailTaken,
    /// The database failed.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Creates an account.
pub async fn create(
    db: &PgPool,
    email: &Email,
    display_name: &DisplayName,
    password_hash: &str,
    role: Role,
) -> Result<User, CreateError> {
    sqlx::query_as!(
        User,
        r#"INSERT INTO users (email, display_name, password_hash, role) VALUES ($1, $2, $3, $4)
           RETURNING id, email, display_name, role AS "role: Role""#,
        email.as_str(),
        display_name.as_str(),
        password_hash,
        role as Role,
    )
    .fetch_one(db)
    .await
    .map_err(|error| match &error {
        sqlx::Error::Database(e) if e.constraint() == Some("users_email_key") => {
            CreateError::EmailTaken
        }
        _ => CreateError::Database(error),
    })
}

/// Creates many learner accounts in one statement, all with one password
/// hash and created `days_ago` days ago (demo data); returns each one's id
/// and email. Emails must be new and valid: this is for generated accounts.
pub async fn create_learners(
    db: &PgPool,
    emails: &[String],
    display_names: &[String],
    password_hash: &str,
    days_ago: i32,
) -> Result<Vec<(i64, String)>, sqlx::Error> {
    let rows = sqlx::query!(
        "INSERT INTO users (email, display_name, password_hash, role, created_at)
         SELECT e, n, $3, $5, now() - make_interval(days => $4)
           FROM UNNEST($1::text[], $2::text[]) AS t(e, n)
         RETURNING id, email",
        emails,
        display_names,
        password_hash,
        days_ago,
        Role::Learner as Role,
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|row| (row.id, row.email)).collect())
}

/// The account with this email (any letter case) and its password hash.
pub async fn find_with_hash(
    db: &PgPool,
    email: &str,
) -> Result<Option<(User, String)>, sqlx::Error> {
    let row = sqlx::query!(
        r#"SELECT id, email, display_name, role AS "role: Role", password_hash
             FROM users WHERE lower(email) = lower($1)"#,
        email.trim(),
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|row| {
        let user = User {
            id: row.id,
            email: row.email,
            display_name: row.display_name,
            role: row.role,
        };
        (user, row.password_hash)
    }))
}

/// The account with this email (any letter case).
pub async fn find_by_email(db: &PgPool, email: &str) -> Result<Option<User>, sqlx::Error> {
    Ok(find_with_hash(db, email).await?.map(|(user, _)| user))
}

/// The name account `id` shows to others.
pub async fn display_name(db: &PgPool, id: i64) -> Result<String, sqlx::Error> {
    sqlx::query_scalar!("SELECT display_name FROM users WHERE id = $1", id)
        .fetch_one(db)
        .await
}

/// Locks account `id`'s row until `tx` ends, to serialise changes to what
/// the account owns (e.g. its API tokens, whose number is capped).
pub async fn lock(tx: &mut sqlx::PgConnection, id: i64) -> Result<(), sqlx::Error> {
    sqlx::query!("SELECT id FROM users WHERE id = $1 FOR UPDATE", id)
        .fetch_optional(tx)
        .await?;
    Ok(())
}

/// Changes an account's role and revokes its API tokens (they were granted
/// under the old role); `None` when there is no such account.
pub async fn set_role(db: &PgPool, email: &str, role: Role) -> Result<Option<User>, sqlx::Error> {
    let mut tx = db.begin().await?;
    let user = sqlx::query_as!(
        User,
        r#"UPDATE users SET role = $2 WHERE lower(email) = lower($1)
           RETURNING id, email, display_name, role AS "role: Role""#,
        email.trim(),
        role as Role,
    )
    .fetch_optional(&mut *tx)
    .await?;
    let Some(user) = user else {
        return Ok(None);
    };
    super::api_tokens::revoke_all(&mut tx, user.id).await?;
    super::session::announce_credentials_changed(&mut tx, user.id).await?;
    tx.commit().await?;
    Ok(Some(user))
}

/// Replaces an account's password hash, ends all its sessions and revokes
/// all its API tokens (whoever knew the old password, or a token made with
/// it, is shut out); `None` when there is no such account.
pub async fn set_password(
    db: &PgPool,
    email: &str,
    password_hash: &str,
) -> Result<Option<User>, sqlx::Error> {
    let mut tx = db.begin().await?;
    let id = sqlx::query_scalar!(
        "SELECT id FROM users WHERE lower(email) = lower($1) FOR UPDATE",
        email.trim(),
    )
    .fetch_optional(&mut *tx)
    .await?;
    let Some(id) = id else {
        return Ok(None);
    };
    let user = replace_password(&mut tx, id, password_hash).await?;
    tx.commit().await?;
    Ok(Some(user))
}

/// [`set_password`] of account `id`, in the caller's transaction: the hash
/// replaced, sessions ended, API tokens revoked, pending reset links
/// dropped, every web node told.
pub async fn replace_password(
    tx: &mut sqlx::PgConnection,
    id: i64,
    password_hash: &str,
) -> Result<User, sqlx::Error> {
    let user = sqlx::query_as!(
        User,
        r#"UPDATE users SET password_hash = $2 WHERE id = $1
           RETURNING id, email, display_name, role AS "role: Role""#,
        id,
        password_hash,
    )
    .fetch_one(&mut *tx)
    .await?;
    super::session::end_all(tx, user.id).await?;
    super::api_tokens::revoke_all(tx, user.id).await?;
    super::password_reset::drop_pending(tx, user.id).await?;
    super::session::announce_credentials_changed(tx, user.id).await?;
    Ok(user)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_and_names_parse() {
        assert!(Email::parse("  ada@example.com ").is_ok());
        assert_eq!(Email::parse(" a@b.c ").unwrap().as_str(), "a@b.c");
        for bad in ["", "ada", "@example.com", "ada@", "a b@c.d", "ada@.com"] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
        assert!(Email::parse("x';DROP/**/TABLE/**/users;--@example.com").is_ok());
        assert!(DisplayName::parse("<b>Ada</b>").is_ok());
        assert!(DisplayName::parse("   ").is_err());
        assert!(DisplayName::parse("a\u{0}b").is_err());
        assert_eq!("admin".parse::<Role>(), Ok(Role::Admin));
        assert!("root".parse::<Role>().is_err());
    }
}
