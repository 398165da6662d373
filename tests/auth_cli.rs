//! `lockstep user …` end to end: the real binary against a test database,
//! then signing in over HTTP with what it created.

mod common;

use std::io::Write;
use std::process::{Command, Output, Stdio};

use common::auth::set_cookie;
use common::{fresh_database, spawn_app_with};
use reqwest::StatusCode;

const BIN: &str = env!("CARGO_BIN_EXE_lockstep");

/// Runs `lockstep user <args>` on `url`, with `stdin` piped in.
fn lockstep_user(url: &str, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(BIN)
        .arg("user")
        .args(args)
        .env("DATABASE_URL", url)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[tokio::test]
async fn operators_add_users_set_roles_and_reset_passwords() {
    let (db, url) = fresh_database().await;
    let url_for_cli = url.clone();
    let run = move |args: &'static [&'static str], stdin: &'static str| {
        let url = url_for_cli.clone();
        tokio::task::spawn_blocking(move || lockstep_user(&url, args, stdin))
    };

    let out = run(
        &[
            "add",
            "--email",
            "ines@example.com",
            "--role",
            "instructor",
            "--display-name",
            "Ines <Instructor>",
        ],
        "a long enough secret\n",
    )
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("as instructor"), "{stdout}");
    assert!(!stdout.contains("a long enough secret"));
    let (name, role): (String, String) =
        sqlx::query_as("SELECT display_name, role FROM users WHERE email = 'ines@example.com'")
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!(
        (name.as_str(), role.as_str()),
        ("Ines <Instructor>", "instructor")
    );

    // Refusals: a short password, a duplicate email, an unknown role.
    let out = run(&["add", "--email", "short@example.com"], "short\n")
        .await
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 12 characters"));
    let out = run(
        &["add", "--email", "INES@example.com"],
        "another long secret\n",
    )
    .await
    .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));
    let out = run(
        &["add", "--email", "x@example.com", "--role", "root"],
        "another long secret\n",
    )
    .await
    .unwrap();
    assert!(!out.status.success());
    let users: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(users, 1);

    // The account works on the web, as an instructor.
    let app = spawn_app_with(db.clone()).await;
    let browser = app.browser();
    browser
        .log_in_with("ines@example.com", "a long enough secret")
        .await;
    let me: serde_json::Value = browser.get("/api/me").await.json().await.unwrap();
    assert_eq!(me["role"], "instructor");
    assert_eq!(me["display_name"], "Ines <Instructor>");

    // set-role
    let out = run(
        &["set-role", "--email", "ines@example.com", "--role", "admin"],
        "",
    )
    .await
    .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("is now admin"));
    let role: String = sqlx::query_scalar("SELECT role FROM users")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(role, "admin");
    let out = run(
        &[
            "set-role",
            "--email",
            "nobody@example.com",
            "--role",
            "admin",
        ],
        "",
    )
    .await
    .unwrap();
    assert!(!out.status.success());

    // reset-password: the new one works, the old one and old sessions do not.
    let out = run(
        &["reset-password", "--email", "ines@example.com"],
        "a brand new passphrase\n",
    )
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let sessions: i64 = sqlx::query_scalar("SELECT count(*) FROM sessions")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(sessions, 0);
    let fresh = app.browser();
    let old = fresh
        .log_in_with("ines@example.com", "a long enough secret")
        .await;
    assert_eq!(old.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let new = fresh
        .log_in_with("ines@example.com", "a brand new passphrase")
        .await;
    assert_eq!(new.status(), StatusCode::SEE_OTHER);
    assert!(set_cookie(&new, "lockstep_session").is_some());
}
