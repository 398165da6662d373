//! The JSON API as `lockstep learn` calls it: one method per request, the
//! server's types ([`crate::web::workspace`]) read back, and every refusal
//! turned into a sentence (the server's own `error` text where it sent one).

use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::credentials::Credentials;
use crate::grading::verdict::Verdict;
use crate::web::workspace::{ExerciseWorkspace, ProgrammeProgress, RevealedHints};

/// A client of one server, authenticated by an API token.
pub struct Api {
    client: reqwest::Client,
    server: String,
    token: String,
}

/// A draft as the server keeps it.
#[derive(Debug, Deserialize)]
pub struct ServerDraft {
    /// The code.
    pub code: String,
    /// Its version.
    pub version: i64,
    /// When it was saved (RFC 3339).
    pub updated_at: Option<String>,
}

/// What became of a draft save.
#[derive(Debug)]
pub enum SavedDraft {
    /// Saved at this version.
    Saved(i64),
    /// Not saved: the server holds a newer draft (saved elsewhere).
    Stale(ServerDraft),
}

/// A submission's state (`GET /api/submissions/{id}`).
#[derive(Debug, Deserialize)]
pub struct Submission {
    /// `queued`, `running` or `done`.
    pub status: String,
    /// `compiling` or `running` while it runs.
    pub phase: Option<String>,
    /// The verdict, once done.
    pub verdict: Option<Verdict>,
}

impl Api {
    /// A client for `credentials`' server. HTTPS certificates are checked
    /// against the system's trust store.
    pub fn new(credentials: &Credentials) -> Result<Self> {
        let client = reqwest::Client::builder()
            .user_agent(concat!("lockstep-learn/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .build()
            .context("cannot set up the HTTP client")?;
        Ok(Self {
            client,
            server: credentials.server.clone(),
            token: credentials.token.clone(),
        })
    }

    /// Sends a request and returns the status and JSON body; refusals other
    /// than those in `expected` become errors.
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        expected: &[StatusCode],
    ) -> Result<(StatusCode, Value)> {
        let url = format!("{}{path}", self.server);
        let mut request = self
            .client
            .request(method, &url)
            .bearer_auth(&self.token)
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request
            .send()
            .await
            .with_context(|| format!("cannot reach {}", self.server))?;
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        let value: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        if status.is_success() || expected.contains(&status) {
            return Ok((status, value));
        }
        let said = value["error"].as_str().map(str::to_string);
        Err(match status {
            StatusCode::UNAUTHORIZED => anyhow!(
                "{} does not accept this API token (revoked or expired?): make a new one on {}/account and run `lockstep learn login --server {}`",
                self.server,
                self.server,
                self.server
            ),
            StatusCode::NOT_FOUND => anyhow!("not found on {}: {path}", self.server),
            _ => match said {
                Some(message) => anyhow!("{} refused ({status}): {message}", self.server),
                None => anyhow!("{} answered {status} to {path}", self.server),
            },
        })
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        let (_, body) = self.call(Method::GET, path, None, &[]).await?;
        serde_json::from_value(body)
            .with_context(|| format!("{} sent an unexpected answer to {path}", self.server))
    }

    /// The exercise as a Cargo project.
    pub async fn workspace(&self, exercise: &str) -> Result<ExerciseWorkspace> {
        self.get(&format!("/api/exercises/{}/workspace", segment(exercise)?))
            .await
            .map_err(|error| no_such_exercise(error, exercise))
    }

    /// The learner's progress.
    pub async fn progress(&self) -> Result<ProgrammeProgress> {
        self.get("/api/progress").await
    }

    /// The hints revealed so far.
    pub async fn hints(&self, exercise: &str) -> Result<RevealedHints> {
        self.get(&format!("/api/exercises/{}/hints", segment(exercise)?))
            .await
            .map_err(|error| no_such_exercise(error, exercise))
    }

    /// Reveals hint `index` (0-based) and returns it.
    pub async fn reveal_hint(&self, exercise: &str, index: usize) -> Result<String> {
        let (_, body) = self
            .call(
                Method::POST,
                &format!("/api/exercises/{}/hints", segment(exercise)?),
                Some(&json!({ "index": index })),
                &[],
            )
            .await?;
        body["hint"]
            .as_str()
            .map(str::to_string)
            .context("the server sent no hint")
    }

    /// Saves `code` as the draft, based on `version`.
    pub async fn save_draft(&self, exercise: &str, code: &str, version: i64) -> Result<SavedDraft> {
        let (status, body) = self
            .call(
                Method::PUT,
                &format!("/api/exercises/{}/draft", segment(exercise)?),
                Some(&json!({ "code": code, "version": version })),
                &[StatusCode::CONFLICT],
            )
            .await?;
        if status == StatusCode::CONFLICT {
            let newer: ServerDraft = serde_json::from_value(body["draft"].clone())
                .context("the server refused the draft as stale but sent no newer one")?;
            return Ok(SavedDraft::Stale(newer));
        }
        body["version"]
            .as_i64()
            .map(SavedDraft::Saved)
            .context("the server saved the draft but sent no version")
    }

    /// Queues `code` for grading (`mode`: `submit` or `visible`); the submission's id.
    pub async fn submit(&self, exercise: &str, code: &str, mode: &str) -> Result<i64> {
        let (_, body) = self
            .call(
                Method::POST,
                &format!("/api/exercises/{}/submissions", segment(exercise)?),
                Some(&json!({ "code": code, "mode": mode })),
                &[],
            )
            .await?;
        body["id"]
            .as_i64()
            .context("the server sent no submission id")
    }

    /// A submission's state.
    pub async fn submission(&self, id: i64) -> Result<Submission> {
        self.get(&format!("/api/submissions/{id}")).await
    }

    /// The live events of the learner's submissions (`GET /api/events`),
    /// open for at most `limit`.
    pub async fn events(&self, limit: Duration) -> Result<EventStream> {
        let response = self
            .client
            .get(format!("{}/api/events", self.server))
            .bearer_auth(&self.token)
            .header(reqwest::header::ACCEPT, "text/event-stream")
            .timeout(limit)
            .send()
            .await?
            .error_for_status()?;
        Ok(EventStream {
            response,
            buffer: String::new(),
        })
    }
}

/// Server-sent events as they arrive: `(event, data)` pairs.
pub struct EventStream {
    response: reqwest::Response,
    buffer: String,
}

impl EventStream {
    /// The next event (`None` when the stream ended).
    pub async fn next(&mut self) -> Result<Option<(String, Value)>> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut event = String::from("message");
                let mut data = String::new();
                for line in block.lines() {
                    if let Some(name) = line.strip_prefix("event:") {
                        event = name.trim().to_string();
                    } else if let Some(more) = line.strip_prefix("data:") {
                        data.push_str(more.strip_prefix(' ').unwrap_or(more));
                    }
                }
                if data.is_empty() {
                    continue; // a keep-alive comment
                }
                return Ok(Some((
                    event,
                    serde_json::from_str(&data).unwrap_or(Value::Null),
                )));
            }
            match self.response.chunk().await? {
                Some(bytes) => self
                    .buffer
                    .push_str(&String::from_utf8_lossy(&bytes).replace("\r\n", "\n")),
                None => return Ok(None),
            }
        }
    }
}

/// An exercise id as one URL path segment (ids are `a-z0-9-`).
fn segment(exercise: &str) -> Result<&str> {
    if exercise.is_empty()
        || !exercise
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        bail!("{exercise:?} is not an exercise id (see `lockstep learn status`)");
    }
    Ok(exercise)
}

/// A 404 on an exercise's path, said in the programme's words.
fn no_such_exercise(error: anyhow::Error, exercise: &str) -> anyhow::Error {
    if error.to_string().starts_with("not found") {
        anyhow!("there is no exercise {exercise:?} (see `lockstep learn status`)")
    } else {
        error
    }
}
