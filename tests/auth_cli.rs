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
    let (name, role) =
        sqlx::query!("SELECT display_name, role FROM users WHERE email = 'ines@example.com'")
            .fetch_one(&db)
            .await
            .map(|user| (user.display_name, user.role))
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
    let users: i64 = sqlx::query_scalar!(r#"SELECT count(*) AS "count!" FROM users"#)
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
    let role: String = sqlx::query_scalar!("SELECT role FROM users")
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
    let sessions: i64 = sqlx::query_scalar!(r#"SELECT count(*) AS "count!" FROM sessions"#)
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

/// Starts `lockstep serve` on a private cluster under `data_dir`; returns it and its URL.
fn start_server(data_dir: &std::path::Path) -> (std::process::Child, String) {
    use std::io::{BufRead, BufReader};
    let mut child = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--workers", "0"])
        .env("LOCKSTEP_DATA_DIR", data_dir)
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "info")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(at) = line.find("listening on http://") {
                let _ = tx.send(line[at + "listening on ".len()..].trim().to_string());
            }
        }
    });
    let url = rx
        .recv_timeout(std::time::Duration::from_secs(120))
        .expect("the server logs its URL");
    (child, url)
}

#[tokio::test]
async fn user_commands_leave_a_running_servers_private_database_running() {
    let data_dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("data-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&data_dir).unwrap();
    let (mut server, url) = tokio::task::spawn_blocking({
        let data_dir = data_dir.clone();
        move || start_server(&data_dir)
    })
    .await
    .unwrap();

    let out = tokio::task::spawn_blocking({
        let data_dir = data_dir.clone();
        move || {
            let mut child = Command::new(BIN)
                .args([
                    "user",
                    "add",
                    "--email",
                    "op@example.com",
                    "--role",
                    "admin",
                ])
                .env("LOCKSTEP_DATA_DIR", &data_dir)
                .env_remove("DATABASE_URL")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            child
                .stdin
                .take()
                .unwrap()
                .write_all(b"operator passphrase\n")
                .unwrap();
            child.wait_with_output().unwrap()
        }
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(lockstep::db::embedded::is_running(&data_dir));
    let health = reqwest::get(format!("{url}/healthz")).await.unwrap();
    assert_eq!(
        health.status(),
        StatusCode::OK,
        "the server still has its database"
    );

    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(server.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let status = tokio::task::spawn_blocking(move || server.wait().unwrap())
        .await
        .unwrap();
    assert!(status.success());
    assert!(!lockstep::db::embedded::is_running(&data_dir));
}
