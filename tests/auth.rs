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
    let max_age: u64 = cookie
        .split("Max-Age=")
        .nth(1)
        .and_then(|rest| rest.split(';').next())
        .and_then(|n| n.parse().ok())
        .expect("a Max-Age");
    assert!((1_209_500..=1_209_600).contains(&max_age), "{cookie}");
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
    // Every request comes through the proxy, so cookies are sent by hand
    // (a cookie jar would not send `Secure` cookies over plain HTTP).
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let form_page = client
        .get(format!("{}/login", app.base_url))
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .unwrap();
    let csrf_cookie = set_cookie(&form_page, "__Host-lockstep_csrf")
        .expect("a __Host- CSRF cookie")
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let token = meta_csrf(&form_page.text().await.unwrap());
    // Without the prefix the cookie is not the one the proxy's clients get.
    let plain = csrf_cookie.trim_start_matches("__Host-").to_string();
    let response = client
        .post(format!("{}/login", app.base_url))
        .header("x-forwarded-proto", "https")
        .header("cookie", &plain)
        .form(&[
            ("email", "tls@example.com"),
            ("password", PASSWORD),
            ("csrf_token", &token),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let response = client
        .post(format!("{}/login", app.base_url))
        .header("x-forwarded-proto", "https")
        .header("cookie", &csrf_cookie)
        .form(&[
            ("email", "tls@example.com"),
            ("password", PASSWORD),
            ("csrf_token", &token),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(set_cookie(&response, "lockstep_session").is_none());
    let cookie = set_cookie(&response, "__Host-lockstep_session").unwrap();
    assert!(cookie.ends_with("; Secure"), "{cookie}");
    assert!(
        cookie.contains("; Path=/;") && !cookie.contains("Domain"),
        "{cookie}"
    );
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
        .post_form(
            "/account/tokens",
            &[("name", "work laptop"), ("scope", "submit")],
        )
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

/// Posts the log-in form with a CSRF token already read, and these headers.
async fn log_in_as(
    browser: &common::auth::Browser,
    token: &str,
    email: &str,
    password: &str,
    headers: &[(&str, &str)],
) -> StatusCode {
    let mut request = browser
        .client
        .post(format!("{}/login", browser.base_url))
        .form(&[
            ("email", email),
            ("password", password),
            ("csrf_token", token),
        ]);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap().status()
}

async fn counter(db: &sqlx::PgPool, key: &str) -> Option<i32> {
    sqlx::query_scalar!("SELECT attempts FROM throttle_counters WHERE key = $1", key)
        .fetch_optional(db)
        .await
        .unwrap()
}

#[tokio::test]
async fn parallel_wrong_passwords_are_counted_exactly() {
    let app = spawn_app().await;
    create_user(&app.db, "target@example.com", "Target", Role::Learner).await;
    let attacker = app.browser();
    let token = attacker.csrf_token().await;
    let allowance = lockstep::auth::rate_limit::Limits::default().per_account_and_address;
    let attempts = 3 * allowance;
    let statuses = futures::future::join_all((0..attempts).map(|i| {
        let (attacker, token) = (attacker.clone(), token.clone());
        async move {
            log_in_as(
                &attacker,
                &token,
                "target@example.com",
                &format!("guess number {i}"),
                &[],
            )
            .await
        }
    }))
    .await;
    let checked = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNPROCESSABLE_ENTITY)
        .count();
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    // Exactly the allowance reached the password check; every attempt was counted.
    assert_eq!(checked, allowance as usize, "{statuses:?}");
    assert_eq!(refused, (attempts - allowance) as usize, "{statuses:?}");
    assert_eq!(
        counter(
            &app.db,
            "login:account-address:target@example.com 127.0.0.1"
        )
        .await,
        Some(attempts)
    );
    assert_eq!(
        counter(&app.db, "login:account:target@example.com").await,
        Some(attempts)
    );
    // The counters are in PostgreSQL: another web node on the same database
    // refuses too, before any password is checked.
    let other_node = spawn_app_with(app.db.clone()).await;
    let elsewhere = other_node.browser();
    let token = elsewhere.csrf_token().await;
    assert_eq!(
        log_in_as(&elsewhere, &token, "target@example.com", PASSWORD, &[]).await,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn a_forwarded_address_is_used_only_from_a_trusted_proxy() {
    // No trusted proxy: X-Forwarded-For is the client's say-so and ignored;
    // every attempt counts against the peer's own address.
    let direct = spawn_app().await;
    create_user(&direct.db, "victim@example.com", "Victim", Role::Learner).await;
    let attacker = direct.browser();
    let token = attacker.csrf_token().await;
    let allowance = lockstep::auth::rate_limit::Limits::default().per_account_and_address;
    for i in 0..allowance {
        let forged = format!("198.51.100.{i}");
        let status = log_in_as(
            &attacker,
            &token,
            "victim@example.com",
            "wrong password",
            &[("x-forwarded-for", &forged)],
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let status = log_in_as(
        &attacker,
        &token,
        "victim@example.com",
        "wrong password",
        &[("x-forwarded-for", "198.51.100.200")],
    )
    .await;
    assert_eq!(
        status,
        StatusCode::TOO_MANY_REQUESTS,
        "a new forged address gains nothing"
    );
    assert_eq!(
        counter(&direct.db, "login:address:198.51.100.200").await,
        None
    );

    // Behind a trusted proxy: each client is counted by its own address.
    let (db, _) = common::fresh_database().await;
    let proxied = common::spawn_app_behind(db, vec!["127.0.0.1".parse().unwrap()]).await;
    create_user(&proxied.db, "victim@example.com", "Victim", Role::Learner).await;
    let attacker = proxied.browser();
    let token = attacker.csrf_token().await;
    let from = |address: &'static str| [("x-forwarded-for", address)];
    for _ in 0..allowance {
        let status = log_in_as(
            &attacker,
            &token,
            "victim@example.com",
            "wrong password",
            &from("203.0.113.7"),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    }
    assert_eq!(
        log_in_as(
            &attacker,
            &token,
            "victim@example.com",
            "wrong password",
            &from("203.0.113.7")
        )
        .await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // Prepending a forged hop does not help: the proxy's own entry is believed.
    assert_eq!(
        log_in_as(
            &attacker,
            &token,
            "victim@example.com",
            "wrong password",
            &from("192.0.2.99, 203.0.113.7")
        )
        .await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // The owner, at another address behind the same proxy, still signs in.
    let owner = proxied.browser();
    let owner_token = owner.csrf_token().await;
    assert_eq!(
        log_in_as(
            &owner,
            &owner_token,
            "victim@example.com",
            PASSWORD,
            &from("203.0.113.8")
        )
        .await,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        counter(&proxied.db, "login:address:203.0.113.7").await,
        Some(allowance + 2)
    );
    // IPv6 clients are counted per /64.
    for address in ["2001:db8:0:1::1", "2001:db8:0:1:ffff::2"] {
        let _ = log_in_as(
            &attacker,
            &token,
            "nobody@example.com",
            "wrong password",
            &[("forwarded", &format!("for=\"[{address}]:4711\""))],
        )
        .await;
    }
    assert_eq!(
        counter(&proxied.db, "login:address:2001:db8:0:1::/64").await,
        Some(2)
    );
}

#[tokio::test]
async fn sign_up_is_throttled_per_address() {
    let app = spawn_app().await;
    let allowance = lockstep::auth::rate_limit::Limits::default().signups_per_address;
    for n in 0..allowance {
        app.browser()
            .sign_up(&format!("new{n}@example.com"), "New")
            .await;
    }
    let response = app
        .browser()
        .post_form(
            "/signup",
            &[
                ("email", "one-too-many@example.com"),
                ("display_name", "Late"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(response.headers().contains_key("retry-after"));
    let users: i64 = sqlx::query_scalar!(r#"SELECT count(*) AS "count!" FROM users"#)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(users, i64::from(allowance));
    // A form with mistakes is not counted: fixing a typo costs nothing.
    let (db, _) = common::fresh_database().await;
    let fresh = spawn_app_with(db).await;
    let response = fresh
        .browser()
        .post_form(
            "/signup",
            &[("email", "x@example.com"), ("password", "short")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(counter(&fresh.db, "signup:address:127.0.0.1").await, None);
}

/// Creates a token through the account page and returns its secret.
async fn make_token(browser: &common::auth::Browser, name: &str, scope: &str) -> String {
    let response = browser
        .post_form("/account/tokens", &[("name", name), ("scope", scope)])
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let html = response.text().await.unwrap();
    let start = html.find("lst_").expect("the new token is shown");
    html[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

/// Waits (at most 5 s) for a streaming response to end.
async fn ends(mut stream: reqwest::Response) -> bool {
    tokio::time::timeout(std::time::Duration::from_secs(5), async {
        while let Ok(Some(_)) = stream.chunk().await {}
    })
    .await
    .is_ok()
}

#[tokio::test]
async fn a_password_reset_revokes_tokens_and_ends_event_streams() {
    let app = spawn_app().await;
    let (browser, user) = signed_in(&app, "reset@example.com", Role::Learner).await;
    let secret = make_token(&browser, "laptop", "submit").await;
    let cli = reqwest::Client::new();
    let me = |secret: String| {
        let cli = cli.clone();
        let url = format!("{}/api/me", app.base_url);
        async move {
            cli.get(url)
                .bearer_auth(secret)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(me(secret.clone()).await, StatusCode::OK);
    let by_token = cli
        .get(format!("{}/api/events", app.base_url))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap();
    assert_eq!(by_token.status(), StatusCode::OK);
    let by_cookie = browser.get("/api/events").await;
    assert_eq!(by_cookie.status(), StatusCode::OK);

    // What `lockstep user reset-password` does.
    let hash = lockstep::auth::password::hash(
        &lockstep::auth::password::NewPassword::parse("a brand new passphrase").unwrap(),
    )
    .await
    .unwrap();
    lockstep::auth::users::set_password(&app.db, &user.email, &hash)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(me(secret.clone()).await, StatusCode::UNAUTHORIZED);
    assert!(ends(by_token).await, "the token's event stream ended");
    assert!(ends(by_cookie).await, "the session's event stream ended");
    // The node's session cache heard of it too (no need to wait out its TTL).
    let mut status = StatusCode::OK;
    for _ in 0..20 {
        status = browser.get("/api/me").await.status();
        if status == StatusCode::UNAUTHORIZED {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // A role change revokes tokens too.
    let (teacher, teacher_user) = signed_in(&app, "teach@example.com", Role::Learner).await;
    let secret = make_token(&teacher, "export", "read").await;
    assert_eq!(me(secret.clone()).await, StatusCode::OK);
    lockstep::auth::users::set_role(&app.db, &teacher_user.email, Role::Instructor)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(me(secret).await, StatusCode::UNAUTHORIZED);
    // Log-out ends the session's stream as well.
    let stream = teacher.get("/api/events").await;
    assert_eq!(
        teacher.post_form("/logout", &[]).await.status(),
        StatusCode::SEE_OTHER
    );
    assert!(ends(stream).await, "log-out ended the stream");
}

#[tokio::test]
async fn a_token_cannot_create_tokens_and_a_read_only_token_changes_nothing() {
    let app = spawn_app().await;
    let (browser, _) = signed_in(&app, "tok@example.com", Role::Learner).await;
    let read = make_token(&browser, "exports", "read").await;
    let submit = make_token(&browser, "editor", "submit").await;
    let cli = reqwest::Client::new();
    let tokens = || async {
        sqlx::query_scalar!(
            r#"SELECT count(*) AS "count!" FROM api_tokens WHERE revoked_at IS NULL"#
        )
        .fetch_one(&app.db)
        .await
        .unwrap()
    };
    let token_id: i64 = sqlx::query_scalar!("SELECT id FROM api_tokens WHERE name = 'exports'")
        .fetch_one(&app.db)
        .await
        .unwrap();
    for secret in [&read, &submit] {
        for path in [
            "/account/tokens".to_string(),
            format!("/account/tokens/{token_id}/revoke"),
        ] {
            let response = cli
                .post(format!("{}{path}", app.base_url))
                .bearer_auth(secret)
                .form(&[("name", "minted"), ("scope", "submit")])
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::FORBIDDEN, "{path}");
        }
    }
    assert_eq!(tokens().await, 2, "no token minted or revoked by a token");

    // Read-only: reads work, changes are refused before any handler runs.
    let response = cli
        .get(format!("{}/api/me", app.base_url))
        .bearer_auth(&read)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let response = cli
        .post(format!(
            "{}/api/exercises/versioned-store/submissions",
            app.base_url
        ))
        .bearer_auth(&read)
        .json(&serde_json::json!({ "code": "pub fn f() {}" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let body: serde_json::Value = response.json().await.unwrap();
    assert!(
        body["error"].as_str().unwrap().contains("read-only"),
        "{body}"
    );
    let submissions: i64 = sqlx::query_scalar!(r#"SELECT count(*) AS "count!" FROM submissions"#)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(submissions, 0);

    // An expired token is refused.
    sqlx::query!(
        "UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE name = 'editor'"
    )
    .execute(&app.db)
    .await
    .unwrap();
    let response = cli
        .get(format!("{}/api/me", app.base_url))
        .bearer_auth(&submit)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    // A lifetime out of range is a clear field error.
    let response = browser
        .post_form(
            "/account/tokens",
            &[("name", "forever"), ("expires_in_days", "9999")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("lifetime of 1 to 365 days")
    );
}

#[tokio::test]
async fn security_headers_no_store_hsts_and_host_cookies_are_present() {
    let app = spawn_app().await;
    // Signed out, plain HTTP: a cacheable public page, no HSTS.
    let response = app.get("/").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response
            .headers()
            .get("strict-transport-security")
            .is_none()
    );
    assert_ne!(
        response
            .headers()
            .get("cache-control")
            .map(|v| v.to_str().unwrap()),
        Some("no-store")
    );
    assert!(set_cookie(&response, "lockstep_csrf").is_some());

    // Signed in: every page and API answer is no-store.
    let (browser, _) = signed_in(&app, "hdr@example.com", Role::Learner).await;
    for path in ["/dashboard", "/account", "/api/me", "/"] {
        let response = browser.get(path).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(response.headers()["cache-control"], "no-store", "{path}");
    }

    // Over HTTPS (a TLS proxy says so): HSTS, and `__Host-` cookies.
    let response = app
        .client
        .get(format!("{}/", app.base_url))
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.headers()["strict-transport-security"],
        "max-age=31536000"
    );
    let cookie = set_cookie(&response, "__Host-lockstep_csrf").expect("a __Host- CSRF cookie");
    assert!(
        cookie.contains("; Path=/;") && cookie.ends_with("; Secure") && !cookie.contains("Domain")
    );
}

#[tokio::test]
async fn sessions_end_at_their_absolute_lifetime_however_busy() {
    let app = spawn_app().await;
    let (browser, _) = signed_in(&app, "busy@example.com", Role::Learner).await;
    // Used a minute ago, but begun longer ago than the absolute lifetime.
    sqlx::query!(
        "UPDATE sessions SET created_at = now() - make_interval(secs => $1) - interval '1 minute',
                             expires_at = now() + interval '13 days'",
        lockstep::auth::session::ABSOLUTE_LIFETIME.as_secs_f64(),
    )
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
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    // And a slide never pushes the expiry past it.
    let (browser, _) = signed_in(&app, "slide@example.com", Role::Learner).await;
    sqlx::query!(
        "UPDATE sessions SET created_at = now() - make_interval(secs => $1) + interval '1 day',
                             expires_at = now() + interval '1 hour'
          WHERE user_id = (SELECT id FROM users WHERE email = 'slide@example.com')",
        lockstep::auth::session::ABSOLUTE_LIFETIME.as_secs_f64(),
    )
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
    assert_eq!(response.status(), StatusCode::OK);
    let hours_left: f64 = sqlx::query_scalar!(
        r#"SELECT extract(epoch FROM s.expires_at - now())::float8 / 3600 AS "hours!"
             FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.email = 'slide@example.com'"#
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert!(hours_left > 23.0 && hours_left <= 24.0, "{hours_left}");
}
