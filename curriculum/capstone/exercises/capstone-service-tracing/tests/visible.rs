use capstone_service_tracing::*;
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

impl Client {
    pub(crate) fn from_stream(stream: DuplexStream) -> Client {
        Client(Framed::new(stream, LinesCodec::new()))
    }
}

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

// ---- A tracing Layer that records every span and event on this thread ----

use std::collections::BTreeMap;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::Registry;
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

/// A span as the capture layer saw it; `seq` is unique for the whole test
/// (span ids are reused once a span closes).
#[derive(Debug, Clone)]
pub(crate) struct SpanRec {
    pub seq: usize,
    pub name: String,
    pub parent: Option<usize>,
    pub fields: BTreeMap<String, String>,
}

#[derive(Debug, Clone)]
pub(crate) struct EventRec {
    pub level: Level,
    pub message: String,
    pub fields: BTreeMap<String, String>,
    /// The spans the event is in, innermost first.
    pub scope: Vec<usize>,
}

#[derive(Default)]
struct Log {
    spans: Vec<SpanRec>,
    events: Vec<EventRec>,
}

struct Seq(usize);

#[derive(Default)]
struct Fields(BTreeMap<String, String>);
impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_string(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_string(), value.to_string());
    }
}

struct Capture(std::sync::Arc<std::sync::Mutex<Log>>);

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Capture {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let span = ctx.span(id).expect("new span");
        let parent = span.parent().and_then(|p| p.extensions().get::<Seq>().map(|s| s.0));
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        let mut log = self.0.lock().unwrap();
        let seq = log.spans.len();
        log.spans.push(SpanRec { seq, name: attrs.metadata().name().to_string(), parent, fields: fields.0 });
        span.extensions_mut().insert(Seq(seq));
    }
    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(seq) = ctx.span(id).and_then(|s| s.extensions().get::<Seq>().map(|s| s.0)) else { return };
        let mut fields = Fields::default();
        values.record(&mut fields);
        self.0.lock().unwrap().spans[seq].fields.extend(fields.0);
    }
    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let message = fields.0.remove("message").unwrap_or_default();
        let scope = ctx
            .event_scope(event)
            .map(|scope| scope.filter_map(|s| s.extensions().get::<Seq>().map(|s| s.0)).collect())
            .unwrap_or_default();
        let level = *event.metadata().level();
        self.0.lock().unwrap().events.push(EventRec { level, message, fields: fields.0, scope });
    }
}

pub(crate) struct Captured(std::sync::Arc<std::sync::Mutex<Log>>);

impl Captured {
    pub(crate) fn spans(&self, name: &str) -> Vec<SpanRec> {
        self.0.lock().unwrap().spans.iter().filter(|s| s.name == name).cloned().collect()
    }
    pub(crate) fn span(&self, seq: usize) -> SpanRec {
        self.0.lock().unwrap().spans[seq].clone()
    }
    pub(crate) fn events(&self, message: &str) -> Vec<EventRec> {
        self.0.lock().unwrap().events.iter().filter(|e| e.message == message).cloned().collect()
    }
    /// The `job` span with this `job_id` (there must be exactly one).
    pub(crate) fn job_span(&self, id: JobId) -> SpanRec {
        let spans: Vec<SpanRec> =
            self.spans("job").into_iter().filter(|s| s.fields.get("job_id") == Some(&id.to_string())).collect();
        assert_eq!(spans.len(), 1, "expected one `job` span with job_id = {id}, found {spans:?}");
        spans[0].clone()
    }
    /// The events with this message inside job `id`'s span (innermost or not).
    pub(crate) fn job_events(&self, id: JobId, message: &str) -> Vec<EventRec> {
        let job = self.job_span(id).seq;
        self.events(message).into_iter().filter(|e| e.scope.contains(&job)).collect()
    }
    /// A span and its ancestors, as "name{field=value,...}", innermost first.
    pub(crate) fn path(&self, scope: &[usize]) -> String {
        let mut parts = Vec::new();
        let mut next = scope.first().copied();
        while let Some(s) = next {
            let span = self.span(s);
            let fields: Vec<String> = span.fields.iter().map(|(k, v)| format!("{k}={v}")).collect();
            parts.push(format!("{}{{{}}}", span.name, fields.join(",")));
            next = span.parent;
        }
        if parts.is_empty() { "(no span)".into() } else { parts.join(" < ") }
    }
}

/// Captures every span and event on this thread (the test's current-thread
/// runtime polls every task here) until the guard is dropped.
pub(crate) fn capture() -> (Captured, tracing::subscriber::DefaultGuard) {
    let log = std::sync::Arc::new(std::sync::Mutex::new(Log::default()));
    let subscriber = Registry::default().with(Capture(log.clone()));
    (Captured(log), tracing::subscriber::set_default(subscriber))
}

fn field<'a>(fields: &'a BTreeMap<String, String>, name: &str) -> Option<&'a str> {
    fields.get(name).map(String::as_str)
}

#[tokio::test(start_paused = true)]
async fn every_job_runs_in_its_own_root_span() {
    let (log, _guard) = capture();
    let svc = JobService::start(Config::default(), test_handler());
    let mut client = connect(&svc);
    let echo = client.accepted("echo a").await;
    let logs = client.accepted("log 3").await;
    sleep(Duration::from_millis(100)).await;
    assert_eq!(client.status(logs).await, JobState::Succeeded("logged 3".into()));
    for id in [echo, logs] {
        let span = log.job_span(id);
        assert_eq!(span.parent, None, "a job span is a root span: {}", log.path(&[span.seq]));
    }
    let says = log.events("job says");
    assert_eq!(says.len(), 2, "the `log 3` job emits two events");
    for event in says {
        assert_eq!(
            event.scope.first().copied(),
            Some(log.job_span(logs).seq),
            "what a job logs belongs to its `job` span; this event is in: {}",
            log.path(&event.scope)
        );
    }
}

#[tokio::test(start_paused = true)]
async fn queued_started_and_finished_events_carry_the_numbers() {
    let (log, _guard) = capture();
    let svc = JobService::start(Config { workers: 1, ..Config::default() }, test_handler());
    let mut client = connect(&svc);
    let first = client.accepted("sleep 300").await;
    sleep(Duration::from_millis(1)).await; // the worker takes job 1
    let second = client.accepted("echo b").await;
    let third = client.accepted("fail disk full").await;
    sleep(Duration::from_millis(500)).await;

    let depth = |id| {
        let queued = log.job_events(id, "job queued");
        assert_eq!(queued.len(), 1, "one `job queued` event in job {id}'s span");
        field(&queued[0].fields, "queue_depth").map(str::to_string)
    };
    assert_eq!(
        [depth(first), depth(second), depth(third)],
        [Some("1".into()), Some("1".into()), Some("2".into())],
        "queue_depth counts the jobs waiting in the queue, this one included"
    );
    let waited = |id| {
        let started = log.job_events(id, "job started");
        assert_eq!(started.len(), 1, "one `job started` event in job {id}'s span");
        field(&started[0].fields, "waited_ms").map(str::to_string)
    };
    assert_eq!(
        [waited(first), waited(second), waited(third)],
        [Some("0".into()), Some("299".into()), Some("299".into())],
        "waited_ms: from submit to start (jobs 2 and 3 were submitted at 1 ms, started at 300 ms)"
    );
    for (id, outcome, level) in
        [(first, "succeeded", Level::INFO), (second, "succeeded", Level::INFO), (third, "failed", Level::WARN)]
    {
        let finished = log.job_events(id, "job finished");
        assert_eq!(finished.len(), 1, "one `job finished` event in job {id}'s span");
        assert_eq!(field(&finished[0].fields, "outcome"), Some(outcome), "job {id}");
        assert_eq!(finished[0].level, level, "job {id}: succeeded is INFO, failed is WARN");
        assert_eq!(
            field(&log.job_span(id).fields, "outcome"),
            Some(outcome),
            "record the outcome on job {id}'s span too"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn overload_is_answered_and_logged() {
    let (log, _guard) = capture();
    let config = Config { workers: 1, queue_capacity: 1, max_connections: 1, ..Config::default() };
    let svc = JobService::start(config, test_handler());
    let mut first = connect(&svc);
    first.accepted("sleep 1000").await; // `first` holds the only connection slot
    sleep(Duration::from_millis(1)).await;
    first.accepted("sleep 1000").await;
    assert_eq!(first.submit("echo no room").await, Response::Rejected { reason: Rejection::QueueFull });

    let mut second = connect(&svc);
    assert_eq!(
        second.next_line().await.as_deref(),
        Some(r#"{"reply":"rejected","reason":"overloaded"}"#),
        "a connection beyond max_connections is told so at once"
    );
    assert_eq!(second.next_line().await, None, "and closed");

    drop(first);
    sleep(Duration::from_millis(1)).await; // the first connection's task ends
    let mut third = connect(&svc);
    assert!(
        matches!(third.call(Request::Status { id: 1 }).await, Response::Status { .. }),
        "a closed connection gives its slot back"
    );

    for (message, reason) in [("submit rejected", "queue_full"), ("connection refused", "overloaded")] {
        let events = log.events(message);
        assert_eq!(events.len(), 1, "one `{message}` event");
        assert_eq!(field(&events[0].fields, "reason"), Some(reason), "{message}");
        assert_eq!(events[0].level, Level::WARN, "{message} is a WARN event");
    }
}
