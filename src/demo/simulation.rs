//! The simulated history: every learner walks the programme as their drawn
//! [`Profile`] says — reading, opening exercises, taking hints, submitting
//! until they pass, give up or get stuck — and leaves rows in a [`Batch`].
//! Nothing here talks to the database.

use time::{Duration, OffsetDateTime};

use super::bulk::{Batch, PendingProgress, PendingSubmission};
use crate::curriculum::{Difficulty, Exercise, Item, Programme, Work};
use crate::grading::job::Mode;
use crate::grading::verdict::{Diagnostic, Durations, Reason, Status, TestResult, Verdict};

/// The programme as the simulation walks it.
pub(super) struct Catalogue<'a> {
    steps: Vec<Step<'a>>,
    pub(super) exercises: Vec<ExerciseModel<'a>>,
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
pub(super) struct ExerciseModel<'a> {
    exercise: &'a Exercise,
    /// (verdict name, hidden, how often it fails relative to the others).
    tests: Vec<(String, bool, f64)>,
    solution_lines: Vec<&'a str>,
}

impl<'a> Catalogue<'a> {
    pub(super) fn new(programme: &'a Programme) -> Self {
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
                    // Simulated learners hand in code; written work waits for a person.
                    Item::Exercise(exercise) if !exercise.runs_code() => {}
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
    let tests = match &exercise.work {
        Work::LearnerTests(work) => {
            let mut names = vec![(
                "your tests pass on the correct implementation".into(),
                false,
            )];
            names.extend(
                work.mutants
                    .iter()
                    .map(|m| (format!("catches mutant: {}", m.description), false)),
            );
            return names;
        }
        Work::GivenTests(tests) => tests,
        Work::Written(_) | Work::Review(_) => return Vec::new(),
    };
    let mut names: Vec<(String, bool)> = test_functions(&tests.visible)
        .into_iter()
        .map(|name| (format!("visible::{name}"), false))
        .collect();
    names.extend(
        test_functions(&tests.hidden)
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
pub(super) struct Profile {
    /// 0..1: chance of passing on a given attempt, before difficulty.
    ability: f64,
    /// Exercises they get to (the last one may be unfinished).
    pub(super) reach: usize,
    /// Whether they keep failing the last exercise they reach.
    pub(super) stuck: bool,
    /// When their history starts and the latest it may end.
    start_days_ago: f64,
    end_days_ago: f64,
}

impl Profile {
    pub(super) fn draw(dice: &mut Dice, exercises: usize, days: u32) -> Self {
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
    mode: Mode,
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
pub(super) fn simulate(
    catalogue: &Catalogue<'_>,
    learner: i64,
    profile: &Profile,
    now: OffsetDateTime,
    dice: &mut Dice,
    batch: &mut Batch,
) {
    let history = walk(catalogue, profile, dice);
    history.place(catalogue, learner, profile, now, batch);
}

/// A learner's history in minutes since they started, before it is placed
/// in real time.
struct History {
    /// (step index, first visit, last visit).
    visits: Vec<(usize, f64, f64)>,
    /// (exercise index, hint index, when).
    hints: Vec<(usize, i32, f64)>,
    submissions: Vec<SimSubmission>,
    progress: Vec<SimProgress>,
    /// When the last thing happened.
    end: f64,
}

/// What the learner does, step by step, in relative minutes.
fn walk(catalogue: &Catalogue<'_>, profile: &Profile, dice: &mut Dice) -> History {
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
                            mode: Mode::Visible,
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
                        mode: Mode::Submit,
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
    History {
        visits,
        hints,
        submissions,
        progress,
        end: minute,
    }
}

impl History {
    /// Places the history in real time — ending by the profile's last day,
    /// squeezed if it would not fit since the learner's start — and appends
    /// its rows to `batch`.
    fn place(
        self,
        catalogue: &Catalogue<'_>,
        learner: i64,
        profile: &Profile,
        now: OffsetDateTime,
        batch: &mut Batch,
    ) {
        let History {
            visits,
            hints,
            submissions,
            progress,
            end: minute,
        } = self;
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

/// A small deterministic random source (SplitMix64): the simulation needs
/// reproducible shapes, not cryptographic quality.
pub(super) struct Dice(u64);

impl Dice {
    pub(super) fn new(seed: u64) -> Self {
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
