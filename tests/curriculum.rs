//! `lockstep curriculum verify` over the whole programme, through the real
//! sandbox: the content targets the grader's pinned crates, so CI proves
//! every starter fails, every solution passes, every mutant is caught and
//! every runnable example prints what its lesson says.

mod common;

use std::process::Command;

#[test]
fn the_whole_programme_verifies_in_the_sandbox() {
    let output = Command::new(env!("CARGO_BIN_EXE_lockstep"))
        .args(["curriculum", "verify"])
        .env("LOCKSTEP_DATA_DIR", common::grader_data_dir())
        .output()
        .expect("run lockstep");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let failures: Vec<&str> = stdout
        .lines()
        .filter(|line| line.starts_with("FAIL"))
        .collect();
    assert!(
        output.status.success() && failures.is_empty(),
        "{}\n{}",
        failures.join("\n"),
        String::from_utf8_lossy(&output.stderr)
    );
    let programme = common::programme();
    let examples: usize = programme.lessons().map(|l| l.examples.len()).sum();
    let expected = 2 * programme.exercises().filter(|e| e.runs_code()).count() + examples;
    assert!(
        stdout.contains(&format!("{expected} of {expected} checks passed")),
        "{stdout}"
    );
}

#[test]
fn the_programme_meets_its_size_and_shape() {
    let programme = common::programme();
    assert!(programme.modules.len() >= 5);
    assert!(programme.lessons().count() >= 28);
    assert!(programme.exercises().count() >= 24);
    use lockstep::curriculum::ExerciseKind;
    let count = |kind| programme.exercises().filter(|e| e.kind == kind).count();
    assert!(count(ExerciseKind::Fix) >= 3 && count(ExerciseKind::Tests) >= 3);
    assert!(
        programme
            .exercises()
            .any(|e| e.cfg.iter().any(|c| c == "loom")),
        "a loom-checked exercise"
    );
    for lesson in programme.lessons() {
        assert!(
            !lesson.examples.is_empty(),
            "{} has a runnable example",
            lesson.id
        );
    }
    for exercise in programme.exercises() {
        assert!(
            (2..=3).contains(&exercise.hints.len()),
            "{} has 2-3 hints",
            exercise.id
        );
    }
}
