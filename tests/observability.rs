//! What an operator's monitoring sees: `/metrics` in Prometheus text that
//! moves with the work, readiness that waits for the grader, JSON logs, and
//! the API's JSON error shape for every refusal (axum's own included).

mod common;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use lockstep::application::Grading;
use lockstep::auth::Role;
use lockstep::config::ServeSettings;
use lockstep::grading::pool::PoolConfig;
use reqwest::StatusCode;
use serde_json::{Value, json};

use common::auth::signed_in;
use common::{fresh_database, spawn_app, wait_for_verdict};

/// Every sample of `text`, which must parse as Prometheus' text format.
fn samples(text: &str) -> Vec<prometheus_parse::Sample> {
    let lines = text.lines().map(|line| Ok(line.to_owned()));
    prometheus_parse::Scrape::parse(lines)
        .expect("the metrics parse as Prometheus text")
        .samples
}

/// The `_count` of histogram `name` with label `label` = `value` (0 if absent).
fn histogram_count(samples: &[prometheus_parse::Sample], name: &str, label: (&str, &str)) -> u64 {
    samples
        .iter()
        .filter(|s| s.metric == name && s.labels.get(label.0) == Some(label.1))
        .map(|s| match &s.value {
            prometheus_parse::Value::Histogram(buckets) => {
                buckets.last().map_or(0.0, |bucket| bucket.count) as u64
            }
            _ => 0,
        })
        .sum()
}

fn gauge(samples: &[prometheus_parse::Sample], name: &str) -> Option<f64> {
    samples
        .iter()
        .find(|s| s.metric == name)
        .map(|s| match s.value {
            prometheus_parse::Value::Gauge(v) | prometheus_parse::Value::Untyped(v) => v,
            _ => f64::NAN,
        })
}

/// A web node with an in-process grading pool over the real sandbox, as
/// `lockstep serve` runs; `metrics_listen` as `--metrics-listen`.
async fn serve_with_pool(db: sqlx::PgPool, metrics_listen: Option<&str>) -> common::TestApp {
    let _ = common::judge().await; // the dependency cache, built once
    let mut settings = common::settings();
    settings.data_dir = common::grader_data_dir();
    settings.allow_no_cgroup = !lockstep::grading::sandbox::cgroup::available();
    settings.metrics_listen = metrics_listen.map(|a| a.parse().unwrap());
    let serve = ServeSettings {
        workers: Some(1),
        ..common::serve_settings()
    };
    let grading = Grading {
        config: PoolConfig::with_workers(1),
        helper: PathBuf::from(env!("CARGO_BIN_EXE_lockstep")),
    };
    common::spawn_application(db, settings, serve, Some(grading)).await
}

async fn wait_until_ready(url: &str) {
    for _ in 0..600 {
        let ready = reqwest::get(format!("{url}/readyz")).await.unwrap();
        if ready.status() == StatusCode::OK {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{url} never became ready");
}

#[tokio::test]
async fn metrics_parse_and_move_with_requests_and_verdicts() {
    let (db, _) = fresh_database().await;
    let app = serve_with_pool(db, None).await;
    wait_until_ready(&app.base_url).await;
    let (ada, _) = signed_in(&app, "ada@example.com", Role::Learner).await;
    let before = samples(&app.get("/metrics").await.text().await.unwrap());
    assert_eq!(gauge(&before, "lockstep_grader_ready"), Some(1.0));
    assert_eq!(gauge(&before, "lockstep_grading_workers"), Some(1.0));
    let graded_before = histogram_count(
        &before,
        "lockstep_grading_duration_seconds",
        ("phase", "total"),
    );

    let created = ada
        .post_json(
            "/api/run",
            &json!({ "code": "fn main() { println!(\"hi\"); }" }),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let id = created.json::<Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    let done = wait_for_verdict(&ada, id, 120).await;
    assert_eq!(done["verdict"]["status"], "pass", "{done}");

    let response = app.get("/metrics").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text"),
    );
    let text = response.text().await.unwrap();
    let after = samples(&text);
    assert_eq!(
        histogram_count(
            &after,
            "lockstep_grading_duration_seconds",
            ("phase", "total")
        ),
        graded_before + 1,
        "one more graded job"
    );
    let passes: f64 = after
        .iter()
        .filter(|s| s.metric == "lockstep_verdicts_total" && s.labels.get("status") == Some("pass"))
        .map(|s| match s.value {
            prometheus_parse::Value::Counter(v) | prometheus_parse::Value::Untyped(v) => v,
            _ => 0.0,
        })
        .sum();
    assert_eq!(passes, 1.0);
    // Requests are counted by the route they matched, not their raw path.
    // (Read from the text: the parser used above cannot read a `}` inside
    // a label value, which Prometheus itself accepts.)
    let polls = text
        .lines()
        .find(|line| {
            line.starts_with("lockstep_http_request_duration_seconds_count{")
                && line.contains(r#"route="/api/submissions/{id}""#)
                && line.contains(r#"method="GET""#)
        })
        .and_then(|line| line.rsplit(' ').next()?.parse::<f64>().ok());
    assert!(
        polls.is_some_and(|n| n >= 1.0),
        "polls of the verdict are counted under their route pattern:\n{text}"
    );
    assert!(
        !text.contains(&format!("/api/submissions/{id}\"")),
        "no series per submission id"
    );
    assert_eq!(gauge(&after, "lockstep_queue_jobs_waiting"), Some(0.0));
    assert!(gauge(&after, "lockstep_db_pool_connections").is_some());
}

#[tokio::test]
async fn metrics_listen_moves_metrics_and_probes_to_their_own_address() {
    let (db, _) = fresh_database().await;
    let app = serve_with_pool(db, Some("127.0.0.1:0")).await;
    let url = &app.base_url;
    let metrics_url = format!("http://{}", app.metrics_addr.expect("a metrics address"));
    wait_until_ready(&metrics_url).await;
    let scraped = reqwest::get(format!("{metrics_url}/metrics"))
        .await
        .unwrap();
    assert_eq!(scraped.status(), StatusCode::OK);
    assert!(!samples(&scraped.text().await.unwrap()).is_empty());
    assert_eq!(
        reqwest::get(format!("{url}/metrics"))
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND,
        "not on the public address any more"
    );
    assert_eq!(
        reqwest::get(format!("{url}/healthz"))
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn open_event_streams_are_counted_while_open() {
    let app = spawn_app().await;
    let (ada, _) = signed_in(&app, "ada@example.com", Role::Learner).await;
    let streams = |text: String| gauge(&samples(&text), "lockstep_sse_streams");
    assert_eq!(
        streams(app.get("/metrics").await.text().await.unwrap()),
        Some(0.0)
    );
    let stream = ada.get("/api/events").await;
    assert_eq!(stream.status(), StatusCode::OK);
    assert_eq!(
        streams(app.get("/metrics").await.text().await.unwrap()),
        Some(1.0)
    );
    drop(stream);
    let mut open = Some(1.0);
    for _ in 0..50 {
        open = streams(app.get("/metrics").await.text().await.unwrap());
        if open == Some(0.0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(open, Some(0.0), "a closed stream is no longer counted");
}

#[tokio::test]
async fn every_api_refusal_is_json() {
    let app = spawn_app().await;
    let (ada, _) = signed_in(&app, "ada@example.com", Role::Learner).await;
    let expect_json = |status: StatusCode| {
        move |response: reqwest::Response| async move {
            assert_eq!(response.status(), status);
            assert_eq!(response.headers()["content-type"], "application/json");
            let body: Value = response.json().await.expect("a JSON body");
            let message = body["error"].as_str().expect("an error message").to_owned();
            assert!(!message.is_empty());
            message
        }
    };
    // A path parameter axum cannot parse (the example from the issue).
    let message = expect_json(StatusCode::BAD_REQUEST)(ada.get("/api/submissions/abc").await).await;
    assert!(
        message.contains("abc") || message.to_lowercase().contains("parse"),
        "{message}"
    );
    // A body that is not JSON, and JSON of the wrong shape.
    let token = ada.csrf_token().await;
    let not_json = ada
        .client
        .post(format!("{}/api/run", app.base_url))
        .header("x-csrf-token", &token)
        .header("content-type", "application/json")
        .body("this is not json")
        .send()
        .await
        .unwrap();
    expect_json(StatusCode::BAD_REQUEST)(not_json).await;
    let wrong_shape = ada.post_json("/api/run", &json!({ "program": 1 })).await;
    expect_json(StatusCode::UNPROCESSABLE_ENTITY)(wrong_shape).await;
    // A method the route does not have.
    let deleted = ada
        .client
        .delete(format!("{}/api/run", app.base_url))
        .header("x-csrf-token", &token)
        .send()
        .await
        .unwrap();
    expect_json(StatusCode::METHOD_NOT_ALLOWED)(deleted).await;
    // A body over the limit.
    let huge = "x".repeat(lockstep::app::MAX_BODY_BYTES + 1);
    let too_big = ada.post_json("/api/run", &json!({ "code": huge })).await;
    expect_json(StatusCode::PAYLOAD_TOO_LARGE)(too_big).await;
    // Pages keep their HTML error pages.
    let page = ada.get("/exercises/no-such-exercise").await;
    assert_eq!(page.status(), StatusCode::NOT_FOUND);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
}

#[test]
fn json_logs_are_one_object_per_line() {
    let data_dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("logs-{}", uuid::Uuid::new_v4().simple()));
    let mut child = Command::new(env!("CARGO_BIN_EXE_lockstep"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--workers",
            "0",
            "--log-format",
            "json",
        ])
        .env("LOCKSTEP_DATA_DIR", &data_dir)
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "info")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    // Read to the end (the shutdown's lines too) on a thread of its own, so
    // the server never writes into a closed pipe.
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let (listening, is_listening) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut lines = Vec::new();
        for line in stderr.lines().map_while(Result::ok) {
            if line.contains("listening on http://") {
                let _ = listening.send(());
            }
            lines.push(line);
        }
        lines
    });
    is_listening
        .recv_timeout(Duration::from_secs(120))
        .expect("the server starts");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let status = child.wait().unwrap();
    let lines = reader.join().unwrap();
    let _ = std::fs::remove_dir_all(&data_dir);
    assert!(status.success(), "{status}");
    assert!(
        lines.iter().any(|l| l.contains("listening on http://")),
        "{lines:?}"
    );
    for line in &lines {
        let object: Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("not one JSON object per line ({e}): {line}"));
        assert!(
            object["level"].is_string() && object["timestamp"].is_string(),
            "{line}"
        );
        assert!(object["fields"]["message"].is_string(), "{line}");
    }
}
