//! The grading pipeline end to end: HTTP API → PostgreSQL queue → worker
//! pool → real sandbox → verdict; plus the queue's guarantees under worker
//! death, shutdown and load.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::auth::{Browser, signed_in};
use common::{fresh_database, spawn_app_with, spawn_pool, wait_for_verdict};
use lockstep::auth::Role;
use lockstep::grading::job::Mode;
use lockstep::grading::pool::PoolConfig;
use lockstep::grading::queue::{self, NewJob};
use lockstep::grading::verdict::{Status, Verdict};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn exercise_file(exercise: &str, file: &str) -> String {
    let programme = common::programme();
    let exercise = programme.exercise(exercise).expect("exercise exists");
    std::fs::read_to_string(exercise.dir.join(file)).expect("file")
}

async fn submit(learner: &Browser, exercise: &str, code: &str) -> reqwest::Response {
    learner
        .post_json(
            &format!("/api/exercises/{exercise}/submissions"),
            &json!({ "code": code }),
        )
        .await
}

async fn learner(app: &common::TestApp, email: &str) -> Browser {
    signed_in(app, email, Role::Learner).await.0
}

#[tokio::test]
async fn a_solution_passes_a_starter_fails_and_hidden_tests_stay_hidden() {
    let (db, _) = fresh_database().await;
    let app = spawn_app_with(db.clone()).await;
    let (stop, _pool) = spawn_pool(db, PoolConfig::with_workers(2)).await;
    let ada = learner(&app, "ada@example.com").await;

    let good = submit(
        &ada,
        "versioned-store",
        &exercise_file("versioned-store", "solution.rs"),
    )
    .await;
    assert_eq!(good.status(), StatusCode::CREATED);
    let good_id = good.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let bad = submit(
        &ada,
        "versioned-store",
        &exercise_file("versioned-store", "starter.rs"),
    )
    .await;
    let bad_id = bad.json::<Value>().await.unwrap()["id"].as_i64().unwrap();

    let good = wait_for_verdict(&ada, good_id, 120).await;
    assert_eq!(good["verdict"]["status"], "pass", "{good}");
    assert_eq!(good["verdict"]["version"], 2);
    let tests = good["verdict"]["tests"].as_array().unwrap();
    assert!(tests.iter().filter(|t| t["hidden"] == true).count() >= 2);
    assert!(tests.iter().filter(|t| t["hidden"] == false).count() >= 3);

    let bad = wait_for_verdict(&ada, bad_id, 60).await;
    assert_eq!(bad["verdict"]["status"], "fail", "{bad}");
    for test in bad["verdict"]["tests"].as_array().unwrap() {
        if test["hidden"] == true && test["status"] != "pass" {
            assert_eq!(test["message"], "a hidden test failed");
            assert!(test["output"].is_null());
        }
    }
    assert!(
        bad["verdict"]["tests"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["hidden"] == false && t["message"].is_string())
    );
    stop.cancel();
}

#[tokio::test]
async fn compile_errors_come_back_in_rustc_format_with_locations() {
    let (db, _) = fresh_database().await;
    let app = spawn_app_with(db.clone()).await;
    let (stop, _pool) = spawn_pool(db, PoolConfig::with_workers(1)).await;
    let ada = learner(&app, "ada@example.com").await;
    let code = "pub fn broken() -> u32 {\n    \"not a number\"\n}\n";
    let id = submit(&ada, "versioned-store", code)
        .await
        .json::<Value>()
        .await
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let done = wait_for_verdict(&ada, id, 60).await;
    let verdict = &done["verdict"];
    assert_eq!(verdict["status"], "error");
    assert_eq!(verdict["reason"], "compile_error");
    let output = verdict["compile_output"].as_str().unwrap();
    assert!(
        output.contains("mismatched types") && output.contains("src/lib.rs:2"),
        "{output}"
    );
    assert!(
        verdict["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["line"] == 2 && d["level"] == "error")
    );
    stop.cancel();
}

#[tokio::test]
async fn bad_input_gets_a_clear_4xx_and_stores_nothing() {
    let app = common::spawn_app().await;
    let ada = learner(&app, "ada@example.com").await;
    let token = ada.csrf_token().await;
    let post = |url: &str| ada.client.post(url).header("x-csrf-token", &token);
    let url = format!("{}/api/exercises/versioned-store/submissions", app.base_url);
    let cases: Vec<(reqwest::RequestBuilder, StatusCode)> = vec![
        (
            post(&url).json(&json!({ "code": "   " })),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            post(&url).json(&json!({ "code": "x".repeat(64 * 1024 + 1) })),
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
        (
            post(&url).json(&json!({ "code": "fn main() {}\u{0}" })),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            post(&url).json(&json!({ "code": "a", "mode": "sideways" })),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            post(&url).json(&json!({ "source": "a" })),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            post(&url)
                .header("content-type", "application/json")
                .body("{\"code\": "),
            StatusCode::BAD_REQUEST,
        ),
        (
            post(&url)
                .header("content-type", "application/json")
                .body(vec![
                    b'{', b'"', b'c', b'"', b':', b'"', 0xff, 0xfe, b'"', b'}',
                ]),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            post(&url).body("{\"code\": \"fn main() {}\"}"),
            StatusCode::BAD_REQUEST,
        ),
        (
            post(&url)
                .header("content-type", "application/json")
                .body(vec![b' '; 300 * 1024]),
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
        (
            post(&format!(
                "{}/api/exercises/no-such-exercise/submissions",
                app.base_url
            ))
            .json(&json!({ "code": "fn main() {}" })),
            StatusCode::NOT_FOUND,
        ),
    ];
    for (index, (request, expected)) in cases.into_iter().enumerate() {
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), expected, "case {index}");
        let body: Value = response.json().await.unwrap_or(Value::Null);
        assert!(
            body["error"].as_str().is_some_and(|m| !m.is_empty()),
            "case {index} has a message: {body}"
        );
    }
    assert_eq!(submission_count(&app.db).await, 0, "nothing was stored");
    assert_eq!(
        ada.get("/api/submissions/999999").await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_job_ends_exactly_once_when_its_lease_moves_to_another_worker() {
    let (db, _) = fresh_database().await;
    let id = queue::enqueue(
        &db,
        NewJob {
            user_id: None,
            mode: Mode::Run,
            exercise_id: None,
            exercise_hash: None,
            code: "fn main() {}",
        },
        queue::JobLimits::NONE,
    )
    .await
    .unwrap();
    let lease = Duration::from_millis(1000);
    let first = queue::claim(&db, "worker-a", lease)
        .await
        .unwrap()
        .expect("a job");
    assert_eq!(first.id, id);
    assert!(
        queue::claim(&db, "worker-b", lease)
            .await
            .unwrap()
            .is_none(),
        "a leased job is not claimable"
    );
    tokio::time::sleep(Duration::from_millis(1300)).await;
    let second = queue::claim(&db, "worker-b", lease)
        .await
        .unwrap()
        .expect("the expired lease is claimable");
    assert_eq!((second.id, second.attempts), (id, 2));
    let verdict = Verdict::new(Status::Pass, None, None);
    assert!(
        !queue::finish(&db, &first, "worker-a", &verdict)
            .await
            .unwrap(),
        "the old owner cannot finish it"
    );
    assert!(
        queue::finish(&db, &second, "worker-b", &verdict)
            .await
            .unwrap()
    );
    assert!(
        !queue::finish(&db, &second, "worker-b", &verdict)
            .await
            .unwrap(),
        "a job ends once"
    );
    let row = sqlx::query!("SELECT status, attempts FROM submissions WHERE id = $1", id)
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!((row.status.as_str(), row.attempts), ("done", 2));
}

#[tokio::test]
async fn a_worker_killed_mid_job_loses_nothing() {
    let (db, url) = fresh_database().await;
    // Grades slowly enough to be killed in the middle.
    let code = "fn main() { std::thread::sleep(std::time::Duration::from_secs(3)); println!(\"survived\"); }";
    let id = queue::enqueue(
        &db,
        NewJob {
            user_id: None,
            mode: Mode::Run,
            exercise_id: None,
            exercise_hash: None,
            code,
        },
        queue::JobLimits::NONE,
    )
    .await
    .unwrap();
    let _ = common::judge().await; // make sure the cache is built before timing anything
    let spawn_worker = || {
        Command::new(env!("CARGO_BIN_EXE_lockstep"))
            .args(["worker", "--workers", "1", "--lease-seconds", "2"])
            .env("DATABASE_URL", &url)
            .env("LOCKSTEP_DATA_DIR", common::grader_data_dir())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    let mut doomed = spawn_worker();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let status = sqlx::query_scalar!("SELECT status FROM submissions WHERE id = $1", id)
            .fetch_one(&db)
            .await
            .unwrap();
        if status == "running" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the first worker never claimed the job"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    doomed.kill().unwrap(); // SIGKILL: no chance to hand the job back
    doomed.wait().unwrap();

    let mut rescuer = spawn_worker();
    let deadline = Instant::now() + Duration::from_secs(60);
    let (status, attempts, verdict) = loop {
        let row = sqlx::query!(
            "SELECT status, attempts, verdict FROM submissions WHERE id = $1",
            id
        )
        .fetch_one(&db)
        .await
        .unwrap();
        if row.status == "done" {
            break (row.status, row.attempts, row.verdict);
        }
        assert!(
            Instant::now() < deadline,
            "the job was never finished after its worker died"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(status, "done");
    assert_eq!(attempts, 2, "claimed once by each worker");
    let verdict = verdict.unwrap();
    assert_eq!(verdict["status"], "pass", "{verdict}");
    assert_eq!(verdict["stdout"], "survived\n");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(rescuer.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    assert!(rescuer.wait().unwrap().success());
}

#[tokio::test]
async fn shutdown_hands_unfinished_jobs_back() {
    let (db, _) = fresh_database().await;
    let code = "fn main() { std::thread::sleep(std::time::Duration::from_secs(5)); }";
    let id = queue::enqueue(
        &db,
        NewJob {
            user_id: None,
            mode: Mode::Run,
            exercise_id: None,
            exercise_hash: None,
            code,
        },
        queue::JobLimits::NONE,
    )
    .await
    .unwrap();
    let (stop, pool) = spawn_pool(db.clone(), PoolConfig::with_workers(1)).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    while sqlx::query_scalar::<_, String>("SELECT status FROM submissions WHERE id = $1")
        .bind(id)
        .fetch_one(&db)
        .await
        .unwrap()
        != "running"
    {
        assert!(Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop.cancel();
    pool.await.unwrap();
    let row = sqlx::query!(
        "SELECT status, attempts, lease_owner FROM submissions WHERE id = $1",
        id
    )
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(
        (row.status.as_str(), row.attempts, row.lease_owner),
        ("queued", 0, None)
    );
}

#[tokio::test]
async fn a_job_that_keeps_killing_its_workers_ends_as_an_internal_error() {
    let (db, _) = fresh_database().await;
    sqlx::query!(
        "INSERT INTO submissions (mode, code, status, attempts, lease_owner, lease_expires_at)
         VALUES ('run', 'fn main() {}', 'running', $1, 'dead-worker', now() - interval '1 second')",
        queue::MAX_ATTEMPTS
    )
    .execute(&db)
    .await
    .unwrap();
    let (stop, _pool) = spawn_pool(db.clone(), PoolConfig::with_workers(1)).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    let verdict: Value = loop {
        let row = sqlx::query_scalar!("SELECT verdict FROM submissions WHERE status = 'done'")
            .fetch_optional(&db)
            .await
            .unwrap()
            .flatten();
        if let Some(verdict) = row {
            break verdict;
        }
        assert!(Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(verdict["reason"], "internal_error");
    stop.cancel();
}

#[tokio::test]
async fn fifty_concurrent_submissions_all_finish() {
    let (db, _) = fresh_database().await;
    let app = spawn_app_with(db.clone()).await;
    let (stop, _pool) = spawn_pool(db.clone(), PoolConfig::with_workers(2)).await;
    // Five learners (each stays within the per-learner rate limit), ten jobs each, all at once.
    let mut learners = Vec::new();
    for n in 0..5 {
        let browser = learner(&app, &format!("learner{n}@example.com")).await;
        let token = browser.csrf_token().await;
        learners.push((browser, token));
    }
    let requests = (0..50).map(|i| {
        let (browser, token) = learners[i % 5].clone();
        async move {
            let code = format!("fn main() {{ println!(\"job {i}\"); }}");
            let response = browser
                .post_json_with(&token, "/api/run", &json!({ "code": code }))
                .await;
            assert_eq!(response.status(), StatusCode::CREATED);
            (
                i,
                response.json::<Value>().await.unwrap()["id"]
                    .as_i64()
                    .unwrap(),
            )
        }
    });
    let ids = futures::future::join_all(requests).await;
    for (i, id) in ids {
        let done = wait_for_verdict(&learners[i % 5].0, id, 180).await;
        assert_eq!(done["verdict"]["status"], "pass", "{done}");
        assert_eq!(done["verdict"]["stdout"], format!("job {i}\n"));
    }
    let finished = sqlx::query_scalar!(
        r#"SELECT count(*) AS "count!" FROM submissions WHERE status = 'done' AND attempts = 1"#
    )
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(finished, 50);
    stop.cancel();
}

#[tokio::test]
async fn progress_is_announced_queued_compiling_running_done() {
    let (db, _) = fresh_database().await;
    let mut listener = sqlx::postgres::PgListener::connect_with(&db).await.unwrap();
    listener.listen(queue::EVENTS_CHANNEL).await.unwrap();
    let (stop, _pool) = spawn_pool(db.clone(), PoolConfig::with_workers(1)).await;
    let id = queue::enqueue(
        &db,
        NewJob {
            user_id: None,
            mode: Mode::Run,
            exercise_id: None,
            exercise_hash: None,
            code: "fn main() {}",
        },
        queue::JobLimits::NONE,
    )
    .await
    .unwrap();
    let mut seen = Vec::new();
    while !seen
        .iter()
        .any(|(status, _): &(String, Option<String>)| status == "done")
    {
        let notification = tokio::time::timeout(Duration::from_secs(60), listener.recv())
            .await
            .expect("events keep coming")
            .unwrap();
        let event: WireEvent = serde_json::from_str(notification.payload()).unwrap();
        if event.id == id {
            seen.push((event.status, event.phase));
        }
    }
    let expected: Vec<(String, Option<String>)> = vec![
        ("queued".into(), None),
        ("running".into(), Some("compiling".into())),
        ("running".into(), Some("running".into())),
        ("done".into(), None),
    ];
    assert_eq!(seen, expected);
    stop.cancel();
}

/// A job event as its words go over the wire (what browsers read).
#[derive(serde::Deserialize)]
struct WireEvent {
    id: i64,
    status: String,
    #[serde(default)]
    phase: Option<String>,
}

async fn submission_count(db: &sqlx::PgPool) -> i64 {
    sqlx::query_scalar!(r#"SELECT count(*) AS "count!" FROM submissions"#)
        .fetch_one(db)
        .await
        .unwrap()
}
