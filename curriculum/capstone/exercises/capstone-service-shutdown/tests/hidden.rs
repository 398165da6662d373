use crate::visible::{connect, observed, test_handler, timed_shutdown};
use capstone_service_shutdown::*;
use std::time::Duration;
use tokio::time::sleep;

#[tokio::test(start_paused = true)]
async fn an_idle_service_shuts_down_at_once_and_a_second_shutdown_is_a_no_op() {
    let svc = JobService::start(Config::default(), test_handler());
    let mut client = connect(&svc);
    let done = client.accepted("echo done").await;
    sleep(Duration::from_millis(10)).await;
    let (report, took) = timed_shutdown(&svc, Duration::from_secs(30)).await;
    assert_eq!(report, ShutdownReport::default(), "nothing was running or queued");
    assert_eq!(took, Duration::ZERO, "nothing to wait for: no grace period spent");
    let (again, took) = timed_shutdown(&svc, Duration::from_secs(30)).await;
    assert_eq!((again, took), (ShutdownReport::default(), Duration::ZERO), "a second shutdown has nothing to do");
    assert_eq!(
        svc.handle(Request::Status { id: done }),
        Response::Status { id: done, state: JobState::Succeeded("done".into()) },
        "the job table still answers after shutdown"
    );
}

#[tokio::test(start_paused = true)]
async fn a_job_that_times_out_during_the_grace_period_counts_as_drained() {
    let svc = JobService::start(Config { workers: 1, ..Config::default() }, test_handler());
    let mut client = connect(&svc);
    let slow = client.submit_with_timeout("sleep 5000", 300).await;
    let queued = client.accepted("echo queued").await;
    sleep(Duration::from_millis(100)).await;
    let (report, took) = timed_shutdown(&svc, Duration::from_secs(1)).await;
    assert_eq!(report, ShutdownReport { drained: vec![slow], cut_short: vec![], never_started: vec![queued] });
    assert_eq!(took, Duration::from_millis(200), "job 1 timed out at 300 ms; shutdown began at 100 ms");
    assert_eq!(svc.handle(Request::Status { id: slow }), Response::Status { id: slow, state: JobState::TimedOut });
}

#[tokio::test(start_paused = true)]
async fn every_open_connection_is_told_bye_and_the_queued_jobs_are_not_started() {
    let (handler, jobs) = observed();
    let svc = JobService::start(Config { workers: 1, ..Config::default() }, handler);
    let mut clients = [connect(&svc), connect(&svc), connect(&svc)];
    let mut ids = Vec::new();
    for client in clients.iter_mut() {
        ids.push(client.accepted("sleep 50").await);
    }
    sleep(Duration::from_millis(1)).await; // the only worker takes job 1
    let (report, took) = timed_shutdown(&svc, Duration::from_millis(20)).await;
    assert_eq!(
        report,
        ShutdownReport { drained: vec![], cut_short: vec![ids[0]], never_started: vec![ids[1], ids[2]] }
    );
    assert_eq!(took, Duration::from_millis(20));
    assert_eq!(svc.handle(Request::Status { id: ids[0] }), Response::Status { id: ids[0], state: JobState::Cancelled });
    for client in clients.iter_mut() {
        assert_eq!(client.next_line().await.as_deref(), Some(r#"{"reply":"bye"}"#));
        assert_eq!(client.next_line().await, None);
    }
    sleep(Duration::from_millis(500)).await;
    assert_eq!(jobs.started().len(), 1, "only the running job ever started");
}
