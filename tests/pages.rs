//! The public pages, middleware and error handling, over real HTTP.

mod common;

use common::spawn_app;
use reqwest::StatusCode;

#[tokio::test]
async fn the_catalogue_lists_every_module_lesson_and_exercise() {
    let app = spawn_app().await;
    let response = app.get("/").await;
    assert_eq!(response.status(), StatusCode::OK);
    let html = response.text().await.unwrap();
    let programme = common::programme();
    for module in &programme.modules {
        assert!(
            html.contains(&module.title),
            "missing module {}",
            module.title
        );
        for lesson in module.lessons() {
            assert!(html.contains(&format!("/lessons/{}/{}", module.id, lesson.id)));
        }
        for exercise in module.exercises() {
            assert!(html.contains(&format!("/exercises/{}", exercise.id)));
        }
    }
}

#[tokio::test]
async fn a_lesson_renders_with_previous_and_next_links() {
    let app = spawn_app().await;
    let programme = common::programme();
    let module = &programme.modules[0];
    let lesson = module.lessons().nth(1).expect("a module with two lessons");
    let response = app
        .get(&format!("/lessons/{}/{}", module.id, lesson.id))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let html = response.text().await.unwrap();
    assert!(
        html.contains(&lesson.title.replace('&', "&amp;").replace('\'', "&#39;"))
            || html.contains("<h1>")
    );
    assert!(
        html.contains("rel=\"prev\""),
        "second lesson has a previous link"
    );
    assert!(
        html.contains("rel=\"next\""),
        "second lesson has a next link"
    );
    assert!(
        html.contains("class=\"example\""),
        "lessons carry runnable examples"
    );
}

#[tokio::test]
async fn module_and_exercise_pages_render() {
    let app = spawn_app().await;
    app.default_browser()
        .sign_up("reader@example.com", "Reader")
        .await;
    let programme = common::programme();
    let module = &programme.modules[0];
    assert_eq!(
        app.get(&format!("/modules/{}", module.id)).await.status(),
        StatusCode::OK
    );
    let exercise = programme.exercises().next().expect("an exercise");
    let response = app.get(&format!("/exercises/{}", exercise.id)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let html = response.text().await.unwrap();
    assert!(html.contains("Reveal hint 1 of"));
}

#[tokio::test]
async fn unknown_pages_get_a_styled_404_and_the_api_gets_json() {
    let app = spawn_app().await;
    // Exercise pages are for signed-in learners; an unknown one is still a 404.
    app.default_browser()
        .sign_up("reader@example.com", "Reader")
        .await;
    for path in [
        "/nope",
        "/lessons/async-fundamentals/nope",
        "/modules/nope",
        "/exercises/nope",
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        let html = response.text().await.unwrap();
        assert!(
            html.contains("We couldn&#39;t find that page") || html.contains("find that page"),
            "{html}"
        );
        assert!(html.contains("/static/style.css?v="));
    }
    let response = app.get("/api/nope").await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"], "not found");
}

#[tokio::test]
async fn readyz_follows_the_database_and_healthz_stays_live() {
    let app = spawn_app().await;
    assert_eq!(app.get("/readyz").await.status(), StatusCode::OK);
    app.db.close().await;
    let response = app.get("/readyz").await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("database unavailable")
    );
    // Liveness does not depend on the database: restarting the node would not help.
    assert_eq!(app.get("/healthz").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn responses_carry_security_headers_and_a_request_id() {
    let app = spawn_app().await;
    let response = app.get("/").await;
    let headers = response.headers();
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert!(csp.contains("frame-ancestors 'none'"));
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert!(headers.contains_key("referrer-policy"));
    assert!(!headers["x-request-id"].is_empty());
}

#[tokio::test]
async fn fingerprinted_static_files_are_cached_for_a_year() {
    let app = spawn_app().await;
    let html = app.get("/").await.text().await.unwrap();
    let start = html
        .find("/static/style.css?v=")
        .expect("fingerprinted stylesheet");
    let url: String = html[start..].chars().take_while(|c| *c != '"').collect();
    let response = app.get(&url).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("max-age=31536000")
    );
    let response = app.get("/static/style.css").await;
    assert_eq!(response.headers()["cache-control"], "no-cache");
}

#[tokio::test]
async fn pages_are_compressed_when_the_client_asks() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(format!("{}/", app.base_url))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["content-encoding"], "gzip");
}
