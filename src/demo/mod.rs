//! `lockstep demo seed`: a cohort with realistic activity, so the
//! instructor's dashboard can be seen and measured without real learners.
//!
//! The history is simulated in memory against the real programme — learners
//! read lessons, open exercises, reveal hints, submit until they pass (or give
//! up, or get stuck) — and then written with a handful of `UNNEST` inserts per
//! batch of learners, so hundreds of thousands of submissions take seconds,
//! not the hours row-by-row inserts would. Every derived table
//! (`exercise_progress`) is computed from the same simulated submissions, so
//! the dashboard's numbers agree with the raw rows exactly as they would after
//! real grading.
//!
//! `simulation` decides what every learner did; `bulk` writes it.

mod bulk;
mod simulation;

use std::collections::HashMap;
use std::time::Instant;

use anyhow::{Context, Result};
use sqlx::PgPool;
use time::OffsetDateTime;

use crate::auth::cohorts::{self, CohortName};
use crate::auth::password::{self, NewPassword};
use crate::auth::users::{self, DisplayName, Email, Role};
use crate::curriculum::Programme;
use bulk::Batch;
use simulation::{Catalogue, Dice, Profile, simulate};

/// What to seed.
#[derive(Clone, Debug)]
pub struct SeedOptions {
    /// Learners in the new cohort.
    pub learners: usize,
    /// Days of history, ending now.
    pub days: u32,
    /// The cohort's name.
    pub cohort: String,
    /// Seed of the simulation: the same seed gives the same history shape.
    pub seed: u64,
    /// Every learner works through the whole programme (stuck and quiet
    /// learners still stop early): the benchmark's worst case.
    pub whole_programme: bool,
}

/// What was seeded, with the credentials to look at it.
#[derive(Clone, Debug)]
pub struct SeedReport {
    /// The new instructor's email.
    pub instructor_email: String,
    /// The new instructor's password (random, shown once).
    pub instructor_password: String,
    /// Every demo learner's password.
    pub learner_password: String,
    /// The new cohort.
    pub cohort_id: i64,
    /// Learners created.
    pub learners: usize,
    /// Submission rows written.
    pub submissions: usize,
    /// Lesson visits written.
    pub lesson_visits: usize,
    /// Hint reveals written.
    pub hint_reveals: usize,
    /// Wall-clock time taken.
    pub elapsed: std::time::Duration,
}

/// `lockstep demo seed`: connects like the other maintenance commands (to
/// the running private cluster if there is one), seeds and prints how to look.
pub async fn run_seed(settings: &crate::config::Settings, options: &SeedOptions) -> Result<()> {
    use crate::db::{self, Database, embedded};
    let programme = crate::application::load_programme(settings)?;
    let report = if settings.database_url.is_none() && embedded::is_running(&settings.data_dir) {
        let url = embedded::url_for_data_dir(&settings.data_dir, "lockstep")?;
        let pool = db::connect(&url, 2).await?;
        let report = seed(&pool, &programme, options).await;
        pool.close().await;
        report?
    } else {
        let database = Database::open(settings, 2).await?;
        let report = seed(&database.pool, &programme, options).await;
        database.close().await;
        report?
    };
    println!(
        "Seeded cohort {} ({} learners, {} submissions, {} lesson visits, {} hint reveals) in {:.1} s.",
        report.cohort_id,
        report.learners,
        report.submissions,
        report.lesson_visits,
        report.hint_reveals,
        report.elapsed.as_secs_f64()
    );
    println!("Instructor: {}", report.instructor_email);
    println!("Password:   {}", report.instructor_password);
    println!(
        "Learners sign in with their email and the password {}",
        report.learner_password
    );
    println!("Open /instructor/cohorts/{}", report.cohort_id);
    Ok(())
}

/// Submissions written per round trip: large enough to amortise the round
/// trip, small enough that one batch's code and verdicts stay a few MB.
const BATCH_SUBMISSIONS: usize = 5_000;

/// Creates an instructor and a cohort of `options.learners` learners with
/// `options.days` days of history.
pub async fn seed(db: &PgPool, programme: &Programme, options: &SeedOptions) -> Result<SeedReport> {
    let started = Instant::now();
    let mut dice = Dice::new(options.seed);
    let tag = crate::auth::secret::random_code(6).to_lowercase();
    let instructor_password = crate::auth::secret::random_token()[..20].to_string();
    let learner_password = format!("demo-learner-{tag}");

    let instructor_hash =
        password::hash(&NewPassword::parse(&instructor_password).map_err(|e| anyhow::anyhow!(e))?)
            .await?;
    let instructor_email = format!("instructor-{tag}@demo.lockstep.local");
    let instructor = users::create(
        db,
        &Email::parse(&instructor_email).map_err(|e| anyhow::anyhow!(e))?,
        &DisplayName::parse("Demo Instructor").map_err(|e| anyhow::anyhow!(e))?,
        &instructor_hash,
        Role::Instructor,
    )
    .await
    .context("create the demo instructor")?;
    let name = CohortName::parse(&options.cohort).map_err(|e| anyhow::anyhow!("--cohort: {e}"))?;
    let cohort = cohorts::create(db, &instructor, &name).await?;

    // One hash for every demo learner: Argon2 is deliberately slow, and
    // these accounts exist to be looked at, not to be secure.
    let learner_hash =
        password::hash(&NewPassword::parse(&learner_password).map_err(|e| anyhow::anyhow!(e))?)
            .await?;
    let emails: Vec<String> = (1..=options.learners)
        .map(|i| format!("learner-{i:04}-{tag}@demo.lockstep.local"))
        .collect();
    let names: Vec<String> = (0..options.learners)
        .map(|i| {
            format!(
                "{} {}",
                FIRST_NAMES[i % FIRST_NAMES.len()],
                LAST_NAMES[(i / FIRST_NAMES.len() + i * 7) % LAST_NAMES.len()]
            )
        })
        .collect();
    let created =
        users::create_learners(db, &emails, &names, &learner_hash, options.days as i32 + 1).await?;
    let by_email: HashMap<String, i64> = created.into_iter().map(|(id, e)| (e, id)).collect();
    let learner_ids: Vec<i64> = emails.iter().map(|e| by_email[e]).collect();

    let catalogue = Catalogue::new(programme);
    let now = OffsetDateTime::now_utc();
    let mut batch = Batch::default();
    let mut report = SeedReport {
        instructor_email,
        instructor_password,
        learner_password,
        cohort_id: cohort.id,
        learners: options.learners,
        submissions: 0,
        lesson_visits: 0,
        hint_reveals: 0,
        elapsed: Default::default(),
    };
    let mut tx = db.begin().await?;
    for &learner in &learner_ids {
        let mut profile = Profile::draw(&mut dice, catalogue.exercises.len(), options.days);
        if options.whole_programme && !profile.stuck {
            profile.reach = catalogue.exercises.len();
        }
        simulate(&catalogue, learner, &profile, now, &mut dice, &mut batch);
        if batch.submissions.len() >= BATCH_SUBMISSIONS {
            batch.write(&mut tx, cohort.id, &mut report).await?;
        }
    }
    batch.write(&mut tx, cohort.id, &mut report).await?;
    tx.commit().await?;
    bulk::analyze(db).await?;
    report.elapsed = started.elapsed();
    Ok(report)
}

const FIRST_NAMES: &[&str] = &[
    "Ada", "Bjarne", "Chiara", "Dmitri", "Elif", "Farah", "Goran", "Hana", "Ines", "Jonas",
    "Kemal", "Lena", "Mateo", "Noor", "Oskar", "Priya", "Quentin", "Rosa", "Sven", "Tomoko", "Uma",
    "Viktor", "Wen", "Ximena", "Yusuf", "Zofia",
];

const LAST_NAMES: &[&str] = &[
    "Almeida",
    "Berger",
    "Costa",
    "Dubois",
    "Eriksen",
    "Fischer",
    "Garcia",
    "Horvat",
    "Ito",
    "Jensen",
    "Kowalski",
    "Lindqvist",
    "Moreau",
    "Nakamura",
    "Okafor",
    "Petrov",
    "Quinn",
    "Rossi",
    "Schmidt",
    "Tanaka",
    "Ueda",
    "Varga",
    "Weber",
    "Yilmaz",
    "Zeller",
];
