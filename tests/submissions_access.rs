//! Who may submit and who may see a submission: no IDOR, CSRF enforced,
//! API tokens accepted, learners rate-limited.

mod common;

use common::auth::{Browser, signed_in};
use lockstep::auth::Role;
use lockstep::auth::cohorts::{self, CohortName};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn submit(browser: &Browser) -> reqwest::Response {
    browser
        .post_json(
            "/api/exercises/versioned-store/submissions",
            &json!({ "code": "pub fn f() {}" }),
        )
        .await
}

async fn count(db: &sqlx::PgPool) -> i64 {
    sqlx::query_scalar!(r#"SELECT count(*) AS "count!" FROM submissions"#)
        .fetch_one(db)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_submission_is_visible_to_its_author_their_instructors_and_admins_only() {
    let app = common::spawn_app().await;
    let (ada, ada_user) = signed_in(&app, "ada@example.com", Role::Learner).await;
    let (bob, _) = signed_in(&app, "bob@example.com", Role::Learner).await;
    let (teacher, teacher_user) = signed_in(&app, "teacher@example.com", Role::Instructor).await;
    let (other_teacher, other_teacher_user) =
        signed_in(&app, "other@example.com", Role::Instructor).await;
    let (admin, _) = signed_in(&app, "admin@example.com", Role::Admin).await;
    let cohort = cohorts::create(
        &app.db,
        &teacher_user,
        &CohortName::parse("Spring").unwrap(),
    )
    .await
    .unwrap();
    cohorts::join(&app.db, cohort.id, ada_user.id)
        .await
        .unwrap();
    cohorts::create(
        &app.db,
        &other_teacher_user,
        &CohortName::parse("Autumn").unwrap(),
    )
    .await
    .unwrap();

    let response = submit(&ada).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let id = response.json::<Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    let path = format!("/api/submissions/{id}");

    assert_eq!(ada.get(&path).await.status(), StatusCode::OK, "the author");
    assert_eq!(
        teacher.get(&path).await.status(),
        StatusCode::OK,
        "the author's instructor"
    );
    assert_eq!(admin.get(&path).await.status(), StatusCode::OK, "an admin");
    assert_eq!(
        bob.get(&path).await.status(),
        StatusCode::NOT_FOUND,
        "another learner"
    );
    assert_eq!(
        other_teacher.get(&path).await.status(),
        StatusCode::NOT_FOUND,
        "an instructor of another cohort"
    );
    assert_eq!(
        app.browser().get(&path).await.status(),
        StatusCode::UNAUTHORIZED,
        "signed out"
    );
    let body = bob.get(&path).await.text().await.unwrap();
    assert!(!body.contains("pub fn f"), "nothing of the code leaks");
}

#[tokio::test]
async fn submitting_needs_a_signed_in_learner_and_a_csrf_token() {
    let app = common::spawn_app().await;
    let anonymous = app.browser();
    let response = anonymous
        .client
        .post(format!("{}/api/run", app.base_url))
        .json(&json!({ "code": "fn main() {}" }))
        .send()
        .await
        .unwrap();
    assert!(
        matches!(
            response.status(),
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN
        ),
        "{}",
        response.status()
    );

    let (ada, _) = signed_in(&app, "ada@example.com", Role::Learner).await;
    let without_token = ada
        .client
        .post(format!(
            "{}/api/exercises/versioned-store/submissions",
            app.base_url
        ))
        .json(&json!({ "code": "pub fn f() {}" }))
        .send()
        .await
        .unwrap();
    assert_eq!(without_token.status(), StatusCode::FORBIDDEN);
    let wrong_token = ada
        .post_json_with(
            "not-the-token",
            "/api/exercises/versioned-store/submissions",
            &json!({ "code": "pub fn f() {}" }),
        )
        .await;
    assert_eq!(wrong_token.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        count(&app.db).await,
        0,
        "nothing stored without a valid token"
    );
}

#[tokio::test]
async fn an_api_token_submits_without_a_browser() {
    let app = common::spawn_app().await;
    let (_, ada) = signed_in(&app, "ada@example.com", Role::Learner).await;
    let name = lockstep::auth::api_tokens::TokenName::parse("cli").unwrap();
    let (_, secret) = lockstep::auth::api_tokens::create(
        &app.db,
        ada.id,
        &name,
        lockstep::auth::api_tokens::TokenScope::Submit,
        None,
    )
    .await
    .unwrap();
    let client = reqwest::Client::new();
    let response = client
        .post(format!(
            "{}/api/exercises/versioned-store/submissions",
            app.base_url
        ))
        .bearer_auth(&secret)
        .json(&json!({ "code": "pub fn f() {}" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let id = response.json::<Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    let shown = client
        .get(format!("{}/api/submissions/{id}", app.base_url))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap();
    assert_eq!(shown.status(), StatusCode::OK);
    let author: Option<i64> =
        sqlx::query_scalar!("SELECT user_id FROM submissions WHERE id = $1", id,)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(author, Some(ada.id));
}

#[tokio::test]
async fn a_learner_who_submits_too_fast_gets_429_with_retry_after() {
    let app = common::spawn_app().await;
    let (ada, _) = signed_in(&app, "ada@example.com", Role::Learner).await;
    let token = ada.csrf_token().await;
    let mut statuses = Vec::new();
    for _ in 0..31 {
        let response = ada
            .post_json_with(&token, "/api/run", &json!({ "code": "fn main() {}" }))
            .await;
        statuses.push((
            response.status(),
            response.headers().get("retry-after").cloned(),
        ));
    }
    assert!(
        statuses[..30]
            .iter()
            .all(|(status, _)| *status == StatusCode::CREATED)
    );
    let (status, retry_after) = &statuses[30];
    assert_eq!(*status, StatusCode::TOO_MANY_REQUESTS);
    let seconds: u64 = retry_after
        .as_ref()
        .expect("Retry-After")
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&seconds));
    assert_eq!(count(&app.db).await, 30, "the refused job was not stored");
    let (bob, _) = signed_in(&app, "bob@example.com", Role::Learner).await;
    assert_eq!(
        bob.post_json("/api/run", &json!({ "code": "fn main() {}" }))
            .await
            .status(),
        StatusCode::CREATED,
        "limits are per learner"
    );
}
