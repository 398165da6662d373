//! Written work, the learner's side: the exercise page of a `written`
//! exercise (the brief beside a markdown editor with autosaved drafts and a
//! preview, the rubric, and every submission with its scores and the
//! instructor's comments beside the lines), handing work in, and one
//! submission's page and JSON.
//!
//! Drafts go through the same API and optimistic locking as code
//! ([`crate::web::drafts`]); a hand-in is stored by [`crate::grading::written`]
//! and waits for an instructor ([`crate::web::instructor`]'s review queue).
//! Anyone may see a submission only if [`can_view_learner`] says so (the
//! author, the instructors of their cohorts, admins); anyone else gets 404.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, Redirect};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use pulldown_cmark::{Event, Options, Parser};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::cohorts::can_view_learner;
use crate::curriculum::rubric::Rubric;
use crate::curriculum::{Exercise, Item, Module, markdown};
use crate::grading::code;
use crate::grading::job::ReviewState;
use crate::grading::written::{self, HandInRefused, LineComment, WrittenSubmission};
use crate::progress::drafts;
use crate::progress::summary::LearnerProgress;
use crate::web::AppState;
use crate::web::CurrentUser;
use crate::web::error::AppError;
use crate::web::instructor::{ago, when};
use crate::web::learn::{SidebarItem, sidebar};
use crate::web::submissions::{ApiJson, code_error};
use crate::web::templates::{Layout, render};

/// The learner's routes for written work.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/exercises/{exercise}/written", post(hand_in_form))
        .route("/api/exercises/{exercise}/written", post(hand_in_api))
        .route("/api/written/preview", post(preview))
        .route("/written/{id}", get(show_page))
        .route("/api/written/{id}", get(show_api))
}

/// A top-level block of the submitted markdown, rendered, with the lines it
/// spans and the comments on them.
pub struct Block {
    /// First line (1-based).
    pub first: usize,
    /// Last line.
    pub last: usize,
    /// Safe HTML (raw HTML in the markdown is escaped).
    pub html: String,
    /// Comments on lines `first..=last` (and, for the first block, on any
    /// line before it).
    pub comments: Vec<LineComment>,
}

/// One criterion's score as shown.
pub struct CriterionScore {
    /// The criterion's title.
    pub title: String,
    /// The points given, once scored.
    pub points: Option<i32>,
    /// The criterion's maximum.
    pub max: u32,
    /// The description of the level given.
    pub level: Option<String>,
}

/// One submission as learner and instructor read it.
pub struct Review {
    /// The submission.
    pub submission: WrittenSubmission,
    /// Its markdown, rendered block by block with line numbers.
    pub blocks: Vec<Block>,
    /// How many lines it has.
    pub lines: usize,
    /// Every criterion with its score (if scored).
    pub scores: Vec<CriterionScore>,
    /// "2026-03-01 14:05"
    pub handed_in: String,
    /// "3 h ago"
    pub waiting: String,
}

impl Review {
    /// Loads submission `submission`'s scores and comments and renders it
    /// (off the async workers: the markdown is the learner's, up to 64 KiB).
    pub async fn load(
        state: &AppState,
        submission: WrittenSubmission,
        rubric: Option<&Rubric>,
    ) -> Result<Self, AppError> {
        let (scores, comments) = tokio::try_join!(
            written::scores(&state.db, submission.id),
            written::line_comments(&state.db, submission.id),
        )?;
        let body = submission.body.clone();
        let (blocks, lines) = crate::web::cpu::run(move || blocks_of(&body, comments)).await?;
        let given: HashMap<String, i32> = scores.into_iter().collect();
        let scores = rubric
            .map(|rubric| {
                rubric
                    .criteria
                    .iter()
                    .map(|criterion| {
                        let points = given.get(&criterion.id).copied();
                        CriterionScore {
                            title: criterion.title.clone(),
                            points,
                            max: criterion.max_points(),
                            level: points
                                .and_then(|p| u32::try_from(p).ok())
                                .and_then(|p| criterion.level(p))
                                .map(|level| level.description.clone()),
                        }
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(Self {
            handed_in: when(submission.created_at),
            waiting: ago(Some(submission.created_at)),
            submission,
            blocks,
            lines,
            scores,
        })
    }

    /// Whether an instructor has decided.
    pub fn decided(&self) -> bool {
        self.submission.state != ReviewState::AwaitingReview
    }

    /// The comments, for JSON.
    fn comments_json(&self) -> Vec<Value> {
        self.blocks
            .iter()
            .flat_map(|block| &block.comments)
            .map(|c| json!({ "line": c.line, "author": c.author, "body": c.body }))
            .collect()
    }
}

/// Splits `markdown` into its top-level blocks, each rendered on its own
/// with the lines it spans, and files each comment under the block holding
/// its line (a comment on a blank line goes to the block before it).
/// Returns the blocks and the number of lines.
pub fn blocks_of(markdown: &str, comments: Vec<LineComment>) -> (Vec<Block>, usize) {
    let line_of = |offset: usize| markdown[..offset.min(markdown.len())].matches('\n').count() + 1;
    let options =
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_FOOTNOTES;
    let mut blocks = Vec::new();
    let mut depth = 0usize;
    let mut start = 0usize;
    for (event, range) in Parser::new_ext(markdown, options).into_offset_iter() {
        let whole = match event {
            Event::Start(_) => {
                if depth == 0 {
                    start = range.start;
                }
                depth += 1;
                None
            }
            Event::End(_) => {
                depth = depth.saturating_sub(1);
                (depth == 0).then_some(start..range.end)
            }
            _ if depth == 0 => Some(range),
            _ => None,
        };
        if let Some(range) = whole {
            // A list's range takes in the blank line after it; the block ends at its text.
            let text = markdown[range.clone()].trim_end();
            blocks.push(Block {
                first: line_of(range.start),
                last: line_of(range.start + text.len().saturating_sub(1)),
                html: markdown::render(text).html,
                comments: Vec::new(),
            });
        }
    }
    let lines = markdown.lines().count();
    for comment in comments {
        let line = usize::try_from(comment.line).unwrap_or(0);
        let index = blocks
            .iter()
            .rposition(|block| block.first <= line)
            .unwrap_or(0);
        match blocks.get_mut(index) {
            Some(block) => block.comments.push(comment),
            None => blocks.push(Block {
                first: line,
                last: line,
                html: String::new(),
                comments: vec![comment],
            }),
        }
    }
    (blocks, lines)
}

/// The exercise page of a `written` exercise.
#[derive(Template)]
#[template(path = "written/exercise.html")]
pub struct WrittenPage<'a> {
    layout: Layout,
    module: &'a Module,
    exercise: &'a Exercise,
    rubric: &'a Rubric,
    sidebar: Vec<SidebarItem>,
    done: usize,
    previous: Option<&'a Item>,
    next: Option<&'a Item>,
    text: String,
    version: i64,
    /// Submissions, newest first; the newest is shown in full.
    reviews: Vec<Review>,
    /// Why the learner cannot hand in now, if they cannot.
    closed: Option<&'static str>,
    script: String,
    max_bytes: usize,
}

/// `GET /exercises/{exercise}` for a `written` exercise (called by
/// [`crate::web::learn::exercise`]).
pub async fn page(
    state: &AppState,
    user: &CurrentUser,
    exercise: &Exercise,
) -> Result<Html<String>, AppError> {
    let rubric = exercise.rubric().ok_or(AppError::NotFound)?;
    let (module, previous, next) = crate::web::pages::exercise_place(state, exercise)?;
    crate::progress::record::open_exercise(&state.db, user.id, &exercise.id).await?;
    let (draft, progress, history) = tokio::try_join!(
        drafts::load(&state.db, user.id, &exercise.id),
        LearnerProgress::load(&state.db, user.id),
        written::history(&state.db, user.id, &exercise.id),
    )?;
    let (text, version) = match draft {
        Some(draft) => (draft.code, draft.version),
        None => (exercise.starter.clone(), 0),
    };
    let closed = history.first().and_then(|latest| match latest.state {
        ReviewState::AwaitingReview => {
            Some("Your note is waiting for an instructor's review; you can hand in again once it is reviewed.")
        }
        ReviewState::Accepted if latest.exercise_hash == exercise.content_hash => {
            Some("Your note was accepted: this exercise is passed.")
        }
        _ => None,
    });
    let mut reviews = Vec::with_capacity(history.len());
    for submission in history {
        reviews.push(Review::load(state, submission, Some(rubric)).await?);
    }
    let url = format!("/exercises/{}", exercise.id);
    let page = WrittenPage {
        layout: Layout::new(state, &exercise.title),
        sidebar: sidebar(module, Some(&progress), &url),
        done: progress.module(module).done,
        module,
        exercise,
        rubric,
        previous,
        next,
        text,
        version,
        reviews,
        closed,
        script: state.assets.url("written.js"),
        max_bytes: code::MAX_CODE_BYTES,
    };
    Ok(Html(render(&page)?))
}

/// The written exercise `id`, or 404.
fn written_exercise<'a>(state: &'a AppState, id: &str) -> Result<&'a Exercise, AppError> {
    state
        .programme
        .exercise(id)
        .filter(|exercise| exercise.rubric().is_some())
        .ok_or(AppError::NotFound)
}

/// Hands `body` in for review, mapping refusals to clear errors.
async fn hand_in(
    state: &AppState,
    user: &CurrentUser,
    exercise_id: &str,
    body: &str,
) -> Result<i64, AppError> {
    let exercise = written_exercise(state, exercise_id)?;
    let rubric = exercise.rubric().ok_or(AppError::NotFound)?;
    code::check(body)
        .map_err(|problem| code_error(problem, "the note", " — it was not handed in"))?;
    if body.trim().is_empty() || body.trim() == exercise.starter.trim() {
        return Err(AppError::Unprocessable(
            "the note is still the template: write it before handing it in".into(),
        ));
    }
    match written::hand_in(&state.db, user.id, exercise, rubric.max_points(), body).await? {
        Ok(id) => Ok(id),
        Err(HandInRefused::StillWaiting) => Err(AppError::Conflict(
            "your previous submission is still waiting for review".into(),
        )),
        Err(HandInRefused::AlreadyAccepted) => Err(AppError::Conflict(
            "your work on this exercise was accepted; there is nothing more to hand in".into(),
        )),
    }
}

/// `body=…`: the form behind "Hand in for review".
#[derive(Deserialize)]
pub struct HandInForm {
    body: String,
}

/// `POST /exercises/{exercise}/written` (form) → back to the exercise page.
pub async fn hand_in_form(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(exercise_id): Path<String>,
    Form(form): Form<HandInForm>,
) -> Result<Redirect, AppError> {
    // Browsers send CRLF line ends from a textarea; line numbers are the same either way.
    let body = form.body.replace("\r\n", "\n");
    hand_in(&state, &user, &exercise_id, &body).await?;
    Ok(Redirect::to(&format!("/exercises/{exercise_id}#reviews")))
}

/// `{"body": "…markdown…"}`
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HandInBody {
    body: String,
}

/// `POST /api/exercises/{exercise}/written` `{"body"}` → 201 `{"id", "state"}`.
pub async fn hand_in_api(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(exercise_id): Path<String>,
    ApiJson(body): ApiJson<HandInBody>,
) -> Result<(StatusCode, Json<Value>), AppError> {
    let id = hand_in(&state, &user, &exercise_id, &body.body).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "id": id, "state": ReviewState::AwaitingReview })),
    ))
}

/// `POST /api/written/preview` `{"body"}` → `{"html"}`: the markdown as it
/// will be shown (rendered off the async workers).
pub async fn preview(
    _user: CurrentUser,
    ApiJson(body): ApiJson<HandInBody>,
) -> Result<Json<Value>, AppError> {
    code::check(&body.body).map_err(|problem| code_error(problem, "the note", ""))?;
    let html = crate::web::cpu::run(move || markdown::render(&body.body).html).await?;
    Ok(Json(json!({ "html": html })))
}

/// Submission `id` with its review, if `user` may see it (404 otherwise).
async fn visible_review(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
) -> Result<(Review, String), AppError> {
    let submission = written::find(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !can_view_learner(user, submission.user_id, &state.db).await? {
        return Err(AppError::NotFound);
    }
    let exercise = state.programme.exercise(&submission.exercise_id);
    let title = exercise.map_or_else(
        || "an exercise no longer in the programme".to_string(),
        |e| e.title.clone(),
    );
    let review = Review::load(state, submission, exercise.and_then(Exercise::rubric)).await?;
    Ok((review, title))
}

/// One submission as a page of its own.
#[derive(Template)]
#[template(path = "written/submission.html")]
pub struct SubmissionPage {
    layout: Layout,
    title: String,
    review: Review,
}

/// `GET /written/{id}`: one submission with its scores and comments.
pub async fn show_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Html<String>, AppError> {
    let (review, title) = visible_review(&state, &user, id).await?;
    let page = SubmissionPage {
        layout: Layout::new(&state, &format!("Written submission {id}")),
        title,
        review,
    };
    Ok(Html(render(&page)?))
}

/// `GET /api/written/{id}` → the submission, its state, scores and comments.
pub async fn show_api(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Json<Value>, AppError> {
    let (review, _) = visible_review(&state, &user, id).await?;
    let s = &review.submission;
    Ok(Json(json!({
        "id": s.id,
        "exercise_id": s.exercise_id,
        "state": s.state,
        "body": s.body,
        "points": s.points,
        "max_points": s.max_points,
        "overall_comment": s.overall_comment,
        "scores": review.scores.iter().map(|c| json!({
            "criterion": c.title, "points": c.points, "max": c.max, "level": c.level,
        })).collect::<Vec<_>>(),
        "comments": review.comments_json(),
        "created_at": s.created_at.format(&time::format_description::well_known::Rfc3339).ok(),
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn comment(line: i32, body: &str) -> LineComment {
        LineComment {
            id: 0,
            line,
            author: "Ines".into(),
            body: body.into(),
            created_at: OffsetDateTime::UNIX_EPOCH,
        }
    }

    use time::OffsetDateTime;

    #[test]
    fn blocks_carry_their_lines_and_the_comments_on_them() {
        let markdown =
            "# Title\n\nFirst paragraph\nstill first.\n\n- a\n- b\n\n<script>x</script>\n";
        let (blocks, lines) = blocks_of(
            markdown,
            vec![
                comment(4, "on the paragraph"),
                comment(5, "blank line"),
                comment(7, "on b"),
            ],
        );
        assert_eq!(lines, 9);
        let spans: Vec<(usize, usize)> = blocks.iter().map(|b| (b.first, b.last)).collect();
        assert_eq!(spans, vec![(1, 1), (3, 4), (6, 7), (9, 9)]);
        assert!(
            blocks[0].html.contains("<h1>Title</h1>"),
            "{}",
            blocks[0].html
        );
        assert!(blocks[2].html.contains("<li>b</li>"), "{}", blocks[2].html);
        assert!(
            !blocks[3].html.contains("<script>"),
            "raw HTML is escaped: {}",
            blocks[3].html
        );
        let bodies = |i: usize| -> Vec<&str> {
            blocks[i].comments.iter().map(|c| c.body.as_str()).collect()
        };
        assert_eq!(bodies(1), vec!["on the paragraph", "blank line"]);
        assert_eq!(bodies(2), vec!["on b"]);
        assert!(bodies(0).is_empty());
    }
}
