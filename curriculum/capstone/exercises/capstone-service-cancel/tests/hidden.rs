use crate::visible::{connect, observed, test_handler};
use capstone_service_cancel::*;
use std::time::Duration;
use tokio::time::{Instant, sleep, sleep_until};

#[tokio::test(start_paused = true)]
async fn the_default_timeout_applies_unless_a_job_sets_its_own() {
    let config = Config { default_timeout: Duration::from_millis(200), ..Config::default() };
    let svc = JobService::start(config, test_handler());
    let mut client = connect(&svc);
    let quick = client.accepted("sleep 100").await;
    let slow = client.accepted("sleep 300").await;
    let patient = client.submit_with_timeout("sleep 300", 500).await;
    sleep(Duration::from_millis(1000)).await;
    assert_eq!(client.status(quick).await, JobState::Succeeded("slept 100".into()));
    assert_eq!(client.status(slow).await, JobState::TimedOut, "no timeout_ms: Config::default_timeout (200 ms)");
    assert_eq!(client.status(patient).await, JobState::Succeeded("slept 300".into()), "timeout_ms: 500 overrides it");
}

#[tokio::test(start_paused = true)]
async fn a_finished_job_stays_finished_when_cancelled() {
    let svc = JobService::start(Config::default(), test_handler());
    let mut client = connect(&svc);
    let done = client.accepted("echo done").await;
    let failed = client.accepted("fail broken").await;
    let timed_out = client.submit_with_timeout("sleep 100", 10).await;
    sleep(Duration::from_millis(50)).await;
    assert_eq!(
        client.cancel(done).await,
        Response::Status { id: done, state: JobState::Succeeded("done".into()) },
        "cancel answers with the state the job already reached"
    );
    assert_eq!(client.cancel(failed).await, Response::Status { id: failed, state: JobState::Failed("broken".into()) });
    assert_eq!(client.cancel(timed_out).await, Response::Status { id: timed_out, state: JobState::TimedOut });
    assert_eq!(client.cancel(42).await, Response::Error { message: "unknown job 42".into() });
}

#[tokio::test(start_paused = true)]
async fn a_cancelled_job_is_never_overwritten_by_its_late_result() {
    let (handler, jobs) = observed();
    let svc = JobService::start(Config { workers: 2, ..Config::default() }, handler);
    let mut client = connect(&svc);
    let ids = [client.accepted("sleep 300").await, client.accepted("sleep 300").await];
    sleep(Duration::from_millis(299)).await;
    for id in ids {
        assert_eq!(client.cancel(id).await, Response::Status { id, state: JobState::Cancelled });
    }
    sleep(Duration::from_millis(1000)).await;
    for id in ids {
        assert_eq!(client.status(id).await, JobState::Cancelled, "the first terminal state wins");
    }
    assert_eq!(jobs.abandoned().len(), 2, "both futures dropped");
}

#[tokio::test(start_paused = true)]
async fn timed_out_and_panicking_jobs_give_their_worker_back() {
    let t0 = Instant::now();
    let (handler, jobs) = observed();
    let svc = JobService::start(
        Config { workers: 1, default_timeout: Duration::from_millis(100), ..Config::default() },
        handler,
    );
    let mut client = connect(&svc);
    let stuck = client.accepted("sleep 100000").await;
    let panics = client.accepted("panic").await;
    let last = client.accepted("echo last").await;
    sleep_until(t0 + Duration::from_millis(150)).await;
    assert_eq!(client.status(stuck).await, JobState::TimedOut);
    assert_eq!(client.status(panics).await, JobState::Failed("job panicked".into()));
    assert_eq!(client.status(last).await, JobState::Succeeded("last".into()));
    let starts: Vec<u64> = jobs.started().into_iter().map(|(_, ms)| ms).collect();
    assert_eq!(starts, [0, 100, 100], "the worker is free again at the timeout (100 ms)");
}
