//! Real servers the identity tests talk to, from npm (`tests/identity/`, pinned
//! by its package-lock.json; `.ci/run` installs it, and the first test
//! installs it when missing): an SMTP server that reports each message it
//! receives.
#![allow(dead_code)] // each test binary uses a different part of it

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Mutex;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

fn package_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/identity")
}

/// Installs the package's node_modules with `npm ci` when they are missing.
fn ensure_installed() {
    static INSTALLED: Mutex<bool> = Mutex::new(false);
    let mut installed = INSTALLED.lock().unwrap_or_else(|p| p.into_inner());
    if *installed {
        return;
    }
    if !package_dir()
        .join("node_modules/.package-lock.json")
        .is_file()
    {
        let status = std::process::Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--prefix"])
            .arg(package_dir())
            .status()
            .unwrap_or_else(|error| {
                panic!(
                    "the test servers are not installed and npm cannot be run ({error}): \
                     install Node.js 20 and npm, or run `npm ci --prefix tests/identity`"
                )
            });
        assert!(
            status.success(),
            "`npm ci --prefix tests/identity` failed: {status}"
        );
    }
    *installed = true;
}

/// Starts `node tests/identity/SCRIPT ARGS…`, waits for its `listening PORT`
/// line and returns the process, the port and the lines it prints after.
async fn start_node(script: &str, args: &[&str]) -> (Child, u16, mpsc::UnboundedReceiver<String>) {
    ensure_installed();
    let mut child = Command::new("node")
        .arg(package_dir().join(script))
        .args(args)
        .current_dir(package_dir())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("node runs");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let first = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .unwrap_or_else(|_| panic!("{script} did not start in 30 s"))
        .expect("read its output")
        .unwrap_or_else(|| panic!("{script} exited before listening"));
    let port = first
        .strip_prefix("listening ")
        .and_then(|port| port.trim().parse().ok())
        .unwrap_or_else(|| panic!("{script} printed {first:?}, not `listening PORT`"));
    let (sender, receiver) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok(Some(line)) = lines.next_line().await {
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    (child, port, receiver)
}

/// A message the SMTP server received.
#[derive(Debug, serde::Deserialize)]
pub struct Mail {
    /// The envelope's sender.
    pub from: String,
    /// The envelope's recipients.
    pub to: Vec<String>,
    /// The Subject header.
    pub subject: String,
    /// The text body, decoded.
    pub text: String,
}

/// The SMTP server (stopped when dropped).
pub struct SmtpServer {
    /// `smtp://127.0.0.1:PORT`, for `--smtp-url`.
    pub url: String,
    received: mpsc::UnboundedReceiver<String>,
    _process: Child,
}

impl SmtpServer {
    /// Starts it on a free port.
    pub async fn start() -> Self {
        let (process, port, received) = start_node("smtp.js", &["0"]).await;
        Self {
            url: format!("smtp://127.0.0.1:{port}"),
            received,
            _process: process,
        }
    }

    /// The next message received, waiting up to `seconds`.
    pub async fn next_mail(&mut self, seconds: u64) -> Option<Mail> {
        let line = tokio::time::timeout(Duration::from_secs(seconds), self.received.recv())
            .await
            .ok()??;
        Some(serde_json::from_str(&line).unwrap_or_else(|e| panic!("{line}: {e}")))
    }
}
