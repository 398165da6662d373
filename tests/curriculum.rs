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
    let predictions = programme
        .lessons()
        .flat_map(|l| &l.checks)
        .filter(|q| q.program.is_some())
        .count();
    let expected =
        2 * programme.exercises().filter(|e| e.runs_code()).count() + examples + predictions;
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
    // Issue 15: judgement is graded too.
    assert!(
        count(ExerciseKind::Review) >= 6,
        "six code-review exercises"
    );
    assert!(count(ExerciseKind::Written) >= 3, "three written exercises");
    for lesson in programme.lessons() {
        assert!(
            (3..=5).contains(&lesson.checks.len()),
            "{} ends with a concept check of 3-5 questions",
            lesson.id
        );
        // Every lesson that teaches code runs some; "Leading async Rust"
        // teaches judgement (decision records, reviews, policy) and may not.
        assert!(
            !lesson.examples.is_empty() || lesson.module_id == "leading-async",
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

/// A programme of one lesson, the real `why-async` with its concept check,
/// in a fresh folder; `edit` changes the check's text first.
fn one_lesson_programme(edit: impl Fn(&str) -> String) -> std::path::PathBuf {
    let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("curriculum");
    let root = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("verify-{}", std::process::id()));
    let lessons = root.join("async-fundamentals/lessons");
    std::fs::create_dir_all(&lessons).unwrap();
    std::fs::write(
        root.join("programme.toml"),
        "title = \"P\"\nsummary = \"S\"\nmodules = [\"async-fundamentals\"]\n",
    )
    .unwrap();
    std::fs::copy(
        source.join("async-fundamentals/module.toml"),
        root.join("async-fundamentals/module.toml"),
    )
    .unwrap();
    let lesson = source.join("async-fundamentals/lessons/10-why-async");
    std::fs::copy(lesson.with_extension("md"), lessons.join("10-why-async.md")).unwrap();
    let checks = std::fs::read_to_string(lesson.with_extension("checks.toml")).unwrap();
    std::fs::write(lessons.join("10-why-async.checks.toml"), edit(&checks)).unwrap();
    root
}

#[test]
fn verify_catches_a_predict_answer_the_program_does_not_print() {
    // The key of "lazy-future" says option 1; point it at option 0, which
    // is the order a reader who forgets that futures are lazy expects.
    let root = one_lesson_programme(|checks| {
        let at = checks.find("id = \"lazy-future\"").unwrap();
        let key = at + checks[at..].find("answer = [1]").unwrap();
        format!(
            "{}answer = [0]{}",
            &checks[..key],
            &checks[key + "answer = [1]".len()..]
        )
    });
    let output = Command::new(env!("CARGO_BIN_EXE_lockstep"))
        .args(["curriculum", "verify", "--curriculum"])
        .arg(&root)
        .env("LOCKSTEP_DATA_DIR", common::grader_data_dir())
        .output()
        .expect("run lockstep");
    std::fs::remove_dir_all(&root).unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(!output.status.success(), "verify fails: {stdout}");
    assert!(
        stdout.contains(
            "FAIL  async-fundamentals/why-async concept check \"lazy-future\": \
             the program printed option 1, not option 0 as the key says:\n\
             future created\ninside greet\nfuture awaited"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("ok    async-fundamentals/why-async example 1"),
        "{stdout}"
    );
}
