//! The `lockstep` binary end to end: the CLI, and `serve` starting a private
//! PostgreSQL, keeping its data across restarts and leaving nothing behind.

mod common;

use std::process::Command;

use common::process::{BIN, Server, serve_command, temp_dir};
use sqlx::Connection;

fn temp_data_dir() -> std::path::PathBuf {
    temp_dir("data")
}

/// Starts `lockstep serve` on a random port and returns it with its URL.
fn start_server(data_dir: &std::path::Path) -> (Server, String) {
    let server = Server::spawn(serve_command(data_dir));
    let url = server.url();
    (server, url)
}

fn terminate(server: &mut Server) -> std::process::ExitStatus {
    server.terminate().0
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
    let root = broken_curriculum();
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

/// A programme whose only lesson is broken at line 5, for telling whether
/// `--curriculum` reached the command.
fn broken_curriculum() -> std::path::PathBuf {
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
    root
}

#[test]
fn global_options_work_before_and_after_the_subcommand() {
    let data_dir = temp_data_dir();
    let broken = broken_curriculum();
    for args in [
        vec![
            "--data-dir",
            data_dir.to_str().unwrap(),
            "curriculum",
            "list",
        ],
        vec![
            "curriculum",
            "list",
            "--data-dir",
            data_dir.to_str().unwrap(),
        ],
        vec![
            "curriculum",
            "--data-dir",
            data_dir.to_str().unwrap(),
            "list",
        ],
    ] {
        let output = Command::new(BIN).args(&args).output().unwrap();
        assert!(
            output.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(String::from_utf8_lossy(&output.stdout).contains("exercise"));
    }
    // The option is honoured, not merely accepted, in either place.
    for args in [
        vec![
            "--curriculum",
            broken.to_str().unwrap(),
            "curriculum",
            "list",
        ],
        vec![
            "curriculum",
            "list",
            "--curriculum",
            broken.to_str().unwrap(),
        ],
    ] {
        let output = Command::new(BIN).args(&args).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("01-a.md:5:"), "{args:?}: {stderr}");
    }
    // `serve`'s own options before another subcommand are refused, clearly.
    let output = Command::new(BIN)
        .args(["--listen", "127.0.0.1:0", "curriculum", "list"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--listen is an option of `serve`, not of `curriculum`"),
        "{stderr}"
    );
}

#[tokio::test]
async fn lockstep_with_no_subcommand_serves_with_options_in_any_order() {
    let data_dir = temp_data_dir();
    let mut command = Command::new(BIN);
    command
        .args(["--data-dir", data_dir.to_str().unwrap()])
        .args(["--listen", "127.0.0.1:0", "--workers", "0"])
        .env_remove("LOCKSTEP_DATA_DIR")
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "info");
    let mut server = Server::spawn(command);
    let url = server.url();
    assert_eq!(
        reqwest::get(format!("{url}/healthz"))
            .await
            .unwrap()
            .status(),
        200
    );
    assert!(
        lockstep::db::embedded::is_running(&data_dir),
        "the private database lives in the --data-dir given before the options of serve"
    );
    assert!(terminate(&mut server).success());
    assert!(!lockstep::db::embedded::is_running(&data_dir));
}

/// The first `href="{prefix}…"` of `html`.
fn first_link(html: &str, prefix: &str) -> String {
    let start = html
        .find(&format!("\"{prefix}"))
        .unwrap_or_else(|| panic!("no link to {prefix}…"))
        + 1;
    html[start..].chars().take_while(|c| *c != '"').collect()
}

#[tokio::test]
async fn a_copied_binary_serves_the_programme_from_an_unrelated_directory() {
    // Outside the source tree: the binary, its working directory and its
    // data dir; and an environment that names nothing of the source tree.
    let place = std::env::temp_dir().join(format!(
        "lockstep-installed-{}",
        uuid::Uuid::new_v4().simple()
    ));
    let (bin_dir, cwd, data_dir) = (place.join("bin"), place.join("cwd"), place.join("data"));
    for dir in [&bin_dir, &cwd, &data_dir] {
        std::fs::create_dir_all(dir).unwrap();
    }
    let installed = bin_dir.join("lockstep");
    std::fs::copy(BIN, &installed).unwrap();
    let source_tree = env!("CARGO_MANIFEST_DIR");
    let mut command = Command::new(&installed);
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap())
        .env(
            "HOME",
            std::env::var("HOME").unwrap_or_else(|_| "/root".into()),
        )
        .env("RUST_LOG", "info")
        .current_dir(&cwd)
        .args([
            "--data-dir",
            "../data",
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--workers",
            "0",
        ]);
    for (name, value) in command.get_envs() {
        let value = value
            .map(|v| v.to_string_lossy().into_owned())
            .unwrap_or_default();
        assert!(
            !value.contains(source_tree),
            "{name:?} names the source tree"
        );
    }
    let mut server = Server::spawn(command);
    let url = server.url();

    let client = reqwest::Client::new();
    let catalogue = client.get(&url).send().await.unwrap().text().await.unwrap();
    let programme = common::programme();
    let lesson = programme.lessons().next().expect("a lesson");
    let path = format!("/lessons/{}/{}", lesson.module_id, lesson.id);
    let response = client.get(format!("{url}{path}")).send().await.unwrap();
    assert_eq!(response.status(), 200, "{path}");
    let page = response.text().await.unwrap();
    assert!(
        page.contains(&format!("<h1>{}</h1>", lesson.title)),
        "{page}"
    );

    let stylesheet = first_link(&catalogue, "/static/style.css?v=");
    let response = client
        .get(format!("{url}{stylesheet}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
    assert!(
        response.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    let etag = response.headers()["etag"].clone();
    let served = response.bytes().await.unwrap();
    let source = std::fs::read(format!("{source_tree}/static/style.css")).unwrap();
    assert_eq!(
        served.as_ref(),
        source.as_slice(),
        "the built-in copy of the source's file"
    );
    // Without the fingerprint the client revalidates; its copy is current.
    let response = client
        .get(format!("{url}/static/style.css"))
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 304);
    assert_eq!(response.headers()["cache-control"], "no-cache");
    let missing = client
        .get(format!("{url}/static/nope.css"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);

    // The programme was extracted under the data dir, once, by content hash
    // (and the grader's workspace, whose pinned versions `lockstep learn
    // download` is given).
    let mut extracted: Vec<String> = std::fs::read_dir(data_dir.join("bundle"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    extracted.sort();
    assert_eq!(extracted.len(), 2, "{extracted:?}");
    assert!(extracted[0].starts_with("curriculum-"), "{extracted:?}");
    assert!(extracted[1].starts_with("grader-deps-"), "{extracted:?}");

    assert!(terminate(&mut server).success());
    assert!(!lockstep::db::embedded::is_running(&data_dir));
    std::fs::remove_dir_all(&place).unwrap();
}

#[test]
fn sigterm_while_the_private_database_is_created_stops_it_again() {
    let data_dir = temp_data_dir();
    let mut server = Server::spawn(serve_command(&data_dir));
    server.wait_for_line("creating the private PostgreSQL cluster", 60);
    let (status, took) = server.terminate();
    assert!(status.success(), "exit status {status}");
    eprintln!("exit took {took:?}");
    assert!(
        !lockstep::db::embedded::is_running(&data_dir),
        "no private PostgreSQL left behind"
    );
}

#[test]
fn a_server_whose_log_reader_is_gone_still_stops_cleanly() {
    // `lockstep serve 2>&1 | head`, or a log collector that died: every log
    // line after that fails to write, which must not bring the server down
    // or leave its database running.
    use std::io::BufRead;
    let data_dir = temp_data_dir();
    let mut child = serve_command(&data_dir)
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut log = std::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let started = std::time::Instant::now();
    loop {
        let line = log
            .next()
            .expect("the server logs until it listens")
            .unwrap();
        if line.contains("listening on http://") {
            break;
        }
        assert!(started.elapsed().as_secs() < 120, "no listening line");
    }
    drop(log);
    let mut server = Server {
        child,
        lines: std::sync::mpsc::channel().1,
    };
    let (status, _) = server.terminate();
    assert!(status.success(), "exit status {status}");
    assert!(
        !lockstep::db::embedded::is_running(&data_dir),
        "no private PostgreSQL left behind"
    );
}
