//! Concept checks on the lesson page: the questions as the page shows them
//! (never with their key) and `POST
//! /api/lessons/{module}/{lesson}/checks/{question}`, which grades one
//! attempt, records it and only then answers with the key and explanation.

use axum::extract::{Path, State};
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::curriculum::checks::{Question, QuestionKind};
use crate::progress::checks::{self, PastResult, QuestionRef};
use crate::web::error::AppError;
use crate::web::submissions::ApiJson;
use crate::web::{AppState, CurrentUser};

/// The attempt API.
pub fn routes() -> Router<AppState> {
    Router::new().route(
        "/api/lessons/{module}/{lesson}/checks/{question}",
        post(attempt),
    )
}

/// One question as the lesson page shows it: what to answer, and the
/// learner's own earlier result — never the key.
pub struct CheckView<'a> {
    /// The question (the template reads only its shown parts).
    pub question: &'a Question,
    /// The learner's results so far (signed in and attempted).
    pub past: Option<PastResult>,
}

impl CheckView<'_> {
    /// `choice`, `multi`, `predict` or `line`.
    pub fn kind(&self) -> &'static str {
        self.question.kind.as_str()
    }

    /// The input type of the options.
    pub fn input_type(&self) -> &'static str {
        match self.question.kind {
            QuestionKind::Multi => "checkbox",
            _ => "radio",
        }
    }

    /// Whether the learner's latest answer picked option (or line) `value`,
    /// so the page shows it selected again.
    pub fn was_picked(&self, value: &usize) -> bool {
        self.past
            .as_ref()
            .is_some_and(|p| p.last_answer.iter().any(|&a| a as usize == *value))
    }

    /// The learner's earlier result in words, if any.
    pub fn past_summary(&self) -> Option<String> {
        let past = self.past.as_ref()?;
        let tries = if past.attempts == 1 {
            "1 attempt".to_string()
        } else {
            format!("{} attempts", past.attempts)
        };
        Some(format!(
            "Your last answer was {} ({tries}; first attempt {}).",
            if past.last_correct { "right" } else { "wrong" },
            if past.first_correct { "right" } else { "wrong" },
        ))
    }
}

/// The lesson's questions for the page, with `results` from
/// [`checks::lesson_results`] when the learner is signed in.
pub fn views<'a>(
    questions: &'a [Question],
    mut results: std::collections::HashMap<String, PastResult>,
) -> Vec<CheckView<'a>> {
    questions
        .iter()
        .map(|question| CheckView {
            past: results.remove(&question.id),
            question,
        })
        .collect()
}

/// `{"answer": [..]}`: option indices (0-based), or `[line]` (1-based).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttemptBody {
    answer: Vec<usize>,
}

/// `POST /api/lessons/{module}/{lesson}/checks/{question}` → `{"correct",
/// "answer", "explanation_html", "first_attempt"}`.
pub async fn attempt(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((module_id, lesson_id, question_id)): Path<(String, String, String)>,
    ApiJson(body): ApiJson<AttemptBody>,
) -> Result<Json<Value>, AppError> {
    let lesson = state
        .programme
        .lesson(&module_id, &lesson_id)
        .ok_or(AppError::NotFound)?;
    let question = lesson
        .checks
        .iter()
        .find(|q| q.id == question_id)
        .ok_or(AppError::NotFound)?;
    let correct = question
        .grade(&body.answer)
        .map_err(|unfit| AppError::Unprocessable(unfit.0))?;
    // `grade` bounded every entry by the options or lines: it fits an i32.
    let answer: Vec<i32> = body.answer.iter().map(|&a| a as i32).collect();
    let first_attempt = checks::record_attempt(
        &state.db,
        user.id,
        QuestionRef {
            module_id: &module_id,
            lesson_id: &lesson_id,
            question_id: &question_id,
        },
        &answer,
        correct,
    )
    .await?;
    Ok(Json(json!({
        "correct": correct,
        "answer": question.answer,
        "explanation_html": question.explanation_html,
        "first_attempt": first_attempt,
    })))
}
