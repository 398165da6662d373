//! SIGTERM during the first start, while the grader's dependency cache
//! builds: the binary exits within 5 s leaving no cargo or rustc behind, and
//! the next start finishes the cache, after which the grader works.
//!
//! It builds the pinned crates once from nothing (a few minutes on a busy
//! two-core machine), so it is its own test binary.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::process::{BIN, Server, temp_dir};

/// Processes (other than us) whose command line or environment names `dir`.
fn processes_naming(dir: &Path) -> Vec<String> {
    let needle = dir.to_string_lossy().into_owned();
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        if pid == std::process::id() {
            continue;
        }
        let read = |name: &str| std::fs::read(entry.path().join(name)).unwrap_or_default();
        let cmdline = String::from_utf8_lossy(&read("cmdline")).replace('\0', " ");
        let environ = String::from_utf8_lossy(&read("environ")).into_owned();
        if cmdline.contains(&needle) || environ.contains(&needle) {
            found.push(format!("{pid}: {cmdline}"));
        }
    }
    found
}

fn serve(data_dir: &Path) -> Command {
    let mut command = Command::new(BIN);
    command
        .args(["serve", "--listen", "127.0.0.1:0", "--workers", "1"])
        .env("LOCKSTEP_DATA_DIR", data_dir)
        .env_remove("DATABASE_URL")
        .env_remove("LOCKSTEP_GRADER_DEPS")
        .env("RUST_LOG", "info");
    if !lockstep::grading::sandbox::cgroup::available() {
        command.env("LOCKSTEP_ALLOW_NO_CGROUP", "1");
    }
    command
}

#[test]
fn sigterm_during_the_cache_build_exits_within_5_s_and_the_next_start_finishes_it() {
    let started = std::time::Instant::now();
    let data_dir = temp_dir("data");
    let mut server = Server::spawn(serve(&data_dir));
    server.url();
    server.wait_for_line("Preparing the grader's dependency cache", 60);
    // Well into the build: compilers running under the data dir's target.
    std::thread::sleep(Duration::from_secs(3));
    let builders = processes_naming(&data_dir);
    assert!(
        builders
            .iter()
            .any(|p| p.contains("rustc") || p.contains("cargo")),
        "the build is under way: {builders:?}"
    );

    let (status, took) = server.terminate();
    assert!(status.success(), "exit status {status}");
    assert!(took < Duration::from_secs(5), "exit took {took:?}");
    std::thread::sleep(Duration::from_millis(200));
    let left = processes_naming(&data_dir);
    assert!(left.is_empty(), "left running: {left:?}");
    assert!(!lockstep::db::embedded::is_running(&data_dir));
    assert!(
        !data_dir.join("grader/deps.json").exists(),
        "no cache is recorded as ready"
    );

    // The next start resumes and finishes the cache…
    let mut server = Server::spawn(serve(&data_dir));
    server.url();
    server.wait_for_line("Dependency cache ready", 1800);
    assert!(server.terminate().0.success());
    eprintln!("cache built in {:?} in all", started.elapsed());

    // …and the grader works with it (no second build).
    let program = data_dir.join("hello.rs");
    std::fs::write(
        &program,
        "fn main() { println!(\"hello from the sandbox\"); }\n",
    )
    .unwrap();
    let mut run = Command::new(BIN);
    run.args(["run", "--json"])
        .arg(&program)
        .env("LOCKSTEP_DATA_DIR", &data_dir)
        .env_remove("LOCKSTEP_GRADER_DEPS");
    if !lockstep::grading::sandbox::cgroup::available() {
        run.env("LOCKSTEP_ALLOW_NO_CGROUP", "1");
    }
    let output = run.output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        !stderr.contains("Preparing the grader's dependency cache"),
        "{stderr}"
    );
    let verdict: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(
        verdict.to_string().contains("hello from the sandbox"),
        "{verdict}"
    );
}
