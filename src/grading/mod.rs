//! The grader: everything that turns submitted code into a verdict.
//!
//! [`sandbox`] isolates every compile and run, [`deps`] prepares the crates
//! learner code links against, [`judge`] decides which steps to run and reads
//! their results into a [`verdict::Verdict`], with the trusted test
//! [`harness`] inside every test binary; [`build_cache`] keeps what was
//! compiled so the same code is never compiled twice. [`queue`] keeps jobs in PostgreSQL
//! and [`pool`] runs the workers that take them; [`job`] is the vocabulary
//! they share (mode, status, phase, events).
//!
//! # Threat model
//!
//! A learner is an adversary of the *grade*, not only of the machine: a
//! verdict is only worth what an instructor can believe of it. Learner code
//! controls everything it can write — stdout, stderr, files in its scratch
//! directory, its exit code, the processes it could start — so none of that
//! is evidence. What each class of attack meets:
//!
//! * **Forging results.** Results come from the [`harness`], which runs
//!   each test and reports on a pipe (descriptor 3) that the sandbox opened
//!   for the test process alone; the harness moves it to a close-on-exec
//!   descriptor before any test runs. Safe Rust cannot turn a descriptor
//!   number into something it can write to (`FromRawFd` and
//!   `BorrowedFd::borrow_raw` are `unsafe`, and `unsafe_code` is forbidden
//!   in learner code), and the run root has no `/proc/self/fd` to reopen it
//!   through. A test
//!   passes only when the harness saw it return; a run that ends before the
//!   harness's last line (`process::exit`, a crash, a kill) is an error.
//!   libtest's JSON printed on stdout is shown to no one and read by no one
//!   (and flagged).
//! * **Telling runs apart** (kind `tests`, where the learner's tests must
//!   pass on our implementation and fail on mutants): every run gets the
//!   same program path (`/run/program`), arguments and environment, a fresh
//!   root and `/job` (no marker survives), and an execute-only binary (it
//!   cannot be read, hashed or measured); the real implementation runs
//!   twice and all runs go in a random order.
//! * **Reading hidden tests.** Hidden tests run in their own step, in a
//!   fresh run root, under a `--quiet` harness: pass or fail per test
//!   reaches the learner, never a message, output or what the code printed.
//!   The test binary is execute-only and cannot be started again (no new
//!   processes), so a visible test's code can neither read the hidden
//!   tests' strings nor run them. A compiler diagnostic that mentions a
//!   hidden file anywhere (any span, any macro expansion) is replaced by a
//!   count.
//! * **Reaching the kernel.** Every step runs in fresh user, mount, PID,
//!   network, IPC and UTS namespaces, after `pivot_root` into a root built
//!   for the job (the host's mount tree is detached, not hidden), with no
//!   capabilities, `no_new_privs`, rlimits, and a seccomp filter that
//!   refuses io_uring, BPF, keyrings, userfaultfd, perf events, mounts,
//!   namespaces, module loading, ptrace and rare socket families
//!   ([`sandbox`]'s `seccomp` module). Learner code runs only in run steps,
//!   whose root holds its own binary, the C runtime and a scratch
//!   directory: no shell, interpreter or compiler, and starting a process
//!   stops it (`SIGSYS`).
//! * **Starving others.** A cgroup per job bounds memory (page cache,
//!   memfd and tmpfs included), processes and CPU bandwidth; the grader
//!   refuses to start where it cannot make one, unless the operator accepts
//!   rlimits alone (`--allow-no-cgroup`).
//!
//! * **Poisoning the build cache** ([`build_cache`]). An artifact is kept
//!   under the hash of everything that made it, and only PID 1 of the job
//!   sends it back, after the last step, for compile steps that succeeded;
//!   only compilers run where artifacts are made, and learner code runs in
//!   run roots that cannot reach the compilers' `/job`. So no submission can
//!   place a binary under another's key, and a hit runs in a fresh sandbox
//!   like any build.
//!
//! Integrity signals ([`verdict::IntegrityFlag`]): a run stopped by the
//! filter, one that exited mid-run, and one that printed result-shaped lines
//! are marked on the instructor's submission page and in the exports. They
//! are not verdicts: a human decides.
//!
//! What remains: safe Rust has known soundness holes (long-standing
//! compiler bugs that let safe code read or write arbitrary memory); a
//! learner who exploits one could in principle find the harness's pipe in
//! memory. The kernel boundary still holds then — the step is as confined
//! as any other process — only the verdict of that one submission would be
//! in doubt. Timing is visible to a test, and the pass/fail pattern of
//! hidden tests leaks about one bit per hidden test per submission. A test
//! can compare the addresses of functions within one run, which differ
//! between builds; with no way to carry a value from one run to another,
//! it has nothing to compare them with.
//!
//! # Kinds of graded work
//!
//! What an exercise's kind grades against is its payload,
//! [`crate::curriculum::Work`]; how it is graded is one module under
//! [`judge`]: `program` (lesson examples and scratch pads), `given_tests`
//! (`implement`, `fix`) and `learner_tests` (`tests`). Adding a kind graded
//! by running code takes:
//!
//! 1. a `Work` variant with the kind's payload, and the loader reading it
//!    (`src/curriculum/load.rs`);
//! 2. a module under `judge/` that builds the job's [`sandbox::Step`]s
//!    (compile in [`sandbox::Isolation::Toolchain`], learner code only in
//!    [`sandbox::Isolation::Run`], results from the [`harness`]) and reads
//!    their reports into a [`verdict::Verdict`], plus its arm in
//!    [`judge::Judge::grade`];
//! 3. its template, if the exercise page differs.
//!
//! The queue, the pool, progress (`exercise_progress`, written when a job
//! ends) and the instructor's analytics need no change: they read verdicts.
//! Kinds graded without running code (answer keys, instructor rubrics) add
//! the `Work` variant and their own grading beside this module, and record
//! progress through the same table.

pub mod build_cache;
pub mod code;
pub mod deps;
pub mod harness;
pub mod job;
pub mod judge;
pub mod pool;
pub mod queue;
pub mod review;
pub mod sandbox;
pub mod verdict;
pub mod written;
