//! Real servers the identity tests talk to, from npm (`tests/identity/` and
//! `tests/oidc/`, each pinned by its package-lock.json; `.ci/run` installs
//! them, and the first test installs one when missing): an SMTP server that
//! reports each message it receives, and an OpenID provider.
#![allow(dead_code)] // each test binary uses a different part of it

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Mutex;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

/// `tests/<package>`.
fn package_dir(package: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join(package)
}

/// Installs `tests/<package>/node_modules` with `npm ci` when they are missing.
fn ensure_installed(package: &str) {
    static INSTALLED: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let mut installed = INSTALLED.lock().unwrap_or_else(|p| p.into_inner());
    if installed.iter().any(|done| done == package) {
        return;
    }
    if !package_dir(package)
        .join("node_modules/.package-lock.json")
        .is_file()
    {
        let status = std::process::Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--prefix"])
            .arg(package_dir(package))
            .status()
            .unwrap_or_else(|error| {
                panic!(
                    "the test servers are not installed and npm cannot be run ({error}): \
                     install Node.js 20 and npm, or run `npm ci --prefix tests/{package}`"
                )
            });
        assert!(
            status.success(),
            "`npm ci --prefix tests/{package}` failed: {status}"
        );
    }
    installed.push(package.to_string());
}

/// Starts `node tests/PACKAGE/SCRIPT ARGS…` with `env` added, waits for its
/// `listening PORT` line and returns the process, the port and the lines it
/// prints after.
async fn start_node(
    package: &str,
    script: &str,
    args: &[&str],
    env: &[(&str, &str)],
) -> (Child, u16, mpsc::UnboundedReceiver<String>) {
    ensure_installed(package);
    let mut child = Command::new("node")
        .arg(package_dir(package).join(script))
        .args(args)
        .envs(env.iter().copied())
        .current_dir(package_dir(package))
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
        // Drained to the end even when nobody listens: a closed pipe would
        // make the server die at its next line of output.
        while let Ok(Some(line)) = lines.next_line().await {
            let _ = sender.send(line);
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
        let (process, port, received) = start_node("identity", "smtp.js", &["0"], &[]).await;
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

/// The OpenID provider (npm `oidc-provider`, `tests/oidc/provider.js`),
/// stopped when dropped.
pub struct OpenIdProvider {
    /// Its issuer URL, `http://127.0.0.1:PORT`.
    pub issuer: String,
    port: u16,
    env: Vec<(&'static str, String)>,
    process: Child,
}

impl OpenIdProvider {
    /// Starts it on a free port with one client (`client_id`, `secret`,
    /// `redirect_uri`) and `accounts` (`{"id": {claims…}}`, each id being
    /// the subject); ID tokens are signed with `signing_alg` (RS256 or ES256).
    pub async fn start(
        client_id: &str,
        secret: &str,
        redirect_uri: &str,
        accounts: &serde_json::Value,
        signing_alg: &str,
    ) -> Self {
        let env = vec![
            ("OIDC_CLIENT_ID", client_id.to_string()),
            ("OIDC_CLIENT_SECRET", secret.to_string()),
            ("OIDC_REDIRECT_URI", redirect_uri.to_string()),
            ("OIDC_ACCOUNTS", accounts.to_string()),
            ("OIDC_SIGNING_ALG", signing_alg.to_string()),
        ];
        let (process, port) = Self::spawn(0, &env).await;
        Self {
            issuer: format!("http://127.0.0.1:{port}"),
            port,
            env,
            process,
        }
    }

    async fn spawn(port: u16, env: &[(&'static str, String)]) -> (Child, u16) {
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (process, port, _) =
            start_node("oidc", "provider.js", &[&port.to_string()], &env).await;
        (process, port)
    }

    /// Stops it and starts it again on the same address: the same issuer
    /// and client, a new signing key (a key rotation), no sessions.
    pub async fn restart(&mut self) {
        self.process.kill().await.expect("the provider stops");
        let (process, _) = Self::spawn(self.port, &self.env).await;
        self.process = process;
    }

    /// Makes the provider log `browser` in as `account` at its next
    /// interaction (a cookie of the provider's, in the browser's jar).
    pub async fn choose_account(&self, browser: &reqwest::Client, account: &str) {
        let response = browser
            .get(format!("{}/test/log-in-as/{account}", self.issuer))
            .send()
            .await
            .expect("the provider answers");
        assert!(response.status().is_success(), "{response:?}");
    }
}
