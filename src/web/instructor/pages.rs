//! The dashboard's HTML pages.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{Html, Redirect};
use serde::Deserialize;

use super::{ago, cohort_learner, taught_cohort, when};
use crate::auth::cohorts::{self, Cohort};
use crate::auth::users;
use crate::curriculum::highlight::highlight_untrusted;
use crate::grading::job::Mode;
use crate::instructor::checks::{self, LessonScore, MissedQuestion};
use crate::instructor::exercise::ExerciseReport;
use crate::instructor::learner::{self, Event};
use crate::instructor::overview::{self, Matrix, SortKey};
use crate::instructor::stuck::{self, StuckLearner, StuckReason, Thresholds};
use crate::instructor::{charts, exercise};
use crate::progress::comments::{self, Comment};
use crate::progress::diff::{LineDiff, line_diff};
use crate::web::AppState;
use crate::web::CurrentUser;
use crate::web::error::AppError;
use crate::web::templates::{Layout, render};

/// `GET /instructor`: the cohorts you teach.
#[derive(Template)]
#[template(path = "instructor/index.html")]
pub struct IndexPage {
    layout: Layout,
    cohorts: Vec<Cohort>,
    /// Written submissions waiting for this instructor's review.
    waiting_reviews: usize,
}

/// `GET /instructor`
pub async fn index(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Html<String>, AppError> {
    user.require_teacher()?;
    let page = IndexPage {
        layout: Layout::new(&state, "Instructor"),
        cohorts: cohorts::teaching(&state.db, &user).await?,
        waiting_reviews: super::reviews::waiting_count(&state, &user).await?,
    };
    Ok(Html(render(&page)?))
}

/// The overview's query: `?module=…&sort=name|progress|activity`.
#[derive(Deserialize, Default)]
pub struct OverviewQuery {
    module: Option<String>,
    sort: Option<String>,
}

impl OverviewQuery {
    /// (module, sort), empty values read as absent.
    pub fn parts(self) -> (Option<String>, Option<String>) {
        (
            self.module.filter(|m| !m.is_empty()),
            self.sort.filter(|s| !s.is_empty()),
        )
    }
}

/// `GET /instructor/cohorts/{cohort}`: the matrix.
#[derive(Template)]
#[template(path = "instructor/overview.html")]
pub struct OverviewPage {
    layout: Layout,
    cohort: Cohort,
    matrix: Matrix,
    modules: Vec<(String, String)>,
    module: String,
    sort: SortKey,
    last_seen: Vec<String>,
    script: String,
    check_scores: Vec<LessonScore>,
    most_missed: Vec<MissedQuestion>,
}

/// Questions listed as the cohort's most missed.
const MOST_MISSED_QUESTIONS: usize = 10;

/// `GET /instructor/cohorts/{cohort}`
pub async fn overview(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(cohort_id): Path<i64>,
    Query(query): Query<OverviewQuery>,
) -> Result<Html<String>, AppError> {
    let cohort = taught_cohort(&state, &user, cohort_id).await?;
    let module = query
        .module
        .filter(|m| state.programme.module(m).is_some())
        .unwrap_or_default();
    let sort = SortKey::parse(query.sort.as_deref());
    let matrix = overview::matrix(
        &state.db,
        &state.programme,
        cohort.id,
        (!module.is_empty()).then_some(module.as_str()),
        sort,
        None,
    )
    .await?;
    let (check_scores, most_missed) = tokio::try_join!(
        checks::lesson_scores(&state.db, &state.programme, cohort.id, None),
        checks::most_missed(
            &state.db,
            &state.programme,
            cohort.id,
            MOST_MISSED_QUESTIONS
        ),
    )?;
    let page = OverviewPage {
        layout: Layout::new(&state, &format!("{} · overview", cohort.name)),
        check_scores,
        most_missed,
        last_seen: matrix.rows.iter().map(|r| ago(r.last_activity)).collect(),
        modules: state
            .programme
            .modules
            .iter()
            .map(|m| (m.id.clone(), m.title.clone()))
            .collect(),
        script: state.assets.url("instructor.js"),
        cohort,
        matrix,
        module,
        sort,
    };
    Ok(Html(render(&page)?))
}

/// The stuck page's thresholds.
#[derive(Deserialize)]
pub struct StuckQuery {
    failures: Option<i32>,
    minutes: Option<i64>,
    days: Option<i64>,
}

impl StuckQuery {
    /// The thresholds asked for, defaults for the rest, clamped to sense.
    pub fn thresholds(&self) -> Thresholds {
        let default = Thresholds::default();
        Thresholds {
            failures: self.failures.unwrap_or(default.failures).clamp(1, 1000),
            minutes: self.minutes.unwrap_or(default.minutes).clamp(1, 525_600),
            inactive_days: self.days.unwrap_or(default.inactive_days).clamp(1, 3650),
        }
    }
}

/// A stuck learner as the page shows it.
pub struct StuckRow {
    learner: StuckLearner,
    reasons: Vec<(String, Option<i64>)>,
    last_seen: String,
}

/// `GET /instructor/cohorts/{cohort}/stuck`
#[derive(Template)]
#[template(path = "instructor/stuck.html")]
pub struct StuckPage {
    layout: Layout,
    cohort: Cohort,
    thresholds: Thresholds,
    rows: Vec<StuckRow>,
}

/// `GET /instructor/cohorts/{cohort}/stuck?failures=N&minutes=T&days=D`
pub async fn stuck(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(cohort_id): Path<i64>,
    Query(query): Query<StuckQuery>,
) -> Result<Html<String>, AppError> {
    let cohort = taught_cohort(&state, &user, cohort_id).await?;
    let thresholds = query.thresholds();
    let title = |id: &str| {
        state
            .programme
            .exercise(id)
            .map_or_else(|| id.to_string(), |e| e.title.clone())
    };
    let rows = stuck::stuck(&state.db, cohort.id, thresholds)
        .await?
        .into_iter()
        .map(|learner| StuckRow {
            reasons: learner
                .reasons
                .iter()
                .map(|reason| match reason {
                    StuckReason::Failing {
                        exercise_id,
                        attempts,
                        submission_id,
                    } => (
                        format!("failed “{}” {attempts} times", title(exercise_id)),
                        *submission_id,
                    ),
                    StuckReason::Slow {
                        exercise_id,
                        minutes,
                        submission_id,
                    } => (
                        format!(
                            "on “{}” for {} without passing",
                            title(exercise_id),
                            duration(*minutes as f64)
                        ),
                        *submission_id,
                    ),
                    StuckReason::Inactive { days: Some(days) } => {
                        (format!("inactive for {days} days"), None)
                    }
                    StuckReason::Inactive { days: None } => ("no activity yet".into(), None),
                })
                .collect(),
            last_seen: ago(learner.last_activity),
            learner,
        })
        .collect();
    let page = StuckPage {
        layout: Layout::new(&state, &format!("{} · stuck learners", cohort.name)),
        cohort,
        thresholds,
        rows,
    };
    Ok(Html(render(&page)?))
}

/// "2 h 5 min" / "3 days".
pub fn duration(minutes: f64) -> String {
    let m = minutes.round() as i64;
    match m {
        m if m < 60 => format!("{m} min"),
        m if m < 48 * 60 => format!("{} h {} min", m / 60, m % 60),
        m => format!("{} days", m / 1440),
    }
}

/// `GET /instructor/cohorts/{cohort}/exercises/{exercise}`
#[derive(Template)]
#[template(path = "instructor/exercise.html")]
pub struct ExercisePage {
    layout: Layout,
    cohort: Cohort,
    exercise_id: String,
    title: String,
    hints: usize,
    report: ExerciseReport,
    learners: usize,
    /// For a review exercise: its planted defects, most missed first.
    missed_defects: Option<Vec<MissedDefect>>,
}

/// A planted defect of a review exercise and how the cohort's reviews fared on it.
pub struct MissedDefect {
    /// `src/quotes.rs:66, 75`
    pub place: String,
    /// Its category, as the page names it.
    pub category: &'static str,
    /// Reviews that did not mark it.
    pub missed: i64,
    /// Reviews that marked its line with another category.
    pub half: i64,
    /// Reviews handed in.
    pub reviews: i64,
}

impl ExercisePage {
    fn number(value: &Option<f64>) -> String {
        value.map_or_else(|| "—".into(), |v| format!("{v:.0}"))
    }
}

/// `GET /instructor/cohorts/{cohort}/exercises/{exercise}`
pub async fn exercise(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((cohort_id, exercise_id)): Path<(i64, String)>,
) -> Result<Html<String>, AppError> {
    let cohort = taught_cohort(&state, &user, cohort_id).await?;
    let exercise = state
        .programme
        .exercise(&exercise_id)
        .ok_or(AppError::NotFound)?;
    let report = exercise::report(&state.db, cohort.id, &exercise.id).await?;
    let missed_defects = match exercise.review() {
        Some(review) => Some(
            crate::grading::review::most_missed(&state.db, cohort.id, exercise)
                .await?
                .into_iter()
                .filter_map(|tally| {
                    let defect = review.defects.get(tally.defect)?;
                    let lines: Vec<String> = defect.lines.iter().map(u32::to_string).collect();
                    Some(MissedDefect {
                        place: format!("{}:{}", defect.file, lines.join(", ")),
                        category: defect.category.label(),
                        missed: tally.missed,
                        half: tally.half,
                        reviews: tally.reviews,
                    })
                })
                .collect(),
        ),
        None => None,
    };
    let page = ExercisePage {
        missed_defects,
        layout: Layout::new(&state, &format!("{} · {}", cohort.name, exercise.title)),
        learners: report.credits.len(),
        exercise_id: exercise.id.clone(),
        title: exercise.title.clone(),
        hints: exercise.hints.len(),
        cohort,
        report,
    };
    Ok(Html(render(&page)?))
}

/// `GET /instructor/cohorts/{cohort}/charts`
#[derive(Template)]
#[template(path = "instructor/charts.html")]
pub struct ChartsPage {
    layout: Layout,
    cohort: Cohort,
    progress_svg: String,
    progress: Vec<charts::ProgressPoint>,
    pass_svg: String,
    bars: Vec<(String, usize, usize, usize)>,
    exercises: usize,
}

/// `GET /instructor/cohorts/{cohort}/charts`
pub async fn charts(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(cohort_id): Path<i64>,
) -> Result<Html<String>, AppError> {
    let cohort = taught_cohort(&state, &user, cohort_id).await?;
    let matrix = overview::matrix(
        &state.db,
        &state.programme,
        cohort.id,
        None,
        SortKey::Name,
        None,
    )
    .await?;
    let learners = matrix.rows.len();
    let progress = charts::progress_over_time(&state.db, cohort.id, learners).await?;
    let bars: Vec<(String, usize, usize, usize)> = matrix
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            (
                c.title.clone(),
                matrix.column_passed[i],
                matrix.column_attempted[i],
                learners,
            )
        })
        .collect();
    let exercises = matrix.columns.len();
    let page = ChartsPage {
        layout: Layout::new(&state, &format!("{} · charts", cohort.name)),
        progress_svg: charts::progress_svg(&progress, exercises),
        pass_svg: charts::pass_rate_svg(&bars),
        cohort,
        progress,
        bars,
        exercises,
    };
    Ok(Html(render(&page)?))
}

/// An exercise's title (its id when the programme no longer has it).
fn exercise_title<'a>(programme: &'a crate::curriculum::Programme, id: &'a str) -> &'a str {
    programme.exercise(id).map_or(id, |e| e.title.as_str())
}

/// A timeline entry as shown.
pub struct TimelineRow {
    at: String,
    what: String,
    link: Option<String>,
    verdict: Option<String>,
}

/// `GET /instructor/cohorts/{cohort}/learners/{learner}`
#[derive(Template)]
#[template(path = "instructor/learner.html")]
pub struct LearnerPage {
    layout: Layout,
    cohort: Cohort,
    name: String,
    email: String,
    matrix: Matrix,
    timeline: Vec<TimelineRow>,
    check_scores: Vec<LessonScore>,
}

/// `GET /instructor/cohorts/{cohort}/learners/{learner}`
pub async fn learner(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((cohort_id, learner_id)): Path<(i64, i64)>,
) -> Result<Html<String>, AppError> {
    let cohort = taught_cohort(&state, &user, cohort_id).await?;
    let learner = cohort_learner(&state, &cohort, learner_id).await?;
    let (id, name, email) = (learner.id, learner.display_name, learner.email);
    let (matrix, events, check_scores) = tokio::try_join!(
        overview::matrix(
            &state.db,
            &state.programme,
            cohort.id,
            None,
            SortKey::Name,
            Some(id)
        ),
        learner::timeline(&state.db, id),
        checks::lesson_scores(&state.db, &state.programme, cohort.id, Some(id)),
    )?;
    let programme = &state.programme;
    let timeline = events
        .into_iter()
        .map(|event| match event {
            Event::Lesson {
                module_id,
                lesson_id,
                at,
            } => TimelineRow {
                at: when(at),
                what: format!(
                    "Read “{}”",
                    programme
                        .lesson(&module_id, &lesson_id)
                        .map_or(lesson_id.as_str(), |l| l.title.as_str())
                ),
                link: None,
                verdict: None,
            },
            Event::Submission {
                id,
                mode,
                exercise_id,
                verdict_status,
                tests_passed,
                tests_total,
                at,
            } => {
                let title = exercise_id.as_deref().map(|e| exercise_title(programme, e));
                let what = match (mode, title) {
                    (Mode::Submit, Some(t)) => format!("Submitted “{t}”"),
                    (Mode::Visible, Some(t)) => format!("Ran the visible tests of “{t}”"),
                    _ => "Ran a program".to_string(),
                };
                let verdict = verdict_status.map(|s| match (tests_passed, tests_total) {
                    (Some(p), Some(t)) if t > 0 => format!("{s} · {p}/{t}"),
                    _ => s.to_string(),
                });
                TimelineRow {
                    at: when(at),
                    what,
                    link: Some(format!("/instructor/submissions/{id}")),
                    verdict,
                }
            }
            Event::Written {
                id,
                exercise_id,
                state,
                points,
                max_points,
                at,
            } => TimelineRow {
                at: when(at),
                what: format!(
                    "Handed in “{}” for review",
                    exercise_title(programme, &exercise_id)
                ),
                link: Some(format!("/instructor/reviews/{id}")),
                verdict: Some(match (state.as_str(), points) {
                    ("accepted", Some(points)) => format!("accepted · {points}/{max_points}"),
                    ("changes_requested", _) => "changes requested".to_string(),
                    ("accepted", None) => "accepted".to_string(),
                    _ => "awaiting review".to_string(),
                }),
            },
            Event::Review {
                exercise_id,
                score,
                passed,
                at,
            } => TimelineRow {
                at: when(at),
                what: format!(
                    "Handed in the review “{}”",
                    exercise_title(programme, &exercise_id)
                ),
                link: Some(format!(
                    "/instructor/cohorts/{}/exercises/{exercise_id}",
                    cohort.id
                )),
                verdict: Some(format!(
                    "{} · {:.0}%",
                    if passed { "passed" } else { "not passed" },
                    score * 100.0
                )),
            },
        })
        .collect();
    let page = LearnerPage {
        layout: Layout::new(&state, &format!("{name} · {}", cohort.name)),
        cohort,
        name,
        email,
        matrix,
        timeline,
        check_scores,
    };
    Ok(Html(render(&page)?))
}

/// `GET /instructor/submissions/{id}`
#[derive(Template)]
#[template(path = "instructor/submission.html")]
pub struct SubmissionPage {
    layout: Layout,
    submission: learner::Submission,
    learner_name: String,
    title: String,
    created: String,
    code_html: String,
    previous: Option<i64>,
    diff: LineDiff,
    comments: Vec<(Comment, String)>,
    max_comment: usize,
}

/// A submission the viewer (an instructor) may see: 404 otherwise.
async fn visible_submission(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
) -> Result<learner::Submission, AppError> {
    user.require_teacher()?;
    let submission = learner::submission(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !crate::auth::can_view_learner(user, submission.user_id, &state.db).await? {
        return Err(AppError::NotFound);
    }
    Ok(submission)
}

/// `GET /instructor/submissions/{id}`: code, verdict, diff, comments.
pub async fn submission(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Html<String>, AppError> {
    let submission = visible_submission(&state, &user, id).await?;
    let (previous, comments, learner_name) = tokio::try_join!(
        learner::previous(&state.db, &submission),
        comments::on(&state.db, submission.id),
        users::display_name(&state.db, submission.user_id),
    )?;
    let title = submission
        .exercise_id
        .as_deref()
        .map_or("a program".to_string(), |e| {
            state
                .programme
                .exercise(e)
                .map_or(e.to_string(), |x| x.title.clone())
        });
    // Learner code: highlighted and diffed with bounded work, off the async workers.
    let code = submission.code.clone();
    let (previous_id, previous_code) = previous.map(|p| (p.id, p.code)).unzip();
    let (code_html, diff) = crate::web::cpu::run(move || {
        let code_html = highlight_untrusted("rust", &code);
        let diff = previous_code
            .map(|before| line_diff(&before, &code))
            .unwrap_or_default();
        (code_html, diff)
    })
    .await?;
    let page = SubmissionPage {
        layout: Layout::new(&state, &format!("Submission {}", submission.id)),
        code_html,
        diff,
        previous: previous_id,
        comments: comments
            .into_iter()
            .map(|c| {
                let at = when(c.created_at);
                (c, at)
            })
            .collect(),
        created: when(submission.created_at),
        learner_name,
        title,
        submission,
        max_comment: comments::MAX_COMMENT_CHARS,
    };
    Ok(Html(render(&page)?))
}

/// The comment form.
#[derive(Deserialize)]
pub struct CommentForm {
    #[serde(default)]
    body: String,
}

/// `POST /instructor/submissions/{id}/comments` (form, with `csrf_token`).
pub async fn comment(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<CommentForm>,
) -> Result<Redirect, AppError> {
    let submission = visible_submission(&state, &user, id).await?;
    let body = form.body.trim();
    if body.is_empty() {
        return Err(AppError::Unprocessable("write a comment first".into()));
    }
    if body.chars().count() > comments::MAX_COMMENT_CHARS {
        return Err(AppError::Unprocessable(format!(
            "a comment may have at most {} characters",
            comments::MAX_COMMENT_CHARS
        )));
    }
    comments::add(&state.db, submission.id, user.id, body).await?;
    Ok(Redirect::to(&format!(
        "/instructor/submissions/{}#comments",
        submission.id
    )))
}
