//! The kernel boundary, below what learner code can reach through
//! `lockstep run`: the seccomp filter, the run root, and the budgets, driven
//! through the sandbox directly.
//!
//! Learner code runs only in run steps, which hold no other program and
//! may not start one. The compilers' root does hold helper programs (a
//! shell, perl, cc): no learner code runs there, but if it ever could, the
//! filter, namespaces and cgroup must still hold, so these cases run the
//! helpers there on purpose.

mod common;

use std::path::PathBuf;

use lockstep::grading::sandbox::{Exit, Isolation, JobFile, Limits, Sandbox, Step, StepReport};

async fn sandbox() -> Sandbox {
    // Builds the dependency cache on first use; the sandbox needs its paths.
    common::judge().await;
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(common::grader_data_dir().join("grader/deps.json")).unwrap(),
    )
    .unwrap();
    Sandbox {
        helper: PathBuf::from(env!("CARGO_BIN_EXE_lockstep")),
        toolchain: PathBuf::from(manifest["toolchain"].as_str().unwrap()),
        deps: PathBuf::from(manifest["deps_dir"].as_str().unwrap()),
        require_cgroup: lockstep::grading::sandbox::cgroup::available(),
        cpus: 2,
    }
}

/// One compilers'-root step running `argv`.
fn helper_step(argv: &[&str]) -> Step {
    Step {
        name: "helper".into(),
        isolation: Isolation::Toolchain,
        write: vec![],
        delete: vec![],
        argv: argv.iter().map(|a| a.to_string()).collect(),
        env: vec![],
        limits: Limits::RUN,
        must_succeed: false,
        artifact: None,
    }
}

async fn run(steps: Vec<Step>) -> Vec<StepReport> {
    let sandbox = sandbox().await;
    tokio::task::spawn_blocking(move || sandbox.run(steps, 256, None))
        .await
        .unwrap()
        .expect("the sandbox runs")
        .steps
}

#[tokio::test]
async fn rare_kernel_interfaces_are_refused_even_to_helper_programs() {
    let calls = [
        ("io_uring_setup", libc::SYS_io_uring_setup),
        ("userfaultfd", libc::SYS_userfaultfd),
        ("bpf", libc::SYS_bpf),
        ("perf_event_open", libc::SYS_perf_event_open),
        ("keyctl", libc::SYS_keyctl),
        ("add_key", libc::SYS_add_key),
        ("request_key", libc::SYS_request_key),
        ("unshare", libc::SYS_unshare),
        ("setns", libc::SYS_setns),
        ("mount", libc::SYS_mount),
        ("fsopen", libc::SYS_fsopen),
        ("kexec_load", libc::SYS_kexec_load),
        ("init_module", libc::SYS_init_module),
        ("ptrace", libc::SYS_ptrace),
    ];
    // Junk arguments: an allowed call would fail with EFAULT or EINVAL,
    // not EPERM.
    let mut script = String::new();
    for (name, number) in calls {
        script.push_str(&format!(
            "$! = 0; syscall({number}, 0, 0, 0, 0, 0); print \"{name} \", $! + 0, \"\\n\";\n"
        ));
    }
    script.push_str(&format!(
        "$! = 0; socket(my $s, {}, 5, 0); print \"AF_ALG \", $! + 0, \"\\n\";\n",
        libc::AF_ALG
    ));
    let steps = run(vec![helper_step(&["/usr/bin/perl", "-e", &script])]).await;
    let report = &steps[0];
    assert_eq!(report.exit, Exit::Code(0), "{report:?}");
    let lines: Vec<&str> = report.stdout.lines().collect();
    assert_eq!(lines.len(), calls.len() + 1, "{}", report.stdout);
    for line in lines {
        let (name, errno) = line.split_once(' ').unwrap();
        assert_eq!(
            errno.parse::<i32>().unwrap(),
            libc::EPERM,
            "{name} reached the kernel: errno {errno}"
        );
    }
}

#[tokio::test]
async fn a_run_step_sees_only_its_program_and_starts_nothing() {
    // A compiled program that lists its root, looks for helpers and /proc,
    // reads its own binary, then tries to start a shell.
    let source = r#"
        fn main() {
            let mut names: Vec<String> = std::fs::read_dir("/").unwrap().flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned()).collect();
            names.sort();
            println!("root: {}", names.join(","));
            for path in ["/proc/self/status", "/usr/bin/perl", "/bin/sh", "/usr/bin/cc", "/toolchain", "/deps"] {
                println!("{path}: {}", std::path::Path::new(path).exists());
            }
            let me = std::env::args().next().unwrap();
            println!("argv0: {me}");
            println!("read self: {:?}", std::fs::read(&me).map(|b| b.len()).map_err(|e| e.kind()));
            println!("write /: {:?}", std::fs::write("/x", "y").map_err(|e| e.kind()));
            println!("write /job: {:?}", std::fs::write("/job/x", "y").map_err(|e| e.kind()));
            let _ = std::process::Command::new(&me).status();
            println!("started a process");
        }"#;
    let sandbox = sandbox().await;
    let rustc = format!("{}/bin/rustc", lockstep::grading::sandbox::paths::TOOLCHAIN);
    let compile = Step {
        name: "compile".into(),
        isolation: Isolation::Toolchain,
        write: vec![JobFile {
            path: "main.rs".into(),
            contents: source.into(),
        }],
        delete: vec![],
        argv: [
            rustc.as_str(),
            "--edition",
            "2024",
            "main.rs",
            "-o",
            "out/main",
        ]
        .map(String::from)
        .to_vec(),
        env: vec![],
        limits: Limits::COMPILE,
        must_succeed: true,
        artifact: None,
    };
    let run_step = Step {
        name: "run".into(),
        isolation: Isolation::Run {
            binary: "out/main".into(),
            results: false,
        },
        write: vec![],
        delete: vec![],
        argv: vec![],
        env: vec![],
        limits: Limits::RUN,
        must_succeed: false,
        artifact: None,
    };
    let steps =
        tokio::task::spawn_blocking(move || sandbox.run(vec![compile, run_step], 256, None))
            .await
            .unwrap()
            .unwrap()
            .steps;
    assert!(steps[0].succeeded(), "{}", steps[0].stderr);
    let run = &steps[1];
    let out = &run.stdout;
    assert!(
        out.contains("root: dev,etc,job,lib,lib64,run\n")
            || out.contains("root: dev,etc,job,lib,run\n"),
        "{out}"
    );
    for path in [
        "/proc/self/status",
        "/usr/bin/perl",
        "/bin/sh",
        "/usr/bin/cc",
        "/toolchain",
        "/deps",
    ] {
        assert!(
            out.contains(&format!("{path}: false")),
            "{path} is there:\n{out}"
        );
    }
    assert!(out.contains("argv0: /run/program"), "{out}");
    assert!(out.contains("read self: Err(PermissionDenied)"), "{out}");
    assert!(out.contains("write /: Err(ReadOnlyFilesystem)"), "{out}");
    assert!(out.contains("write /job: Ok(())"), "{out}");
    assert!(!out.contains("started a process"), "{out}");
    assert!(run.blocked_syscall(), "{:?}", run.exit);
}

#[tokio::test]
async fn a_helper_fork_bomb_and_attacks_on_pid_1_are_contained() {
    let steps = run(vec![
        helper_step(&["/bin/sh", "-c", "b() { b | b & }; b; sleep 1; echo bombed"]),
        helper_step(&[
            "/bin/sh",
            "-c",
            "kill -STOP 1; kill -9 1; kill -TERM 1; kill -SEGV 1; sleep 0.2; echo init survived",
        ]),
        helper_step(&[
            "/bin/sh",
            "-c",
            "/usr/bin/unshare -Ur true || /usr/bin/unshare -n true || /usr/bin/unshare -m true || echo no namespaces",
        ]),
    ])
    .await;
    // The bomb hits the process limit and ends by itself or at the wall limit.
    assert!(
        matches!(steps[0].exit, Exit::Code(_) | Exit::Timeout),
        "{:?}",
        steps[0].exit
    );
    assert!(steps[1].stdout.contains("init survived"), "{:?}", steps[1]);
    assert!(steps[2].stdout.contains("no namespaces"), "{:?}", steps[2]);
}

#[tokio::test]
async fn the_job_sees_its_own_cgroup_as_the_root_and_no_host_path() {
    if !lockstep::grading::sandbox::cgroup::available() {
        eprintln!("no cgroups here (not root?): no job cgroup to look at");
        return;
    }
    // The job enters its cgroup before its cgroup namespace is made, so
    // the host's hierarchy (and the helper's pid in the cgroup's name)
    // stays out of sight: every line reads `…:/`.
    let steps = run(vec![helper_step(&["/usr/bin/cat", "/proc/self/cgroup"])]).await;
    let seen = &steps[0].stdout;
    assert!(steps[0].succeeded() && !seen.is_empty(), "{:?}", steps[0]);
    for line in seen.lines() {
        assert!(line.ends_with(":/"), "the job sees a cgroup path: {seen}");
    }
}

#[tokio::test]
async fn memory_outside_the_address_space_is_capped_by_the_cgroup() {
    if !lockstep::grading::sandbox::cgroup::available() {
        eprintln!("no cgroups here (not root?): the memory budget rests on rlimits");
        return;
    }
    // memfd files and SysV shared memory are not address space: only the
    // job's cgroup (and its IPC namespace, for SysV) bounds them.
    let memfd = format!(
        r#"my @keep; my $chunk = 'z' x (1 << 20); my $held = 0;
        for my $f (1 .. 150) {{
            my $fd = syscall({}, 'x', 0); last if $fd < 0;
            open(my $fh, '>&=', $fd) or last; push @keep, $fh;
            for my $i (1 .. 15) {{ print $fh $chunk or last }}
            $fh->flush(); $held += 15;
        }}
        print "held $held\n";"#,
        libc::SYS_memfd_create
    );
    let shm = r#"my ($total, $chunk) = (0, 'x' x (1 << 20));
        for my $i (1 .. 64) {
            my $id = shmget(0, 32 << 20, 0600 | 01000) // last;
            for my $mb (0 .. 31) { shmwrite($id, $chunk, $mb << 20, 1 << 20) or last }
            $total += 32;
        }
        print "held $total\n";"#;
    let steps = run(vec![
        helper_step(&["/usr/bin/perl", "-e", &memfd]),
        helper_step(&["/usr/bin/perl", "-e", shm]),
    ])
    .await;
    let held = |report: &StepReport| -> u64 {
        report
            .stdout
            .split_whitespace()
            .nth(1)
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    assert!(held(&steps[0]) <= 1024, "memfd: {:?}", steps[0]);
    assert!(held(&steps[1]) <= 512, "shm: {:?}", steps[1]);
}

#[test]
fn the_grader_refuses_to_run_where_it_cannot_make_a_cgroup() {
    if !nix::unistd::Uid::effective().is_root() {
        eprintln!("not root: cannot drop to an unprivileged user to try");
        return;
    }
    // An unprivileged user cannot make cgroups here; the binary is copied
    // where that user may run it.
    let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("no-cgroup");
    std::fs::create_dir_all(&tmp).unwrap();
    let binary = tmp.join("lockstep");
    std::fs::copy(env!("CARGO_BIN_EXE_lockstep"), &binary).unwrap();
    let programme = common::programme();
    let exercise = programme.exercise("countdown-future").unwrap();
    let grade = |extra: &[&str]| {
        std::process::Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(&binary)
            .arg("grade")
            .arg("countdown-future")
            .arg(exercise.dir.join("solution.rs"))
            .arg("--curriculum")
            .arg(
                exercise
                    .dir
                    .parent()
                    .unwrap()
                    .parent()
                    .unwrap()
                    .parent()
                    .unwrap(),
            )
            .args(["--data-dir", "/nonexistent/lockstep"])
            .args(extra)
            .current_dir(&tmp)
            .output()
            .unwrap()
    };
    let refused = grade(&[]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success());
    assert!(stderr.contains("cannot make a cgroup"), "{stderr}");
    assert!(stderr.contains("--allow-no-cgroup"), "{stderr}");
    // Allowed, it goes past that check (and fails later, on the data dir).
    let allowed = grade(&["--allow-no-cgroup"]);
    let stderr = String::from_utf8_lossy(&allowed.stderr);
    assert!(!stderr.contains("cannot make a cgroup"), "{stderr}");
}

/// A sandbox built ahead of its job is used by one job only: what a job
/// leaves behind (a file in `/job`, a process) is gone for the next, and a
/// job too large for the prepared budget still runs, in a sandbox of its own.
#[tokio::test]
async fn sandboxes_built_ahead_serve_one_job_each() {
    use lockstep::grading::sandbox::Budget;
    use lockstep::grading::sandbox::warm::WarmSandbox;

    let budget = Budget::of(&[helper_step(&["/bin/true"])]);
    let warm = WarmSandbox::new(sandbox().await, 256, budget, 1);
    let leave_traces = helper_step(&[
        "/bin/sh",
        "-c",
        "echo left > /job/trace; (sleep 60 >/dev/null 2>&1 &) ; echo done",
    ]);
    let look_for_traces = helper_step(&[
        "/bin/sh",
        "-c",
        "if test -e /job/trace; then echo file; fi; if pgrep sleep; then echo process; fi; echo looked",
    ]);
    let mut too_large = look_for_traces.clone();
    too_large.limits.memory_mb = budget.memory_mb * 2;
    for steps in [
        vec![leave_traces.clone()],
        vec![look_for_traces.clone()],
        vec![leave_traces],
        vec![too_large],
        vec![look_for_traces],
    ] {
        let traced = steps[0].argv[2].contains("echo left");
        let warm = warm.clone();
        let report = tokio::task::spawn_blocking(move || warm.run(steps, Vec::new(), None, None))
            .await
            .unwrap()
            .expect("the sandbox runs");
        let stdout = &report.steps[0].stdout;
        if traced {
            assert_eq!(stdout.trim(), "done", "{report:?}");
        } else {
            assert_eq!(
                stdout.trim(),
                "looked",
                "a job saw what an earlier one left: {report:?}"
            );
        }
    }
}
