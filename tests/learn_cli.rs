//! `lockstep learn` end to end: the real binary against the real server
//! (and, where a verdict is needed, the real grading pool), a real learner
//! with a real API token, and real `cargo test` in the downloaded project.
//!
//! The local `cargo test` runs `--offline` against the machine's own cargo
//! registry (`~/.cargo`, where the grader's crates already are), on an
//! exercise whose crate uses no dependencies, so it needs no network and
//! compiles in seconds; its target dir is shared under `target/tmp` between
//! runs.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

use common::auth::{create_user, signed_in};
use lockstep::auth::Role;
use lockstep::auth::api_tokens::{self, TokenName, TokenScope};
use lockstep::grading::pool::PoolConfig;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// The exercise downloaded: an `implement` exercise without dependencies.
const EXERCISE: &str = "feature-unification";

/// A fresh directory for one test (projects and config files).
fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("learn-cli")
        .join(format!("{name}-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A token for `user_id` with `scope`, expiring in 30 days.
async fn token(db: &sqlx::PgPool, user_id: i64, scope: TokenScope) -> String {
    let name = TokenName::parse("laptop").unwrap();
    api_tokens::create(db, user_id, &name, scope, Some(time::Duration::days(30)))
        .await
        .unwrap()
        .1
}

/// `lockstep learn ARGS` in `dir`, with `env`, its config dir under
/// `config_home`, and `stdin` as input.
async fn learn(
    dir: &Path,
    config_home: &Path,
    env: &[(&str, &str)],
    args: &[&str],
    stdin: &str,
) -> Output {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_lockstep"));
    command
        .arg("learn")
        .args(args)
        .current_dir(dir)
        .env("XDG_CONFIG_HOME", config_home)
        .env_remove("LOCKSTEP_TOKEN")
        .env_remove("LOCKSTEP_SERVER")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("start lockstep learn");
    let mut input = child.stdin.take().unwrap();
    tokio::io::AsyncWriteExt::write_all(&mut input, stdin.as_bytes())
        .await
        .unwrap();
    drop(input);
    child.wait_with_output().await.unwrap()
}

/// `lockstep learn download EXERCISE` in `home` (it must succeed); the project it made.
async fn download(home: &Path, env: &[(&str, &str)]) -> PathBuf {
    let downloaded = learn(home, &home.join("config"), env, &["download", EXERCISE], "").await;
    assert!(downloaded.status.success(), "{}", text(&downloaded));
    home.join(EXERCISE)
}

fn text(output: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// `cargo test --offline` in `project`, with a target dir shared by runs.
async fn cargo_test(project: &Path) -> Output {
    tokio::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["test", "--offline", "--quiet"])
        .current_dir(project)
        .env(
            "CARGO_TARGET_DIR",
            PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("learn-cli-target"),
        )
        // What the outer `cargo test` set must not steer the inner one.
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_BUILD_RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .stdin(Stdio::null())
        .output()
        .await
        .expect("run cargo test")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn download_test_locally_submit_and_the_pass_is_recorded() {
    let app = common::spawn_app().await;
    let (stop, pool) = common::spawn_pool(app.db.clone(), PoolConfig::with_workers(1)).await;
    let learner = create_user(&app.db, "ada@example.com", "Ada", Role::Learner).await;
    let token = token(&app.db, learner.id, TokenScope::Submit).await;
    let home = scratch("e2e");
    let env = [
        ("LOCKSTEP_SERVER", app.base_url.as_str()),
        ("LOCKSTEP_TOKEN", token.as_str()),
    ];
    let programme = common::programme();
    let exercise = programme.exercise(EXERCISE).unwrap();

    let project = download(&home, &env).await;
    let manifest = std::fs::read_to_string(project.join("Cargo.toml")).unwrap();
    assert!(
        manifest.contains("name = \"feature_unification\""),
        "{manifest}"
    );
    assert!(manifest.contains("edition = \"2024\""), "{manifest}");
    assert!(
        manifest.contains("# tokio = { version = \"="),
        "the grader's crates are listed, pinned: {manifest}"
    );
    assert_eq!(
        std::fs::read_to_string(project.join("src/lib.rs")).unwrap(),
        exercise.starter
    );
    assert_eq!(
        std::fs::read_to_string(project.join("tests/visible.rs")).unwrap(),
        exercise.visible_tests().unwrap()
    );
    let readme = std::fs::read_to_string(project.join("README.md")).unwrap();
    assert!(
        readme.starts_with(&format!("# {}", exercise.title)),
        "{readme}"
    );
    assert!(project.join("Cargo.lock").exists() && project.join("HINTS.md").exists());

    // The visible tests run locally, and fail on the starter.
    let starter_run = cargo_test(&project).await;
    assert!(!starter_run.status.success(), "{}", text(&starter_run));
    assert!(
        String::from_utf8_lossy(&starter_run.stdout).contains("test result: FAILED"),
        "{}",
        text(&starter_run)
    );

    // The reference solution passes locally, then on the server.
    std::fs::write(project.join("src/lib.rs"), &exercise.solution).unwrap();
    let solution_run = cargo_test(&project).await;
    assert!(solution_run.status.success(), "{}", text(&solution_run));

    let submitted = learn(&project, &home.join("config"), &env, &["submit"], "").await;
    let output = text(&submitted);
    assert_eq!(submitted.status.code(), Some(0), "{output}");
    assert!(output.contains("test result: ok."), "{output}");
    assert!(output.contains("test visible::"), "{output}");
    assert!(
        output.contains("(hidden) ... ok"),
        "hidden tests by name: {output}"
    );

    // The pass is in the learner's progress, and the draft follows the file.
    let progress: Value = app
        .client
        .get(format!("{}/api/progress", app.base_url))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let item = progress["modules"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|m| m["items"].as_array().unwrap())
        .find(|item| item["id"] == EXERCISE)
        .unwrap();
    assert_eq!(item["mark"], "done", "{progress}");
    let passed_hash: Option<String> = sqlx::query_scalar(
        "SELECT passed_hash FROM exercise_progress WHERE user_id = $1 AND exercise_id = $2",
    )
    .bind(learner.id)
    .bind(EXERCISE)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(passed_hash.as_deref(), Some(exercise.content_hash.as_str()));
    let draft: Value = app
        .client
        .get(format!("{}/api/exercises/{EXERCISE}/draft", app.base_url))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(draft["code"], exercise.solution.as_str());
    assert_eq!(draft["version"], 1);

    stop.cancel();
    let _ = pool.await;
}

#[tokio::test]
async fn a_draft_changed_in_the_browser_is_not_overwritten_without_confirmation() {
    let app = common::spawn_app().await;
    let (stop, pool) = common::spawn_pool(app.db.clone(), PoolConfig::with_workers(1)).await;
    let (browser, learner) = signed_in(&app, "grace@example.com", Role::Learner).await;
    let token = token(&app.db, learner.id, TokenScope::Submit).await;
    let home = scratch("draft");
    let env = [
        ("LOCKSTEP_SERVER", app.base_url.as_str()),
        ("LOCKSTEP_TOKEN", token.as_str()),
    ];
    let project = download(&home, &env).await;

    // After the download, the learner edits the draft in a browser…
    let csrf = browser.csrf_token().await;
    let saved = browser
        .client
        .put(format!(
            "{}/api/exercises/{EXERCISE}/draft",
            browser.base_url
        ))
        .header("x-csrf-token", csrf)
        .json(&json!({ "code": "// edited in the browser", "version": 0 }))
        .send()
        .await
        .unwrap();
    assert_eq!(saved.status(), StatusCode::OK);
    // …and locally.
    std::fs::write(project.join("src/lib.rs"), "// edited locally\n").unwrap();

    // Not on a terminal and without --force: refused, nothing changes
    // (even a "y" on stdin is no confirmation there).
    let refused = learn(&project, &home.join("config"), &env, &["submit"], "y\n").await;
    let output = text(&refused);
    assert_eq!(refused.status.code(), Some(1), "{output}");
    assert!(output.contains("newer than your download"), "{output}");
    assert!(output.contains("--force"), "{output}");
    let draft: Value = browser
        .get(&format!("/api/exercises/{EXERCISE}/draft"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(draft["code"], "// edited in the browser", "{draft}");
    assert_eq!(draft["version"], 1);
    let submissions: i64 =
        sqlx::query_scalar("SELECT count(*) FROM submissions WHERE user_id = $1")
            .bind(learner.id)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(submissions, 0, "nothing was submitted");

    // Confirmed with --force, the local file wins; it is graded (a visible
    // run: the tests do not compile against it, which is reported).
    let forced = learn(
        &project,
        &home.join("config"),
        &env,
        &["submit", "--force", "--visible"],
        "",
    )
    .await;
    let output = text(&forced);
    assert_eq!(forced.status.code(), Some(1), "{output}");
    assert!(output.contains("error"), "{output}");
    let draft: Value = browser
        .get(&format!("/api/exercises/{EXERCISE}/draft"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(draft["code"], "// edited locally\n", "{draft}");
    assert_eq!(draft["version"], 2);
    stop.cancel();
    let _ = pool.await;
}

#[tokio::test]
async fn login_keeps_the_token_readable_by_the_user_only() {
    let app = common::spawn_app().await;
    let learner = create_user(&app.db, "lin@example.com", "Lin", Role::Learner).await;
    let token = token(&app.db, learner.id, TokenScope::Read).await;
    let home = scratch("login");
    let config_home = home.join("config");

    let wrong = learn(
        &home,
        &config_home,
        &[],
        &["login", "--server", &app.base_url],
        "lst_notarealtokennotarealtokennotarealtoken\n",
    )
    .await;
    assert_ne!(wrong.status.code(), Some(0), "{}", text(&wrong));
    assert!(
        text(&wrong).contains("does not accept this API token"),
        "{}",
        text(&wrong)
    );
    assert!(!config_home.join("lockstep/config.toml").exists());

    let plain = learn(
        &home,
        &config_home,
        &[],
        &["login", "--server", "http://lockstep.example.com"],
        &format!("{token}\n"),
    )
    .await;
    assert!(text(&plain).contains("use https://"), "{}", text(&plain));

    let logged_in = learn(
        &home,
        &config_home,
        &[],
        &["login", "--server", &app.base_url],
        &format!("{token}\n"),
    )
    .await;
    assert!(logged_in.status.success(), "{}", text(&logged_in));
    assert!(text(&logged_in).contains("as Lin"), "{}", text(&logged_in));
    let file = config_home.join("lockstep/config.toml");
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the config file holds a token: {mode:o}");
    let dir_mode = std::fs::metadata(config_home.join("lockstep"))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(dir_mode, 0o700, "{dir_mode:o}");
    let stored = std::fs::read_to_string(&file).unwrap();
    assert!(
        stored.contains(&token) && stored.contains(&app.base_url),
        "{stored}"
    );

    // The stored credentials work without the environment…
    let status = learn(&home, &config_home, &[], &["status"], "").await;
    assert!(status.status.success(), "{}", text(&status));
    assert!(
        text(&status).contains(&format!("[{EXERCISE}]")),
        "{}",
        text(&status)
    );
    // …and LOCKSTEP_TOKEN overrides them.
    let overridden = learn(
        &home,
        &config_home,
        &[("LOCKSTEP_TOKEN", "lst_revokedrevokedrevokedrevokedrevoked")],
        &["status"],
        "",
    )
    .await;
    assert_ne!(overridden.status.code(), Some(0), "{}", text(&overridden));
}

#[tokio::test]
async fn a_read_only_token_downloads_but_cannot_hand_anything_in() {
    let app = common::spawn_app().await;
    let learner = create_user(&app.db, "kay@example.com", "Kay", Role::Learner).await;
    let token = token(&app.db, learner.id, TokenScope::Read).await;
    let home = scratch("scope");
    let env = [
        ("LOCKSTEP_SERVER", app.base_url.as_str()),
        ("LOCKSTEP_TOKEN", token.as_str()),
    ];

    let project = download(&home, &env).await;

    for args in [&["submit"][..], &["hint", EXERCISE][..]] {
        let refused = learn(&project, &home.join("config"), &env, args, "").await;
        let output = text(&refused);
        assert_eq!(refused.status.code(), Some(2), "{args:?}: {output}");
        assert!(output.contains("read-only"), "{args:?}: {output}");
    }
    let submissions: i64 =
        sqlx::query_scalar("SELECT count(*) FROM submissions WHERE user_id = $1")
            .bind(learner.id)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(submissions, 0);
    let hints: Value = app
        .client
        .get(format!("{}/api/exercises/{EXERCISE}/hints", app.base_url))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(hints["revealed"], json!([]), "no hint was revealed");

    // A token cannot make tokens.
    let account = app
        .client
        .post(format!("{}/account/tokens", app.base_url))
        .bearer_auth(&token)
        .form(&[("name", "more"), ("scope", "submit"), ("lifetime", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(account.status(), StatusCode::FORBIDDEN);
    // An unknown exercise is said so.
    let unknown = learn(
        &home,
        &home.join("config"),
        &env,
        &["download", "no-such-exercise"],
        "",
    )
    .await;
    assert!(
        text(&unknown).contains("there is no exercise \"no-such-exercise\""),
        "{}",
        text(&unknown)
    );
}

#[tokio::test]
async fn the_learner_api_is_described_in_openapi() {
    let app = common::spawn_app().await;
    let document: Value = app.get("/api/openapi.json").await.json().await.unwrap();
    assert!(
        document["openapi"].as_str().unwrap().starts_with("3."),
        "{document}"
    );
    for path in [
        "/api/exercises/{exercise}/workspace",
        "/api/exercises/{exercise}/submissions",
        "/api/exercises/{exercise}/draft",
        "/api/exercises/{exercise}/hints",
        "/api/submissions/{id}",
        "/api/exercises/{exercise}/review",
        "/api/reviews/{id}",
        "/api/progress",
        "/api/events",
    ] {
        assert!(
            document["paths"][path].is_object(),
            "{path} is not described"
        );
    }
    assert_eq!(
        document["components"]["securitySchemes"]["api_token"]["scheme"],
        "bearer"
    );
    assert_eq!(
        document["paths"]["/api/exercises/{exercise}/submissions"]["post"]["security"][0]["api_token"]
            [0],
        "submit"
    );
    // Instructor and account routes are not part of what a learner's token does.
    assert!(
        document["paths"]
            .as_object()
            .unwrap()
            .keys()
            .all(|p| !p.contains("instructor") && !p.contains("account"))
    );
}
