use capstone_service_front::*;
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
        self.call(Request::Submit { payload: payload.to_string() }).await
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

#[tokio::test(start_paused = true)]
async fn submit_then_ask_for_the_status() {
    let svc = JobService::start(Config::default(), test_handler());
    let mut client = connect(&svc);
    assert_eq!(client.submit("echo hello").await, Response::Accepted { id: 1 });
    assert_eq!(client.submit("sleep 500").await, Response::Accepted { id: 2 });
    sleep(Duration::from_millis(100)).await;
    assert_eq!(client.status(1).await, JobState::Succeeded("hello".into()));
    assert_eq!(client.status(2).await, JobState::Running, "job 2 sleeps 500 ms; at 100 ms it is running");
    sleep(Duration::from_millis(500)).await;
    assert_eq!(client.status(2).await, JobState::Succeeded("slept 500".into()));
    assert_eq!(client.call(Request::Status { id: 99 }).await, Response::Error { message: "unknown job 99".into() });
}

#[tokio::test(start_paused = true)]
async fn the_wire_format_is_one_json_object_per_line() {
    let svc = JobService::start(Config::default(), test_handler());
    let mut client = connect(&svc);
    assert_eq!(
        client.raw(r#"{"op":"submit","payload":"echo x"}"#).await.as_deref(),
        Some(r#"{"reply":"accepted","id":1}"#)
    );
    sleep(Duration::from_millis(10)).await;
    assert_eq!(
        client.raw(r#"{"op":"status","id":1}"#).await.as_deref(),
        Some(r#"{"reply":"status","id":1,"state":{"succeeded":"x"}}"#)
    );
    let reply = client.raw("this is not json").await.expect("a bad line gets a reply, not a closed connection");
    assert!(
        reply.starts_with(r#"{"reply":"error","message":"bad request: "#),
        "a line that is not a request is answered with an error reply: {reply}"
    );
    assert_eq!(
        client.raw(r#"{"op":"status","id":1}"#).await.as_deref(),
        Some(r#"{"reply":"status","id":1,"state":{"succeeded":"x"}}"#),
        "the connection keeps serving after a bad line"
    );
}

#[tokio::test(start_paused = true)]
async fn a_full_queue_refuses_work_instead_of_waiting() {
    let config = Config { workers: 1, queue_capacity: 2, ..Config::default() };
    let svc = JobService::start(config, test_handler());
    let mut client = connect(&svc);
    let running = client.accepted("sleep 1000").await;
    sleep(Duration::from_millis(1)).await; // the only worker takes job 1
    let queued = [client.accepted("sleep 10").await, client.accepted("sleep 10").await];
    assert_eq!(
        client.submit("echo one too many").await,
        Response::Rejected { reason: Rejection::QueueFull },
        "1 job running + 2 queued: the queue (capacity 2) is full"
    );
    assert_eq!(client.status(running).await, JobState::Running);
    for id in queued {
        assert_eq!(client.status(id).await, JobState::Queued);
    }
    sleep(Duration::from_millis(1000)).await; // job 1 is done, job 2 has started
    assert_eq!(client.submit("echo room again").await, Response::Accepted { id: 4 }, "a refused job gets no id");
}

/// The same service over real TCP on the loopback interface (real time; the
/// jobs are instant, the waits bounded).
#[tokio::test]
async fn serves_clients_over_loopback_tcp() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let svc = JobService::start(Config::default(), test_handler());
    let server = tokio::spawn({
        let svc = svc.clone();
        async move { svc.serve(listener).await }
    });
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut tcp = Framed::new(stream, LinesCodec::new());
    tcp.send(r#"{"op":"submit","payload":"echo over tcp"}"#).await.unwrap();
    let reply = tokio::time::timeout(Duration::from_secs(2), tcp.next()).await.expect("no reply within 2 s");
    assert_eq!(reply.unwrap().unwrap(), r#"{"reply":"accepted","id":1}"#);
    let mut last = String::new();
    for _ in 0..200 {
        tcp.send(r#"{"op":"status","id":1}"#).await.unwrap();
        last = tokio::time::timeout(Duration::from_secs(2), tcp.next()).await.expect("no reply").unwrap().unwrap();
        if last.contains("succeeded") {
            break;
        }
        sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(last, r#"{"reply":"status","id":1,"state":{"succeeded":"over tcp"}}"#);
    server.abort();
}
