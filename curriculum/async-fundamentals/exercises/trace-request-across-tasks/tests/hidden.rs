use crate::visible::capture;
use trace_request_across_tasks::*;

#[tokio::test(start_paused = true)]
async fn concurrent_requests_never_share_spans() {
    let (log, _guard) = capture();
    let (a, b) = tokio::join!(
        handle(Request { id: 100, user_id: 1 }),
        handle(Request { id: 200, user_id: 2 })
    );
    assert_eq!((a.orders, b.orders), (1, 2));
    let requests = log.spans("handle");
    assert_eq!(requests.len(), 2);
    for r in &requests {
        assert_eq!(r.parent, None, "a request span is a root: {}", log.path(Some(r.seq)));
    }
    for name in ["load_profile", "load_orders"] {
        for span in log.spans(name) {
            let request = log.request_of(Some(span.seq)).expect("inside a request");
            assert_eq!(
                request.fields.get("user_id"),
                span.fields.get("user_id"),
                "`{name}` for one user is filed under another request: {}",
                log.path(Some(span.seq))
            );
        }
    }
}

#[tokio::test(start_paused = true)]
async fn received_and_done_events_are_inside_their_own_request() {
    let (log, _guard) = capture();
    tokio::join!(
        handle(Request { id: 300, user_id: 3 }),
        handle(Request { id: 400, user_id: 4 })
    );
    for message in ["request received", "request done"] {
        let events = log.events(message);
        assert_eq!(events.len(), 2, "{message}");
        let mut ids: Vec<String> = events
            .iter()
            .map(|e| {
                let inner = e.scope.first().copied();
                let span = inner.map(|s| log.span(s)).expect("inside a span");
                assert_eq!(span.name, "handle", "{message}: {}", log.path(inner));
                span.fields["request_id"].clone()
            })
            .collect();
        ids.sort();
        assert_eq!(ids, ["300", "400"], "{message}: each request logs its own");
    }
}
