//! The `lockstep` binary end to end: the CLI, and `serve` starting a private
//! PostgreSQL, keeping its data across restarts and leaving nothing behind.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use sqlx::Connection;

const BIN: &str = env!("CARGO_BIN_EXE_lockstep");

fn temp_data_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("data-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Starts `lockstep serve` on a random port and returns it with its URL.
fn start_server(data_dir: &Path) -> (Child, String) {
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
            eprintln!("[server] {line}");
            if let Some(at) = line.find("listening on http://") {
                let _ = tx.send(line[at + "listening on ".len()..].trim().to_string());
            }
        }
    });
    let url = rx
        .recv_timeout(Duration::from_secs(120))
        .expect("the server logs its URL");
    (child, url)
}

fn terminate(child: &mut Child) -> std::process::ExitStatus {
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    for _ in 0..300 {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    child.kill().unwrap();
    panic!("the server did not exit within 30 s of SIGTERM");
}

#[tokio::test]
async fn serve_starts_a_private_database_keeps_data_and_stops_it() {
    let data_dir = temp_data_dir();
    let (mut child, url) = start_server(&data_dir);
    let response = reqwest::get(format!("{url}/healthz")).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(reqwest::get(format!("{url}/")).await.unwrap().status(), 200);

    // Leave a mark in the database, then restart.
    let db_url = lockstep::db::embedded::url_for_data_dir(&data_dir, "lockstep").unwrap();
    let mut conn = sqlx::PgConnection::connect(&db_url).await.unwrap();
    sqlx::query!("INSERT INTO users (email, display_name, password_hash) VALUES ('mark@example.com', 'Mark', 'x')")
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();

    let status = terminate(&mut child);
    assert!(status.success(), "exit status {status}");
    assert!(
        !lockstep::db::embedded::is_running(&data_dir),
        "PostgreSQL must stop with the app"
    );

    let (mut child, url) = start_server(&data_dir);
    assert_eq!(
        reqwest::get(format!("{url}/healthz"))
            .await
            .unwrap()
            .status(),
        200
    );
    let mut conn = sqlx::PgConnection::connect(&db_url).await.unwrap();
    let marks: i64 = sqlx::query_scalar!(
        r#"SELECT count(*) AS "count!" FROM users WHERE email = 'mark@example.com'"#
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(marks, 1, "data survives a restart");
    conn.close().await.unwrap();
    assert!(terminate(&mut child).success());
    assert!(!lockstep::db::embedded::is_running(&data_dir));
}

#[test]
fn curriculum_list_json_describes_the_programme() {
    let output = Command::new(BIN)
        .args(["curriculum", "list", "--json"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let modules = json["modules"].as_array().unwrap();
    assert!(!modules.is_empty());
    let exercise = &modules
        .iter()
        .flat_map(|m| m["exercises"].as_array().unwrap())
        .next()
        .expect("an exercise");
    for key in ["id", "title", "starter", "solution", "tests"] {
        assert!(!exercise[key].is_null(), "exercise lacks {key}");
    }
    assert!(std::path::Path::new(exercise["starter"].as_str().unwrap()).exists());
}

#[test]
fn help_documents_every_command() {
    let output = Command::new(BIN).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&output.stdout);
    for command in ["serve", "curriculum"] {
        assert!(help.contains(command), "--help lacks {command}:\n{help}");
    }
}

#[test]
fn a_broken_lesson_is_a_start_up_error_naming_file_and_line() {
    let root = temp_data_dir().join("curriculum");
    let lessons = root.join("m/lessons");
    std::fs::create_dir_all(&lessons).unwrap();
    std::fs::write(
        root.join("programme.toml"),
        "title = \"T\"\nsummary = \"S\"\nmodules = [\"m\"]\n",
    )
    .unwrap();
    std::fs::write(
        root.join("m/module.toml"),
        "id = \"m\"\ntitle = \"M\"\nsummary = \"S\"\n",
    )
    .unwrap();
    std::fs::write(lessons.join("01-a.md"), "+++\nid = \"a\"\ntitle = \"A\"\nsummary = \"S\"\norder = \"first\"\nminutes = 5\n+++\nbody\n").unwrap();
    let output = Command::new(BIN)
        .args(["curriculum", "list"])
        .env("LOCKSTEP_CURRICULUM", &root)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("01-a.md:5:"), "{stderr}");
}

#[test]
fn a_port_in_use_is_a_clear_error_and_leaves_no_database_running() {
    let data_dir = temp_data_dir();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let output = Command::new(BIN)
        .args(["serve", "--listen", &address, "--workers", "0"])
        .env("LOCKSTEP_DATA_DIR", &data_dir)
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("cannot listen on {address}")),
        "{stderr}"
    );
    assert!(
        !lockstep::db::embedded::is_running(&data_dir),
        "no private PostgreSQL left behind"
    );
}
