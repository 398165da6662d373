//! Accounts over real HTTP: sign-up, log-in, log-out, sessions, CSRF, rate
//! limits, API tokens, and injection through every account field.

mod common;

use common::auth::{PASSWORD, create_user, meta_csrf, set_cookie, signed_in};
use common::{spawn_app, spawn_app_with};
use lockstep::auth::Role;
use reqwest::StatusCode;

fn location(response: &reqwest::Response) -> &str {
    response.headers()["location"].to_str().unwrap()
}

#[tokio::test]
async fn a_visitor_signs_up_and_is_signed_in() {
    let app = spawn_app().await;
    let browser = app.browser();
    let html = browser.page("/").await;
    assert!(html.contains("href=\"/login\"") && html.contains("href=\"/signup\""));

    let token = browser.csrf_token().await;
    let response = browser
        .post_form_raw(
            "/signup",
            &[
                ("email", "Ada@Example.com"),
                ("display_name", "Ada Lovelace"),
                ("password", PASSWORD),
                ("csrf_token", &token),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/");
    let cookie = set_cookie(&response, "lockstep_session").expect("a session cookie");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(cookie.contains("Path=/"), "{cookie}");
    assert!(
        !cookie.contains("Secure"),
        "plain HTTP gets no Secure flag: {cookie}"
    );

    let html = browser.page("/").await;
    assert!(html.contains("Ada Lovelace"));
    assert!(html.contains("action=\"/logout\""));
    assert!(!html.contains("href=\"/login\""));

    let (email, hash, role) = sqlx::query!("SELECT email, password_hash, role FROM users")
        .fetch_one(&app.db)
        .await
        .map(|user| (user.email, user.password_hash, user.role))
        .unwrap();
    assert_eq!(email, "Ada@Example.com");
    assert_eq!(role, "learner");
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );
    assert!(!hash.contains(PASSWORD));

    // The table holds a digest of the cookie's id, never the id itself.
    let id = cookie
        .trim_start_matches("lockstep_session=")
        .split(';')
        .next()
        .unwrap();
    let stored: String = sqlx::query_scalar!("SELECT id FROM sessions")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_ne!(stored, id);
    assert_eq!(stored.len(), 64);

    // Signing up again with the same email in another case is refused.
    let other = app.browser();
    let response = other
        .post_form(
            "/signup",
            &[
                ("email", "ada@example.COM"),
                ("display_name", "Imposter"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = response.text().await.unwrap();
    assert!(html.contains("An account with this email exists"), "{html}");
}

#[tokio::test]
async fn sign_up_errors_name_each_field_and_refill_the_form() {
    let app = spawn_app().await;
    let browser = app.browser();
    let response = browser
        .post_form(
            "/signup",
            &[
                ("email", "not-an-email"),
                ("display_name", "   "),
                ("password", "short pw"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = response.text().await.unwrap();
    assert!(html.contains("id=\"email-error\""), "{html}");
    assert!(html.contains("Enter an email address like"));
    assert!(html.contains("id=\"display_name-error\""));
    assert!(html.contains("id=\"password-error\""));
    assert!(html.contains("at least 12 characters"));
    assert!(html.contains("value=\"not-an-email\""), "email refilled");
    assert!(!html.contains("short pw"), "the password is never echoed");

    // One bad field: the others keep their values.
    let response = browser
        .post_form(
            "/signup",
            &[
                ("email", "grace@example.com"),
                ("display_name", "Grace Hopper"),
                ("password", "tiny"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = response.text().await.unwrap();
    assert!(html.contains("value=\"grace@example.com\""));
    assert!(html.contains("value=\"Grace Hopper\""));
    assert!(!html.contains("id=\"email-error\""));
    let users: i64 = sqlx::query_scalar!(r#"SELECT count(*) AS "count!" FROM users"#)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(users, 0);
}

#[tokio::test]
async fn log_in_errors_do_not_reveal_whether_the_email_exists() {
    let app = spawn_app().await;
    create_user(&app.db, "known@example.com", "Known", Role::Learner).await;
    let browser = app.browser();

    let wrong_password = browser
        .log_in_with("known@example.com", "not the password at all")
        .await;
    assert_eq!(wrong_password.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(set_cookie(&wrong_password, "lockstep_session").is_none());
    let wrong_password = wrong_password.text().await.unwrap();

    let unknown = browser
        .log_in_with("nobody@example.com", "not the password at all")
        .await;
    assert_eq!(unknown.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let unknown = unknown.text().await.unwrap();

    for html in [&wrong_password, &unknown] {
        assert!(html.contains("Email or password is incorrect."));
        assert!(!html.contains("not the password at all"));
    }
    assert!(wrong_password.contains("value=\"known@example.com\""));
    assert!(unknown.contains("value=\"nobody@example.com\""));

    let empty = browser.log_in_with("", "").await;
    assert_eq!(empty.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = empty.text().await.unwrap();
    assert!(html.contains("Enter your email address.") && html.contains("Enter your password."));
}

#[tokio::test]
async fn log_in_rotates_the_session_and_follows_only_local_next_links() {
    let app = spawn_app().await;
    create_user(&app.db, "lin@example.com", "Lin", Role::Learner).await;
    let browser = app.browser();

    // A signed-out visit to an exercise goes to the log-in page and back.
    let exercise = common::programme().exercises().next().unwrap().id.clone();
    let response = browser.get(&format!("/exercises/{exercise}")).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let login = location(&response).to_string();
    assert_eq!(login, format!("/login?next=%2Fexercises%2F{exercise}"));
    let html = browser.page(&login).await;
    assert!(html.contains(&format!("value=\"/exercises/{exercise}\"")));
    let response = browser
        .post_form(
            "/login",
            &[
                ("email", "LIN@example.com"),
                ("password", PASSWORD),
                ("next", &format!("/exercises/{exercise}")),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), format!("/exercises/{exercise}"));
    let first = set_cookie(&response, "lockstep_session")
        .unwrap()
        .to_string();
    assert_eq!(
        browser
            .get(&format!("/exercises/{exercise}"))
            .await
            .status(),
        StatusCode::OK
    );

    // Logging in again issues a new id and ends the old session.
    let response = browser
        .post_form(
            "/login",
            &[
                ("email", "lin@example.com"),
                ("password", PASSWORD),
                ("next", "//evil.example/phish"),
            ],
        )
        .await;
    assert_eq!(location(&response), "/", "no open redirect");
    let second = set_cookie(&response, "lockstep_session")
        .unwrap()
        .to_string();
    assert_ne!(first, second);
    let sessions: i64 = sqlx::query_scalar!(r#"SELECT count(*) AS "count!" FROM sessions"#)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(sessions, 1);

    // The API says 401 rather than redirecting.
    let response = app.browser().get("/api/me").await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_session_cookie_replayed_after_log_out_is_signed_out() {
    let app = spawn_app().await;
    create_user(&app.db, "rae@example.com", "Rae", Role::Learner).await;
    let browser = app.browser();
    let response = browser.log_in_with("rae@example.com", PASSWORD).await;
    let cookie = set_cookie(&response, "lockstep_session")
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();

    // The stolen cookie works while the session lives…
    let thief = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let me = |client: reqwest::Client, cookie: String| {
        let url = format!("{}/api/me", app.base_url);
        async move {
            client
                .get(url)
                .header("cookie", cookie)
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(
        me(thief.clone(), cookie.clone()).await.status(),
        StatusCode::OK
    );

    let response = browser.post_form("/logout", &[]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let cleared = set_cookie(&response, "lockstep_session").unwrap();
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    let sessions: i64 = sqlx::query_scalar!(r#"SELECT count(*) AS "count!" FROM sessions"#)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(sessions, 0, "log-out deletes the row");

    // …and not after log-out: the API says 401, pages go to log-in.
    assert_eq!(
        me(thief.clone(), cookie.clone()).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let response = thief
        .get(format!("{}/account", app.base_url))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/login?next=%2Faccount");
    let html = browser.page("/").await;
    assert!(html.contains("href=\"/login\""));
}

#[tokio::test]
async fn sessions_slide_and_expire() {
    let app = spawn_app().await;
    let (browser, _) = signed_in(&app, "sam@example.com", Role::Learner).await;
    // Age the session, then ask a fresh app (an empty cache, as on another node).
    sqlx::query!("UPDATE sessions SET expires_at = now() + interval '2 days'")
        .execute(&app.db)
        .await
        .unwrap();
    let other_node = spawn_app_with(app.db.clone()).await;
    let response = browser
        .client
        .get(format!("{}/api/me", other_node.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let cookie = set_cookie(&response, "lockstep_session").expect("the cookie is re-sent");
    assert!(cookie.contains("Max-Age=1209600"), "{cookie}");
    let days_left: f64 = sqlx::query_scalar!(
        r#"SELECT extract(epoch FROM expires_at - now())::float8 / 86400 AS "days_left!" FROM sessions"#
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert!(days_left > 13.9, "{days_left}");

    sqlx::query!("UPDATE sessions SET expires_at = now() - interval '1 second'")
        .execute(&app.db)
        .await
        .unwrap();
    let third_node = spawn_app_with(app.db.clone()).await;
    let response = browser
        .client
        .get(format!("{}/api/me", third_node.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn cookies_are_secure_behind_an_https_proxy() {
    let app = spawn_app().await;
    create_user(&app.db, "tls@example.com", "Tls", Role::Learner).await;
    let browser = app.browser();
    let token = browser.csrf_token().await;
    let response = browser
        .client
        .post(format!("{}/login", app.base_url))
        .header("x-forwarded-proto", "https")
        .form(&[
            ("email", "tls@example.com"),
            ("password", PASSWORD),
            ("csrf_token", &token),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let cookie = set_cookie(&response, "lockstep_session").unwrap();
    assert!(cookie.ends_with("; Secure"), "{cookie}");
}

#[tokio::test]
async fn state_changing_requests_without_a_valid_csrf_token_are_refused() {
    let app = spawn_app().await;
    let (browser, user) = signed_in(&app, "cara@example.com", Role::Learner).await;
    let (mallory, _) = signed_in(&app, "mallory@example.com", Role::Learner).await;
    let mallorys_token = mallory.csrf_token().await;

    let tokens = || async {
        sqlx::query_scalar!(r#"SELECT count(*) AS "count!" FROM api_tokens"#)
            .fetch_one(&app.db)
            .await
            .unwrap()
    };
    for fields in [
        vec![("name", "laptop")],
        vec![("name", "laptop"), ("csrf_token", "")],
        vec![("name", "laptop"), ("csrf_token", "0123456789abcdef")],
        // Another session's token is no good either.
        vec![("name", "laptop"), ("csrf_token", mallorys_token.as_str())],
    ] {
        let response = browser.post_form_raw("/account/tokens", &fields).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{fields:?}");
        let html = response.text().await.unwrap();
        assert!(html.contains("reload the page"), "a friendly page: {html}");
    }
    assert_eq!(tokens().await, 0);

    // A JSON request needs the header; a wrong header is refused too.
    let post_json = |token: Option<&str>| {
        let mut request = browser
            .client
            .post(format!("{}/api/cohorts/join", app.base_url))
            .json(&serde_json::json!({ "code": "ABCDEFGHJK" }));
        if let Some(token) = token {
            request = request.header("x-csrf-token", token);
        }
        request.send()
    };
    let response = post_json(None).await.unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let body: serde_json::Value = response.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("reload"));
    assert_eq!(
        post_json(Some(&mallorys_token)).await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    let own = browser.csrf_token().await;
    assert_eq!(
        post_json(Some(&own)).await.unwrap().status(),
        StatusCode::NOT_FOUND,
        "with the token it reaches the handler (no such cohort)"
    );

    // Log-out without a token does not end the session.
    let response = browser.post_form_raw("/logout", &[]).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let me: serde_json::Value = browser.get("/api/me").await.json().await.unwrap();
    assert_eq!(me["id"], user.id);

    // Signed-out forms are protected too (no log-in CSRF).
    let stranger = app.browser();
    let response = stranger
        .post_form_raw(
            "/login",
            &[("email", "cara@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let response = stranger
        .post_form_raw(
            "/signup",
            &[
                ("email", "new@example.com"),
                ("display_name", "New"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let users: i64 = sqlx::query_scalar!(r#"SELECT count(*) AS "count!" FROM users"#)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(users, 2);
    // PUT, PATCH and DELETE are guarded like POST, on any path.
    for method in [
        reqwest::Method::PUT,
        reqwest::Method::PATCH,
        reqwest::Method::DELETE,
    ] {
        let response = browser
            .client
            .request(method.clone(), format!("{}/api/me", app.base_url))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{method}");
    }
}

#[tokio::test]
async fn log_in_attempts_are_rate_limited_per_account() {
    let app = spawn_app().await;
    create_user(&app.db, "target@example.com", "Target", Role::Learner).await;
    let attacker = app.browser();
    for attempt in 0..10 {
        let response = attacker
            .log_in_with("target@example.com", &format!("guess number {attempt}"))
            .await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "attempt {attempt}"
        );
    }
    let response = attacker
        .log_in_with("TARGET@example.com", "guess number 11")
        .await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after > 0 && retry_after <= 15 * 60, "{retry_after}");
    // Even the right password waits: the window is closed to guessing.
    let owner = app.browser();
    let response = owner.log_in_with("target@example.com", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(set_cookie(&response, "lockstep_session").is_none());
    // Other accounts are unaffected.
    create_user(&app.db, "other@example.com", "Other", Role::Learner).await;
    owner.log_in("other@example.com").await;
}

#[tokio::test]
async fn api_tokens_are_shown_once_work_as_bearer_and_can_be_revoked() {
    let app = spawn_app().await;
    let (browser, user) = signed_in(&app, "tok@example.com", Role::Learner).await;
    let response = browser
        .post_form("/account/tokens", &[("name", "work laptop")])
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let html = response.text().await.unwrap();
    let start = html.find("lst_").expect("the new token is shown");
    let secret: String = html[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    assert_eq!(secret.len(), 4 + 64);
    assert!(
        !browser.page("/account").await.contains(&secret),
        "shown only once"
    );
    let stored: String = sqlx::query_scalar!("SELECT token_hash FROM api_tokens")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_ne!(stored, secret);
    assert!(!stored.contains(&secret[4..]));

    // The token authenticates without cookies, and needs no CSRF token.
    let cli = reqwest::Client::new();
    let me: serde_json::Value = cli
        .get(format!("{}/api/me", app.base_url))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["id"], user.id);
    assert_eq!(me["role"], "learner");
    let response = cli
        .post(format!("{}/api/cohorts/join", app.base_url))
        .bearer_auth(&secret)
        .json(&serde_json::json!({ "code": "nope" }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::NOT_FOUND,
        "past the CSRF guard"
    );
    let last_used: Option<time::OffsetDateTime> =
        sqlx::query_scalar!("SELECT last_used_at FROM api_tokens")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert!(last_used.is_some());

    // Someone else cannot revoke it: their id is "not found".
    let token_id: i64 = sqlx::query_scalar!("SELECT id FROM api_tokens")
        .fetch_one(&app.db)
        .await
        .unwrap();
    let (other, _) = signed_in(&app, "other@example.com", Role::Learner).await;
    let response = other
        .post_form(&format!("/account/tokens/{token_id}/revoke"), &[])
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert!(!other.page("/account").await.contains("work laptop"));
    let status = cli
        .get(format!("{}/api/me", app.base_url))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, StatusCode::OK);

    // The owner revokes it; it stops working at once.
    let response = browser
        .post_form(&format!("/account/tokens/{token_id}/revoke"), &[])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let response = cli
        .get(format!("{}/api/me", app.base_url))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(
        response.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer")
    );
    assert!(browser.page("/account").await.contains("revoked"));

    // A made-up token is refused, never mistaken for a cookie session.
    let response = browser
        .client
        .get(format!("{}/api/me", app.base_url))
        .bearer_auth("lst_0000")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);

    // An empty name is a field error.
    let response = browser.post_form("/account/tokens", &[("name", " ")]).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.text().await.unwrap().contains("token-name-error"));
}

#[tokio::test]
async fn lessons_are_public_and_exercises_need_an_account() {
    let app = spawn_app().await;
    let programme = common::programme();
    let module = &programme.modules[0];
    let lesson = module.lessons().next().unwrap();
    let visitor = app.browser();
    assert_eq!(
        visitor
            .get(&format!("/lessons/{}/{}", module.id, lesson.id))
            .await
            .status(),
        StatusCode::OK
    );
    for exercise in programme.exercises().take(3) {
        let response = visitor.get(&format!("/exercises/{}", exercise.id)).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert!(location(&response).starts_with("/login?next="));
    }
    for path in ["/account", "/cohorts", "/join/ABCDEFGHJK"] {
        let response = visitor.get(path).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
    }
}

/// Text that would break SQL built by hand, or HTML rendered unescaped.
const NASTY_NAME: &str = "<script>alert('x')</script> Robert'); DROP TABLE users;--";

#[tokio::test]
async fn account_fields_are_stored_as_given_and_rendered_escaped() {
    let app = spawn_app().await;
    let browser = app.browser();
    let email = "o'brien+<b>x</b>\"@example.com";
    browser.sign_up(email, NASTY_NAME).await;
    let (stored_email, stored_name) = sqlx::query!("SELECT email, display_name FROM users")
        .fetch_one(&app.db)
        .await
        .map(|user| (user.email, user.display_name))
        .unwrap();
    assert_eq!(stored_email, email);
    assert_eq!(stored_name, NASTY_NAME);

    let response = browser
        .post_form(
            "/account/tokens",
            &[("name", "<img src=x onerror=alert(1)>'--")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let stored_token_name: String = sqlx::query_scalar!("SELECT name FROM api_tokens")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(stored_token_name, "<img src=x onerror=alert(1)>'--");

    for path in ["/", "/account"] {
        let html = browser.page(path).await;
        assert!(!html.contains("<script>alert"), "{path}");
        assert!(!html.contains("<b>x</b>"), "{path}");
        assert!(!html.contains("<img src=x"), "{path}");
        assert!(
            html.contains("&#60;script&#62;alert(") || html.contains("&lt;script&gt;alert("),
            "{path}: the name is shown, escaped"
        );
    }
    // The same text through the log-in form: refilled escaped, no harm done.
    let other = app.browser();
    let response = other.log_in_with(NASTY_NAME, NASTY_NAME).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = response.text().await.unwrap();
    assert!(!html.contains("<script>alert"));
    browser.log_in_with(email, PASSWORD).await;
    let users: i64 = sqlx::query_scalar!(r#"SELECT count(*) AS "count!" FROM users"#)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(users, 1);
    // The CSRF token in the page matches what forms post.
    let html = browser.page("/account").await;
    assert!(html.contains(&format!("value=\"{}\"", meta_csrf(&html))));
}
