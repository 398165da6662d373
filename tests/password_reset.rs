//! Password reset by mail, end to end: the app sends through a real SMTP
//! server started here (npm `smtp-server`, `tests/identity/smtp.js`), and the
//! link read from the received mail is followed over real HTTP.

mod common;

use common::auth::{PASSWORD, create_user};
use common::identity_servers::{Mail, SmtpServer};
use common::{TestApp, fresh_database, spawn_app, spawn_app_with_accounts};
use lockstep::auth::Role;
use reqwest::StatusCode;

const NEW_PASSWORD: &str = "a brand new passphrase";

async fn app_with_mail(smtp: &SmtpServer) -> TestApp {
    let (db, _) = fresh_database().await;
    spawn_app_with_accounts(
        db,
        &[
            "--smtp-url",
            &smtp.url,
            "--mail-from",
            "Lockstep <noreply@lockstep.test>",
        ],
    )
    .await
}

/// The reset link in a mail, as a path on the app.
fn link_path(app: &TestApp, mail: &Mail) -> String {
    let prefix = format!("{}/password/reset?token=", app.base_url);
    let line = mail
        .text
        .lines()
        .map(str::trim)
        .find(|line| line.starts_with(&prefix))
        .unwrap_or_else(|| panic!("no link to {prefix} in {:?}", mail.text));
    line.trim_start_matches(&app.base_url).to_string()
}

async fn request_link(app: &TestApp, smtp: &mut SmtpServer, email: &str) -> String {
    let response = app
        .browser()
        .post_form("/password/forgot", &[("email", email)])
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let mail = smtp.next_mail(20).await.expect("the reset mail arrives");
    link_path(app, &mail)
}

#[tokio::test]
async fn a_reset_link_arrives_works_once_and_signs_the_account_out_elsewhere() {
    let mut smtp = SmtpServer::start().await;
    let app = app_with_mail(&smtp).await;
    create_user(&app.db, "ada@example.com", "Ada", Role::Learner).await;
    let elsewhere = app.browser();
    elsewhere.log_in("ada@example.com").await;
    assert!(elsewhere.page("/").await.contains("action=\"/logout\""));

    let browser = app.browser();
    let login = browser.page("/login").await;
    assert!(login.contains("href=\"/password/forgot\""), "{login}");
    assert!(
        browser
            .page("/password/forgot")
            .await
            .contains("Send me a link")
    );

    // The same answer whether or not an account has the email.
    let answer = |html: String, email: &str| html.replace(email, "EMAIL");
    let known = browser
        .post_form("/password/forgot", &[("email", "ADA@example.com")])
        .await;
    assert_eq!(known.status(), StatusCode::OK);
    let known = answer(known.text().await.unwrap(), "ADA@example.com");
    let unknown = browser
        .post_form("/password/forgot", &[("email", "nobody@example.com")])
        .await;
    assert_eq!(unknown.status(), StatusCode::OK);
    let unknown = answer(unknown.text().await.unwrap(), "nobody@example.com");
    assert_eq!(known, unknown);
    assert!(known.contains("If an account has the email"), "{known}");

    let mail = smtp.next_mail(20).await.expect("the reset mail arrives");
    assert_eq!(mail.to, ["ada@example.com"]);
    assert_eq!(mail.from, "noreply@lockstep.test");
    assert_eq!(mail.subject, "Set a new Lockstep password");
    assert!(mail.text.contains("within 30 minutes"), "{}", mail.text);
    let link = link_path(&app, &mail);
    assert!(
        smtp.next_mail(2).await.is_none(),
        "no mail for an email without an account"
    );
    // Only a digest of the token is stored.
    let token = link.rsplit('=').next().unwrap().to_string();
    let stored: String = sqlx::query_scalar("SELECT token_hash FROM password_resets")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(stored.len(), 64);
    assert_ne!(stored, token);

    // The link opens the form; a short password is refused and the link survives.
    let form = browser.page(&link).await;
    assert!(
        form.contains("name=\"token\"") && form.contains("ada@example.com"),
        "{form}"
    );
    let short = browser
        .post_form(
            "/password/reset",
            &[("token", &token), ("password", "short")],
        )
        .await;
    assert_eq!(short.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        short
            .text()
            .await
            .unwrap()
            .contains("at least 12 characters")
    );

    let reset = browser
        .post_form(
            "/password/reset",
            &[("token", &token), ("password", NEW_PASSWORD)],
        )
        .await;
    assert_eq!(reset.status(), StatusCode::SEE_OTHER);
    assert!(
        browser.page("/").await.contains("action=\"/logout\""),
        "signed in"
    );
    assert!(
        !elsewhere.page("/").await.contains("action=\"/logout\""),
        "the other session ended"
    );
    let old = app.browser().log_in_with("ada@example.com", PASSWORD).await;
    assert_eq!(old.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let new = app
        .browser()
        .log_in_with("ada@example.com", NEW_PASSWORD)
        .await;
    assert_eq!(new.status(), StatusCode::SEE_OTHER);

    // A second use fails, and changes nothing.
    let again = app.browser().get(&link).await;
    assert_eq!(again.status(), StatusCode::GONE);
    assert!(again.text().await.unwrap().contains("no longer works"));
    let again = app
        .browser()
        .post_form(
            "/password/reset",
            &[("token", &token), ("password", "an attacker's passphrase")],
        )
        .await;
    assert_eq!(again.status(), StatusCode::GONE);
    let new = app
        .browser()
        .log_in_with("ada@example.com", NEW_PASSWORD)
        .await;
    assert_eq!(new.status(), StatusCode::SEE_OTHER);

    // Junk tokens get the same answer.
    let zeros = "0".repeat(64);
    for junk in ["", "abc", zeros.as_str()] {
        let response = app
            .browser()
            .get(&format!("/password/reset?token={junk}"))
            .await;
        assert_eq!(response.status(), StatusCode::GONE, "{junk:?}");
    }
}

#[tokio::test]
async fn an_expired_link_fails_and_a_newer_password_voids_older_links() {
    let mut smtp = SmtpServer::start().await;
    let app = app_with_mail(&smtp).await;
    create_user(&app.db, "grace@example.com", "Grace", Role::Learner).await;

    let link = request_link(&app, &mut smtp, "grace@example.com").await;
    sqlx::query("UPDATE password_resets SET expires_at = now() - interval '1 second'")
        .execute(&app.db)
        .await
        .unwrap();
    let browser = app.browser();
    assert_eq!(browser.get(&link).await.status(), StatusCode::GONE);
    let token = link.rsplit('=').next().unwrap();
    let response = browser
        .post_form(
            "/password/reset",
            &[("token", token), ("password", NEW_PASSWORD)],
        )
        .await;
    assert_eq!(response.status(), StatusCode::GONE);
    let old = app
        .browser()
        .log_in_with("grace@example.com", PASSWORD)
        .await;
    assert_eq!(
        old.status(),
        StatusCode::SEE_OTHER,
        "the password is unchanged"
    );

    // Two live links: using one voids the other.
    let first = request_link(&app, &mut smtp, "grace@example.com").await;
    let second = request_link(&app, &mut smtp, "grace@example.com").await;
    assert_ne!(first, second);
    let token = second.rsplit('=').next().unwrap();
    let response = browser
        .post_form(
            "/password/reset",
            &[("token", token), ("password", NEW_PASSWORD)],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.browser().get(&first).await.status(), StatusCode::GONE);
}

#[tokio::test]
async fn reset_requests_are_throttled_alike_for_every_email_and_reset_is_off_unless_configured() {
    let smtp = SmtpServer::start().await;
    let app = app_with_mail(&smtp).await;
    create_user(&app.db, "linus@example.com", "Linus", Role::Learner).await;
    let browser = app.browser();
    for email in ["linus@example.com", "nobody@example.com"] {
        for attempt in 1..=5 {
            let response = browser
                .post_form("/password/forgot", &[("email", email)])
                .await;
            assert_eq!(response.status(), StatusCode::OK, "{email} #{attempt}");
        }
        let refused = browser
            .post_form("/password/forgot", &[("email", email)])
            .await;
        assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS, "{email}");
        assert!(refused.headers().contains_key("retry-after"));
    }
    let empty = browser
        .post_form("/password/forgot", &[("email", " ")])
        .await;
    assert_eq!(empty.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let missing_csrf = browser
        .post_form_raw("/password/forgot", &[("email", "linus@example.com")])
        .await;
    assert_eq!(missing_csrf.status(), StatusCode::FORBIDDEN);

    // Without an SMTP relay there is no reset to offer.
    let plain = spawn_app().await;
    let visitor = plain.browser();
    assert!(!visitor.page("/login").await.contains("/password/forgot"));
    assert_eq!(
        visitor.get("/password/forgot").await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        visitor.get("/password/reset?token=x").await.status(),
        StatusCode::NOT_FOUND
    );
}
