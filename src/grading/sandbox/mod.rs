//! The sandbox: the one way learner code is compiled and run.
//!
//! Compiling Rust runs the learner's code already (macros, `include_str!`,
//! `env!`, const evaluation), so every step of a job — compile and run —
//! happens inside the same isolation:
//!
//! * private user, mount, pid, network, IPC and UTS namespaces; only loopback
//!   is up, so a test may start a local mock server and reach nothing else;
//! * a fresh root filesystem holding `/usr` (the linker), the toolchain and
//!   the dependency cache read-only, and a size-capped scratch `/job`; no host
//!   `/tmp`, `/home`, `/root`, data dir, database socket or secret is visible;
//! * a fixed environment, no capabilities, `no_new_privs`, no nested user
//!   namespaces, and rlimits on CPU, address space, processes, file size and
//!   open files; the wall clock is enforced from outside the job's processes;
//! * a seccomp filter on every step ([`seccomp`]) keeps rarely needed kernel
//!   interfaces (io_uring, BPF, keyrings, userfaultfd, perf, mounts,
//!   namespaces, module loading, exotic socket families) out of reach;
//! * learner code runs in a second, minimal root ([`Isolation::Run`]): only
//!   its own binary (execute-only), the C runtime and a fresh scratch
//!   directory; no `/proc`, no shell, interpreter or compiler, and it cannot
//!   start processes;
//! * when the job ends, its PID namespace is torn down: every process dies.
//!
//! The work happens in a helper process (`lockstep __sandbox`, see
//! [`init`]) started from this module. On its stdin it reads a
//! [`SandboxSpec`] (a little-endian `u32` length, then JSON), builds the
//! sandbox, then reads the job's steps (JSON, to end of input); it answers
//! with a [`JobReport`] on stdout and closes it before the namespaces are
//! torn down, so nobody waits for that. A helper can thus be started before
//! its job arrives ([`warm`]). When Lockstep runs as root the
//! job's processes run as an unprivileged host uid, so process limits bite.

pub mod cgroup;
pub mod init;
mod root;
mod seccomp;
pub mod warm;

use std::io::{BufRead, Read, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use super::job::Phase;

/// Where things are inside the sandbox.
pub mod paths {
    /// The Rust toolchain (sysroot), read-only.
    pub const TOOLCHAIN: &str = "/toolchain";
    /// The prebuilt dependency rlibs, read-only.
    pub const DEPS: &str = "/deps";
    /// The job's scratch directory (the working directory of every step).
    pub const JOB: &str = "/job";
    /// Where a run step finds the binary it runs: the same path for every
    /// run, so a program cannot tell builds apart by its own name.
    pub const PROGRAM: &str = "/run/program";
    /// The descriptor on which a run step's trusted harness reports results.
    pub const RESULTS_FD: i32 = 3;
}

/// Resource limits of one step.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct Limits {
    /// Wall-clock time.
    pub wall_ms: u64,
    /// CPU seconds (all threads).
    pub cpu_seconds: u64,
    /// Address space, in MiB.
    pub memory_mb: u64,
    /// Processes and threads.
    pub processes: u64,
    /// Largest file a step may write, in MiB.
    pub file_size_mb: u64,
    /// Open files.
    pub open_files: u64,
    /// Bytes of stdout and of stderr kept; more is cut off with a marker.
    pub output_bytes: usize,
}

impl Limits {
    /// Defaults for compilation.
    pub const COMPILE: Limits = Limits {
        wall_ms: 30_000,
        cpu_seconds: 60,
        memory_mb: 1536,
        processes: 64,
        file_size_mb: 256,
        open_files: 256,
        output_bytes: 256 * 1024,
    };
    /// Defaults for running learner code.
    pub const RUN: Limits = Limits {
        wall_ms: 10_000,
        cpu_seconds: 20,
        memory_mb: 512,
        processes: 64,
        file_size_mb: 16,
        open_files: 256,
        output_bytes: 64 * 1024,
    };
}

/// A file the sandbox writes into `/job` before a step.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JobFile {
    /// Path relative to `/job`.
    pub path: String,
    /// Contents.
    pub contents: String,
}

/// Where a step runs, and so what it can see and do.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Isolation {
    /// The compilers' root: `/usr` (the linker), the toolchain, the
    /// dependency cache and the job's `/job`; may start processes.
    Toolchain,
    /// Learner code: a fresh root per step holding only `binary` (a file
    /// under `/job`, shown execute-only at [`paths::PROGRAM`]), the C
    /// runtime, a few devices and an empty `/job`. No `/proc`, no helper
    /// programs, no new processes. With `results`, a pipe is open on
    /// [`paths::RESULTS_FD`] for the trusted test harness.
    Run {
        /// The program, relative to `/job`.
        binary: String,
        /// Whether to open the results pipe.
        results: bool,
    },
}

impl Isolation {
    /// The phase of a job a step in this isolation is part of: compiling
    /// in the compilers' root, running in a run root.
    pub fn phase(&self) -> Phase {
        match self {
            Isolation::Toolchain => Phase::Compiling,
            Isolation::Run { .. } => Phase::Running,
        }
    }
}

/// One program run inside the sandbox.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Step {
    /// A name for logs and reports (`compile`, `test`…).
    pub name: String,
    /// Where it runs.
    pub isolation: Isolation,
    /// Files to write before the step runs.
    pub write: Vec<JobFile>,
    /// Files to delete before the step runs (e.g. test sources before the run).
    pub delete: Vec<String>,
    /// Program and arguments (absolute paths inside the sandbox). For
    /// [`Isolation::Run`] the program is always [`paths::PROGRAM`] and
    /// `argv` holds only its arguments.
    pub argv: Vec<String>,
    /// Environment, on top of the fixed base (PATH, HOME, TMPDIR, LANG).
    pub env: Vec<(String, String)>,
    /// Limits.
    pub limits: Limits,
    /// Stop the job after this step unless it exits 0.
    pub must_succeed: bool,
    /// The file this step makes, for the build cache: sent back with the
    /// report when the step succeeds, or, for a step already built, sent
    /// in with the job instead of running the step.
    #[serde(default)]
    pub artifact: Option<Artifact>,
}

/// What a step makes (a compiled library or binary), and whether the host
/// already has it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Artifact {
    /// Path relative to `/job`.
    pub path: String,
    /// The host sends the file (after the steps, see [`Started::finish`]);
    /// the step only writes and deletes its files and is reported as
    /// succeeded, without running.
    pub reuse: bool,
}

/// The sandbox a helper builds, before it knows its job: sent first, so a
/// helper can be started ahead of its job ([`warm`]).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SandboxSpec {
    /// Host directory of the toolchain (bound read-only at [`paths::TOOLCHAIN`]).
    pub toolchain: PathBuf,
    /// Host directory of the dependency rlibs (bound read-only at [`paths::DEPS`]).
    pub deps: PathBuf,
    /// Size of `/job`, in MiB.
    pub scratch_mb: u64,
    /// The job's budget, for its cgroup.
    pub budget: Budget,
    /// Refuse to run when no cgroup can be made for the job (memory,
    /// process and CPU budgets fail closed).
    pub require_cgroup: bool,
    /// CPU bandwidth of the whole job, in CPUs (0: no limit).
    pub cpus: u32,
}

/// What the steps of one job may use at most, together: the job's cgroup
/// gets this plus its `/job` and the sandbox's own processes.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct Budget {
    /// Memory of the largest step, in MiB.
    pub memory_mb: u64,
    /// Processes and threads of the largest step.
    pub processes: u64,
}

impl Budget {
    /// The budget `steps` need.
    pub fn of(steps: &[Step]) -> Self {
        Self {
            memory_mb: steps.iter().map(|s| s.limits.memory_mb).max().unwrap_or(0),
            processes: steps.iter().map(|s| s.limits.processes).max().unwrap_or(0),
        }
    }

    /// Whether `other` fits in this budget.
    pub fn covers(&self, other: &Budget) -> bool {
        other.memory_mb <= self.memory_mb && other.processes <= self.processes
    }
}

/// How a step ended.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Exit {
    /// Exited with this code.
    Code(i32),
    /// Killed by this signal.
    Signal(i32),
    /// Killed for exceeding its wall-clock limit.
    Timeout,
    /// Killed for writing more output than allowed.
    OutputLimit,
    /// Not run because an earlier step failed.
    Skipped,
}

/// The outcome of one step.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StepReport {
    /// The step's name.
    pub name: String,
    /// What the step was part of.
    #[serde(default = "compiling")]
    pub phase: Phase,
    /// How it ended.
    pub exit: Exit,
    /// Captured stdout (lossy UTF-8, capped).
    pub stdout: String,
    /// Captured stderr (lossy UTF-8, capped).
    pub stderr: String,
    /// What the trusted harness reported on the results pipe
    /// ([`Isolation::Run`] with `results` only).
    #[serde(default)]
    pub results: String,
    /// Whether output was cut off.
    pub truncated: bool,
    /// Wall-clock time.
    pub wall_ms: u64,
    /// CPU time used (user + system) by the step's processes.
    pub cpu_ms: u64,
    /// Killed by the kernel for exceeding the job's memory budget.
    #[serde(default)]
    pub oom_killed: bool,
    /// Not run: its artifact came from the build cache.
    #[serde(default)]
    pub reused: bool,
    /// Its artifact was sent back (it succeeded and was not reused).
    #[serde(default)]
    pub artifact_sent: bool,
}

impl StepReport {
    /// The report of `step` when it did not run.
    pub fn not_run(step: &Step, exit: Exit) -> Self {
        Self {
            name: step.name.clone(),
            phase: step.isolation.phase(),
            exit,
            stdout: String::new(),
            stderr: String::new(),
            results: String::new(),
            truncated: false,
            wall_ms: 0,
            cpu_ms: 0,
            oom_killed: false,
            reused: false,
            artifact_sent: false,
        }
    }

    /// Whether the step exited 0.
    pub fn succeeded(&self) -> bool {
        self.exit == Exit::Code(0)
    }

    /// Whether the seccomp filter stopped the step (SIGSYS): it made a
    /// system call no solution needs.
    pub fn blocked_syscall(&self) -> bool {
        self.exit == Exit::Signal(libc::SIGSYS)
    }

    /// Whether the step looks like it ran out of memory: killed by the kernel,
    /// or the Rust allocator giving up under the address-space limit.
    pub fn out_of_memory(&self) -> bool {
        self.stderr.contains("memory allocation of")
            || self.stderr.contains("failed to allocate")
            || self.stderr.contains("Cannot allocate memory")
            || self.stderr.contains("out of memory")
            || self.oom_killed
    }
}

/// The helper's answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JobReport {
    /// One report per step (skipped steps included).
    pub steps: Vec<StepReport>,
    /// Time to set the sandbox up.
    pub setup_ms: u64,
    /// Whether the kernel killed a process of the job for exceeding the
    /// job's cgroup memory budget (only known where cgroups are used).
    #[serde(default)]
    pub oom_killed: bool,
}

/// Runs jobs: knows where the helper binary, toolchain and dependency cache are.
#[derive(Debug, Clone)]
pub struct Sandbox {
    /// The `lockstep` binary (its `__sandbox` command is the helper).
    pub helper: PathBuf,
    /// Host path of the toolchain's sysroot.
    pub toolchain: PathBuf,
    /// Host path of the dependency rlibs.
    pub deps: PathBuf,
    /// Whether a job must get a cgroup (see [`SandboxSpec::require_cgroup`]).
    pub require_cgroup: bool,
    /// CPU bandwidth per job (see [`SandboxSpec::cpus`]).
    pub cpus: u32,
}

/// The name of the hidden command that runs [`init::main`].
pub const HELPER_COMMAND: &str = "__sandbox";

/// Follows what the job is doing (for live progress): it holds the latest
/// [`Phase`], so a slow reader skips states rather than queueing them.
pub type Progress = tokio::sync::watch::Sender<Phase>;

fn compiling() -> Phase {
    Phase::Compiling
}

/// What the helper tells the host while a job runs, one JSON object a line
/// on its stderr (only PID 1 of the job writes there; the steps' own output
/// goes to separate pipes, so learner code cannot forge these).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum SandboxEvent {
    /// Step `index` is starting.
    StepStarted {
        /// Its position in the job.
        index: usize,
        /// What it is part of.
        phase: Phase,
    },
}

/// Largest report the helper may send back.
const MAX_REPORT_BYTES: u32 = 8 * 1024 * 1024;
/// Largest artifact sent either way (a test binary is some tens of MiB).
pub const MAX_ARTIFACT_BYTES: u64 = 512 * 1024 * 1024;

/// File contents (shown by size, not byte by byte).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Bytes(pub Vec<u8>);

impl std::fmt::Debug for Bytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "<{} bytes>", self.0.len())
    }
}

/// Writes a `u32` length, then `bytes`.
pub(crate) fn write_frame(out: &mut impl Write, bytes: &[u8]) -> std::io::Result<()> {
    let length = u32::try_from(bytes.len()).map_err(std::io::Error::other)?;
    out.write_all(&length.to_le_bytes())?;
    out.write_all(bytes)
}

/// Reads what [`write_frame`] wrote, refusing more than `max` bytes.
pub(crate) fn read_frame(input: &mut impl Read, max: u32) -> std::io::Result<Vec<u8>> {
    let mut length = [0u8; 4];
    input.read_exact(&mut length)?;
    let length = u32::from_le_bytes(length);
    if length > max {
        return Err(std::io::Error::other(format!(
            "{length} bytes is too large"
        )));
    }
    let mut bytes = vec![0u8; length as usize];
    input.read_exact(&mut bytes)?;
    Ok(bytes)
}

/// Copies an artifact: a `u64` length, then its bytes.
pub(crate) fn copy_artifact(
    input: &mut impl Read,
    out: &mut impl Write,
    length: u64,
) -> std::io::Result<()> {
    if length > MAX_ARTIFACT_BYTES {
        return Err(std::io::Error::other("artifact too large"));
    }
    out.write_all(&length.to_le_bytes())?;
    let copied = std::io::copy(&mut input.take(length), out)?;
    if copied != length {
        return Err(std::io::Error::other("artifact cut short"));
    }
    Ok(())
}

/// Copies what [`copy_artifact`] wrote into `out` (in the kernel where it can).
pub(crate) fn copy_artifact_out(
    input: &mut std::fs::File,
    out: &mut std::fs::File,
) -> std::io::Result<()> {
    let length = read_artifact_length(input)?;
    if std::io::copy(&mut input.take(length), out)? != length {
        return Err(std::io::Error::other("artifact cut short"));
    }
    Ok(())
}

/// The length [`copy_artifact`] wrote before an artifact, within bounds.
pub(crate) fn read_artifact_length(input: &mut impl Read) -> std::io::Result<u64> {
    let mut length = [0u8; 8];
    input.read_exact(&mut length)?;
    let length = u64::from_le_bytes(length);
    if length > MAX_ARTIFACT_BYTES {
        return Err(std::io::Error::other("artifact too large"));
    }
    Ok(length)
}

/// Reads what [`copy_artifact`] wrote.
pub(crate) fn read_artifact(input: &mut impl Read) -> std::io::Result<Vec<u8>> {
    let length = read_artifact_length(input)?;
    let mut bytes = Vec::with_capacity(length as usize);
    input.take(length).read_to_end(&mut bytes)?;
    if bytes.len() as u64 != length {
        return Err(std::io::Error::other("artifact cut short"));
    }
    Ok(bytes)
}

impl Sandbox {
    /// Runs `steps` in a fresh sandbox with a `scratch_mb` MiB `/job`,
    /// sending each step's name to `progress` as it starts.
    /// Blocking: call it from `spawn_blocking`.
    pub fn run(
        &self,
        steps: Vec<Step>,
        scratch_mb: u64,
        progress: Option<&Progress>,
    ) -> Result<JobReport> {
        self.start(scratch_mb, Budget::of(&steps))?
            .finish(steps, Vec::new(), progress)
    }

    /// Starts a helper that builds a sandbox with `budget` and waits for
    /// its job ([`Started::finish`]).
    pub fn start(&self, scratch_mb: u64, budget: Budget) -> Result<Started> {
        let spec = serde_json::to_vec(&SandboxSpec {
            toolchain: self.toolchain.clone(),
            deps: self.deps.clone(),
            scratch_mb,
            budget,
            require_cgroup: self.require_cgroup,
            cpus: self.cpus,
        })?;
        let mut command = Command::new(&self.helper);
        // SAFETY: prctl is async-signal-safe. If the thread that started the
        // helper goes away (or the process exits), the helper and its whole
        // sandbox die with it.
        unsafe {
            command.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let mut child = command
            .arg(HELPER_COMMAND)
            .env_clear()
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| {
                format!("cannot start the sandbox helper {}", self.helper.display())
            })?;
        let mut stdin = child.stdin.take().context("helper stdin")?;
        // Small enough for the pipe's buffer: this does not wait for the helper.
        write_frame(&mut stdin, &spec)?;
        Ok(Started { child, stdin })
    }
}

/// What a sandbox sends back, in order: each artifact as soon as the step
/// that made it has succeeded (the frame, then its bytes as
/// [`copy_artifact`] writes them), then the job's report.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum Sent {
    /// Step `index` made an artifact; `step` is its report.
    Artifact { index: usize, step: StepReport },
    /// The job is over.
    Report(JobReport),
}

/// Takes each artifact a job sends back (step index, the step's report and
/// the contents) as it arrives, on a thread of its own; dropped once the
/// job has sent everything.
pub type KeepArtifacts = Box<dyn FnMut(usize, &StepReport, Bytes) + Send>;

/// A helper building (or done building) a sandbox, waiting for its job.
/// Dropping it ends the helper.
#[derive(Debug)]
pub struct Started {
    child: std::process::Child,
    stdin: std::process::ChildStdin,
}

impl Started {
    /// Whether the helper is still there to take a job.
    pub fn is_alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Runs `steps` in this sandbox, sending each step's phase to
    /// `progress` as it starts. `reused` holds the artifact of each step
    /// marked [`Artifact::reuse`], in order: a file and its length.
    /// Blocking: call it from `spawn_blocking`.
    pub fn finish(
        self,
        steps: Vec<Step>,
        reused: Vec<(std::fs::File, u64)>,
        progress: Option<&Progress>,
    ) -> Result<JobReport> {
        self.finish_keeping(steps, reused, progress, None)
    }

    /// [`Self::finish`], giving each artifact to `keep` as it arrives
    /// (while the job's later steps still run); without `keep` they are
    /// dropped.
    pub fn finish_keeping(
        self,
        steps: Vec<Step>,
        reused: Vec<(std::fs::File, u64)>,
        progress: Option<&Progress>,
        keep: Option<KeepArtifacts>,
    ) -> Result<JobReport> {
        let Started {
            mut child,
            mut stdin,
        } = self;
        let deadline: u64 = steps.iter().map(|s| s.limits.wall_ms).sum::<u64>() + 10_000;
        let steps = serde_json::to_vec(&steps)?;
        let mut stdout = child.stdout.take().context("helper stdout")?;
        let mut stderr = child.stderr.take().context("helper stderr")?;
        // Write the job and read both pipes on threads, so neither side
        // blocks on a full pipe; the wall-clock guard below bounds the job.
        let writer = std::thread::spawn(move || -> std::io::Result<()> {
            write_frame(&mut stdin, &steps)?;
            for (mut file, length) in reused {
                copy_artifact(&mut file, &mut stdin, length)?;
            }
            Ok(())
        });
        let (report_sender, report_receiver) = std::sync::mpsc::channel::<Result<JobReport>>();
        std::thread::spawn(move || {
            // Artifacts are kept on a thread of their own (written to the
            // build cache while the tests run), so the report never waits
            // behind a write to disk.
            let (artifact_sender, artifacts) =
                std::sync::mpsc::channel::<(usize, StepReport, Bytes)>();
            if let Some(mut keep) = keep {
                std::thread::spawn(move || {
                    for (index, step, artifact) in artifacts {
                        keep(index, &step, artifact);
                    }
                });
            }
            let read = (|| -> Result<JobReport> {
                loop {
                    let frame = read_frame(&mut stdout, MAX_REPORT_BYTES)?;
                    match serde_json::from_slice::<Sent>(&frame)? {
                        Sent::Artifact { index, step } => {
                            let artifact = Bytes(read_artifact(&mut stdout)?);
                            let _ = artifact_sender.send((index, step, artifact));
                        }
                        Sent::Report(report) => return Ok(report),
                    }
                }
            })();
            drop(artifact_sender);
            let _ = report_sender.send(read);
        });
        let progress = progress.cloned();
        let err_reader = std::thread::spawn(move || {
            let mut err = Vec::new();
            for line in std::io::BufReader::new(stderr.by_ref().take(1024 * 1024))
                .split(b'\n')
                .map_while(Result::ok)
            {
                match (serde_json::from_slice::<SandboxEvent>(&line), &progress) {
                    (Ok(SandboxEvent::StepStarted { phase, .. }), Some(progress)) => {
                        progress.send_replace(phase);
                    }
                    (Ok(_), None) => {}
                    (Err(_), _) if err.len() < 64 * 1024 => {
                        err.extend_from_slice(&line);
                        err.push(b'\n');
                    }
                    (Err(_), _) => {}
                }
            }
            err
        });
        // The helper sends the report before tearing the sandbox down (or
        // closes its stdout when it dies).
        let read = match report_receiver.recv_timeout(Duration::from_millis(deadline)) {
            Ok(read) => read,
            Err(_) => {
                // Killing the helper kills the whole sandbox (parent-death signals).
                let _ = child.kill();
                let _ = child.wait();
                bail!("the sandbox helper did not finish within {deadline} ms");
            }
        };
        let _ = writer.join();
        let mut report = match read {
            Ok(report) => report,
            Err(_) => {
                let status = child.wait()?;
                let err = err_reader.join().unwrap_or_default();
                bail!(
                    "the sandbox failed ({status}): {}",
                    String::from_utf8_lossy(&err).trim()
                );
            }
        };
        // The helper is tearing the sandbox down; collect it when it is done.
        std::thread::spawn(move || child.wait());
        if report.oom_killed {
            // The cgroup says the OOM killer struck; its victims died of SIGKILL.
            for step in &mut report.steps {
                step.oom_killed = step.exit == Exit::Signal(libc::SIGKILL);
            }
        }
        Ok(report)
    }
}

/// Finds the sysroot of the `rustc` that builds the dependency cache.
pub fn find_toolchain(workspace: &Path) -> Result<PathBuf> {
    let output = Command::new("rustc")
        .args(["--print", "sysroot"])
        .current_dir(workspace)
        .output()
        .context("cannot run rustc (is a Rust toolchain installed?)")?;
    if !output.status.success() {
        bail!(
            "rustc --print sysroot failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(PathBuf::from(String::from_utf8(output.stdout)?.trim()))
}
