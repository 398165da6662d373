use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use trace_request_across_tasks::*;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Subscriber};
use tracing_subscriber::Registry;
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

/// A span as the capture layer saw it. `seq` is unique for the whole test
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
    pub message: String,
    pub fields: BTreeMap<String, String>,
    /// Innermost span first.
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

struct Capture(Arc<Mutex<Log>>);

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
        self.0.lock().unwrap().events.push(EventRec { message, fields: fields.0, scope });
    }
}

pub(crate) struct Captured(Arc<Mutex<Log>>);

impl Captured {
    pub fn spans(&self, name: &str) -> Vec<SpanRec> {
        self.0.lock().unwrap().spans.iter().filter(|s| s.name == name).cloned().collect()
    }
    pub fn span(&self, seq: usize) -> SpanRec {
        self.0.lock().unwrap().spans[seq].clone()
    }
    pub fn events(&self, message: &str) -> Vec<EventRec> {
        self.0.lock().unwrap().events.iter().filter(|e| e.message == message).cloned().collect()
    }
    /// The span and its ancestors, as "name{field=value,...}", innermost first.
    pub fn path(&self, seq: Option<usize>) -> String {
        let mut parts = Vec::new();
        let mut next = seq;
        while let Some(s) = next {
            let span = self.span(s);
            let fields: Vec<String> = span.fields.iter().map(|(k, v)| format!("{k}={v}")).collect();
            parts.push(format!("{}{{{}}}", span.name, fields.join(",")));
            next = span.parent;
        }
        if parts.is_empty() { "(no span)".into() } else { parts.join(" < ") }
    }
    /// The `handle` span at or above `seq`, if any.
    pub fn request_of(&self, seq: Option<usize>) -> Option<SpanRec> {
        let mut next = seq;
        while let Some(s) = next {
            let span = self.span(s);
            if span.name == "handle" {
                return Some(span);
            }
            next = span.parent;
        }
        None
    }
}

/// Captures every span and event on this thread (the test's current-thread
/// runtime polls every task here) until the guard is dropped.
pub(crate) fn capture() -> (Captured, tracing::subscriber::DefaultGuard) {
    let log = Arc::new(Mutex::new(Log::default()));
    let subscriber = Registry::default().with(Capture(log.clone()));
    (Captured(log), tracing::subscriber::set_default(subscriber))
}

#[tokio::test(start_paused = true)]
async fn the_request_span_carries_its_ids_and_the_order_count() {
    let (log, _guard) = capture();
    let summary = handle(Request { id: 7, user_id: 42 }).await;
    assert_eq!(summary, Summary { user: "user-42".into(), orders: 2 });
    let spans = log.spans("handle");
    assert_eq!(spans.len(), 1, "one `handle` span per request");
    let fields = &spans[0].fields;
    assert_eq!(fields.get("request_id").map(String::as_str), Some("7"), "{fields:?}");
    assert_eq!(fields.get("user_id").map(String::as_str), Some("42"), "{fields:?}");
    assert_eq!(
        fields.get("orders").map(String::as_str),
        Some("2"),
        "record the number of orders on the request span once it is known: {fields:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn work_on_spawned_tasks_stays_inside_the_request() {
    let (log, _guard) = capture();
    handle(Request { id: 1, user_id: 3 }).await;
    for name in ["load_profile", "load_orders"] {
        let spans = log.spans(name);
        assert_eq!(spans.len(), 1, "one `{name}` span");
        assert!(
            log.request_of(Some(spans[0].seq)).is_some_and(|r| r.fields.get("request_id").map(String::as_str) == Some("1")),
            "`{name}` runs on a spawned task but must be a child of the request's span; its path is: {}",
            log.path(Some(spans[0].seq))
        );
    }
}

#[tokio::test(start_paused = true)]
async fn the_order_count_is_a_field_not_text() {
    let (log, _guard) = capture();
    handle(Request { id: 2, user_id: 4 }).await;
    let events = log.events("orders loaded");
    assert_eq!(
        events.len(),
        1,
        "expected one event with the message \"orders loaded\" and the count in a field `count`"
    );
    assert_eq!(events[0].fields.get("count").map(String::as_str), Some("4"), "{:?}", events[0]);
    let inner = events[0].scope.first().copied();
    assert_eq!(
        inner.map(|s| log.span(s).name),
        Some("load_orders".into()),
        "the event belongs to the `load_orders` span: {}",
        log.path(inner)
    );
}
