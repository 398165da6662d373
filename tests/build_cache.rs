//! The grader's build cache: the same code is compiled once and reused in a
//! fresh sandbox, never across a change of what determined the build (the
//! exercise, the toolchain, the dependency cache), across restarts, and
//! within its size.

mod common;

use std::path::PathBuf;

use lockstep::grading::build_cache::{self, BuildCache, BuildId};
use lockstep::grading::deps::Manifest;
use lockstep::grading::judge::{Judge, Mode};
use lockstep::grading::sandbox::{Artifact, Exit, Isolation, Limits, Step, StepReport};
use lockstep::grading::verdict::{Status, Verdict};

const EXERCISE: &str = "versioned-store";

/// Settings and the dependency cache's manifest of the tests' judge.
async fn manifest_and_settings() -> (Manifest, lockstep::config::Settings) {
    common::judge().await; // builds the dependency cache on first use
    let mut settings = common::settings();
    settings.data_dir = common::grader_data_dir();
    settings.allow_no_cgroup = !lockstep::grading::sandbox::cgroup::available();
    let manifest: Manifest = serde_json::from_slice(
        &std::fs::read(common::grader_data_dir().join("grader/deps.json")).unwrap(),
    )
    .unwrap();
    (manifest, settings)
}

fn helper() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_lockstep"))
}

async fn grade(judge: &Judge, exercise: lockstep::curriculum::Exercise, code: &str) -> Verdict {
    let (judge, code) = (judge.clone(), code.to_string());
    tokio::task::spawn_blocking(move || judge.grade(&exercise, &code, Mode::Submit, None))
        .await
        .unwrap()
}

/// Whether the verdict's code was compiled for it (not taken from the cache).
fn compiled(verdict: &Verdict) -> bool {
    verdict.duration_ms.compile > 0
}

#[tokio::test]
async fn the_same_code_is_compiled_once_and_a_change_of_exercise_toolchain_or_dependencies_compiles_again()
 {
    let (manifest, settings) = manifest_and_settings().await;
    let exercise = || {
        lockstep::curriculum::load_exercise_by_id(&settings.curriculum_dir().unwrap(), EXERCISE)
            .unwrap()
            .unwrap()
    };
    // Code no earlier run of the suite has seen.
    let code = format!(
        "{}\n// {}\n",
        exercise().solution,
        uuid::Uuid::new_v4().simple()
    );

    let judge = Judge::new(&manifest, helper(), &settings);
    let first = grade(&judge, exercise(), &code).await;
    assert_eq!(first.status, Status::Pass, "{first:?}");
    assert!(compiled(&first), "fresh code is compiled: {first:?}");

    // A new judge over the same data dir (a restart): the build is reused,
    // and the verdict is the same.
    let restarted = Judge::new(&manifest, helper(), &settings);
    let again = grade(&restarted, exercise(), &code).await;
    assert!(
        !compiled(&again),
        "identical code is not compiled again: {again:?}"
    );
    assert_eq!(again.status, Status::Pass);
    assert_eq!(
        again
            .tests
            .iter()
            .map(|t| (&t.name, t.status))
            .collect::<Vec<_>>(),
        first
            .tests
            .iter()
            .map(|t| (&t.name, t.status))
            .collect::<Vec<_>>(),
        "the reused build runs the same tests"
    );

    // The exercise changed (a hidden test): its tests are compiled again.
    let mut changed = exercise();
    if let lockstep::curriculum::Work::GivenTests(tests) = &mut changed.work {
        tests
            .hidden
            .push_str("\n// a new revision of the hidden tests\n");
    }
    let after_change = grade(&judge, changed, &code).await;
    assert!(
        compiled(&after_change),
        "a changed exercise is compiled again: {after_change:?}"
    );

    // Another toolchain (its `rustc -vV`) or another dependency cache: no
    // artifact of the old one is used.
    let mut new_toolchain = manifest.clone();
    new_toolchain
        .rustc_version
        .push_str("commit-hash: a different compiler\n");
    let verdict = grade(
        &Judge::new(&new_toolchain, helper(), &settings),
        exercise(),
        &code,
    )
    .await;
    assert!(
        compiled(&verdict),
        "a new toolchain compiles again: {verdict:?}"
    );
    let mut new_dependencies = manifest.clone();
    new_dependencies.source_hash = "a-different-dependency-cache".into();
    let verdict = grade(
        &Judge::new(&new_dependencies, helper(), &settings),
        exercise(),
        &code,
    )
    .await;
    assert!(
        compiled(&verdict),
        "a new dependency cache compiles again: {verdict:?}"
    );
}

/// A compile step making `path`, as the judge builds them.
fn compile_step(source: &str) -> Step {
    Step {
        name: "compile".into(),
        isolation: Isolation::Toolchain,
        write: vec![lockstep::grading::sandbox::JobFile {
            path: "src/main.rs".into(),
            contents: source.into(),
        }],
        delete: vec![],
        argv: vec!["rustc".into(), "src/main.rs".into()],
        env: vec![],
        limits: Limits::COMPILE,
        must_succeed: true,
        artifact: Some(Artifact {
            path: "out/main".into(),
            reuse: false,
        }),
    }
}

#[test]
fn the_cache_stays_within_its_size_and_evicts_the_least_recently_used() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("build-cache-{}", uuid::Uuid::new_v4().simple()));
    let megabyte = 1024 * 1024;
    let cache = BuildCache::open(&dir, 5 * megabyte).unwrap();
    let build = BuildId::new("rustc 1.95.0", &dir, "deps", &dir, &[]);
    let key = |n: usize| {
        build_cache::keys(&build, &[compile_step(&n.to_string())])[0]
            .clone()
            .unwrap()
    };
    let report = StepReport::not_run(&compile_step(""), Exit::Code(0));
    let artifact = vec![7u8; megabyte as usize];

    for n in 0..4 {
        cache.put(&key(n), &report, &artifact).unwrap();
        // Modification times order the entries: keep them apart.
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // Entry 0 is used again: the least recently used is now entry 1.
    assert!(cache.get(&key(0)).is_some());
    std::thread::sleep(std::time::Duration::from_millis(20));
    for n in 4..8 {
        cache.put(&key(n), &report, &artifact).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(cache.size() <= 5 * megabyte, "{} bytes", cache.size());
    assert!(cache.get(&key(7)).is_some(), "the newest entry stays");
    assert!(cache.get(&key(1)).is_none(), "the least recently used went");
    let entry = cache.get(&key(7)).unwrap();
    assert_eq!(entry.length, megabyte);

    let reopened = BuildCache::open(&dir, 5 * megabyte).unwrap();
    assert!(reopened.get(&key(7)).is_some(), "entries survive a restart");
    // A cut-short artifact (a crash while it was written) is never used.
    std::fs::write(dir.join(key(7).as_str()).join("artifact"), [1, 2, 3]).unwrap();
    assert!(
        reopened.get(&key(7)).is_none(),
        "a cut-short artifact is a miss"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn identical_jobs_in_flight_share_one_compile() {
    let (manifest, settings) = manifest_and_settings().await;
    let judge = Judge::new(&manifest, helper(), &settings);
    let code = format!(
        "fn main() {{ println!(\"{}\"); }}\n",
        uuid::Uuid::new_v4().simple()
    );
    let runs: Vec<_> = (0..4)
        .map(|_| {
            let (judge, code) = (judge.clone(), code.clone());
            tokio::task::spawn_blocking(move || judge.run_program(&code, None))
        })
        .collect();
    let mut compiled_count = 0;
    for run in runs {
        let verdict = run.await.unwrap();
        assert_eq!(verdict.status, Status::Pass, "{verdict:?}");
        assert!(
            !verdict.stdout.is_empty(),
            "each job still runs the program"
        );
        compiled_count += usize::from(compiled(&verdict));
    }
    assert_eq!(compiled_count, 1, "four identical programs, one compile");
}
