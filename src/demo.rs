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

use std::collections::HashMap;
use std::time::Instant;

use anyhow::{Context, Result};
use sqlx::PgPool;
use time::{Duration, OffsetDateTime};

use crate::auth::cohorts::{self, CohortName};
use crate::auth::password::{self, NewPassword};
use crate::auth::users::{self, DisplayName, Email, Role};
use crate::curriculum::{Difficulty, Exercise, ExerciseKind, Item, Programme};
use crate::grading::verdict::{Diagnostic, Durations, Reason, Status, TestResult, Verdict};

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
    let programme = crate::server::load_programme(settings)?;
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
    let created: Vec<(i64, String)> = sqlx::query_as(
        "INSERT INTO users (email, display_name, password_hash, role, created_at)
         SELECT e, n, $3, 'learner', now() - make_interval(days => $4)
           FROM UNNEST($1::text[], $2::text[]) AS t(e, n)
         RETURNING id, email",
    )
    .bind(&emails)
    .bind(&names)
    .bind(&learner_hash)
    .bind(options.days as i32 + 1)
    .fetch_all(db)
    .await?;
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
    // Fresh statistics, so the planner sees the new volume at once.
    sqlx::query("ANALYZE submissions, exercise_progress, cohort_members, lesson_visits")
        .execute(db)
        .await?;
    report.elapsed = started.elapsed();
    Ok(report)
}

/// The programme as the simulation walks it.
struct Catalogue<'a> {
    steps: Vec<Step<'a>>,
    exercises: Vec<ExerciseModel<'a>>,
}

enum Step<'a> {
    Lesson {
        module: &'a str,
        lesson: &'a str,
        minutes: u32,
    },
    Exercise(usize),
}

/// An exercise with the tests its verdicts list and how hard each one is.
struct ExerciseModel<'a> {
    exercise: &'a Exercise,
    /// (verdict name, hidden, how often it fails relative to the others).
    tests: Vec<(String, bool, f64)>,
    solution_lines: Vec<&'a str>,
}

impl<'a> Catalogue<'a> {
    fn new(programme: &'a Programme) -> Self {
        // Fixed per programme, so the same tests are the hard ones every run.
        let mut dice = Dice::new(0x5eed);
        let mut steps = Vec::new();
        let mut exercises = Vec::new();
        for module in &programme.modules {
            for item in &module.items {
                match item {
                    Item::Lesson(lesson) => steps.push(Step::Lesson {
                        module: &module.id,
                        lesson: &lesson.id,
                        minutes: lesson.minutes,
                    }),
                    Item::Exercise(exercise) => {
                        let tests = test_names(exercise)
                            .into_iter()
                            .map(|(name, hidden)| {
                                let u = dice.unit();
                                (name, hidden, u * u * u)
                            })
                            .collect();
                        steps.push(Step::Exercise(exercises.len()));
                        exercises.push(ExerciseModel {
                            exercise,
                            tests,
                            solution_lines: exercise.solution.lines().collect(),
                        });
                    }
                }
            }
        }
        Self { steps, exercises }
    }
}

/// The tests a verdict of `exercise` lists, as the grader names them.
fn test_names(exercise: &Exercise) -> Vec<(String, bool)> {
    if exercise.kind == ExerciseKind::Tests {
        let mut names = vec![(
            "your tests pass on the correct implementation".into(),
            false,
        )];
        names.extend(
            exercise
                .mutants
                .iter()
                .map(|m| (format!("catches mutant: {}", m.description), false)),
        );
        return names;
    }
    let mut names: Vec<(String, bool)> = test_functions(&exercise.visible_tests)
        .into_iter()
        .map(|name| (format!("visible::{name}"), false))
        .collect();
    names.extend(
        test_functions(&exercise.hidden_tests)
            .into_iter()
            .map(|name| (format!("hidden::{name}"), true)),
    );
    if names.is_empty() {
        names.push(("visible::works".into(), false));
    }
    names
}

/// Names of the `#[test]` / `#[tokio::test]` functions in a test file (a
/// line scan is enough for a demo; the grader itself asks the test binary).
fn test_functions(source: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut pending = false;
    for line in source.lines().map(str::trim) {
        if line.starts_with("#[") && line.contains("test") && !line.contains("cfg(") {
            pending = true;
        } else if line.starts_with("mod ") {
            pending = false;
        } else if pending && let Some((_, rest)) = line.split_once("fn ") {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                names.push(name);
            }
            pending = false;
        }
    }
    names
}

/// How one simulated learner behaves.
struct Profile {
    /// 0..1: chance of passing on a given attempt, before difficulty.
    ability: f64,
    /// Exercises they get to (the last one may be unfinished).
    reach: usize,
    /// Whether they keep failing the last exercise they reach.
    stuck: bool,
    /// When their history starts and the latest it may end.
    start_days_ago: f64,
    end_days_ago: f64,
}

impl Profile {
    fn draw(dice: &mut Dice, exercises: usize, days: u32) -> Self {
        let days = f64::from(days.max(1));
        let ability = 0.25 + 0.75 * dice.unit();
        let kind = dice.unit();
        // Roughly: a few finish everything, most are part-way, some barely
        // began, a tenth went quiet a while ago, a few never started.
        let (reach_fraction, end_days_ago) = if kind < 0.03 {
            (0.0, 0.0)
        } else if kind < 0.15 {
            (1.0, dice.unit() * 0.8)
        } else if kind < 0.65 {
            (0.3 + 0.6 * dice.unit(), dice.unit() * 1.5)
        } else if kind < 0.85 {
            (0.05 + 0.25 * dice.unit(), dice.unit() * 3.0)
        } else {
            (0.1 + 0.4 * dice.unit(), days * (0.3 + 0.4 * dice.unit()))
        };
        Self {
            ability,
            reach: ((exercises as f64) * reach_fraction).ceil() as usize,
            stuck: kind >= 0.03 && dice.chance(0.12),
            start_days_ago: days * (1.0 - 0.15 * dice.unit()),
            end_days_ago,
        }
    }
}

/// One simulated event, at `minute` minutes after the learner's start.
struct SimSubmission {
    minute: f64,
    mode: &'static str,
    exercise: usize,
    code: String,
    verdict: Verdict,
}

#[derive(Default)]
struct SimProgress {
    exercise: usize,
    opened: f64,
    attempts: i32,
    best_passed: i32,
    best_total: i32,
    passed: Option<f64>,
    /// Index into the learner's submissions.
    last_submission: Option<usize>,
    last_activity: f64,
}

/// Walks the programme as `profile` would and appends the learner's rows to `batch`.
fn simulate(
    catalogue: &Catalogue<'_>,
    learner: i64,
    profile: &Profile,
    now: OffsetDateTime,
    dice: &mut Dice,
    batch: &mut Batch,
) {
    let mut minute = 0.0;
    let mut visits: Vec<(usize, f64, f64)> = Vec::new();
    let mut hints: Vec<(usize, i32, f64)> = Vec::new();
    let mut submissions: Vec<SimSubmission> = Vec::new();
    let mut progress: Vec<SimProgress> = Vec::new();
    let mut reached = 0;
    for (step_index, step) in catalogue.steps.iter().enumerate() {
        if reached >= profile.reach {
            break;
        }
        // Between items: a break of minutes to a day or two.
        minute += dice.exponential(240.0);
        match step {
            Step::Lesson { minutes, .. } => {
                let last = if dice.chance(0.3) {
                    minute + dice.exponential(2000.0)
                } else {
                    minute + f64::from(*minutes)
                };
                visits.push((step_index, minute, last));
                minute += f64::from(*minutes) * (0.5 + dice.unit());
            }
            Step::Exercise(index) => {
                reached += 1;
                let last_one = reached == profile.reach;
                let model = &catalogue.exercises[*index];
                let mut row = SimProgress {
                    exercise: *index,
                    opened: minute,
                    ..Default::default()
                };
                minute += dice.exponential(f64::from(model.exercise.minutes.max(5)) * 0.6);
                let difficulty = match model.exercise.difficulty {
                    Difficulty::Easy => 0.85,
                    Difficulty::Medium => 0.6,
                    Difficulty::Hard => 0.4,
                };
                // The last exercise reached: stuck learners hammer it,
                // others leave it part-done or untouched.
                let (max_attempts, may_pass) = if last_one && profile.stuck {
                    (6 + dice.below(9), false)
                } else if last_one && profile.reach < catalogue.exercises.len() {
                    (dice.below(4), false)
                } else {
                    (14, true)
                };
                let mut revealed = 0;
                for attempt in 0..max_attempts {
                    let p_pass =
                        (0.7 * profile.ability * difficulty + 0.06 * attempt as f64).min(0.95);
                    let pass = may_pass && (dice.chance(p_pass) || attempt + 1 == max_attempts);
                    // Quick checks against the visible tests first, often several.
                    while dice.chance(0.65) {
                        let verdict = failing_verdict(model, attempt, dice, true);
                        submissions.push(SimSubmission {
                            minute,
                            mode: "visible",
                            exercise: *index,
                            code: attempt_code(model, attempt, dice),
                            verdict,
                        });
                        minute += 0.5 + dice.unit();
                    }
                    let verdict = if pass {
                        passing_verdict(model)
                    } else {
                        failing_verdict(model, attempt, dice, false)
                    };
                    let (passed, total) = crate::grading::judge::counts(&verdict);
                    row.attempts += 1;
                    row.best_passed = row.best_passed.max(passed);
                    row.best_total = row.best_total.max(total);
                    row.last_submission = Some(submissions.len());
                    submissions.push(SimSubmission {
                        minute,
                        mode: "submit",
                        exercise: *index,
                        code: if pass {
                            model.exercise.solution.clone()
                        } else {
                            attempt_code(model, attempt, dice)
                        },
                        verdict,
                    });
                    row.last_activity = minute + 0.3;
                    if pass {
                        row.passed = Some(minute + 0.3);
                        break;
                    }
                    // After a failure some learners reach for the next hint.
                    if revealed < model.exercise.hints.len() && dice.chance(0.35) {
                        hints.push((*index, revealed as i32, minute + 1.0));
                        revealed += 1;
                    }
                    minute += 2.0 + dice.exponential(9.0);
                }
                if row.attempts == 0 {
                    row.last_activity = minute;
                }
                progress.push(row);
            }
        }
    }

    // Place the relative history in real time: ending by the profile's last
    // day, squeezed if it would not fit since the learner's start.
    let span_minutes = (profile.start_days_ago - profile.end_days_ago).max(0.1) * 1440.0;
    let scale = if minute > span_minutes {
        span_minutes / minute
    } else {
        1.0
    };
    let end = now - Duration::seconds_f64(profile.end_days_ago * 86_400.0);
    let origin = end - Duration::seconds_f64(minute * scale * 60.0);
    let at = |m: f64| {
        let t = origin + Duration::seconds_f64(m * scale * 60.0);
        t.min(now)
    };

    batch.members.push((learner, at(0.0) - Duration::hours(2)));
    for (step, first, last) in visits {
        if let Step::Lesson { module, lesson, .. } = &catalogue.steps[step] {
            batch.visits.push((
                learner,
                (*module).to_string(),
                (*lesson).to_string(),
                at(first),
                at(last),
            ));
        }
    }
    for (exercise, hint, when) in hints {
        batch.hints.push((
            learner,
            catalogue.exercises[exercise].exercise.id.clone(),
            hint,
            at(when),
        ));
    }
    let first_submission = batch.submissions.len();
    for submission in submissions {
        let model = &catalogue.exercises[submission.exercise];
        let created = at(submission.minute);
        batch.submissions.push(PendingSubmission {
            user_id: learner,
            mode: submission.mode,
            exercise_id: model.exercise.id.clone(),
            exercise_hash: model.exercise.content_hash.clone(),
            code: submission.code,
            created_at: created,
            finished_at: created
                + Duration::milliseconds(submission.verdict.duration_ms.total as i64),
            verdict: submission.verdict,
        });
    }
    for row in progress {
        let model = &catalogue.exercises[row.exercise];
        batch.progress.push(PendingProgress {
            user_id: learner,
            exercise_id: model.exercise.id.clone(),
            first_opened_at: at(row.opened),
            attempts: row.attempts,
            best_passed: row.best_passed,
            best_total: row.best_total,
            // The passing submission is the last one: its finish time, exactly.
            passed_at: row
                .passed
                .and(row.last_submission)
                .map(|i| batch.submissions[first_submission + i].finished_at),
            passed_hash: row.passed.map(|_| model.exercise.content_hash.clone()),
            last_submission: row.last_submission.map(|i| first_submission + i),
            last_activity_at: match row.last_submission {
                Some(i) => batch.submissions[first_submission + i].finished_at,
                None => at(row.last_activity),
            },
        });
    }
}

/// The solution with one line broken: what a near miss looks like, and a
/// diff against the previous attempt that shows something.
fn attempt_code(model: &ExerciseModel<'_>, attempt: usize, dice: &mut Dice) -> String {
    let lines = &model.solution_lines;
    if lines.is_empty() {
        return model.exercise.starter.clone();
    }
    let broken = dice.below(lines.len());
    let mut code = String::with_capacity(model.exercise.solution.len() + 64);
    for (i, line) in lines.iter().enumerate() {
        if i == broken {
            code.push_str("    // TODO: attempt ");
            code.push_str(&(attempt + 1).to_string());
            code.push_str(", not sure about this line\n");
            code.push_str("    // ");
        }
        code.push_str(line);
        code.push('\n');
    }
    code
}

fn passing_verdict(model: &ExerciseModel<'_>) -> Verdict {
    let mut verdict = Verdict::new(Status::Pass, None, None);
    verdict.tests = model
        .tests
        .iter()
        .map(|(name, hidden, _)| TestResult {
            name: name.clone(),
            status: Status::Pass,
            message: None,
            output: None,
            hidden: *hidden,
            test_code: None,
        })
        .collect();
    verdict.duration_ms = durations(900);
    verdict
}

fn failing_verdict(
    model: &ExerciseModel<'_>,
    attempt: usize,
    dice: &mut Dice,
    visible_only: bool,
) -> Verdict {
    if dice.chance(0.12) {
        let line = 5 + dice.below(40) as u32;
        let mut verdict = Verdict::new(
            Status::Error,
            Some(Reason::CompileError),
            Some("your code does not compile".to_string()),
        );
        verdict.compile_output = format!(
            "error[E0308]: mismatched types\n --> src/lib.rs:{line}:9\n  |\n{line:>3} |         Ok(())\n  |         ^^^^^^ expected `usize`, found `Result<(), _>`\n"
        );
        verdict.diagnostics = vec![Diagnostic {
            level: "error".into(),
            message: "mismatched types".into(),
            line,
            column: 9,
        }];
        verdict.duration_ms = durations(700);
        return verdict;
    }
    // Later attempts are closer: each test's failure chance shrinks.
    let closeness = 1.0 / (1.0 + attempt as f64 * 0.4);
    let mut tests: Vec<TestResult> = model
        .tests
        .iter()
        .filter(|(_, hidden, _)| !(visible_only && *hidden))
        .enumerate()
        .map(|(i, (name, hidden, hardness))| {
            let fails = dice.chance((0.05 + 0.9 * hardness) * closeness);
            TestResult {
                name: name.clone(),
                status: if fails { Status::Fail } else { Status::Pass },
                message: (fails && !hidden).then(|| failure_message(name, i)),
                output: None,
                hidden: *hidden,
                test_code: None,
            }
        })
        .collect();
    if tests.iter().all(|t| t.status == Status::Pass)
        && let Some(hardest) = (0..tests.len()).max_by(|&a, &b| {
            let h = |i: usize| {
                model
                    .tests
                    .iter()
                    .find(|t| t.0 == tests[i].name)
                    .map_or(0.0, |t| t.2)
            };
            h(a).total_cmp(&h(b))
        })
    {
        let test = &mut tests[hardest];
        test.status = Status::Fail;
        if !test.hidden {
            test.message = Some(failure_message(&test.name, hardest));
        }
    }
    let status = if tests.iter().all(|t| t.status == Status::Pass) {
        Status::Pass
    } else {
        Status::Fail
    };
    let mut verdict = Verdict::new(status, None, None);
    verdict.tests = tests;
    verdict.duration_ms = durations(1100);
    verdict
}

/// A plausible assertion failure, the same for the same test.
fn failure_message(name: &str, index: usize) -> String {
    let line = 10 + index * 9;
    if name.starts_with("catches mutant") {
        return format!(
            "every one of your tests passes against this buggy version: {}",
            name.trim_start_matches("catches mutant: ")
        );
    }
    match index % 3 {
        0 => format!(
            "assertion `left == right` failed\n  left: {}\n right: {}\n at src/tests.rs:{line}",
            index + 2,
            index + 3
        ),
        1 => format!("called `Option::unwrap()` on a `None` value at src/tests.rs:{line}"),
        _ => format!("test timed out: deadline has elapsed at src/tests.rs:{line}"),
    }
}

fn durations(run: u64) -> Durations {
    Durations {
        queue: 40,
        compile: 1500,
        run,
        total: 40 + 1500 + run,
    }
}

struct PendingSubmission {
    user_id: i64,
    mode: &'static str,
    exercise_id: String,
    exercise_hash: String,
    code: String,
    verdict: Verdict,
    created_at: OffsetDateTime,
    finished_at: OffsetDateTime,
}

struct PendingProgress {
    user_id: i64,
    exercise_id: String,
    first_opened_at: OffsetDateTime,
    attempts: i32,
    best_passed: i32,
    best_total: i32,
    passed_at: Option<OffsetDateTime>,
    passed_hash: Option<String>,
    last_submission: Option<usize>,
    last_activity_at: OffsetDateTime,
}

type Visit = (i64, String, String, OffsetDateTime, OffsetDateTime);

/// Rows waiting to be written, for whole learners only (a learner's
/// progress rows point at their submissions' ids).
#[derive(Default)]
struct Batch {
    members: Vec<(i64, OffsetDateTime)>,
    visits: Vec<Visit>,
    hints: Vec<(i64, String, i32, OffsetDateTime)>,
    submissions: Vec<PendingSubmission>,
    progress: Vec<PendingProgress>,
}

impl Batch {
    async fn write(
        &mut self,
        tx: &mut sqlx::PgConnection,
        cohort_id: i64,
        report: &mut SeedReport,
    ) -> Result<()> {
        let batch = std::mem::take(self);
        let (users, joined): (Vec<i64>, Vec<OffsetDateTime>) = batch.members.into_iter().unzip();
        sqlx::query(
            "INSERT INTO cohort_members (cohort_id, user_id, joined_at)
             SELECT $1, u, j FROM UNNEST($2::bigint[], $3::timestamptz[]) AS t(u, j)",
        )
        .bind(cohort_id)
        .bind(&users)
        .bind(&joined)
        .execute(&mut *tx)
        .await?;

        // Ids first, in time order per learner, so "the previous submission"
        // is the one with the next lower id, as with real grading.
        let mut ids: Vec<i64> = sqlx::query_scalar(
            "SELECT nextval(pg_get_serial_sequence('submissions', 'id')) FROM generate_series(1, $1)",
        )
        .bind(batch.submissions.len() as i64)
        .fetch_all(&mut *tx)
        .await?;
        ids.sort_unstable();
        let mut columns = SubmissionColumns::default();
        for (submission, id) in batch.submissions.iter().zip(&ids) {
            let (passed, total) = crate::grading::judge::counts(&submission.verdict);
            columns.id.push(*id);
            columns.user_id.push(submission.user_id);
            columns.mode.push(submission.mode.to_string());
            columns.exercise_id.push(submission.exercise_id.clone());
            columns.exercise_hash.push(submission.exercise_hash.clone());
            columns.code.push(submission.code.clone());
            columns
                .verdict
                .push(serde_json::to_string(&submission.verdict)?);
            columns.verdict_status.push(
                match submission.verdict.status {
                    Status::Pass => "pass",
                    Status::Fail => "fail",
                    Status::Error => "error",
                }
                .to_string(),
            );
            columns.tests_passed.push(passed);
            columns.tests_total.push(total);
            columns.created_at.push(submission.created_at);
            columns.finished_at.push(submission.finished_at);
        }
        sqlx::query(
            "INSERT INTO submissions (id, user_id, mode, exercise_id, exercise_hash, code, status,
                                      attempts, verdict, verdict_status, tests_passed, tests_total,
                                      created_at, started_at, finished_at)
             SELECT id, u, m, e, h, c, 'done', 1, v::jsonb, vs, tp, tt, ca, ca, fa
               FROM UNNEST($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[],
                           $6::text[], $7::text[], $8::text[], $9::int[], $10::int[],
                           $11::timestamptz[], $12::timestamptz[])
                    AS t(id, u, m, e, h, c, v, vs, tp, tt, ca, fa)",
        )
        .bind(&columns.id)
        .bind(&columns.user_id)
        .bind(&columns.mode)
        .bind(&columns.exercise_id)
        .bind(&columns.exercise_hash)
        .bind(&columns.code)
        .bind(&columns.verdict)
        .bind(&columns.verdict_status)
        .bind(&columns.tests_passed)
        .bind(&columns.tests_total)
        .bind(&columns.created_at)
        .bind(&columns.finished_at)
        .execute(&mut *tx)
        .await?;

        let mut p = ProgressColumns::default();
        for row in &batch.progress {
            p.user_id.push(row.user_id);
            p.exercise_id.push(row.exercise_id.clone());
            p.first_opened_at.push(row.first_opened_at);
            p.attempts.push(row.attempts);
            p.best_passed.push(row.best_passed);
            p.best_total.push(row.best_total);
            p.passed_at.push(row.passed_at);
            p.passed_hash.push(row.passed_hash.clone());
            p.last_submission_id
                .push(row.last_submission.map(|i| ids[i]));
            p.last_activity_at.push(row.last_activity_at);
        }
        sqlx::query(
            "INSERT INTO exercise_progress (user_id, exercise_id, first_opened_at, attempts,
                                            best_passed, best_total, passed_at, passed_hash,
                                            last_submission_id, last_activity_at)
             SELECT * FROM UNNEST($1::bigint[], $2::text[], $3::timestamptz[], $4::int[],
                                  $5::int[], $6::int[], $7::timestamptz[], $8::text[],
                                  $9::bigint[], $10::timestamptz[])",
        )
        .bind(&p.user_id)
        .bind(&p.exercise_id)
        .bind(&p.first_opened_at)
        .bind(&p.attempts)
        .bind(&p.best_passed)
        .bind(&p.best_total)
        .bind(&p.passed_at)
        .bind(&p.passed_hash)
        .bind(&p.last_submission_id)
        .bind(&p.last_activity_at)
        .execute(&mut *tx)
        .await?;

        let (mut vu, mut vm, mut vl, mut vf, mut vla) = (vec![], vec![], vec![], vec![], vec![]);
        for (u, m, l, f, la) in &batch.visits {
            vu.push(*u);
            vm.push(m.clone());
            vl.push(l.clone());
            vf.push(*f);
            vla.push(*la);
        }
        sqlx::query(
            "INSERT INTO lesson_visits (user_id, module_id, lesson_id, first_at, last_at)
             SELECT * FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::timestamptz[], $5::timestamptz[])",
        )
        .bind(&vu)
        .bind(&vm)
        .bind(&vl)
        .bind(&vf)
        .bind(&vla)
        .execute(&mut *tx)
        .await?;

        let (mut hu, mut he, mut hi, mut ht) = (vec![], vec![], vec![], vec![]);
        for (u, e, i, t) in &batch.hints {
            hu.push(*u);
            he.push(e.clone());
            hi.push(*i);
            ht.push(*t);
        }
        sqlx::query(
            "INSERT INTO hint_reveals (user_id, exercise_id, hint_index, revealed_at)
             SELECT * FROM UNNEST($1::bigint[], $2::text[], $3::int[], $4::timestamptz[])",
        )
        .bind(&hu)
        .bind(&he)
        .bind(&hi)
        .bind(&ht)
        .execute(&mut *tx)
        .await?;

        report.submissions += batch.submissions.len();
        report.lesson_visits += batch.visits.len();
        report.hint_reveals += batch.hints.len();
        Ok(())
    }
}

#[derive(Default)]
struct SubmissionColumns {
    id: Vec<i64>,
    user_id: Vec<i64>,
    mode: Vec<String>,
    exercise_id: Vec<String>,
    exercise_hash: Vec<String>,
    code: Vec<String>,
    verdict: Vec<String>,
    verdict_status: Vec<String>,
    tests_passed: Vec<i32>,
    tests_total: Vec<i32>,
    created_at: Vec<OffsetDateTime>,
    finished_at: Vec<OffsetDateTime>,
}

#[derive(Default)]
struct ProgressColumns {
    user_id: Vec<i64>,
    exercise_id: Vec<String>,
    first_opened_at: Vec<OffsetDateTime>,
    attempts: Vec<i32>,
    best_passed: Vec<i32>,
    best_total: Vec<i32>,
    passed_at: Vec<Option<OffsetDateTime>>,
    passed_hash: Vec<Option<String>>,
    last_submission_id: Vec<Option<i64>>,
    last_activity_at: Vec<OffsetDateTime>,
}

/// A small deterministic random source (SplitMix64): the simulation needs
/// reproducible shapes, not cryptographic quality.
struct Dice(u64);

impl Dice {
    fn new(seed: u64) -> Self {
        Self(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }

    fn exponential(&mut self, mean: f64) -> f64 {
        -mean * (1.0 - self.unit()).ln()
    }
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
