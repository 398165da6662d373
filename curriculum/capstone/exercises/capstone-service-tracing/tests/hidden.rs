use crate::visible::{capture, connect, test_handler};
use capstone_service_tracing::*;
use std::time::Duration;
use tokio::time::sleep;
use tracing::{Instrument, Level};

#[tokio::test(start_paused = true)]
async fn every_job_finishes_exactly_once_whatever_ends_it() {
    let (log, _guard) = capture();
    let config = Config { workers: 1, default_timeout: Duration::from_millis(100), ..Config::default() };
    let svc = JobService::start(config, test_handler());
    let mut client = connect(&svc);
    let timed_out = client.accepted("sleep 5000").await;
    let cancelled_queued = client.accepted("echo never").await;
    let cancelled_running = client.accepted("sleep 5000").await;
    client.cancel(cancelled_queued).await;
    sleep(Duration::from_millis(150)).await; // job 1 timed out at 100 ms, job 3 started
    client.cancel(cancelled_running).await;
    client.cancel(timed_out).await; // already finished: no second event
    sleep(Duration::from_millis(100)).await;

    for (id, outcome, level) in [
        (timed_out, "timed_out", Level::WARN),
        (cancelled_queued, "cancelled", Level::INFO),
        (cancelled_running, "cancelled", Level::INFO),
    ] {
        let finished = log.job_events(id, "job finished");
        assert_eq!(finished.len(), 1, "job {id} must finish exactly once, found {finished:?}");
        assert_eq!(finished[0].fields.get("outcome").map(String::as_str), Some(outcome), "job {id}");
        assert_eq!(finished[0].level, level, "job {id}: {outcome}");
    }
    assert!(
        log.job_events(cancelled_queued, "job started").is_empty(),
        "a job cancelled while queued never starts, so it has no `job started` event"
    );
}

#[tokio::test(start_paused = true)]
async fn a_job_span_is_not_filed_under_the_connection_that_submitted_it() {
    let (log, _guard) = capture();
    let svc = JobService::start(Config::default(), test_handler());
    // Serve this connection inside a span, as a server with per-connection
    // spans would.
    let (client, server) = tokio::io::duplex(64 * 1024);
    let conn = svc.clone();
    tokio::spawn(async move { conn.serve_connection(server).await }.instrument(tracing::info_span!("connection")));
    let mut client = crate::visible::Client::from_stream(client);
    let id = client.accepted("log 1").await;
    sleep(Duration::from_millis(50)).await;
    let job = log.job_span(id);
    assert_eq!(
        job.parent,
        None,
        "the job outlives the connection: its span must be a root, not a child of `connection` ({})",
        log.path(&[job.seq])
    );
    let queued = log.job_events(id, "job queued");
    assert_eq!(queued.len(), 1);
    assert_eq!(
        queued[0].scope.first(),
        Some(&job.seq),
        "`job queued` is in the job's span: {}",
        log.path(&queued[0].scope)
    );
}

#[tokio::test(start_paused = true)]
async fn concurrent_jobs_never_share_spans() {
    let (log, _guard) = capture();
    let svc = JobService::start(Config { workers: 4, ..Config::default() }, test_handler());
    let mut client = connect(&svc);
    let mut ids = Vec::new();
    for n in 1..=4 {
        ids.push((n, client.accepted(&format!("log {n}")).await));
    }
    sleep(Duration::from_millis(100)).await;
    for (n, id) in ids {
        let says = log.job_events(id, "job says");
        assert_eq!(says.len(), 2, "job {id} (`log {n}`) emits two events inside its own span");
        for event in says {
            assert_eq!(event.fields.get("note"), Some(&n.to_string()), "an event of another job in job {id}'s span");
        }
    }
}
