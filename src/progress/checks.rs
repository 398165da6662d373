//! A learner's answers to concept checks: recorded once per attempt in
//! `concept_check_attempts` (the one place that writes it), read back for
//! the lesson page. The instructor's cohort-wide reads are in
//! [`crate::instructor::checks`].

use std::collections::HashMap;

use sqlx::PgPool;

/// Where an attempt was made: a question of a lesson of a module.
#[derive(Debug, Clone, Copy)]
pub struct QuestionRef<'a> {
    /// The module's id.
    pub module_id: &'a str,
    /// The lesson's id within it.
    pub lesson_id: &'a str,
    /// The question's id within the lesson.
    pub question_id: &'a str,
}

/// Records one attempt; returns whether it was the learner's first at
/// this question (the one instructors' scores count).
pub async fn record_attempt(
    db: &PgPool,
    user_id: i64,
    question: QuestionRef<'_>,
    answer: &[i32],
    correct: bool,
) -> sqlx::Result<bool> {
    let row = sqlx::query!(
        r#"WITH earlier AS (
               SELECT count(*) AS n FROM concept_check_attempts
                WHERE user_id = $1 AND module_id = $2 AND lesson_id = $3 AND question_id = $4
           )
           INSERT INTO concept_check_attempts (user_id, module_id, lesson_id, question_id, answer, correct)
           VALUES ($1, $2, $3, $4, $5, $6)
           RETURNING (SELECT n FROM earlier) AS "earlier!""#,
        user_id,
        question.module_id,
        question.lesson_id,
        question.question_id,
        answer,
        correct,
    )
    .fetch_one(db)
    .await?;
    Ok(row.earlier == 0)
}

/// What a learner has done with one question so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PastResult {
    /// How many times they answered.
    pub attempts: i64,
    /// Whether the first answer was right.
    pub first_correct: bool,
    /// Whether the latest answer was right.
    pub last_correct: bool,
    /// The latest answer (option indices, or the line number).
    pub last_answer: Vec<i32>,
}

/// The learner's results on the questions of one lesson, by question id.
pub async fn lesson_results(
    db: &PgPool,
    user_id: i64,
    module_id: &str,
    lesson_id: &str,
) -> sqlx::Result<HashMap<String, PastResult>> {
    let rows = sqlx::query!(
        r#"SELECT question_id AS "question_id!",
                  count(*) AS "attempts!",
                  (array_agg(correct ORDER BY created_at, id))[1] AS "first_correct!",
                  (array_agg(correct ORDER BY created_at DESC, id DESC))[1] AS "last_correct!",
                  (array_agg(array_to_string(answer, ',') ORDER BY created_at DESC, id DESC))[1]
                      AS "last_answer!"
             FROM concept_check_attempts
            WHERE user_id = $1 AND module_id = $2 AND lesson_id = $3
            GROUP BY question_id"#,
        user_id,
        module_id,
        lesson_id,
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let last_answer = row
                .last_answer
                .split(',')
                .filter_map(|n| n.parse().ok())
                .collect();
            (
                row.question_id,
                PastResult {
                    attempts: row.attempts,
                    first_correct: row.first_correct,
                    last_correct: row.last_correct,
                    last_answer,
                },
            )
        })
        .collect())
}
