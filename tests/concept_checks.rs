//! Concept checks over HTTP, against the real programme: the lesson page
//! shows the questions but never their key or explanations; an attempt is
//! graded, recorded and only then answered with the key; the learner's
//! page shows their earlier results; instructors see scores per lesson, the
//! most-missed questions and an export of every attempt.

mod common;

use common::auth::{Browser, signed_in};
use lockstep::auth::Role;
use lockstep::auth::cohorts::{self, CohortName};
use reqwest::StatusCode;
use serde_json::{Value, json};

const MODULE: &str = "async-fundamentals";
const LESSON: &str = "concurrency-in-a-task";

fn lesson_url() -> String {
    format!("/lessons/{MODULE}/{LESSON}")
}

fn attempt_url(question: &str) -> String {
    format!("/api/lessons/{MODULE}/{LESSON}/checks/{question}")
}

/// What of each question's key could leak into a page: the explanation
/// (as rendered) and the explanation's first sentence as plain text.
fn assert_no_key(page: &str) {
    let programme = common::programme();
    let lesson = programme.lesson(MODULE, LESSON).unwrap();
    assert!(lesson.checks.len() >= 3, "the lesson has its concept check");
    for question in &lesson.checks {
        assert!(
            page.contains(&format!("data-question=\"{}\"", question.id)),
            "question {} is on the page",
            question.id
        );
        assert!(
            !page.contains(&question.explanation_html),
            "the explanation of {} is not on the page",
            question.id
        );
        let first_words: String = question
            .explanation_html
            .trim_start_matches("<p>")
            .chars()
            .take(40)
            .collect();
        assert!(
            !page.contains(&first_words),
            "no part of the explanation of {}: {first_words}",
            question.id
        );
    }
    assert!(
        !page.contains("is-right-answer"),
        "no option is marked right"
    );
    assert!(!page.contains("explanation_html"));
}

async fn attempt(browser: &Browser, question: &str, answer: &[usize]) -> reqwest::Response {
    browser
        .post_json(&attempt_url(question), &json!({ "answer": answer }))
        .await
}

#[tokio::test]
async fn the_lesson_shows_questions_without_their_key_to_visitors_and_learners() {
    let app = common::spawn_app().await;
    let visitor = app.browser();
    let page = visitor.page(&lesson_url()).await;
    assert!(page.contains("Check your understanding"));
    assert_no_key(&page);
    // A visitor cannot answer: the API wants an account.
    let response = attempt(&visitor, "join-order", &[1]).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);

    let (learner, _) = signed_in(&app, "ada@example.com", Role::Learner).await;
    let page = learner.page(&lesson_url()).await;
    assert_no_key(&page);
    // Every kind is shown as it is answered: a program, options, numbered lines.
    assert!(page.contains("class=\"check-program\""));
    assert!(page.contains("class=\"check-output\""));
    assert!(page.contains("class=\"check-lines\""));
    assert!(page.contains("type=\"radio\" name=\"q-permit-too-late\" value=\"6\""));
}

#[tokio::test]
async fn an_attempt_is_graded_recorded_and_answered_with_the_key() {
    let app = common::spawn_app().await;
    let (learner, ada) = signed_in(&app, "ada@example.com", Role::Learner).await;
    let programme = common::programme();
    let question = programme
        .lesson(MODULE, LESSON)
        .unwrap()
        .checks
        .iter()
        .find(|q| q.id == "join-order")
        .unwrap();
    let right = question.answer[0];
    let wrong = (right + 1) % question.options.len();

    let response = attempt(&learner, "join-order", &[wrong]).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["correct"], json!(false));
    assert_eq!(body["answer"], json!([right]));
    assert_eq!(body["first_attempt"], json!(true));
    assert_eq!(
        body["explanation_html"].as_str(),
        Some(question.explanation_html.as_str())
    );

    let body: Value = attempt(&learner, "join-order", &[right])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["correct"], json!(true));
    assert_eq!(body["first_attempt"], json!(false));

    // A line question: any right line counts; a line outside the code is refused.
    let body: Value = attempt(&learner, "permit-too-late", &[6])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["correct"], json!(true));
    let response = attempt(&learner, "permit-too-late", &[99]).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let response = attempt(&learner, "join-order", &[0, 1]).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let response = attempt(&learner, "no-such-question", &[0]).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);

    let rows: Vec<(String, Vec<i32>, bool)> = sqlx::query_as(
        "SELECT question_id, answer, correct FROM concept_check_attempts
          WHERE user_id = $1 AND module_id = $2 AND lesson_id = $3 ORDER BY id",
    )
    .bind(ada.id)
    .bind(MODULE)
    .bind(LESSON)
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(
        rows,
        vec![
            ("join-order".to_string(), vec![wrong as i32], false),
            ("join-order".to_string(), vec![right as i32], true),
            ("permit-too-late".to_string(), vec![6], true),
        ],
        "every graded attempt is recorded, refused ones are not"
    );

    // The page shows the learner's own results back, still without the key.
    let page = learner.page(&lesson_url()).await;
    assert!(
        page.contains("Your last answer was right (2 attempts; first attempt wrong)."),
        "{page}"
    );
    assert!(page.contains(&format!("name=\"q-join-order\" value=\"{right}\" checked")));
    assert_no_key(&page);
}

#[tokio::test]
async fn instructors_see_scores_most_missed_questions_and_the_export() {
    let app = common::spawn_app().await;
    let (teacher, teacher_user) = signed_in(&app, "teacher@example.com", Role::Instructor).await;
    let cohort = cohorts::create(
        &app.db,
        &teacher_user,
        &CohortName::parse("Spring").unwrap(),
    )
    .await
    .unwrap();
    let (ada, ada_user) = signed_in(&app, "ada@example.com", Role::Learner).await;
    let (bo, bo_user) = signed_in(&app, "bo@example.com", Role::Learner).await;
    for user in [&ada_user, &bo_user] {
        cohorts::join(&app.db, cohort.id, user.id).await.unwrap();
    }
    // Ada: join-order right, select-loser wrong then right. Bo: both wrong first.
    attempt(&ada, "join-order", &[1]).await;
    attempt(&ada, "select-loser", &[1]).await;
    attempt(&ada, "select-loser", &[0]).await;
    attempt(&bo, "join-order", &[0]).await;
    attempt(&bo, "select-loser", &[3]).await;

    let questions = common::programme()
        .lesson(MODULE, LESSON)
        .unwrap()
        .checks
        .len();
    let page = teacher
        .page(&format!("/instructor/cohorts/{}", cohort.id))
        .await;
    let scores = &page[page.find("id=\"check-scores\"").expect("scores table")..];
    assert!(
        scores.contains(&format!("0.5/{questions} on average over 2 learners")),
        "Ada 1 right first time, Bo none: {scores}"
    );
    let missed = &page[page.find("id=\"most-missed\"").expect("most missed")..];
    let select = missed.find("select-loser").expect("select-loser listed");
    let join = missed.find("join-order").expect("join-order listed");
    assert!(select < join, "missed by two comes before missed by one");
    assert!(missed.contains("wrong first time for 2 of 2 learners"));
    assert!(missed.contains("wrong first time for 1 of 2 learners"));

    let page = teacher
        .page(&format!(
            "/instructor/cohorts/{}/learners/{}",
            cohort.id, ada_user.id
        ))
        .await;
    assert!(
        page.contains(&format!("<td>1/{questions}</td><td>2</td>")),
        "{page}"
    );

    let response = teacher
        .get(&format!(
            "/instructor/cohorts/{}/export/concept-checks.csv",
            cohort.id
        ))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let csv = response.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "id,user_id,email,module_id,lesson_id,question_id,answer,correct,created_at"
    );
    assert_eq!(lines.len(), 6, "{csv}");
    assert!(lines[2].contains(&format!(
        ",ada@example.com,{MODULE},{LESSON},select-loser,1,false,"
    )));

    // A learner is not an instructor: no export for them.
    let response = ada
        .get(&format!(
            "/instructor/cohorts/{}/export/concept-checks.csv",
            cohort.id
        ))
        .await;
    assert_ne!(response.status(), StatusCode::OK);
}
