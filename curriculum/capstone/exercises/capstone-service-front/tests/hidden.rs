use crate::visible::{connect, test_handler};
use capstone_service_front::*;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::time::{Instant, sleep, sleep_until};
use tokio_util::codec::{Framed, LinesCodec};

#[tokio::test(start_paused = true)]
async fn failing_and_panicking_jobs_are_reported_and_free_their_worker() {
    let svc = JobService::start(Config { workers: 1, ..Config::default() }, test_handler());
    let mut client = connect(&svc);
    let panics = client.accepted("panic").await;
    let fails = client.accepted("fail disk full").await;
    let after = client.accepted("echo still serving").await;
    sleep(Duration::from_millis(10)).await;
    assert_eq!(client.status(panics).await, JobState::Failed("job panicked".into()));
    assert_eq!(client.status(fails).await, JobState::Failed("disk full".into()));
    assert_eq!(
        client.status(after).await,
        JobState::Succeeded("still serving".into()),
        "with one worker, a panicking job must not take the worker down with it"
    );
}

#[tokio::test(start_paused = true)]
async fn at_most_workers_jobs_run_at_once_in_submission_order() {
    let svc = JobService::start(Config { workers: 2, queue_capacity: 8, ..Config::default() }, test_handler());
    let mut client = connect(&svc);
    let t0 = Instant::now();
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(client.accepted("sleep 100").await);
    }
    for (at, expected) in [
        (50, vec![JobState::Running, JobState::Running, JobState::Queued, JobState::Queued, JobState::Queued]),
        (150, {
            let done = JobState::Succeeded("slept 100".into());
            vec![done.clone(), done, JobState::Running, JobState::Running, JobState::Queued]
        }),
        (250, {
            let done = JobState::Succeeded("slept 100".into());
            vec![done.clone(), done.clone(), done.clone(), done, JobState::Running]
        }),
    ] {
        sleep_until(t0 + Duration::from_millis(at)).await;
        let mut seen = Vec::new();
        for &id in &ids {
            seen.push(client.status(id).await);
        }
        assert_eq!(seen, expected, "states of jobs 1-5 at {at} ms (2 workers, 100 ms jobs)");
    }
}

#[tokio::test(start_paused = true)]
async fn an_overlong_line_is_answered_and_the_connection_closed() {
    let svc = JobService::start(Config { max_line: 64, ..Config::default() }, test_handler());
    let (mut raw, server) = tokio::io::duplex(64 * 1024);
    let conn = tokio::spawn({
        let svc = svc.clone();
        async move { svc.serve_connection(server).await }
    });
    let long = format!("{{\"op\":\"submit\",\"payload\":\"echo {}\"}}\n", "x".repeat(200));
    raw.write_all(long.as_bytes()).await.unwrap();
    let mut client = Framed::new(raw, LinesCodec::new());
    let reply = futures::StreamExt::next(&mut client).await.expect("a reply").unwrap();
    assert_eq!(reply, r#"{"reply":"error","message":"line longer than 64 bytes"}"#);
    assert!(futures::StreamExt::next(&mut client).await.is_none(), "then the server closes the connection");
    tokio::time::timeout(Duration::from_secs(1), conn).await.expect("serve_connection returns").unwrap();
}

#[tokio::test(start_paused = true)]
async fn clients_share_one_job_table_and_one_queue() {
    let config = Config { workers: 1, queue_capacity: 1, ..Config::default() };
    let svc = JobService::start(config, test_handler());
    let (mut a, mut b) = (connect(&svc), connect(&svc));
    let first = a.accepted("sleep 100").await;
    sleep(Duration::from_millis(1)).await;
    let second = b.accepted("echo from b").await;
    assert_eq!(a.submit("echo from a").await, Response::Rejected { reason: Rejection::QueueFull });
    assert_eq!(b.status(first).await, JobState::Running, "b sees a's job");
    sleep(Duration::from_millis(200)).await;
    assert_eq!(a.status(second).await, JobState::Succeeded("from b".into()));
}
