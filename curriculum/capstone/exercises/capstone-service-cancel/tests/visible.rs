use capstone_service_cancel::*;
use futures::{SinkExt, StreamExt};
use std::time::Duration;
use tokio::io::DuplexStream;
use tokio::time::sleep;
use tokio_util::codec::{Framed, LinesCodec};

/// The work the tests' jobs do, by payload: `echo TEXT` succeeds with TEXT,
/// `sleep MS` sleeps MS milliseconds, `fail MSG` fails with MSG, `panic` panics.
pub(crate) fn test_handler() -> Handler {
    handler(|payload: String| async move {
        let (command, arg) = payload.split_once(' ').unwrap_or((payload.as_str(), ""));
        match command {
            "echo" => Ok(arg.to_string()),
            "sleep" => {
                let ms: u64 = arg.parse().expect("sleep MS");
                sleep(Duration::from_millis(ms)).await;
                Ok(format!("slept {ms}"))
            }
            "fail" => Err(arg.to_string()),
            "panic" => panic!("the job panicked on purpose"),
            other => Err(format!("unknown test job {other}")),
        }
    })
}

/// A client connected to `serve_connection` through an in-memory stream.
pub(crate) struct Client(Framed<DuplexStream, LinesCodec>);

pub(crate) fn connect(svc: &JobService) -> Client {
    let (client, server) = tokio::io::duplex(64 * 1024);
    let svc = svc.clone();
    tokio::spawn(async move { svc.serve_connection(server).await });
    Client(Framed::new(client, LinesCodec::new()))
}

impl Client {
    /// Sends one line; returns the reply line, or `None` if the server closed.
    pub(crate) async fn raw(&mut self, line: &str) -> Option<String> {
        self.0.send(line).await.expect("send a request line");
        self.next_line().await
    }

    pub(crate) async fn next_line(&mut self) -> Option<String> {
        tokio::time::timeout(Duration::from_secs(5), self.0.next())
            .await
            .expect("no reply within 5 s")
            .map(|line| line.expect("a reply line"))
    }

    pub(crate) async fn call(&mut self, request: Request) -> Response {
        let line = serde_json::to_string(&request).unwrap();
        let reply = self.raw(&line).await.unwrap_or_else(|| panic!("the server closed the connection after {line}"));
        serde_json::from_str(&reply).unwrap_or_else(|e| panic!("reply {reply:?} is not a Response: {e}"))
    }

    pub(crate) async fn submit(&mut self, payload: &str) -> Response {
        self.call(Request::Submit { payload: payload.to_string(), timeout_ms: None }).await
    }

    /// Submits a job that must be accepted; returns its id.
    pub(crate) async fn accepted(&mut self, payload: &str) -> JobId {
        match self.submit(payload).await {
            Response::Accepted { id } => id,
            other => panic!("submit {payload:?}: expected accepted, got {other:?}"),
        }
    }

    pub(crate) async fn status(&mut self, id: JobId) -> JobState {
        match self.call(Request::Status { id }).await {
            Response::Status { id: got, state } if got == id => state,
            other => panic!("status of job {id}: expected a status reply, got {other:?}"),
        }
    }
}

/// What the jobs of an [`observed`] handler did.
#[derive(Clone, Default)]
pub(crate) struct Observed {
    /// (payload, ms since the handler was made) for every job that started.
    pub started: std::sync::Arc<std::sync::Mutex<Vec<(String, u64)>>>,
    /// Payloads of the jobs whose future was dropped before it finished.
    pub abandoned: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Observed {
    pub(crate) fn started(&self) -> Vec<(String, u64)> {
        self.started.lock().unwrap().clone()
    }
    pub(crate) fn abandoned(&self) -> Vec<String> {
        self.abandoned.lock().unwrap().clone()
    }
}

/// Records `payload` in `abandoned` if dropped before `finish`.
struct Unfinished(Option<(String, std::sync::Arc<std::sync::Mutex<Vec<String>>>)>);
impl Drop for Unfinished {
    fn drop(&mut self) {
        if let Some((payload, abandoned)) = self.0.take() {
            abandoned.lock().unwrap().push(payload);
        }
    }
}

/// [`test_handler`]'s jobs, recording when each starts (is first polled) and which ones are
/// dropped before they finish.
pub(crate) fn observed() -> (Handler, Observed) {
    let observed = Observed::default();
    let t0 = tokio::time::Instant::now();
    let inner = test_handler();
    let seen = observed.clone();
    let handler = handler(move |payload: String| {
        let seen = seen.clone();
        let work = inner(payload.clone());
        async move {
            // Recorded on the first poll: that is when a job starts.
            seen.started.lock().unwrap().push((payload.clone(), t0.elapsed().as_millis() as u64));
            let mut guard = Unfinished(Some((payload, seen.abandoned.clone())));
            let out = work.await;
            guard.0 = None; // finished: not abandoned
            out
        }
    });
    (handler, observed)
}

impl Client {
    pub(crate) async fn submit_with_timeout(&mut self, payload: &str, ms: u64) -> JobId {
        match self.call(Request::Submit { payload: payload.to_string(), timeout_ms: Some(ms) }).await {
            Response::Accepted { id } => id,
            other => panic!("submit {payload:?}: expected accepted, got {other:?}"),
        }
    }

    pub(crate) async fn cancel(&mut self, id: JobId) -> Response {
        self.call(Request::Cancel { id }).await
    }
}

#[tokio::test(start_paused = true)]
async fn a_job_that_runs_too_long_times_out() {
    let t0 = tokio::time::Instant::now();
    let (handler, jobs) = observed();
    let svc = JobService::start(Config::default(), handler);
    let mut client = connect(&svc);
    let slow = client.submit_with_timeout("sleep 5000", 1000).await;
    tokio::time::sleep_until(t0 + Duration::from_millis(999)).await;
    assert_eq!(client.status(slow).await, JobState::Running);
    tokio::time::sleep_until(t0 + Duration::from_millis(1001)).await;
    assert_eq!(client.status(slow).await, JobState::TimedOut, "timeout_ms = 1000: timed out at 1000 ms");
    assert_eq!(jobs.abandoned(), ["sleep 5000"], "a timed-out job's future is dropped, not left running");
}

#[tokio::test(start_paused = true)]
async fn cancelling_a_running_job_drops_it_and_frees_its_worker() {
    let t0 = tokio::time::Instant::now();
    let (handler, jobs) = observed();
    let svc = JobService::start(Config { workers: 1, ..Config::default() }, handler);
    let mut client = connect(&svc);
    let long = client.accepted("sleep 60000").await;
    let next = client.accepted("echo next").await;
    sleep(Duration::from_millis(100)).await;
    assert_eq!(client.cancel(long).await, Response::Status { id: long, state: JobState::Cancelled });
    sleep(Duration::from_millis(1)).await;
    assert_eq!(jobs.abandoned(), ["sleep 60000"], "the cancelled job's future must be dropped");
    assert_eq!(client.status(long).await, JobState::Cancelled);
    assert_eq!(client.status(next).await, JobState::Succeeded("next".into()));
    assert_eq!(
        jobs.started(),
        [("sleep 60000".to_string(), 0), ("echo next".to_string(), 100)],
        "the next job starts as soon as the cancelled one gives its worker back (100 ms)"
    );
    assert!(t0.elapsed() < Duration::from_secs(1));
}

#[tokio::test(start_paused = true)]
async fn a_cancelled_queued_job_never_starts() {
    let (handler, jobs) = observed();
    let svc = JobService::start(Config { workers: 1, ..Config::default() }, handler);
    let mut client = connect(&svc);
    let first = client.accepted("sleep 1000").await;
    let second = client.accepted("echo never").await;
    let third = client.accepted("echo third").await;
    assert_eq!(client.cancel(second).await, Response::Status { id: second, state: JobState::Cancelled });
    sleep(Duration::from_millis(2000)).await;
    assert_eq!(client.status(first).await, JobState::Succeeded("slept 1000".into()));
    assert_eq!(client.status(second).await, JobState::Cancelled);
    assert_eq!(client.status(third).await, JobState::Succeeded("third".into()));
    assert_eq!(
        jobs.started(),
        [("sleep 1000".to_string(), 0), ("echo third".to_string(), 1000)],
        "job 2 was cancelled while queued: it must never start"
    );
}

#[tokio::test(start_paused = true)]
async fn the_wire_format_of_cancel_and_timeouts() {
    let svc = JobService::start(Config::default(), test_handler());
    let mut client = connect(&svc);
    assert_eq!(
        client.raw(r#"{"op":"submit","payload":"sleep 100","timeout_ms":50}"#).await.as_deref(),
        Some(r#"{"reply":"accepted","id":1}"#)
    );
    assert_eq!(
        client.raw(r#"{"op":"submit","payload":"sleep 100"}"#).await.as_deref(),
        Some(r#"{"reply":"accepted","id":2}"#),
        "timeout_ms is optional"
    );
    assert_eq!(
        client.raw(r#"{"op":"cancel","id":2}"#).await.as_deref(),
        Some(r#"{"reply":"status","id":2,"state":"cancelled"}"#)
    );
    sleep(Duration::from_millis(60)).await;
    assert_eq!(
        client.raw(r#"{"op":"status","id":1}"#).await.as_deref(),
        Some(r#"{"reply":"status","id":1,"state":"timed_out"}"#)
    );
}
