//! Lockstep's test runner: the `#![test_runner]` of every graded test crate.
//!
//! The judge compiles each test crate with `--test` and this crate as its
//! runner. libtest still collects `#[test]` functions (and `#[tokio::test]`,
//! `#[should_panic]`, `#[ignore]`), but [`run`], not libtest, runs them and
//! reports each result on descriptor 3: a pipe the sandbox opened for this
//! process alone. Learner code can print anything to stdout; it cannot write
//! to that pipe (safe Rust cannot turn a descriptor number into a writer,
//! there is no /proc to reopen it through, and it is closed on exec), so a
//! test counts as passed only when this runner saw it return.
//!
//! Built once into the prepared dependency cache (it uses unstable features,
//! so only this crate is built with `RUSTC_BOOTSTRAP`), so a job compiles
//! none of its code: a runner written in the test crate itself cost every
//! job a few hundred milliseconds of codegen.
#![feature(test, internal_output_capture)]

extern crate test;

pub use runner::run;

mod runner {
    use std::fs::File;
    use std::io::Write;
    use std::os::fd::{FromRawFd, OwnedFd};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex, mpsc};

    /// Set by the first call: a second run (from test code) reports nothing.
    static STARTED: AtomicBool = AtomicBool::new(false);
    /// Longest message or output sent per test.
    const MAX_TEXT: usize = 4000;

    /// Runs the tests the arguments select (`--only PREFIX`, `--quiet`) and
    /// reports each on descriptor 3, then exits. Only the first call does
    /// anything: the generated `main` makes it before any test code runs.
    pub fn run(tests: &[&test::TestDescAndFn]) {
        if STARTED.swap(true, Ordering::SeqCst) {
            return;
        }
        let Some(mut report) = results_pipe() else {
            eprintln!("this test binary runs only inside Lockstep's grader");
            std::process::exit(2);
        };
        let args: Vec<String> = std::env::args().skip(1).collect();
        let only = args
            .iter()
            .position(|a| a == "--only")
            .and_then(|i| args.get(i + 1).cloned());
        let quiet = args.iter().any(|a| a == "--quiet");
        let mut selected: Vec<&test::TestDescAndFn> = tests
            .iter()
            .copied()
            .filter(|t| !t.desc.ignore)
            .filter(|t| only.as_ref().is_none_or(|p| t.desc.name.as_slice().starts_with(p.as_str())))
            .collect();
        // File order, as written, not libtest's alphabetical order.
        selected.sort_by_key(|t| (t.desc.source_file, t.desc.start_line, t.desc.start_col));
        for t in &selected {
            send(
                &mut report,
                &format!(
                    "{{\"event\":\"test\",\"name\":{},\"line\":{}}}",
                    json(t.desc.name.as_slice()),
                    t.desc.start_line
                ),
            );
        }
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).max(1);
        let (done_tx, done_rx) = mpsc::channel::<(String, Result<(), String>, String)>();
        let mut pending = selected.into_iter();
        let mut running = 0;
        loop {
            while running < threads {
                let Some(t) = pending.next() else { break };
                let name = t.desc.name.as_slice().to_string();
                let should_panic = t.desc.should_panic;
                let test::TestFn::StaticTestFn(body) = t.testfn else {
                    let _ = done_tx.send((name, Err("unsupported kind of test".into()), String::new()));
                    running += 1;
                    continue;
                };
                let done = done_tx.clone();
                let captured = Arc::new(Mutex::new(Vec::new()));
                let thread_captured = captured.clone();
                let spawned = std::thread::Builder::new().name(name.clone()).spawn(move || {
                    std::io::set_output_capture(Some(thread_captured));
                    let outcome = outcome(std::panic::catch_unwind(body), should_panic);
                    let output = String::from_utf8_lossy(&captured.lock().unwrap_or_else(|e| e.into_inner())).into_owned();
                    let _ = done.send((name.clone(), outcome, output));
                });
                if spawned.is_err() {
                    std::process::exit(3);
                }
                running += 1;
            }
            if running == 0 {
                break;
            }
            let Ok((name, outcome, output)) = done_rx.recv() else { break };
            running -= 1;
            let (result, message) = match &outcome {
                Ok(()) => ("pass", String::new()),
                Err(message) => ("fail", message.clone()),
            };
            let (message, output) = if quiet { (String::new(), String::new()) } else { (message, output) };
            send(
                &mut report,
                &format!(
                    "{{\"event\":\"result\",\"name\":{},\"outcome\":\"{result}\",\"message\":{},\"output\":{}}}",
                    json(&name),
                    json(&cut(&message)),
                    json(&cut(&output))
                ),
            );
        }
        send(&mut report, "{\"event\":\"done\"}");
        std::process::exit(0);
    }

    /// Descriptor 3, moved to a new close-on-exec descriptor so nothing this
    /// process starts inherits it; None outside the grader.
    fn results_pipe() -> Option<File> {
        // SAFETY: descriptor 3 is the pipe the sandbox opened for us, and
        // nothing in this process has used it before this first call.
        let inherited = unsafe { File::from(OwnedFd::from_raw_fd(3)) };
        let pipe = inherited.try_clone().ok();
        if pipe.is_none() {
            // Not ours after all: leave whatever descriptor 3 is alone.
            std::mem::forget(inherited);
        }
        pipe
    }

    fn outcome(
        caught: std::thread::Result<Result<(), String>>,
        should_panic: test::ShouldPanic,
    ) -> Result<(), String> {
        match (caught, should_panic) {
            (Ok(Ok(())), test::ShouldPanic::No) => Ok(()),
            (Ok(Err(error)), test::ShouldPanic::No) => Err(error),
            (Ok(_), _) => Err("the test did not panic as expected".into()),
            (Err(payload), test::ShouldPanic::No) => Err(panic_message(&payload)),
            (Err(_), test::ShouldPanic::Yes) => Ok(()),
            (Err(payload), test::ShouldPanic::YesWithMessage(expected)) => {
                let message = panic_message(&payload);
                if message.contains(expected) {
                    Ok(())
                } else {
                    Err(format!("the test panicked with {message:?}, expected a message containing {expected:?}"))
                }
            }
        }
    }

    fn panic_message(payload: &Box<dyn std::any::Any + Send>) -> String {
        payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "the test panicked".into())
    }

    fn send(report: &mut File, line: &str) {
        if report.write_all(format!("{line}\n").as_bytes()).is_err() {
            std::process::exit(4);
        }
    }

    fn cut(text: &str) -> String {
        if text.len() <= MAX_TEXT {
            return text.to_string();
        }
        let mut end = MAX_TEXT;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}\n… (truncated)", &text[..end])
    }

    fn json(text: &str) -> String {
        let mut out = String::with_capacity(text.len() + 2);
        out.push('"');
        for c in text.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
                c => out.push(c),
            }
        }
        out.push('"');
        out
    }
}
