use capstone_service_shutdown::*;
use futures::{SinkExt, StreamExt};
use std::time::Duration;
use tokio::io::DuplexStream;
use tokio::time::sleep;
use tokio_util::codec::{Framed, LinesCodec};

/// The work the tests' jobs do, by payload: `echo TEXT` succeeds with TEXT,
/// `sleep MS` sleeps MS milliseconds, `fail MSG` fails with MSG, `panic` panics,
/// `log N` emits two `job says` events N * 10 ms apart.
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
            "log" => {
                // `log N`: an event, a pause of N * 10 ms, another event.
                let n: u64 = arg.parse().expect("log N");
                tracing::info!(note = n, "job says");
                sleep(Duration::from_millis(n * 10)).await;
                tracing::info!(note = n, "job says");
                Ok(format!("logged {n}"))
            }
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

/// Runs `shutdown(grace)` and returns its report and how long it took.
pub(crate) async fn timed_shutdown(svc: &JobService, grace: Duration) -> (ShutdownReport, Duration) {
    let t = tokio::time::Instant::now();
    let report = tokio::time::timeout(grace + Duration::from_secs(60), svc.shutdown(grace))
        .await
        .expect("shutdown did not return a minute after its grace period");
    (report, t.elapsed())
}

#[tokio::test(start_paused = true)]
async fn shutdown_drains_running_jobs_and_cancels_queued_ones() {
    let (handler, jobs) = observed();
    let svc = JobService::start(Config { workers: 2, ..Config::default() }, handler);
    let mut client = connect(&svc);
    let a = client.accepted("sleep 300").await;
    let b = client.accepted("sleep 500").await;
    let c = client.accepted("echo c").await;
    let d = client.accepted("echo d").await;
    sleep(Duration::from_millis(100)).await;

    let (report, took) = timed_shutdown(&svc, Duration::from_secs(1)).await;
    assert_eq!(
        report,
        ShutdownReport { drained: vec![a, b], cut_short: vec![], never_started: vec![c, d] },
        "jobs 1 and 2 were running at 100 ms, 3 and 4 were queued"
    );
    assert_eq!(took, Duration::from_millis(400), "shutdown returns when the last running job ends (500 ms), not later");
    let state = |id| match svc.handle(Request::Status { id }) {
        Response::Status { state, .. } => state,
        other => panic!("{other:?}"),
    };
    assert_eq!(state(a), JobState::Succeeded("slept 300".into()));
    assert_eq!(state(b), JobState::Succeeded("slept 500".into()));
    assert_eq!(state(c), JobState::Cancelled);
    assert_eq!(state(d), JobState::Cancelled);
    let started: Vec<String> = jobs.started().into_iter().map(|(payload, _)| payload).collect();
    assert_eq!(started, ["sleep 300", "sleep 500"], "queued jobs never start once shutdown has begun");
}

#[tokio::test(start_paused = true)]
async fn the_grace_period_cuts_long_jobs_short() {
    let (handler, jobs) = observed();
    let svc = JobService::start(Config::default(), handler);
    let mut client = connect(&svc);
    let short = client.accepted("sleep 200").await;
    let long = client.accepted("sleep 10000").await;
    sleep(Duration::from_millis(1)).await;

    let (report, took) = timed_shutdown(&svc, Duration::from_millis(1000)).await;
    assert_eq!(report, ShutdownReport { drained: vec![short], cut_short: vec![long], never_started: vec![] });
    assert_eq!(took, Duration::from_millis(1000), "the grace period is 1000 ms: not a moment longer");
    assert_eq!(svc.handle(Request::Status { id: long }), Response::Status { id: long, state: JobState::Cancelled });
    assert_eq!(jobs.abandoned(), ["sleep 10000"], "the job that was cut short has its future dropped");
}

#[tokio::test(start_paused = true)]
async fn once_shutdown_begins_no_new_work_is_accepted() {
    let svc = JobService::start(Config::default(), test_handler());
    let mut client = connect(&svc);
    client.accepted("sleep 100").await;
    sleep(Duration::from_millis(1)).await; // job 1 starts
    let shutdown = tokio::spawn({
        let svc = svc.clone();
        async move { svc.shutdown(Duration::from_secs(5)).await }
    });
    assert_eq!(client.next_line().await.as_deref(), Some(r#"{"reply":"bye"}"#), "open connections are told bye");
    assert_eq!(client.next_line().await, None, "and closed");
    assert_eq!(
        svc.handle(Request::Submit { payload: "echo late".into(), timeout_ms: None }),
        Response::Rejected { reason: Rejection::ShuttingDown }
    );
    let report = shutdown.await.unwrap();
    assert_eq!(report.drained, [1]);
}

/// `serve` on real TCP (real time, nothing slow): it stops accepting and
/// returns when shutdown begins, and the open connection is told bye.
#[tokio::test]
async fn serve_stops_accepting_over_loopback() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let svc = JobService::start(Config::default(), test_handler());
    let server = tokio::spawn({
        let svc = svc.clone();
        async move { svc.serve(listener).await }
    });
    let mut tcp = Framed::new(tokio::net::TcpStream::connect(addr).await.unwrap(), LinesCodec::new());
    tcp.send(r#"{"op":"submit","payload":"echo over tcp"}"#).await.unwrap();
    let reply = tokio::time::timeout(Duration::from_secs(2), tcp.next()).await.expect("no reply within 2 s");
    assert_eq!(reply.unwrap().unwrap(), r#"{"reply":"accepted","id":1}"#);

    let report = tokio::time::timeout(Duration::from_secs(2), svc.shutdown(Duration::from_millis(100)))
        .await
        .expect("shutdown took more than 2 s");
    assert_eq!(report.cut_short, Vec::<JobId>::new());
    tokio::time::timeout(Duration::from_secs(2), server)
        .await
        .expect("serve did not return after shutdown began")
        .unwrap();
    let bye = tokio::time::timeout(Duration::from_secs(2), tcp.next()).await.expect("no bye within 2 s");
    assert_eq!(bye.unwrap().unwrap(), r#"{"reply":"bye"}"#);
    assert!(tokio::net::TcpStream::connect(addr).await.is_err(), "after serve returns, nothing listens");
}
