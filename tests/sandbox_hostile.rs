//! Hostile programs through the real `lockstep run`: each must end with the
//! right verdict within its limit, leave the host as it was and leak nothing.
//!
//! One test runs every case on a few threads (the machine has two cores and
//! most cases spend their time waiting for a limit), then checks the host:
//! canaries never printed, the dependency cache and toolchain unchanged, no
//! marker file written by a left-behind process, no sandbox process alive, a
//! host process still running. Last, an ordinary program and a correct
//! exercise solution must still pass.
//!
//! The dependency cache lives in `target/tmp/grader-data`, shared with later
//! runs: the first run builds it (a minute or two).

use std::collections::{BTreeMap, VecDeque};
use std::io::Read;
use std::net::TcpListener;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use nix::fcntl::{FcntlArg, FdFlag, fcntl};
use serde_json::Value;

/// Run-step wall limit (`Limits::RUN`).
const RUN_LIMIT: Duration = Duration::from_secs(10);
/// Compile-step wall limit (`Limits::COMPILE`).
const COMPILE_LIMIT: Duration = Duration::from_secs(30);
/// What a limit may overrun by (killing, reaping, reporting).
const LIMIT_SLACK: Duration = Duration::from_millis(1500);
/// Start-up, sandbox set-up and the verdict, on a busy machine.
const OVERHEAD: Duration = Duration::from_secs(5);
/// Cases run at once.
const WORKERS: usize = 4;
/// Output cap of the run step (`Limits::RUN.output_bytes`).
const OUTPUT_CAP: usize = 64 * 1024;
/// Host uids that run jobs when Lockstep runs as root.
const SANDBOX_UIDS: std::ops::Range<u32> = 200_000..300_000;
/// Marks the processes and files of this suite, so stragglers can be found.
const MARK: &str = "lockstep-hostile";

/// What the host holds that no job may see, and the host state to compare.
struct Host {
    /// A private copy of the binary: a concurrent `cargo build` replacing
    /// `target/debug/lockstep` must not pull the helper from under a job.
    bin: PathBuf,
    data_dir: PathBuf,
    cases_dir: PathBuf,
    /// Set on the `lockstep` process as an environment variable.
    env_canary: String,
    /// Inside a file in the data dir.
    data_canary: String,
    data_canary_path: PathBuf,
    /// Inside a file in the host's `/tmp`.
    tmp_canary: String,
    tmp_canary_path: PathBuf,
    /// The password of a `DATABASE_URL` set on the `lockstep` process.
    db_canary: String,
    /// Where a left-behind process would write on the host.
    host_markers: Vec<PathBuf>,
    listener_port: u16,
    sleeper_pid: u32,
    toolchain: PathBuf,
    deps_dir: PathBuf,
}

impl Host {
    fn canaries(&self) -> [&str; 4] {
        [
            &self.env_canary,
            &self.data_canary,
            &self.tmp_canary,
            &self.db_canary,
        ]
    }
}

/// How one `lockstep run` ended.
struct Outcome {
    verdict: Value,
    /// Everything `lockstep` printed (stdout and stderr).
    raw: String,
    elapsed: Duration,
}

impl Outcome {
    fn status(&self) -> &str {
        self.verdict["status"].as_str().unwrap_or("?")
    }
    fn reason(&self) -> &str {
        self.verdict["reason"].as_str().unwrap_or("null")
    }
    fn stdout(&self) -> &str {
        self.verdict["stdout"].as_str().unwrap_or("")
    }
    fn stderr(&self) -> &str {
        self.verdict["stderr"].as_str().unwrap_or("")
    }
    fn run_ms(&self) -> u64 {
        self.verdict["duration_ms"]["run"].as_u64().unwrap_or(0)
    }
    fn compile_ms(&self) -> u64 {
        self.verdict["duration_ms"]["compile"].as_u64().unwrap_or(0)
    }
    fn verdict_is(&self, status: &str, reason: &str) -> Result<(), String> {
        if self.status() == status && self.reason() == reason {
            Ok(())
        } else {
            Err(format!(
                "expected {status}/{reason}, got {}/{}",
                self.status(),
                self.reason()
            ))
        }
    }
    /// Stopped by the seccomp filter when it tried to start a process (run
    /// steps hold no other program, and may not start their own).
    fn blocked_spawn(&self) -> Result<(), String> {
        self.verdict_is("error", "runtime_error")?;
        let flagged = self.verdict["integrity"]
            .as_array()
            .is_some_and(|flags| flags.iter().any(|f| f == "blocked_syscall"));
        if flagged {
            Ok(())
        } else {
            Err(format!("not flagged: {}", self.verdict["integrity"]))
        }
    }
    fn stdout_has(&self, needle: &str) -> Result<(), String> {
        if self.stdout().contains(needle) {
            Ok(())
        } else {
            Err(format!("stdout lacks {needle:?}"))
        }
    }
}

/// Which limit bounds a case's time.
#[derive(Clone, Copy)]
enum Bound {
    /// Ends on its own, quickly.
    Quick,
    /// Bounded by the run step's wall limit.
    Run,
    /// Bounded by the compile step's wall limit.
    Compile,
}

type Check = Box<dyn Fn(&Outcome, &Host) -> Result<(), String> + Send + Sync>;

struct Case {
    name: &'static str,
    source: String,
    bound: Bound,
    check: Check,
}

fn case(
    name: &'static str,
    source: impl Into<String>,
    bound: Bound,
    check: impl Fn(&Outcome, &Host) -> Result<(), String> + Send + Sync + 'static,
) -> Case {
    Case {
        name,
        source: source.into(),
        bound,
        check: Box::new(check),
    }
}

fn nonce() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{}-{nanos:x}", std::process::id())
}

/// `lockstep ARGS --json` with the canaries in its environment, killed if it hangs.
fn lockstep(host: &Host, args: &[&str]) -> Outcome {
    let started = Instant::now();
    let mut child = Command::new(&host.bin)
        .args(args)
        .arg("--json")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("LOCKSTEP_DATA_DIR", &host.data_dir)
        .env("LOCKSTEP_CANARY_SECRET", &host.env_canary)
        .env(
            "DATABASE_URL",
            format!("postgres://lockstep:{}@127.0.0.1/lockstep", host.db_canary),
        )
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start lockstep");
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    let err = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    // Far past any limit: a hang is a failure, not a stuck suite.
    let give_up = COMPILE_LIMIT + RUN_LIMIT + Duration::from_secs(60);
    let mut hung = false;
    while child.try_wait().expect("wait for lockstep").is_none() {
        if started.elapsed() > give_up {
            let _ = child.kill();
            hung = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.wait();
    let elapsed = started.elapsed();
    let stdout = out.join().unwrap();
    let stderr = err.join().unwrap();
    let verdict = if hung {
        Value::Null
    } else {
        serde_json::from_str(&stdout).unwrap_or(Value::Null)
    };
    Outcome {
        verdict,
        raw: format!("{stdout}\n{stderr}"),
        elapsed,
    }
}

/// Runs one case and checks what every case must satisfy, then its own check.
fn run_case(host: &Host, case: &Case) -> (Outcome, Result<(), String>) {
    let file = host.cases_dir.join(format!("{}.rs", case.name));
    std::fs::write(&file, &case.source).unwrap();
    let outcome = lockstep(host, &["run", file.to_str().unwrap()]);
    let result = (|| {
        if outcome.verdict.is_null() {
            return Err(format!(
                "no verdict after {:?}: {}",
                outcome.elapsed, outcome.raw
            ));
        }
        if outcome.reason() == "internal_error" {
            return Err(format!("internal error: {:.2000}", outcome.raw));
        }
        for canary in host.canaries() {
            if outcome.raw.contains(canary) {
                return Err(format!("leaked the canary {canary:?}"));
            }
        }
        for stream in [outcome.stdout(), outcome.stderr()] {
            // The cap, the truncation marker, and lossy UTF-8 replacements.
            if stream.len() > OUTPUT_CAP + 256 {
                return Err(format!("kept {} bytes of output", stream.len()));
            }
        }
        let limit = match case.bound {
            Bound::Quick => Duration::ZERO,
            Bound::Run => RUN_LIMIT,
            Bound::Compile => COMPILE_LIMIT,
        };
        if outcome.run_ms() > (RUN_LIMIT + LIMIT_SLACK).as_millis() as u64 {
            return Err(format!("the run took {} ms", outcome.run_ms()));
        }
        if outcome.compile_ms() > (COMPILE_LIMIT + LIMIT_SLACK).as_millis() as u64 {
            return Err(format!("compilation took {} ms", outcome.compile_ms()));
        }
        // Compiling a small program can take seconds while the compile bombs
        // hold both cores; compilation has its own bound above, and the rest
        // (sandbox set-up, the run, the verdict) must fit the case's limit.
        let compile = Duration::from_millis(outcome.compile_ms());
        if outcome.elapsed > compile + limit + LIMIT_SLACK + OVERHEAD {
            return Err(format!(
                "took {:?} ({compile:?} compiling), more than its limit {limit:?} and slack",
                outcome.elapsed
            ));
        }
        (case.check)(&outcome, host)
    })();
    (outcome, result)
}

/// Host processes owned by a sandbox uid (as root) or carrying [`MARK`].
fn sandbox_processes() -> Vec<String> {
    let as_root = nix_is_root();
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let Ok(meta) = entry.metadata() else { continue };
        let cmdline = std::fs::read(entry.path().join("cmdline"))
            .map(|b| String::from_utf8_lossy(&b).replace('\0', " "))
            .unwrap_or_default();
        if (as_root && SANDBOX_UIDS.contains(&meta.uid())) || cmdline.contains(MARK) {
            found.push(format!("pid {name} uid {}: {cmdline}", meta.uid()));
        }
    }
    found
}

fn nix_is_root() -> bool {
    std::fs::metadata("/proc/self")
        .map(|m| m.uid() == 0)
        .unwrap_or(false)
}

/// Name, size, mode and modification time of every file under `dir`.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (u64, u32, i64)> {
    let mut files = BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let Ok(meta) = entry.path().symlink_metadata() else {
                continue;
            };
            if meta.is_dir() {
                pending.push(entry.path());
            }
            files.insert(entry.path(), (meta.len(), meta.mode(), meta.mtime()));
        }
    }
    files
}

/// The dependency cache's manifest: the toolchain and the rlib directory.
fn deps_manifest(data_dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let text = std::fs::read_to_string(data_dir.join("grader/deps.json")).unwrap();
    let manifest: Value = serde_json::from_str(&text).unwrap();
    let deps_dir = PathBuf::from(manifest["deps_dir"].as_str().unwrap());
    let rlib = manifest["externs"]["serde"].as_str().unwrap();
    (
        PathBuf::from(manifest["toolchain"].as_str().unwrap()),
        deps_dir.clone(),
        deps_dir.join(rlib),
    )
}

#[test]
fn hostile_programs_are_contained() {
    let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let data_dir = tmp.join("grader-data");
    let nonce = nonce();
    let work = tmp.join(format!("{MARK}-{nonce}"));
    let cases_dir = work.join("cases");
    std::fs::create_dir_all(&cases_dir).unwrap();
    std::fs::create_dir_all(&data_dir).unwrap();
    let bin = work.join("lockstep");
    std::fs::copy(env!("CARGO_BIN_EXE_lockstep"), &bin).unwrap();

    let data_canary_path = data_dir.join("canary-secret.txt");
    let tmp_canary_path = PathBuf::from(format!("/tmp/{MARK}-canary-{nonce}.txt"));
    let data_canary = format!("data-canary-{nonce}");
    let tmp_canary = format!("tmp-canary-{nonce}");
    std::fs::write(&data_canary_path, &data_canary).unwrap();
    std::fs::write(&tmp_canary_path, &tmp_canary).unwrap();
    let listener = TcpListener::bind("0.0.0.0:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let mut sleeper: Child = Command::new("sleep").arg("600").spawn().unwrap();
    // Descriptors a careless parent leaves open reach `lockstep`: the host's
    // root and the data dir, inheritable on purpose.
    let leaked: Vec<std::fs::File> = [Path::new("/"), &data_dir]
        .iter()
        .map(|dir| {
            let file = std::fs::File::open(dir).unwrap();
            fcntl(&file, FcntlArg::F_SETFD(FdFlag::empty())).unwrap();
            file
        })
        .collect();

    let mut host = Host {
        bin,
        data_dir: data_dir.clone(),
        cases_dir,
        env_canary: format!("env-canary-{nonce}"),
        data_canary,
        data_canary_path,
        tmp_canary,
        tmp_canary_path,
        db_canary: format!("db-canary-{nonce}"),
        host_markers: vec![
            PathBuf::from(format!("/tmp/{MARK}-orphan-{nonce}")),
            work.join("orphan-marker"),
        ],
        listener_port: listener.local_addr().unwrap().port(),
        sleeper_pid: sleeper.id(),
        toolchain: PathBuf::new(),
        deps_dir: PathBuf::new(),
    };

    // Builds the dependency cache on a first run; every case then reuses it.
    let warm = lockstep(&host, &["run", &write_case(&host, "warm-up", HELLO)]);
    assert_eq!(warm.status(), "pass", "a plain program: {}", warm.raw);
    let (toolchain, deps_dir, rlib) = deps_manifest(&data_dir);
    host.toolchain = toolchain;
    host.deps_dir = deps_dir;
    let rlib_before = std::fs::read(&rlib).unwrap();
    let deps_before = snapshot(&host.deps_dir);
    let toolchain_before = snapshot(&host.toolchain.join("bin"));

    let host = Arc::new(host);
    // LOCKSTEP_HOSTILE_ONLY=name,name runs only those cases (to debug one).
    let only = std::env::var("LOCKSTEP_HOSTILE_ONLY").ok();
    let selected = cases(&host).into_iter().filter(|case| {
        only.as_deref()
            .is_none_or(|names| names.split(',').any(|name| name == case.name))
    });
    let queue = Arc::new(Mutex::new(selected.collect::<VecDeque<_>>()));
    let results = Arc::new(Mutex::new(Vec::new()));
    let suite_started = Instant::now();
    let workers: Vec<_> = (0..WORKERS)
        .map(|_| {
            let (host, queue, results) = (host.clone(), queue.clone(), results.clone());
            std::thread::spawn(move || {
                loop {
                    let Some(case) = queue.lock().unwrap().pop_front() else {
                        break;
                    };
                    let (outcome, result) = run_case(&host, &case);
                    results.lock().unwrap().push((case.name, outcome, result));
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().unwrap();
    }

    let mut failures = Vec::new();
    let mut table = String::new();
    let mut results = std::mem::take(&mut *results.lock().unwrap());
    results.sort_by_key(|(name, _, _)| *name);
    for (name, outcome, result) in &results {
        table.push_str(&format!(
            "{name:<28} {:>6}/{:<14} {:>6} ms (compile {:>5}, run {:>5}) {}\n",
            outcome.status(),
            outcome.reason(),
            outcome.elapsed.as_millis(),
            outcome.compile_ms(),
            outcome.run_ms(),
            match result {
                Ok(()) => "ok".to_string(),
                Err(error) => format!("NOT CONTAINED: {error}"),
            }
        ));
        if let Err(error) = result {
            failures.push(format!(
                "{name}: {error}\n  stdout: {:.600}\n  stderr: {:.600}\n  compile: {:.600}",
                outcome.stdout(),
                outcome.stderr(),
                outcome.verdict["compile_output"].as_str().unwrap_or("")
            ));
        }
    }
    eprintln!(
        "{} cases in {:?}:\n{table}",
        results.len(),
        suite_started.elapsed()
    );

    // The host afterwards. Left-behind processes would have written their
    // markers two seconds after their job; every job has been over for longer.
    let mut leftovers = sandbox_processes();
    for _ in 0..50 {
        if leftovers.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
        leftovers = sandbox_processes();
    }
    if !leftovers.is_empty() {
        failures.push(format!("sandbox processes still running: {leftovers:?}"));
    }
    for marker in &host.host_markers {
        if marker.exists() {
            failures.push(format!("a job wrote {} on the host", marker.display()));
        }
    }
    if sleeper.try_wait().unwrap().is_some() {
        failures.push("a job killed a host process".into());
    }
    if let Ok((stream, peer)) = listener.accept() {
        drop(stream);
        failures.push(format!("a job reached a host port (from {peer})"));
    }
    if std::fs::read(&rlib).ok().as_deref() != Some(&rlib_before[..]) {
        failures.push(format!("a job changed {}", rlib.display()));
    }
    if snapshot(&host.deps_dir) != deps_before {
        failures.push("a job changed the dependency cache".into());
    }
    if snapshot(&host.toolchain.join("bin")) != toolchain_before {
        failures.push("a job changed the toolchain".into());
    }
    for dir in [
        Path::new("/usr"),
        Path::new("/usr/bin"),
        Path::new("/etc"),
        Path::new("/"),
        &host.toolchain,
        &host.toolchain.join("bin"),
        &host.deps_dir,
        &host.data_dir,
    ] {
        let marker = dir.join(format!("{MARK}-write"));
        if marker.exists() {
            let _ = std::fs::remove_file(&marker);
            failures.push(format!("a job created {}", marker.display()));
        }
    }

    // Still able to do its job afterwards.
    let hello = lockstep(&host, &["run", &write_case(&host, "after-all", HELLO)]);
    if hello.status() != "pass" || hello.stdout() != "hello\n" {
        failures.push(format!("a plain program no longer passes: {}", hello.raw));
    }
    let solution = lockstep(
        &host,
        &[
            "grade",
            "versioned-store",
            "curriculum/locks-and-sync/exercises/versioned-store/solution.rs",
        ],
    );
    if solution.status() != "pass" {
        failures.push(format!(
            "the versioned-store solution no longer passes: {}",
            solution.raw
        ));
    }
    eprintln!(
        "after all: hello {} in {:?}, versioned-store {} in {:?}",
        hello.status(),
        hello.elapsed,
        solution.status(),
        solution.elapsed
    );

    drop(leaked);
    let _ = sleeper.kill();
    let _ = sleeper.wait();
    let _ = std::fs::remove_file(&host.tmp_canary_path);
    let _ = std::fs::remove_file(&host.data_canary_path);
    let _ = std::fs::remove_dir_all(&work);
    assert!(
        failures.is_empty(),
        "not contained:\n{}\n\n{table}",
        failures.join("\n")
    );
}

fn write_case(host: &Host, name: &str, source: &str) -> String {
    let file = host.cases_dir.join(format!("{name}.rs"));
    std::fs::write(&file, source).unwrap();
    file.to_string_lossy().into_owned()
}

const HELLO: &str = r#"fn main() { println!("hello"); }"#;

/// Every hostile program, with the verdict it must get.
fn cases(host: &Host) -> Vec<Case> {
    use Bound::{Compile, Quick, Run};
    let data_dir = host.data_dir.display().to_string();
    let data_canary = host.data_canary_path.display().to_string();
    let tmp_canary = host.tmp_canary_path.display().to_string();
    let port = host.listener_port.to_string();
    let pg_dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("test-postgres");
    let pg_socket = pg_dir.join("db/run/.s.PGSQL.5432").display().to_string();
    let pg_dir = pg_dir.display().to_string();
    let host_ip = host_address().unwrap_or_else(|| "127.0.0.1".into());
    let orphan_marker = host.host_markers[0].display().to_string();
    let orphan_marker_2 = host.host_markers[1].display().to_string();

    vec![
        // --- processes ---------------------------------------------------
        case(
            "fork_bomb_shell",
            r#"
            fn main() {
                let status = std::process::Command::new("/bin/sh")
                    .arg("-c").arg("b() { b | b & }; b").status();
                println!("shell returned: {status:?}");
            }"#,
            Quick,
            |o, _| o.blocked_spawn(),
        ),
        case(
            "fork_bomb_rust",
            r#"
            use std::process::{Command, Stdio};
            fn main() {
                let me = std::env::args().next().unwrap();
                loop {
                    let _ = Command::new(&me).stdin(Stdio::null())
                        .stdout(Stdio::null()).stderr(Stdio::null()).spawn();
                }
            }"#,
            Quick,
            |o, _| o.blocked_spawn(),
        ),
        case(
            "thread_bomb",
            r#"
            use std::time::Duration;
            fn main() {
                let (mut spawned, mut refused) = (0u32, 0u32);
                while refused < 1000 && spawned < 100_000 {
                    let sleeper = || loop { std::thread::sleep(Duration::from_secs(3600)) };
                    match std::thread::Builder::new().stack_size(64 * 1024).spawn(sleeper) {
                        Ok(_) => spawned += 1,
                        Err(_) => refused += 1,
                    }
                }
                println!("spawned {spawned} refused {refused}");
            }"#,
            Quick,
            |o, _| {
                o.verdict_is("pass", "null")?;
                let spawned: u32 = o
                    .stdout()
                    .split_whitespace()
                    .nth(1)
                    .and_then(|n| n.parse().ok())
                    .ok_or("no count")?;
                if spawned <= 64 {
                    Ok(())
                } else {
                    Err(format!("{spawned} threads ran"))
                }
            },
        ),
        case(
            "kill_everything",
            format!(
                r#"
            use std::process::Command;
            fn main() {{
                println!("before");
                for script in ["kill -9 {sleeper}", "kill -9 -1"] {{
                    let status = Command::new("/bin/sh").arg("-c").arg(script).status();
                    println!("{{script}}: {{status:?}}");
                }}
                println!("survived");
            }}"#,
                sleeper = host.sleeper_pid
            ),
            Quick,
            |o, _| {
                // It kills itself: any verdict but a pass, and one at all.
                o.stdout_has("before")?;
                if o.status() == "error" {
                    Ok(())
                } else {
                    Err(format!("got {}", o.status()))
                }
            },
        ),
        case(
            "kill_init",
            r#"
            use std::process::Command;
            fn main() {
                for script in ["kill -STOP 1", "kill -9 1", "kill -TERM 1", "kill -SEGV 1"] {
                    let status = Command::new("/bin/sh").arg("-c").arg(script).status();
                    println!("{script}: {status:?}");
                }
                std::thread::sleep(std::time::Duration::from_millis(300));
                println!("init survived");
            }"#,
            Quick,
            |o, _| o.blocked_spawn(),
        ),
        case(
            "orphans_outlive_main",
            format!(
                r#"
            use std::os::unix::process::CommandExt;
            use std::process::{{Command, Stdio}};
            fn main() {{
                if std::env::args().nth(1).as_deref() == Some("orphan") {{
                    std::thread::sleep(std::time::Duration::from_secs(2));
                    for path in ["{orphan_marker}", "{orphan_marker_2}"] {{
                        let _ = std::fs::write(path, "left behind");
                    }}
                    return;
                }}
                Command::new(std::env::args().next().unwrap())
                    .arg0("{MARK}-orphan").arg("orphan")
                    .stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null())
                    .spawn().unwrap();
                Command::new("/usr/bin/setsid")
                    .args(["-f", "/bin/sh", "-c",
                           "sleep 2; echo left > {orphan_marker}; echo left > {orphan_marker_2}",
                           "{MARK}-daemon"])
                    .stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null())
                    .status().unwrap();
                println!("spawned");
            }}"#
            ),
            Quick,
            |o, _| o.blocked_spawn(),
        ),
        case(
            "orphan_holds_stdout",
            r#"
            fn main() {
                std::process::Command::new("/bin/sh").arg("-c").arg("sleep 600 &")
                    .status().unwrap();
                println!("main is done");
            }"#,
            Quick,
            |o, _| o.blocked_spawn(),
        ),
        case(
            "nested_user_namespace",
            r#"
            use std::process::Command;
            fn main() {
                let mut escaped = Vec::new();
                for args in [&["-Ur", "true"][..], &["-U", "true"], &["-n", "true"], &["-m", "true"]] {
                    let out = Command::new("/usr/bin/unshare").args(args).output().unwrap();
                    if out.status.success() { escaped.push(format!("{args:?}")) }
                }
                let out = Command::new("/usr/bin/perl").arg("-e")
                    .arg("exit(syscall(161, '/') == 0 ? 0 : 1)").status().unwrap();
                if out.success() { escaped.push("chroot".into()) }
                if escaped.is_empty() { println!("blocked") } else { println!("ESCAPED {escaped:?}") }
            }"#,
            Quick,
            |o, _| o.blocked_spawn(),
        ),
        // --- memory, CPU, time -------------------------------------------
        case(
            "memory_bomb",
            r#"
            fn main() {
                let mut hoard: Vec<u64> = Vec::new();
                loop { hoard.push(std::hint::black_box(hoard.len() as u64)); }
            }"#,
            Quick,
            |o, _| o.verdict_is("error", "memory_limit"),
        ),
        case(
            "memory_bomb_huge_vec",
            r#"
            fn main() {
                let hoard = vec![1u8; 1 << 40];
                println!("{}", hoard[12345]);
            }"#,
            Quick,
            |o, _| o.verdict_is("error", "memory_limit"),
        ),
        case(
            "memfd_bomb",
            r##"
            fn main() {
                // memfd files are memory that no address-space limit sees; many
                // of them, each under the file-size limit, must still be stopped
                // by the job's memory budget (a cgroup, where the host allows).
                let script = r#"
                    my @keep; my $chunk = 'z' x (1 << 20); my $held = 0;
                    for my $f (1 .. 150) {
                        my $name = 'x'; my $fd = syscall(319, $name, 0); last if $fd < 0;
                        open(my $fh, '>&=', $fd) or last; push @keep, $fh;
                        for my $i (1 .. 15) { print $fh $chunk or last }
                        $fh->flush(); $held += 15;
                    }
                    print qq{held $held MiB
};
                "#;
                let out = std::process::Command::new("/usr/bin/perl").arg("-e").arg(script)
                    .output().unwrap();
                print!("{}", String::from_utf8_lossy(&out.stdout));
            }"##,
            Quick,
            |o, _| {
                o.blocked_spawn()?;
                let held: u64 = o
                    .stdout()
                    .split_whitespace()
                    .nth(1)
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(0);
                if held <= 1024 {
                    Ok(())
                } else {
                    Err(format!("held {held} MiB in memfd files"))
                }
            },
        ),
        case(
            "sysv_shm_bomb",
            r##"
            fn main() {
                // SysV shared memory outlives its mapping: not address space.
                let script = r#"
                    my ($total, $chunk) = (0, 'x' x (1 << 20));
                    for my $i (1 .. 64) {
                        my $id = shmget(0, 32 << 20, 0600 | 01000) // last;
                        for my $mb (0 .. 31) { shmwrite($id, $chunk, $mb << 20, 1 << 20) or last }
                        $total += 32;
                    }
                    print qq{held $total MiB\n};
                "#;
                let out = std::process::Command::new("/usr/bin/perl").arg("-e").arg(script)
                    .output().unwrap();
                print!("{}", String::from_utf8_lossy(&out.stdout));
            }"##,
            Quick,
            |o, _| {
                o.blocked_spawn()?;
                let held: u64 = o
                    .stdout()
                    .split_whitespace()
                    .nth(1)
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(0);
                if held <= 512 {
                    Ok(())
                } else {
                    Err(format!("held {held} MiB of shared memory"))
                }
            },
        ),
        case(
            "cpu_spin",
            r#"
            fn main() {
                let mut x = 0u64;
                loop { x = std::hint::black_box(x.wrapping_add(1)); }
            }"#,
            Run,
            |o, _| o.verdict_is("error", "timeout"),
        ),
        case(
            "cpu_spin_threads",
            r#"
            fn main() {
                for _ in 0..8 {
                    std::thread::spawn(|| { let mut x = 0u64; loop { x = std::hint::black_box(x + 1); } });
                }
                loop { std::hint::spin_loop(); }
            }"#,
            Run,
            |o, _| o.verdict_is("error", "timeout"),
        ),
        case(
            "sleep_forever",
            r#"
            fn main() {
                loop { std::thread::sleep(std::time::Duration::from_secs(3600)); }
            }"#,
            Run,
            |o, _| o.verdict_is("error", "timeout"),
        ),
        // --- output and disk -----------------------------------------------
        case(
            "stdout_flood",
            r#"
            fn main() {
                let line = "x".repeat(1023);
                loop { println!("{line}"); }
            }"#,
            Quick,
            |o, _| {
                o.verdict_is("error", "output_limit")?;
                o.stdout_has("output truncated")
            },
        ),
        case(
            "stderr_flood",
            r#"
            fn main() {
                let line = "y".repeat(1023);
                loop { eprintln!("{line}"); }
            }"#,
            Quick,
            |o, _| {
                o.verdict_is("error", "output_limit")?;
                if o.stderr().contains("output truncated") {
                    Ok(())
                } else {
                    Err("no marker".into())
                }
            },
        ),
        case(
            "output_over_cap",
            r#"
            fn main() {
                let line = "z".repeat(1023);
                for _ in 0..200 { println!("{line}"); }
            }"#,
            Quick,
            |o, _| {
                o.verdict_is("pass", "null")?;
                o.stdout_has("output truncated")
            },
        ),
        case(
            "big_file_in_job",
            r#"
            use std::io::Write;
            fn main() {
                let mut file = std::fs::File::create("/job/big.bin").unwrap();
                let chunk = vec![7u8; 1 << 20];
                for _ in 0..200 { file.write_all(&chunk).unwrap(); }
                println!("wrote 200 MiB");
            }"#,
            Quick,
            |o, _| o.verdict_is("error", "output_limit"),
        ),
        case(
            "disk_fill_in_job",
            r#"
            use std::io::Write;
            fn main() {
                let chunk = vec![7u8; 1 << 20];
                let mut total = 0u64;
                'files: for i in 0.. {
                    let mut file = match std::fs::File::create(format!("/job/tmp/fill-{i}")) {
                        Ok(file) => file,
                        Err(e) => { println!("create: {e}"); break }
                    };
                    for _ in 0..8 {
                        if let Err(e) = file.write_all(&chunk) { println!("write: {e}"); break 'files }
                        total += 1;
                    }
                }
                println!("filled {total} MiB");
            }"#,
            Quick,
            |o, _| {
                o.verdict_is("pass", "null")?;
                o.stdout_has("No space left on device")?;
                let total: u64 = o
                    .stdout()
                    .lines()
                    .last()
                    .and_then(|l| l.split_whitespace().nth(1))
                    .and_then(|n| n.parse().ok())
                    .ok_or("no total")?;
                if total <= 256 {
                    Ok(())
                } else {
                    Err(format!("filled {total} MiB"))
                }
            },
        ),
        // --- network -----------------------------------------------------
        case(
            "network",
            format!(
                r#"
            use std::net::{{SocketAddr, TcpStream, ToSocketAddrs, UdpSocket}};
            use std::time::Duration;
            fn main() {{
                let mut reached = Vec::new();
                for target in ["1.1.1.1:443", "8.8.8.8:53", "example.com:80", "127.0.0.1:5432",
                               "localhost:5432", "127.0.0.1:{port}", "[::1]:{port}",
                               "{host_ip}:{port}", "{host_ip}:5432"] {{
                    let addrs: Vec<SocketAddr> = match target.to_socket_addrs() {{
                        Ok(addrs) => addrs.collect(),
                        Err(e) => {{ eprintln!("{{target}}: {{e}}"); continue }}
                    }};
                    for addr in addrs {{
                        match TcpStream::connect_timeout(&addr, Duration::from_secs(2)) {{
                            Ok(_) => reached.push(format!("tcp {{target}} ({{addr}})")),
                            Err(e) => eprintln!("{{target}} ({{addr}}): {{e}}"),
                        }}
                    }}
                }}
                if let Ok(socket) = UdpSocket::bind("0.0.0.0:0") {{
                    if socket.send_to(b"x", "8.8.8.8:53").is_ok() {{ reached.push("udp 8.8.8.8:53".into()) }}
                }}
                for path in ["{pg_socket}", "/run/postgresql/.s.PGSQL.5432",
                             "/var/run/postgresql/.s.PGSQL.5432"] {{
                    if std::os::unix::net::UnixStream::connect(path).is_ok() {{
                        reached.push(format!("unix {{path}}"))
                    }}
                }}
                if reached.is_empty() {{ println!("blocked") }}
                else {{ for r in reached {{ println!("CONNECTED {{r}}") }} }}
            }}"#
            ),
            Quick,
            |o, _| {
                o.verdict_is("pass", "null")?;
                if o.stdout().trim() == "blocked" {
                    Ok(())
                } else {
                    Err(o.stdout().to_string())
                }
            },
        ),
        // --- secrets -----------------------------------------------------
        case(
            "read_host_secrets",
            format!(
                r#"
            use std::fs;
            fn show(path: &str) {{
                match fs::read(path) {{
                    Ok(bytes) => println!("READ {{path}}: {{}}", String::from_utf8_lossy(&bytes[..bytes.len().min(1024)])),
                    Err(e) => println!("denied {{path}}: {{e}}"),
                }}
            }}
            fn list(path: &str) {{
                match fs::read_dir(path) {{
                    Ok(entries) => {{
                        let names: Vec<_> = entries.flatten().map(|e| e.file_name()).collect();
                        println!("LIST {{path}}: {{names:?}}");
                    }}
                    Err(e) => println!("denied {{path}}: {{e}}"),
                }}
            }}
            fn main() {{
                for path in ["/etc/shadow", "/etc/hostname", "/root/.bashrc", "/root/.cargo/credentials.toml",
                             "{data_canary}", "{tmp_canary}", "{data_dir}/grader/deps.json",
                             "/proc/1/environ", "/proc/1/root/etc/shadow", "/proc/self/environ",
                             "{pg_dir}/db/postgresql.conf", "/sys/class/net/eth0/address"] {{
                    show(path);
                }}
                for path in ["/root", "/home", "{data_dir}", "{pg_dir}", "/run/postgresql",
                             "/var/run/postgresql", "/var", "/sys", "/tmp", "/proc/1/cwd"] {{
                    list(path);
                }}
                for (key, value) in std::env::vars() {{ println!("ENV {{key}}={{value}}") }}
                for entry in fs::read_dir("/proc").into_iter().flatten().flatten() {{
                    let name = entry.file_name().to_string_lossy().into_owned();
                    if name.bytes().all(|b| b.is_ascii_digit()) {{
                        show(&format!("/proc/{{name}}/environ"));
                        show(&format!("/proc/{{name}}/cmdline"));
                    }}
                }}
                list("/proc/self/fd");
            }}"#
            ),
            Quick,
            move |o, _| {
                o.verdict_is("pass", "null")?;
                for line in o.stdout().lines() {
                    let allowed = [
                        "READ /proc/self/environ",
                        "LIST /tmp",
                        "LIST /proc/self/fd",
                        "READ /proc/self/cmdline",
                    ];
                    let read = line.starts_with("READ ") || line.starts_with("LIST ");
                    // Command lines are no secret (PID 1's is the helper's);
                    // environments are, except the job's own processes'.
                    let own = line.starts_with("READ /proc/")
                        && (line.contains("/cmdline:")
                            || (line.contains("/environ:") && !line.starts_with("READ /proc/1/")));
                    if read && !own && !allowed.iter().any(|a| line.starts_with(a)) {
                        return Err(format!("readable: {line:.200}"));
                    }
                    if line.starts_with("LIST /proc/self/fd") && line.matches(',').count() > 3 {
                        return Err(format!("inherited descriptors: {line}"));
                    }
                }
                let env: Vec<&str> = o
                    .stdout()
                    .lines()
                    .filter(|l| l.starts_with("ENV "))
                    .collect();
                if env
                    .iter()
                    .any(|l| l.contains("LOCKSTEP_CANARY") || l.contains("DATABASE_URL"))
                {
                    return Err(format!("environment passed through: {env:?}"));
                }
                Ok(())
            },
        ),
        case(
            "inherited_descriptors",
            format!(
                r#"
            fn main() {{
                let mut escaped = Vec::new();
                for fd in 3..1024 {{
                    let dir = format!("/proc/self/fd/{{fd}}");
                    if std::fs::read_dir(&dir).is_ok() {{ escaped.push(format!("list {{dir}}")) }}
                    if std::fs::read(format!("{{dir}}/etc/hostname")).is_ok() {{
                        escaped.push(format!("read {{dir}}/etc/hostname"))
                    }}
                    if std::fs::write(format!("{{dir}}/{MARK}-write"), "hostile").is_ok() {{
                        escaped.push(format!("write {{dir}}"))
                    }}
                }}
                if escaped.is_empty() {{ println!("blocked") }} else {{ println!("ESCAPED {{escaped:?}}") }}
            }}"#
            ),
            Quick,
            |o, _| {
                o.verdict_is("pass", "null")?;
                o.stdout_has("blocked")
            },
        ),
        // --- writing outside /job ----------------------------------------
        case(
            "write_outside_job",
            format!(
                r#"
            use std::fs::{{self, OpenOptions}};
            use std::os::unix::fs::PermissionsExt;
            fn attempt(what: String, result: std::io::Result<()>, wrote: &mut Vec<String>) {{
                if result.is_ok() {{ wrote.push(what) }}
            }}
            fn main() {{
                let mut wrote = Vec::new();
                for dir in ["/", "/usr", "/usr/bin", "/etc", "/bin", "/lib", "/dev", "/proc",
                            "/toolchain", "/toolchain/bin", "/deps", "{data_dir}", "{deps}",
                            "{toolchain}"] {{
                    let path = format!("{{dir}}/{MARK}-write");
                    attempt(path.clone(), fs::write(&path, "hostile"), &mut wrote);
                }}
                for dir in ["/deps", "/toolchain/bin", "/usr/bin", "/usr/lib"] {{
                    let Ok(entries) = fs::read_dir(dir) else {{ continue }};
                    for entry in entries.flatten() {{
                        let path = entry.path();
                        let Ok(meta) = fs::symlink_metadata(&path) else {{ continue }};
                        if !meta.is_file() {{ continue }}
                        // Opening for writing is refused before anything is written.
                        attempt(format!("open {{}}", path.display()),
                                OpenOptions::new().write(true).open(&path).map(|_| ()), &mut wrote);
                        attempt(format!("chmod {{}}", path.display()),
                                fs::set_permissions(&path, meta.permissions()), &mut wrote);
                    }}
                }}
                // Destructive only where a success could be rebuilt: the dependency cache.
                if let Some(victim) = fs::read_dir("/deps").into_iter().flatten().flatten()
                    .map(|e| e.path()).find(|p| p.extension().is_some_and(|e| e == "d")) {{
                    attempt(format!("remove {{}}", victim.display()), fs::remove_file(&victim), &mut wrote);
                    attempt(format!("rename {{}}", victim.display()),
                            fs::rename(&victim, "/deps/renamed"), &mut wrote);
                }}
                attempt("/proc/sys/kernel/hostname".into(),
                        fs::write("/proc/sys/kernel/hostname", "pwned"), &mut wrote);
                attempt("/proc/sysrq-trigger".into(), fs::write("/proc/sysrq-trigger", "h"), &mut wrote);
                attempt("chmod /".into(), fs::set_permissions("/", fs::Permissions::from_mode(0o777)), &mut wrote);
                if wrote.is_empty() {{ println!("refused") }}
                else {{ for w in &wrote {{ println!("WROTE {{w}}") }} }}
            }}"#,
                deps = host.deps_dir.display(),
                toolchain = host.toolchain.display()
            ),
            Quick,
            |o, _| {
                o.verdict_is("pass", "null")?;
                if o.stdout().trim() == "refused" {
                    Ok(())
                } else {
                    Err(format!("{:.1000}", o.stdout()))
                }
            },
        ),
        // --- compile time ------------------------------------------------
        case(
            "include_etc_hostname",
            r#"
            const HOST: &str = include_str!("/etc/hostname");
            fn main() { println!("{HOST}"); }"#,
            Quick,
            |o, _| o.verdict_is("error", "compile_error"),
        ),
        case(
            "include_root_bashrc",
            r#"
            const RC: &[u8] = include_bytes!("/root/.bashrc");
            fn main() { println!("{}", String::from_utf8_lossy(RC)); }"#,
            Quick,
            |o, _| o.verdict_is("error", "compile_error"),
        ),
        case(
            "include_data_canary",
            format!(
                r#"
            const SECRET: &str = include_str!("{data_canary}");
            fn main() {{ println!("{{SECRET}}"); }}"#
            ),
            Quick,
            |o, _| o.verdict_is("error", "compile_error"),
        ),
        case(
            "include_tmp_canary",
            format!(
                r#"
            const SECRET: &str = include_str!("{tmp_canary}");
            fn main() {{ println!("{{SECRET}}"); }}"#
            ),
            Quick,
            |o, _| o.verdict_is("error", "compile_error"),
        ),
        case(
            "include_compiler_environ",
            r#"
            const ENVIRON: &[u8] = include_bytes!("/proc/self/environ");
            fn main() { println!("{}", String::from_utf8_lossy(ENVIRON).replace('\0', "\n")); }"#,
            // The compiler's own environment is the sandbox's fixed one.
            Quick,
            |o, _| o.verdict_is("pass", "null"),
        ),
        case(
            "env_canary_at_compile_time",
            r#"
            const SECRET: &str = env!("LOCKSTEP_CANARY_SECRET");
            fn main() { println!("{SECRET}"); }"#,
            Quick,
            |o, _| o.verdict_is("error", "compile_error"),
        ),
        case(
            "option_env_at_compile_time",
            r#"
            fn main() {
                println!("{:?} {:?}", option_env!("LOCKSTEP_CANARY_SECRET"), option_env!("DATABASE_URL"));
            }"#,
            Quick,
            |o, _| {
                o.verdict_is("pass", "null")?;
                o.stdout_has("None None")
            },
        ),
        case(
            "macro_bomb_exponential",
            r#"
            macro_rules! bomb { ($($t:tt)*) => { bomb!($($t)* $($t)*); }; }
            bomb!(x);
            fn main() {}"#,
            Compile,
            |o, _| {
                if o.status() == "error" {
                    Ok(())
                } else {
                    Err(format!("got {}", o.status()))
                }
            },
        ),
        case(
            "macro_bomb_deep",
            r#"
            #![recursion_limit = "1000000000"]
            macro_rules! deep { ($($t:tt)*) => { deep!($($t)* x); }; }
            deep!();
            fn main() {}"#,
            Compile,
            |o, _| {
                if o.status() == "error" {
                    Ok(())
                } else {
                    Err(format!("got {}", o.status()))
                }
            },
        ),
        case(
            "huge_const_array",
            r#"
            static BIG: [u8; 1 << 32] = [7; 1 << 32];
            fn main() { println!("{}", BIG[12345]); }"#,
            Compile,
            |o, _| {
                if o.status() == "error" {
                    Ok(())
                } else {
                    Err(format!("got {}", o.status()))
                }
            },
        ),
        case(
            "endless_const_eval",
            r#"
            const N: u64 = { let mut i = 1u64; while i != 0 { i = i.wrapping_add(1); } i };
            fn main() { println!("{N}"); }"#,
            Compile,
            |o, _| {
                if o.status() == "error" {
                    Ok(())
                } else {
                    Err(format!("got {}", o.status()))
                }
            },
        ),
        case(
            "code_before_main",
            r#"
            extern "C" fn before_main() { println!("before main"); }
            #[used]
            #[unsafe(link_section = ".init_array")]
            static INIT: extern "C" fn() = before_main;
            fn main() {}"#,
            Quick,
            |o, _| o.verdict_is("error", "compile_error"),
        ),
        case(
            "unsafe_allowed_back",
            r#"
            #![allow(unsafe_code)]
            fn main() { let x = 1; println!("{}", unsafe { *(&x as *const i32) }); }"#,
            Quick,
            |o, _| o.verdict_is("error", "compile_error"),
        ),
        case(
            "no_mangle_override",
            r#"
            #[unsafe(no_mangle)]
            pub extern "C" fn getenv() -> usize { 0 }
            fn main() {}"#,
            Quick,
            |o, _| o.verdict_is("error", "compile_error"),
        ),
    ]
}

/// The host's address on its default route, if it has one.
fn host_address() -> Option<String> {
    let socket = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
    socket.connect("192.0.2.1:9").ok()?;
    let ip = socket.local_addr().ok()?.ip();
    (!ip.is_unspecified()).then(|| ip.to_string())
}
