//! Concept checks across a cohort: each learner's first-attempt score per
//! lesson (first answers right / questions) and the questions the cohort
//! misses most. A first attempt is what counts, as later ones come after
//! the key was shown.

use std::collections::HashMap;

use sqlx::PgPool;

use crate::curriculum::Programme;

/// One learner's first attempts at one lesson's questions.
#[derive(Clone, Debug)]
struct LearnerLessonRow {
    module_id: String,
    lesson_id: String,
    answered: i64,
    first_correct: i64,
}

/// A lesson's concept-check score, for one learner or a whole cohort.
#[derive(Clone, Debug)]
pub struct LessonScore {
    /// The lesson's page.
    pub url: String,
    /// Its title.
    pub title: String,
    /// Questions in the lesson's check.
    pub questions: usize,
    /// Learners who answered at least one question.
    pub learners: i64,
    /// First attempts that were right (summed over learners).
    pub first_correct: i64,
    /// Questions answered at all (summed over learners).
    pub answered: i64,
}

impl LessonScore {
    /// `first-attempt right / questions`, as the page shows it for one
    /// learner (`3/4`) or a cohort (the mean over learners who answered).
    pub fn describe(&self) -> String {
        if self.learners <= 1 {
            format!("{}/{}", self.first_correct, self.questions)
        } else {
            format!(
                "{:.1}/{} on average over {} learners",
                self.first_correct as f64 / self.learners as f64,
                self.questions,
                self.learners
            )
        }
    }
}

/// A question and how often the cohort got it wrong first time.
#[derive(Clone, Debug)]
pub struct MissedQuestion {
    /// The lesson's page.
    pub url: String,
    /// The lesson's title.
    pub lesson_title: String,
    /// The question's id.
    pub question_id: String,
    /// The question's prompt, rendered (the programme's own text).
    pub prompt_html: String,
    /// Learners whose first answer was wrong.
    pub missed: i64,
    /// Learners who answered it.
    pub learners: i64,
}

/// Concept-check scores per lesson of the cohort's learners (or of only
/// `learner`), in programme order; lessons nobody answered are left out.
pub async fn lesson_scores(
    db: &PgPool,
    programme: &Programme,
    cohort_id: i64,
    learner: Option<i64>,
) -> sqlx::Result<Vec<LessonScore>> {
    let rows = sqlx::query_as!(
        LearnerLessonRow,
        r#"WITH firsts AS (
               SELECT DISTINCT ON (a.user_id, a.module_id, a.lesson_id, a.question_id)
                      a.user_id, a.module_id, a.lesson_id, a.correct
                 FROM concept_check_attempts a
                 JOIN cohort_members m ON m.user_id = a.user_id AND m.cohort_id = $1
                WHERE $2::bigint IS NULL OR a.user_id = $2
                ORDER BY a.user_id, a.module_id, a.lesson_id, a.question_id, a.created_at, a.id
           )
           SELECT module_id AS "module_id!", lesson_id AS "lesson_id!",
                  count(*) AS "answered!",
                  count(*) FILTER (WHERE correct) AS "first_correct!"
             FROM firsts
            GROUP BY user_id, module_id, lesson_id"#,
        cohort_id,
        learner,
    )
    .fetch_all(db)
    .await?;
    let mut by_lesson: HashMap<(String, String), LessonScore> = HashMap::new();
    for row in rows {
        // A lesson or its check removed since: nothing to score against.
        let Some(lesson) = programme.lesson(&row.module_id, &row.lesson_id) else {
            continue;
        };
        if lesson.checks.is_empty() {
            continue;
        }
        let score = by_lesson
            .entry((row.module_id.clone(), row.lesson_id.clone()))
            .or_insert_with(|| LessonScore {
                url: format!("/lessons/{}/{}", lesson.module_id, lesson.id),
                title: lesson.title.clone(),
                questions: lesson.checks.len(),
                learners: 0,
                first_correct: 0,
                answered: 0,
            });
        score.learners += 1;
        score.first_correct += row.first_correct;
        score.answered += row.answered;
    }
    Ok(programme
        .lessons()
        .filter_map(|lesson| by_lesson.remove(&(lesson.module_id.clone(), lesson.id.clone())))
        .collect())
}

/// The `limit` questions whose first answers the cohort got wrong most.
pub async fn most_missed(
    db: &PgPool,
    programme: &Programme,
    cohort_id: i64,
    limit: usize,
) -> sqlx::Result<Vec<MissedQuestion>> {
    let rows = sqlx::query!(
        r#"WITH firsts AS (
               SELECT DISTINCT ON (a.user_id, a.module_id, a.lesson_id, a.question_id)
                      a.module_id, a.lesson_id, a.question_id, a.correct
                 FROM concept_check_attempts a
                 JOIN cohort_members m ON m.user_id = a.user_id AND m.cohort_id = $1
                ORDER BY a.user_id, a.module_id, a.lesson_id, a.question_id, a.created_at, a.id
           )
           SELECT module_id AS "module_id!", lesson_id AS "lesson_id!",
                  question_id AS "question_id!",
                  count(*) FILTER (WHERE NOT correct) AS "missed!",
                  count(*) AS "learners!"
             FROM firsts
            GROUP BY module_id, lesson_id, question_id
           HAVING count(*) FILTER (WHERE NOT correct) > 0
            ORDER BY 4 DESC, 5 DESC, 1, 2, 3"#,
        cohort_id,
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            let lesson = programme.lesson(&row.module_id, &row.lesson_id)?;
            let question = lesson.checks.iter().find(|q| q.id == row.question_id)?;
            Some(MissedQuestion {
                url: format!(
                    "/lessons/{}/{}#check-{}",
                    lesson.module_id, lesson.id, question.id
                ),
                lesson_title: lesson.title.clone(),
                question_id: question.id.clone(),
                prompt_html: question.prompt_html.clone(),
                missed: row.missed,
                learners: row.learners,
            })
        })
        .take(limit)
        .collect())
}
