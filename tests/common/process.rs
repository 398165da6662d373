//! The real `lockstep` binary as an operator runs it: started as a child
//! process, its URL read from its log, stopped with SIGTERM.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

/// This build's `lockstep`.
pub const BIN: &str = env!("CARGO_BIN_EXE_lockstep");

/// A fresh, empty directory under the tests' temporary dir.
pub fn temp_dir(prefix: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("{prefix}-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A running `lockstep` whose stderr is echoed (prefixed) and watched.
pub struct Server {
    /// The process.
    pub child: Child,
    /// Every line of its stderr, as it comes.
    pub lines: Receiver<String>,
}

impl Server {
    /// Spawns `command` (its stderr is taken over) and starts echoing its log.
    pub fn spawn(mut command: Command) -> Self {
        let mut child = command
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("start lockstep");
        let stderr = child.stderr.take().unwrap();
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                eprintln!("[server] {line}");
                let _ = tx.send(line);
            }
        });
        Self { child, lines }
    }

    /// Waits (at most `seconds`) for a log line containing `needle` and returns it.
    pub fn wait_for_line(&self, needle: &str, seconds: u64) -> String {
        let deadline = Instant::now() + Duration::from_secs(seconds);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if line.contains(needle) => return line,
                Ok(_) => {}
                Err(_) => panic!("no log line with {needle:?} within {seconds} s"),
            }
        }
    }

    /// Waits for the server to log its URL and returns it (`http://…`).
    pub fn url(&self) -> String {
        let line = self.wait_for_line("listening on http://", 120);
        let at = line.find("listening on ").unwrap();
        line[at + "listening on ".len()..].trim().to_string()
    }

    /// Sends SIGTERM and waits (at most 30 s) for the exit; returns the
    /// status and how long the exit took.
    pub fn terminate(&mut self) -> (ExitStatus, Duration) {
        let started = Instant::now();
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(self.child.id() as i32),
            nix::sys::signal::Signal::SIGTERM,
        )
        .unwrap();
        while started.elapsed() < Duration::from_secs(30) {
            if let Some(status) = self.child.try_wait().unwrap() {
                return (status, started.elapsed());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.child.kill().unwrap();
        panic!("the server did not exit within 30 s of SIGTERM");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // A failed test must not leave a server (and its database) behind.
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(self.child.id() as i32),
                nix::sys::signal::Signal::SIGTERM,
            );
            let _ = self.child.wait();
        }
    }
}

/// `lockstep serve` on a random port with no grading workers, its private
/// database in `data_dir`.
pub fn serve_command(data_dir: &std::path::Path) -> Command {
    let mut command = Command::new(BIN);
    command
        .args(["serve", "--listen", "127.0.0.1:0", "--workers", "0"])
        .env("LOCKSTEP_DATA_DIR", data_dir)
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "info");
    command
}
