//! Cheating submissions, each of which the grader of the first version
//! graded "pass" (or let read hidden tests). Every one must fail now.
//!
//! They go through the real judge and sandbox, as a submission would.

mod common;

use lockstep::grading::judge::Mode;
use lockstep::grading::verdict::{IntegrityFlag, Status, Verdict};

fn file(exercise: &str, name: &str) -> String {
    let programme = common::programme();
    let exercise = programme.exercise(exercise).expect("exercise exists");
    std::fs::read_to_string(exercise.dir.join(name)).expect("file")
}

async fn grade(exercise: &str, code: &str, mode: Mode) -> Verdict {
    let judge = common::judge().await;
    let programme = common::programme();
    let (exercise, code) = (exercise.to_string(), code.to_string());
    tokio::task::spawn_blocking(move || {
        let exercise = programme.exercise(&exercise).expect("exercise exists");
        judge.grade(exercise, &code, mode, None)
    })
    .await
    .unwrap()
}

/// Names of the tests of `countdown-future`, as an earlier verdict shows them.
const COUNTDOWN_TESTS: &[&str] = &[
    "visible::countdown_is_pending_n_times_and_wakes_each_time",
    "visible::countdown_zero_is_ready_immediately",
    "visible::countdown_runs_on_tokio",
    "visible::block_on_runs_an_async_block",
    "hidden::block_on_drives_a_countdown",
    "hidden::block_on_is_woken_from_another_thread",
    "hidden::block_on_parks_instead_of_spinning",
];

/// The `countdown-future` starter whose `Countdown::new` first runs `attack`.
fn countdown_with(attack: &str) -> String {
    file("countdown-future", "starter.rs").replace(
        "Countdown { remaining: n }",
        &format!("{{ {attack} }} Countdown {{ remaining: n }}"),
    )
}

#[tokio::test]
async fn forged_libtest_results_on_stdout_are_not_a_pass() {
    // libtest's JSON for every test, as `--format json` prints it, then exit 0.
    let mut forged = String::from(r#"{ "type": "suite", "event": "started", "test_count": 7 }"#);
    for name in COUNTDOWN_TESTS {
        forged.push_str(&format!(
            "\n{{ \"type\": \"test\", \"event\": \"started\", \"name\": \"{name}\" }}\n{{ \"type\": \"test\", \"name\": \"{name}\", \"event\": \"ok\" }}"
        ));
    }
    forged.push_str("\n{ \"type\": \"suite\", \"event\": \"ok\", \"passed\": 7, \"failed\": 0 }\n");
    let attack = format!(
        r####"use std::io::Write;
        let mut out = std::io::stdout();
        let _ = out.write_all(br##"{forged}"##);
        let _ = out.flush();
        std::process::exit(0);"####
    );
    let verdict = grade("countdown-future", &countdown_with(&attack), Mode::Submit).await;
    assert_ne!(verdict.status, Status::Pass, "{verdict:#?}");
    assert!(
        verdict.integrity.contains(&IntegrityFlag::ExitedMidRun),
        "{verdict:#?}"
    );
    assert!(
        verdict
            .integrity
            .contains(&IntegrityFlag::PrintedFakeResults),
        "{:?}",
        verdict.integrity
    );
}

#[tokio::test]
async fn results_forged_by_a_child_process_are_not_a_pass() {
    // The test binary lists its own tests; a shell prints an `ok` for each
    // on the shared stdout; then the process claims success.
    let attack = r#"
        let me = std::env::args().next().unwrap_or_default();
        let listed = std::process::Command::new(&me).args(["--list", "--format", "terse"]).output();
        let names: Vec<String> = listed.map(|o| String::from_utf8_lossy(&o.stdout).lines()
            .filter_map(|l| l.strip_suffix(": test")).map(String::from).collect()).unwrap_or_default();
        let mut script = String::new();
        for name in &names {
            script.push_str(&format!("printf '%s\\n' '{{ \"type\": \"test\", \"name\": \"{name}\", \"event\": \"ok\" }}'; "));
        }
        let _ = std::process::Command::new("/bin/sh").arg("-c").arg(script).status();
        std::process::exit(0);"#;
    let verdict = grade("countdown-future", &countdown_with(attack), Mode::Submit).await;
    assert_ne!(verdict.status, Status::Pass, "{verdict:#?}");
    assert!(
        verdict.integrity.contains(&IntegrityFlag::BlockedSyscall),
        "{:?}",
        verdict.integrity
    );
}

#[tokio::test]
async fn hidden_tests_cannot_be_run_or_read_from_a_visible_test() {
    // Learner code called from a visible test runs its own binary on the
    // hidden tests and fails with what they printed; and reads its own
    // binary for the hidden tests' string literals.
    let attack = r#"
        let me = std::env::args().next().unwrap_or_default();
        let read = std::fs::read(&me).map(|bytes| bytes.len());
        let run = std::process::Command::new(&me).args(["hidden", "--nocapture"]).output();
        panic!("read: {read:?}; ran: {run:?}");"#;
    let verdict = grade("countdown-future", &countdown_with(attack), Mode::Visible).await;
    assert_ne!(verdict.status, Status::Pass);
    let shown = serde_json::to_string(&verdict).unwrap();
    let hidden = file("countdown-future", "tests/hidden.rs");
    for marker in [
        "block_on_is_woken_from_another_thread",
        "block_on_parks_instead_of_spinning",
    ] {
        assert!(hidden.contains(marker));
        assert!(
            !shown.contains(marker),
            "a visible run showed the hidden test {marker}"
        );
    }
    assert!(
        verdict.integrity.contains(&IntegrityFlag::BlockedSyscall),
        "{:?}",
        verdict.integrity
    );

    // Without the spawn, the read alone: the binary is execute-only.
    let attack = r#"
        let me = std::env::args().next().unwrap_or_default();
        panic!("read: {:?}", std::fs::read(&me).map(|bytes| bytes.len()));"#;
    let verdict = grade("countdown-future", &countdown_with(attack), Mode::Visible).await;
    let messages: Vec<String> = verdict
        .tests
        .iter()
        .filter_map(|t| t.message.clone())
        .collect();
    assert!(
        messages
            .iter()
            .any(|m| m.contains("read: Err") && m.contains("PermissionDenied")),
        "the test binary was readable: {messages:?}"
    );
}

#[tokio::test]
async fn hidden_test_source_stays_out_of_compiler_errors() {
    // A learner type without PartialEq breaks `assert_eq!` in the hidden
    // tests; the error's primary span lies in core's macros, the hidden
    // line in its expansion.
    let code = file("versioned-store", "solution.rs").replacen(
        "#[derive(Debug, Clone, PartialEq, Eq)]\npub struct Versioned",
        "#[derive(Debug, Clone)]\npub struct Versioned",
        1,
    );
    assert!(!code.contains("PartialEq, Eq)]\npub struct Versioned"));
    let verdict = grade("versioned-store", &code, Mode::Submit).await;
    assert_eq!(verdict.status, Status::Error);
    let visible = file("versioned-store", "tests/visible.rs");
    let hidden = file("versioned-store", "tests/hidden.rs");
    for line in hidden.lines().map(str::trim).filter(|l| l.len() > 24) {
        if !visible.contains(line) {
            assert!(
                !verdict.compile_output.contains(line),
                "hidden source in the compiler output: {line}\n{}",
                verdict.compile_output
            );
        }
    }
    assert!(
        verdict.compile_output.contains("in the hidden tests"),
        "{}",
        verdict.compile_output
    );
}

/// `test-retry-backoff`'s reference tests with one more test, `extra`.
fn retry_tests_with(extra: &str) -> String {
    // A detector alone cannot catch any mutant honestly: keep only the
    // reference file's helpers and one test that passes everywhere.
    let reference = file("test-retry-backoff", "solution.rs");
    let helpers_end = reference
        .find("#[tokio::test")
        .expect("a test in the reference");
    format!(
        "{}\n#[tokio::test(start_paused = true)]\nasync fn succeeds_first_time() {{\n    let (result, calls) = run(&policy(3), vec![Ok(7)]).await;\n    assert_eq!(result, Ok(7));\n    assert_eq!(calls.len(), 1);\n}}\n\n{extra}\n",
        &reference[..helpers_end]
    )
}

async fn assert_catches_no_mutant(extra: &str) {
    let verdict = grade("test-retry-backoff", &retry_tests_with(extra), Mode::Submit).await;
    assert_eq!(verdict.status, Status::Fail, "{verdict:#?}");
    let caught: Vec<&str> = verdict
        .tests
        .iter()
        .filter(|t| t.name.starts_with("catches mutant") && t.status == Status::Pass)
        .map(|t| t.name.as_str())
        .collect();
    assert!(
        caught.is_empty(),
        "told mutants apart without testing them: {caught:?}"
    );
}

#[tokio::test]
async fn mutants_cannot_be_told_apart_by_argv() {
    assert_catches_no_mutant(
        r#"#[test]
fn detector() {
    let args: Vec<String> = std::env::args().collect();
    assert!(!args.iter().any(|a| a.contains("mutant")), "{args:?}");
}"#,
    )
    .await;
}

#[tokio::test]
async fn mutants_cannot_be_told_apart_by_marker_files() {
    // The first run (the real implementation, in the old fixed order)
    // leaves a marker; every later run fails.
    assert_catches_no_mutant(
        r#"#[test]
fn detector() {
    let markers = ["/job/.seen", "/job/tmp/.seen", "/tmp/.seen", "/run/.seen"];
    let seen = markers.iter().any(|m| std::path::Path::new(m).exists());
    for marker in markers {
        let _ = std::fs::write(marker, "seen");
    }
    assert!(!seen, "not the first run");
}"#,
    )
    .await;
}

#[tokio::test]
async fn mutants_cannot_be_told_apart_by_binary_contents() {
    // First a probe: its failure message on the real implementation (shown
    // to the learner) gives away the size of that build's binary…
    let probe = retry_tests_with(
        r#"#[test]
fn probe() {
    let me = std::env::args().next().unwrap_or_default();
    panic!("len={:?}", std::fs::read(&me).map(|bytes| bytes.len()));
}"#,
    );
    let verdict = grade("test-retry-backoff", &probe, Mode::Submit).await;
    let message = verdict
        .tests
        .iter()
        .find(|t| t.name == "probe")
        .and_then(|t| t.message.clone())
        .unwrap_or_default();
    assert!(
        message.contains("len=Err"),
        "the binary was readable: {message}"
    );
    let learned: usize = message
        .split("len=Ok(")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    // …then a detector that passes only on a binary of that size.
    assert_catches_no_mutant(&format!(
        r#"#[test]
fn detector() {{
    let me = std::env::args().next().unwrap_or_default();
    if let Ok(bytes) = std::fs::read(&me) {{
        assert_eq!(bytes.len(), {learned});
    }}
}}"#
    ))
    .await;
}

#[tokio::test]
async fn verdicts_follow_exercism_results_v2() {
    let verdict = grade(
        "countdown-future",
        &file("countdown-future", "starter.rs"),
        Mode::Submit,
    )
    .await;
    assert_eq!(verdict.status, Status::Fail);
    // The top-level message is for errors only.
    assert_eq!(verdict.message, None);
    // Tests in file order: the visible file's, then the hidden file's.
    let order = |source: &str, module: &str| -> Vec<String> {
        let mut names = Vec::new();
        let mut attribute = false;
        for line in source.lines().map(str::trim) {
            if line.starts_with("#[") && line.contains("test") {
                attribute = true;
            } else if attribute && let Some(rest) = line.split("fn ").nth(1) {
                let name = rest.split(['(', '<']).next().unwrap_or_default();
                names.push(format!("{module}::{name}"));
                attribute = false;
            }
        }
        names
    };
    let mut expected = order(&file("countdown-future", "tests/visible.rs"), "visible");
    expected.extend(order(
        &file("countdown-future", "tests/hidden.rs"),
        "hidden",
    ));
    let names: Vec<String> = verdict.tests.iter().map(|t| t.name.clone()).collect();
    assert_eq!(names, expected);
    for test in &verdict.tests {
        assert!(
            test.output
                .as_ref()
                .is_none_or(|o| o.chars().count() <= 520)
        );
        if test.hidden {
            assert!(test.test_code.is_none() && test.output.is_none());
            assert_eq!(test.message.as_deref(), Some("a hidden test failed"));
        } else {
            let code = test
                .test_code
                .as_deref()
                .expect("visible tests carry their code");
            assert!(!code.trim().is_empty() && !code.contains("fn "), "{code}");
        }
    }
}
