//! The sandbox helper (`lockstep __sandbox`): builds the isolated environment
//! and runs a job's steps in it.
//!
//! Process tree, each stage killed if its parent dies (`PR_SET_PDEATHSIG`):
//!
//! ```text
//! helper (host)          reads the sandbox's spec; writes the uid/gid maps; relays
//!                        the report, closes stdout, then tears down (cgroup)
//!  └─ stage 2            new user, mount, net, ipc, uts, pid namespaces; builds the root fs
//!      └─ stage 3        PID 1 of the job: mounts /proc, pivots into the root, then reads
//!                        the job's steps (the sandbox may be built before they come) and runs each
//!          └─ step       (run steps: a minimal root of its own), rlimits, no capabilities,
//!                        no_new_privs, seccomp, exec the program
//! ```
//!
//! The helper is a fresh single-threaded process, so `fork` is safe here.
//! As root the host paths (the toolchain under `~/.rustup` may sit in a
//! directory the sandbox uid cannot enter) are bound before the user
//! namespace is entered; see [`stage2`].

use std::ffi::CString;
use std::fs;
use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use nix::fcntl::{OFlag, open};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sched::{CloneFlags, unshare};
use nix::sys::prctl;
use nix::sys::resource::{Resource, UsageWho, getrusage, setrlimit};
use nix::sys::signal::{Signal, kill};
use nix::sys::stat::Mode;
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::{
    ForkResult, Gid, Pid, Uid, chdir, execve, fork, pipe2, sethostname, setresgid, setresuid,
};
use seccompiler::BpfProgram;

use super::cgroup::JobCgroup;
use super::root::{enter_root, enter_run_root, job_path, stage_root, stage_run_template};
use super::{
    Exit, Isolation, JobReport, SandboxEvent, SandboxSpec, Sent, Step, StepReport, copy_artifact,
    copy_artifact_out, paths, read_artifact_length, read_frame, seccomp, write_frame,
};

/// Host uids `BASE..BASE+RANGE` run jobs when Lockstep runs as root, so that
/// per-user process limits apply and no job's files belong to real root.
const SANDBOX_UID_BASE: u32 = 200_000;
const SANDBOX_UID_RANGE: u32 = 100_000;
/// The fixed environment of every step, before the step's own variables.
const BASE_ENV: &[(&str, &str)] = &[
    ("PATH", "/usr/local/bin:/usr/bin:/bin"),
    ("HOME", "/job"),
    ("TMPDIR", "/job/tmp"),
    ("LANG", "C.UTF-8"),
    ("USER", "learner"),
    // glibc reserves 64 MiB of address space per malloc arena; keep the
    // address-space limit about real memory.
    ("MALLOC_ARENA_MAX", "2"),
];
/// A stream may run this many times past its cap before the step is killed.
const FLOOD_FACTOR: usize = 16;

/// Entry point of `lockstep __sandbox`: the sandbox's spec, then the
/// job's steps on stdin; the report on stdout.
pub fn main() -> std::process::ExitCode {
    match run_helper() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("sandbox: {error:#}");
            std::process::ExitCode::from(1)
        }
    }
}

fn run_helper() -> Result<()> {
    let started = Instant::now();
    let spec = read_spec()?;

    let root = Uid::effective().is_root();
    let (outer_uid, outer_gid) = if root {
        let id = SANDBOX_UID_BASE + std::process::id() % SANDBOX_UID_RANGE;
        (id, id)
    } else {
        (Uid::current().as_raw(), Gid::current().as_raw())
    };
    // Unprivileged, the process limit counts the user's other processes too.
    let existing_tasks = if root { 0 } else { count_tasks_of(outer_uid) };

    let (joined_r, joined_w) = pipe2(OFlag::O_CLOEXEC)?;
    let (ready_r, ready_w) = pipe2(OFlag::O_CLOEXEC)?;
    let (go_r, go_w) = pipe2(OFlag::O_CLOEXEC)?;
    let (report_r, report_w) = pipe2(OFlag::O_CLOEXEC)?;
    // SAFETY: the helper is single-threaded (it is a fresh process that has
    // started no threads), so the child may run arbitrary code after fork.
    match unsafe { fork() }? {
        ForkResult::Child => {
            drop((joined_w, ready_r, go_w, report_r));
            // Only this process answers on stdout, and it closes stdout
            // before the teardown; the sandbox must not hold it open.
            let pipes = Stage2Pipes {
                joined: joined_r,
                ready: ready_w,
                go: go_r,
                report: report_w,
            };
            let code =
                match silence_stdout().and_then(|()| stage2(&spec, root, pipes, existing_tasks)) {
                    Ok(()) => 0,
                    Err(error) => {
                        eprintln!("sandbox setup: {error:#}");
                        1
                    }
                };
            // SAFETY: _exit skips atexit handlers and buffers we do not own.
            unsafe { libc::_exit(code) }
        }
        ForkResult::Parent { child } => {
            drop((joined_r, ready_w, go_r, report_w));
            // One memory and process budget for the whole job, where we may.
            // Joining a cgroup waits for the kernel (an RCU grace period
            // under v1, ~20 ms), so it is done while the child stages the
            // root; the child enters its own cgroup namespace only after,
            // so the job sees its cgroup as the root of the hierarchy.
            let budget_mb = spec.budget.memory_mb + spec.scratch_mb + 64;
            let processes = spec.budget.processes + 8;
            // Not the pid alone: pids wrap around (fast under a fork bomb)
            // while an earlier job's cgroup may still be on its way out.
            let cgroup_name = format!(
                "{child}-{}",
                &uuid::Uuid::new_v4().simple().to_string()[..12]
            );
            let cgroup =
                JobCgroup::create(&cgroup_name, budget_mb * 1024 * 1024, processes, spec.cpus);
            if cgroup.is_none() && spec.require_cgroup {
                bail!(
                    "no cgroup can be made for the job, so its memory, process and CPU budgets cannot be enforced; \
                     run Lockstep as root or in a delegated cgroup (see the README), or accept rlimits only with --allow-no-cgroup"
                );
            }
            if let Some(cgroup) = &cgroup {
                cgroup
                    .add(child.as_raw())
                    .context("cannot enter the job's cgroup")?;
            }
            fs::File::from(joined_w).write_all(&[1])?;
            let mut byte = [0u8; 1];
            fs::File::from(ready_r)
                .read_exact(&mut byte)
                .context("the sandbox did not start")?;
            // Map the job's root to an unprivileged host id.
            fs::write(format!("/proc/{child}/setgroups"), "deny")?;
            fs::write(
                format!("/proc/{child}/uid_map"),
                format!("0 {outer_uid} 1\n"),
            )?;
            fs::write(
                format!("/proc/{child}/gid_map"),
                format!("0 {outer_gid} 1\n"),
            )?;
            let setup_started = started.elapsed();
            fs::File::from(go_w).write_all(&[1])?;
            let mut from_job = fs::File::from(report_r);
            let mut stdout = std::io::stdout().lock();
            // Artifacts are passed on as they come; the report last.
            let mut report = loop {
                let Ok(frame) = read_frame(&mut from_job, 16 * 1024 * 1024) else {
                    drop(stdout);
                    let status = waitpid(child, None)?;
                    bail!("the sandbox ended without a report ({status:?})");
                };
                match serde_json::from_slice::<Sent>(&frame).context("unreadable sandbox report")? {
                    Sent::Artifact { .. } => {
                        write_frame(&mut stdout, &frame)?;
                        let length = read_artifact_length(&mut from_job)?;
                        copy_artifact(&mut from_job, &mut stdout, length)?;
                        stdout.flush()?;
                    }
                    Sent::Report(report) => break report,
                }
            };
            report.setup_ms += setup_started.as_millis() as u64;
            report.oom_killed = cgroup.as_ref().is_some_and(JobCgroup::oom_killed);
            // Answer now: the teardown below (namespaces, cgroup) is nobody's wait.
            write_frame(&mut stdout, &serde_json::to_vec(&Sent::Report(report))?)?;
            stdout.flush()?;
            drop(stdout);
            silence_stdout()?;
            waitpid(child, None)?;
            if let Some(cgroup) = cgroup {
                cgroup.remove();
            }
            Ok(())
        }
    }
}

/// New namespaces and the job's root filesystem; then forks PID 1 of the job.
///
/// As root, the root filesystem is staged first in a private mount namespace
/// (as root, so the toolchain under `/root` is reachable), and the user
/// namespace comes after: the binds are then locked read-only for the job.
/// Unprivileged, the user namespace comes first and the user's own
/// permissions reach the toolchain.
/// The pipes between the helper and the sandbox it builds.
struct Stage2Pipes {
    /// The helper put the child in the job's cgroup.
    joined: OwnedFd,
    /// The child made its namespaces (the helper may now map its ids).
    ready: OwnedFd,
    /// The ids are mapped.
    go: OwnedFd,
    /// The job's report and artifacts.
    report: OwnedFd,
}

fn stage2(
    spec: &SandboxSpec,
    as_root: bool,
    pipes: Stage2Pipes,
    existing_tasks: u64,
) -> Result<()> {
    let Stage2Pipes {
        joined,
        ready,
        go,
        report,
    } = pipes;
    prctl::set_pdeathsig(Signal::SIGKILL)?;
    let setup_started = Instant::now();
    let isolation = CloneFlags::CLONE_NEWUSER
        | CloneFlags::CLONE_NEWNS
        | CloneFlags::CLONE_NEWNET
        | CloneFlags::CLONE_NEWIPC
        | CloneFlags::CLONE_NEWUTS
        | CloneFlags::CLONE_NEWPID
        | CloneFlags::CLONE_NEWCGROUP;
    if as_root {
        unshare(CloneFlags::CLONE_NEWNS).context("new mount namespace")?;
        stage_root(spec)?;
    }
    let mut byte = [0u8; 1];
    fs::File::from(joined)
        .read_exact(&mut byte)
        .context("not put in the job's cgroup")?;
    unshare(isolation)
        .context("cannot create namespaces (are unprivileged user namespaces disabled?)")?;
    fs::File::from(ready).write_all(&[1])?;
    fs::File::from(go)
        .read_exact(&mut byte)
        .context("no uid map")?;
    setresgid(Gid::from_raw(0), Gid::from_raw(0), Gid::from_raw(0))?;
    setresuid(Uid::from_raw(0), Uid::from_raw(0), Uid::from_raw(0))?;
    if !as_root {
        stage_root(spec)?;
    }
    sethostname("sandbox")?;
    loopback_up()?;
    let setup_ms = setup_started.elapsed().as_millis() as u64;

    // SAFETY: still single-threaded.
    match unsafe { fork() }? {
        ForkResult::Child => {
            let mut out = fs::File::from(report);
            let result = stage3(spec, existing_tasks, &mut out).and_then(|mut job_report| {
                job_report.setup_ms = setup_ms;
                let sent = Sent::Report(job_report);
                Ok(write_frame(&mut out, &serde_json::to_vec(&sent)?)?)
            });
            let code = match result {
                Ok(()) => 0,
                Err(error) => {
                    eprintln!("sandbox: {error:#}");
                    1
                }
            };
            // SAFETY: see above.
            unsafe { libc::_exit(code) }
        }
        ForkResult::Parent { child } => {
            drop(report);
            waitpid(child, None)?;
            Ok(())
        }
    }
}

/// PID 1 of the job: mounts `/proc`, then runs the steps one after another,
/// sending each artifact to `out` as soon as its step has made it.
fn stage3(spec: &SandboxSpec, existing_tasks: u64, out: &mut fs::File) -> Result<JobReport> {
    prctl::set_pdeathsig(Signal::SIGKILL)?;
    // Nothing in the job may ptrace or read the memory of this process.
    prctl::set_dumpable(false)?;
    // The kernel ignores every signal the job sends to its PID 1 only while
    // that signal's disposition is the default. The Rust runtime installs
    // handlers (SIGSEGV, SIGBUS for stack overflows) and ignores SIGPIPE;
    // with those, `kill -SEGV 1` from the job interrupts our waits (EINTR)
    // and the job ends without a report. Back to defaults, so no signal from
    // inside reaches this process (and steps inherit no ignored SIGPIPE).
    for signal in Signal::iterator().filter(|s| !matches!(s, Signal::SIGKILL | Signal::SIGSTOP)) {
        // SAFETY: restoring the default disposition installs no handler code.
        let _ = unsafe { nix::sys::signal::signal(signal, nix::sys::signal::SigHandler::SigDfl) };
    }
    enter_root(spec)?;
    stage_run_template()?;
    // No nested user namespaces: they would hand the job capabilities again.
    let _ = fs::write("/proc/sys/user/max_user_namespaces", "0");
    // System V IPC lives outside the address space and the file-size limit:
    // a job could hold gigabytes of shared memory (or message queues) that
    // no rlimit counts. The job's IPC namespace gets none.
    for (sysctl, value) in [
        ("kernel/shmmni", "0"),
        ("kernel/msgmni", "0"),
        ("kernel/sem", "0 0 0 0"),
    ] {
        let _ = fs::write(Path::new("/proc/sys").join(sysctl), value);
    }

    let filters = Filters {
        toolchain: seccomp::filters(&Isolation::Toolchain)?,
        run: seccomp::filters(&Isolation::Run {
            binary: String::new(),
            results: false,
        })?,
    };
    // The sandbox is ready: now the job (the helper may have been started
    // before it arrived).
    let job = read_job()?;
    let mut steps = Vec::with_capacity(job.len());
    let mut stopped = false;
    for (index, step) in job.iter().enumerate() {
        if stopped {
            steps.push(StepReport::not_run(step, Exit::Skipped));
            continue;
        }
        prepare_files(step)?;
        if step.artifact.as_ref().is_some_and(|a| a.reuse) {
            let mut report = StepReport::not_run(step, Exit::Code(0));
            report.reused = true;
            steps.push(report);
            continue;
        }
        let event = SandboxEvent::StepStarted {
            index,
            phase: step.isolation.phase(),
        };
        eprintln!("{}", serde_json::to_string(&event)?);
        let filters = match step.isolation {
            Isolation::Toolchain => &filters.toolchain,
            Isolation::Run { .. } => &filters.run,
        };
        let mut report = run_step(step, filters, existing_tasks)?;
        if report.succeeded()
            && let Some(artifact) = &step.artifact
            && let Ok(path) = job_path(&artifact.path)
            && path.is_file()
        {
            // Sent before any later step runs: what the cache keeps is
            // what the compiler made, whatever the job's own code does next.
            report.artifact_sent = true;
            send_artifact(out, index, &report, &path)?;
        }
        stopped = step.must_succeed && !report.succeeded();
        steps.push(report);
    }
    Ok(JobReport {
        steps,
        setup_ms: 0,
        oom_killed: false,
    })
}

/// The helper's stdin, unbuffered: the spec is read by the helper and the
/// steps by PID 1 of the job, so nobody may read ahead of their part.
fn input() -> std::mem::ManuallyDrop<fs::File> {
    // SAFETY: descriptor 0 is our stdin for the whole life of the process;
    // ManuallyDrop keeps this handle from closing it.
    std::mem::ManuallyDrop::new(unsafe { fs::File::from_raw_fd(0) })
}

/// The sandbox's spec (a frame of JSON).
fn read_spec() -> Result<SandboxSpec> {
    let spec = read_frame(&mut *input(), 1024 * 1024).context("no sandbox spec")?;
    serde_json::from_slice(&spec).context("bad sandbox spec")
}

/// The job: its steps (a frame of JSON), then the artifact of each step
/// to reuse, written where the step would have made it.
fn read_job() -> Result<Vec<Step>> {
    let steps = read_frame(&mut *input(), 32 * 1024 * 1024).context("no job")?;
    let steps: Vec<Step> = serde_json::from_slice(&steps).context("bad job steps")?;
    for artifact in steps.iter().filter_map(|s| s.artifact.as_ref()) {
        if !artifact.reuse {
            continue;
        }
        let path = job_path(&artifact.path)?;
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)?;
        }
        let mut file = fs::File::create(&path)?;
        copy_artifact_out(&mut input(), &mut file).context("an artifact to reuse")?;
        file.set_permissions(fs::Permissions::from_mode(0o755))?;
    }
    Ok(steps)
}

/// The artifact of step `index` at `path`: a frame naming it, then its bytes.
fn send_artifact(out: &mut fs::File, index: usize, step: &StepReport, path: &Path) -> Result<()> {
    let sent = Sent::Artifact {
        index,
        step: step.clone(),
    };
    write_frame(out, &serde_json::to_vec(&sent)?)?;
    let mut file = fs::File::open(path)?;
    let length = file.metadata()?.len();
    copy_artifact(&mut file, out, length)?;
    Ok(())
}

/// Points stdout at /dev/null (the report has been sent, or this process
/// is not the one that sends it).
fn silence_stdout() -> Result<()> {
    let null = open(
        "/dev/null",
        OFlag::O_WRONLY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )?;
    // SAFETY: dup2 onto descriptor 1, which we own; `null` is closed after.
    if unsafe { libc::dup2(null.as_raw_fd(), 1) } < 0 {
        bail!("dup2: {}", std::io::Error::last_os_error());
    }
    Ok(())
}

fn prepare_files(step: &Step) -> Result<()> {
    for path in &step.delete {
        let _ = fs::remove_file(job_path(path)?);
    }
    for file in &step.write {
        let path = job_path(&file.path)?;
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::write(&path, &file.contents)?;
    }
    Ok(())
}

/// The seccomp filters of each isolation, compiled once per job.
struct Filters {
    toolchain: Vec<BpfProgram>,
    run: Vec<BpfProgram>,
}

/// Largest results report kept from a run's harness.
const RESULTS_BYTES: usize = 2 * 1024 * 1024;

/// Runs one step to completion, timeout or flood, then kills whatever it left behind.
fn run_step(step: &Step, filters: &[BpfProgram], existing_tasks: u64) -> Result<StepReport> {
    let program = match step.isolation {
        Isolation::Toolchain => None,
        Isolation::Run { .. } => Some(paths::PROGRAM.to_string()),
    };
    let argv: Vec<CString> = program
        .iter()
        .chain(&step.argv)
        .map(|a| CString::new(a.as_str()))
        .collect::<Result<_, _>>()?;
    let env: Vec<CString> = BASE_ENV
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .chain(step.env.iter().cloned())
        .map(|(k, v)| CString::new(format!("{k}={v}")))
        .collect::<Result<_, _>>()?;
    if argv.is_empty() {
        bail!("empty argv");
    }
    let (out_r, out_w) = pipe2(OFlag::O_CLOEXEC)?;
    let (err_r, err_w) = pipe2(OFlag::O_CLOEXEC)?;
    let results = match step.isolation {
        Isolation::Run { results: true, .. } => Some(pipe2(OFlag::O_CLOEXEC)?),
        _ => None,
    };
    let cpu_before = children_cpu_ms();
    let started = Instant::now();
    // SAFETY: stage 3 is single-threaded.
    let child = match unsafe { fork() }? {
        ForkResult::Child => {
            drop((out_r, err_r));
            let results_w = results.map(|(read, write)| {
                drop(read);
                write
            });
            let error = exec_step(
                step,
                &argv,
                &env,
                Descriptors {
                    stdout: out_w.as_raw_fd(),
                    stderr: err_w.as_raw_fd(),
                    results: results_w.as_ref().map(|fd| fd.as_raw_fd()),
                },
                filters,
                existing_tasks,
            );
            let _ = writeln!(std::io::stderr(), "cannot run {}: {error:#}", step.argv[0]);
            // SAFETY: see above.
            unsafe { libc::_exit(127) }
        }
        ForkResult::Parent { child } => child,
    };
    drop((out_w, err_w));

    let deadline = started + Duration::from_millis(step.limits.wall_ms);
    let cap = step.limits.output_bytes;
    let mut streams = vec![Capture::new(out_r, cap), Capture::new(err_r, cap)];
    if let Some((results_r, results_w)) = results {
        drop(results_w);
        streams.push(Capture::new(results_r, RESULTS_BYTES));
    }
    let mut exit = None;
    while streams.iter().any(|s| s.open) {
        let now = Instant::now();
        if now >= deadline {
            exit = Some(Exit::Timeout);
            break;
        }
        let wait_ms = (deadline - now).as_millis().min(1000) as u16;
        let mut fds: Vec<PollFd> = streams
            .iter()
            .filter(|s| s.open)
            .map(|s| PollFd::new(s.fd.as_fd(), PollFlags::POLLIN))
            .collect();
        poll(&mut fds, PollTimeout::from(wait_ms))?;
        let ready: Vec<bool> = fds
            .iter()
            .map(|fd| fd.revents().is_some_and(|r| !r.is_empty()))
            .collect();
        drop(fds);
        for (index, stream) in streams.iter_mut().filter(|s| s.open).enumerate() {
            if ready[index] {
                stream.read_some();
            }
        }
        if streams
            .iter()
            .any(|s| s.total > s.cap.saturating_mul(FLOOD_FACTOR))
        {
            exit = Some(Exit::OutputLimit);
            break;
        }
    }
    // Output is closed (or we gave up on it); wait for the process itself.
    let status = loop {
        if exit.is_some() {
            break None;
        }
        match waitpid(child, Some(WaitPidFlag::WNOHANG))? {
            WaitStatus::StillAlive => {
                if Instant::now() >= deadline {
                    exit = Some(Exit::Timeout);
                    break None;
                }
                std::thread::sleep(Duration::from_millis(1));
            }
            status => break Some(status),
        }
    };
    let wall_ms = started.elapsed().as_millis() as u64;
    // Every process of the step goes, whatever it spawned or daemonised.
    let _ = kill(Pid::from_raw(-1), Signal::SIGKILL);
    let status = match status {
        Some(status) => Some(status),
        None => waitpid(child, None).ok(),
    };
    reap_all();
    let exit = exit.unwrap_or(match status {
        Some(WaitStatus::Exited(_, code)) => Exit::Code(code),
        Some(WaitStatus::Signaled(_, signal, _)) => Exit::Signal(signal as i32),
        _ => Exit::Signal(libc::SIGKILL),
    });
    let truncated = streams.iter().any(|s| s.total > s.cap);
    let mut texts = streams.into_iter().map(Capture::into_text);
    let (stdout, stderr) = (
        texts.next().unwrap_or_default(),
        texts.next().unwrap_or_default(),
    );
    let results = texts.next().unwrap_or_default();
    Ok(StepReport {
        name: step.name.clone(),
        phase: step.isolation.phase(),
        exit,
        stdout,
        stderr,
        results,
        truncated,
        wall_ms,
        cpu_ms: children_cpu_ms().saturating_sub(cpu_before),
        oom_killed: false,
        reused: false,
        artifact_sent: false,
    })
}

/// The descriptors a step's process writes to.
struct Descriptors {
    stdout: RawFd,
    stderr: RawFd,
    /// The harness's results pipe, moved to [`paths::RESULTS_FD`].
    results: Option<RawFd>,
}

/// In the forked step process: its root, limits, no privileges, the
/// seccomp filter, then exec. Returns only on failure.
fn exec_step(
    step: &Step,
    argv: &[CString],
    env: &[CString],
    fds: Descriptors,
    filters: &[BpfProgram],
    existing_tasks: u64,
) -> anyhow::Error {
    let result = (|| -> Result<std::convert::Infallible> {
        if let Isolation::Run { binary, .. } = &step.isolation {
            enter_run_root(binary)?;
        }
        let null = open("/dev/null", OFlag::O_RDONLY, Mode::empty())?;
        // SAFETY: dup2/fcntl on descriptors we own, in the child before exec.
        unsafe {
            if libc::dup2(null.as_raw_fd(), 0) < 0
                || libc::dup2(fds.stdout, 1) < 0
                || libc::dup2(fds.stderr, 2) < 0
            {
                bail!("dup2 failed");
            }
            // /dev/null may have taken descriptor 3 itself: close it before
            // the results pipe moves there.
            drop(null);
            if let Some(results) = fds.results {
                // dup2 onto itself would keep close-on-exec; clear it then.
                let moved = if results == paths::RESULTS_FD {
                    libc::fcntl(results, libc::F_SETFD, 0)
                } else {
                    libc::dup2(results, paths::RESULTS_FD)
                };
                if moved < 0 {
                    bail!("cannot open the results pipe");
                }
            }
        }
        let first_closed = if fds.results.is_some() {
            paths::RESULTS_FD as u32 + 1
        } else {
            3
        };
        // Only stdin, stdout and stderr cross into the step. Descriptors our
        // own parent left open without close-on-exec (a directory of the
        // host, a jobserver pipe, a listening socket) would otherwise reach
        // the job, and a host directory leads straight out of the root
        // (`/proc/self/fd/N/etc/...`).
        // SAFETY: closing descriptors in the child before exec; nothing here
        // uses them any more.
        unsafe {
            if libc::syscall(libc::SYS_close_range, first_closed, u32::MAX, 0u32) != 0 {
                // Kernels before 5.9: one by one.
                for fd in first_closed as i32..65_536 {
                    libc::close(fd);
                }
            }
        }
        chdir(paths::JOB)?;
        let limits = &step.limits;
        let mib = 1024 * 1024;
        setrlimit(
            Resource::RLIMIT_AS,
            limits.memory_mb * mib,
            limits.memory_mb * mib,
        )?;
        setrlimit(
            Resource::RLIMIT_CPU,
            limits.cpu_seconds,
            limits.cpu_seconds + 1,
        )?;
        // Stage 2 and 3 run as the same uid and count towards the limit.
        let processes = limits.processes + 2 + existing_tasks;
        setrlimit(Resource::RLIMIT_NPROC, processes, processes)?;
        setrlimit(
            Resource::RLIMIT_FSIZE,
            limits.file_size_mb * mib,
            limits.file_size_mb * mib,
        )?;
        setrlimit(
            Resource::RLIMIT_NOFILE,
            limits.open_files,
            limits.open_files,
        )?;
        setrlimit(Resource::RLIMIT_CORE, 0, 0)?;
        drop_privileges()?;
        seccomp::install(filters)?;
        Ok(execve(&argv[0], argv, env)?)
    })();
    match result {
        Err(error) => error,
        Ok(never) => match never {},
    }
}

/// Leaves the step with no capabilities now or after exec, even as uid 0 of
/// its namespace, and unable to gain any (`no_new_privs`).
fn drop_privileges() -> Result<()> {
    const SECBIT_NOROOT: libc::c_ulong = 1 << 0;
    const SECBIT_NOROOT_LOCKED: libc::c_ulong = 1 << 1;
    const SECBIT_NO_SETUID_FIXUP: libc::c_ulong = 1 << 2;
    const SECBIT_NO_SETUID_FIXUP_LOCKED: libc::c_ulong = 1 << 3;
    const SECBIT_KEEP_CAPS_LOCKED: libc::c_ulong = 1 << 5;
    const SECBIT_NO_CAP_AMBIENT_RAISE: libc::c_ulong = 1 << 6;
    const SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED: libc::c_ulong = 1 << 7;
    #[repr(C)]
    struct CapHeader {
        version: u32,
        pid: i32,
    }
    #[repr(C)]
    #[derive(Clone, Copy)]
    struct CapData {
        effective: u32,
        permitted: u32,
        inheritable: u32,
    }
    const LINUX_CAPABILITY_VERSION_3: u32 = 0x2008_0522;

    let bits = SECBIT_NOROOT
        | SECBIT_NOROOT_LOCKED
        | SECBIT_NO_SETUID_FIXUP
        | SECBIT_NO_SETUID_FIXUP_LOCKED
        | SECBIT_KEEP_CAPS_LOCKED
        | SECBIT_NO_CAP_AMBIENT_RAISE
        | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED;
    // SAFETY: plain prctl/capset calls with valid arguments.
    unsafe {
        if libc::prctl(libc::PR_SET_SECUREBITS, bits, 0, 0, 0) != 0 {
            bail!("PR_SET_SECUREBITS: {}", std::io::Error::last_os_error());
        }
        for cap in 0..64 {
            libc::prctl(libc::PR_CAPBSET_DROP, cap as libc::c_ulong, 0, 0, 0);
        }
        libc::prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_CLEAR_ALL as libc::c_ulong,
            0,
            0,
            0,
        );
        let header = CapHeader {
            version: LINUX_CAPABILITY_VERSION_3,
            pid: 0,
        };
        let data = [CapData {
            effective: 0,
            permitted: 0,
            inheritable: 0,
        }; 2];
        if libc::syscall(libc::SYS_capset, &header, data.as_ptr()) != 0 {
            bail!("capset: {}", std::io::Error::last_os_error());
        }
    }
    prctl::set_no_new_privs()?;
    Ok(())
}

/// Collects every exited process (PID 1 inherits orphans).
fn reap_all() {
    while let Ok(status) = waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG)) {
        if status == WaitStatus::StillAlive {
            // Killed processes may take a moment to exit; wait for them.
            if waitpid(Pid::from_raw(-1), None).is_err() {
                break;
            }
        }
    }
}

fn children_cpu_ms() -> u64 {
    getrusage(UsageWho::RUSAGE_CHILDREN)
        .map(|usage| {
            let user = usage.user_time();
            let system = usage.system_time();
            (user.tv_sec() + system.tv_sec()) as u64 * 1000
                + (user.tv_usec() + system.tv_usec()) as u64 / 1000
        })
        .unwrap_or(0)
}

/// Brings up `lo` in the job's network namespace (the only interface there).
fn loopback_up() -> Result<()> {
    // SAFETY: an ioctl on a socket we own with a properly initialised ifreq.
    unsafe {
        let socket = libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0);
        if socket < 0 {
            bail!("socket: {}", std::io::Error::last_os_error());
        }
        let mut request: libc::ifreq = std::mem::zeroed();
        for (slot, byte) in request.ifr_name.iter_mut().zip(b"lo\0") {
            *slot = *byte as libc::c_char;
        }
        request.ifr_ifru.ifru_flags = (libc::IFF_UP | libc::IFF_RUNNING) as libc::c_short;
        let result = libc::ioctl(socket, libc::SIOCSIFFLAGS, &request);
        libc::close(socket);
        if result != 0 {
            bail!("bring lo up: {}", std::io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Tasks (threads included) owned by `uid`: what RLIMIT_NPROC counts.
fn count_tasks_of(uid: u32) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let Ok(entries) = fs::read_dir("/proc") else {
        return 0;
    };
    entries
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_str()
                .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()))
        })
        .filter(|e| e.metadata().is_ok_and(|m| m.uid() == uid))
        .map(|e| fs::read_dir(e.path().join("task")).map_or(1, |tasks| tasks.count() as u64))
        .sum()
}

/// One captured output stream.
struct Capture {
    fd: OwnedFd,
    kept: Vec<u8>,
    total: usize,
    cap: usize,
    open: bool,
}

impl Capture {
    fn new(fd: OwnedFd, cap: usize) -> Self {
        Self {
            fd,
            kept: Vec::new(),
            total: 0,
            cap,
            open: true,
        }
    }

    fn read_some(&mut self) {
        let mut buffer = [0u8; 65536];
        match nix::unistd::read(&self.fd, &mut buffer) {
            Ok(0) | Err(_) => self.open = false,
            Ok(n) => {
                let room = self.cap.saturating_sub(self.kept.len());
                self.kept.extend_from_slice(&buffer[..n.min(room)]);
                self.total += n;
            }
        }
    }

    fn into_text(self) -> String {
        let mut text = String::from_utf8_lossy(&self.kept).into_owned();
        if self.total > self.cap {
            text.push_str(&format!(
                "\n… output truncated: {} more bytes not shown …\n",
                self.total - self.cap
            ));
        }
        text
    }
}
