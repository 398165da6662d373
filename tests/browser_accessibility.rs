//! WCAG 2.x A and AA in a real browser: axe-core (see `tests/browser/axe.rs`)
//! checks the main pages — the catalogue, a module, lessons with Rust and
//! TOML code, an exercise with its history, the learner's dashboard and the
//! instructor's pages, the learner's in the dark theme as well — in headless
//! Chromium over WebDriver, and the check is shown to catch a contrast
//! failure when there is one.

#[path = "browser/axe.rs"]
mod axe;
mod common;
#[path = "browser/harness.rs"]
mod harness;
#[allow(dead_code)]
#[path = "browser/webdriver.rs"]
mod webdriver;

use common::TestApp;
use common::auth::create_user;
use harness::{fresh_profile, log_in};
use lockstep::auth::Role;
use lockstep::auth::cohorts::{self, CohortName};
use serde_json::{Value, json};
use webdriver::{Driver, Session};

const EXERCISE: &str = "counter-actor";

/// A version-2 verdict with `passed` of four tests passing.
fn verdict(passed: usize) -> Value {
    json!({
        "version": 2, "status": if passed == 4 { "pass" } else { "fail" }, "reason": null,
        "message": null, "stdout": "", "stderr": "", "compile_output": "", "diagnostics": [],
        "duration_ms": {"queue": 1, "compile": 1, "run": 1, "total": 3},
        "tests": (0..4).map(|i| json!({
            "name": format!("visible::t{i}"), "status": if i < passed { "pass" } else { "fail" },
            "message": if i < passed { Value::Null } else { json!("assertion `left == right` failed") },
            "output": null, "hidden": false,
        })).collect::<Vec<_>>(),
    })
}

/// Inserts a graded submission of [`EXERCISE`] `minutes_ago` minutes ago
/// (the query of `tests/browser_instructor.rs`, so its offline data is shared).
async fn submission(app: &TestApp, user: i64, code: &str, passed: usize, minutes_ago: i32) -> i64 {
    let verdict = verdict(passed);
    sqlx::query_scalar!(
        "INSERT INTO submissions (user_id, mode, exercise_id, exercise_hash, code, status, verdict,
                                  verdict_status, tests_passed, tests_total, created_at, finished_at)
         VALUES ($1, 'submit', $2, 'h', $3, 'done', $4, $5, $6, 4,
                 now() - make_interval(mins => $7), now() - make_interval(mins => $7))
         RETURNING id",
        user,
        EXERCISE,
        code,
        &verdict,
        verdict["status"].as_str().unwrap(),
        passed as i32,
        minutes_ago,
    )
    .fetch_one(&app.db)
    .await
    .unwrap()
}

/// Opens `path`, waits for `ready` (a CSS selector), and asserts axe finds nothing.
async fn check(browser: &Session, base: &str, path: &str, ready: &str) {
    browser.goto(&format!("{base}{path}")).await;
    browser.wait_for(ready, 15).await;
    axe::assert_accessible(browser, path).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_main_pages_meet_wcag_aa_and_a_contrast_failure_is_caught() {
    let driver = Driver::start().await;
    let app = common::spawn_app().await;
    let base = app.base_url.clone();
    let programme = common::programme();

    let teacher = create_user(&app.db, "teacher@example.com", "Teacher", Role::Instructor).await;
    let cohort = cohorts::create(&app.db, &teacher, &CohortName::parse("Spring").unwrap())
        .await
        .unwrap();
    let ada = create_user(&app.db, "ada@example.com", "Ada", Role::Learner).await;
    cohorts::join(&app.db, cohort.id, ada.id).await.unwrap();
    submission(&app, ada.id, "fn count() -> u32 {\n    1\n}\n", 2, 120).await;
    let passing = submission(&app, ada.id, "fn count() -> u32 {\n    42\n}\n", 4, 60).await;

    // Signed out: the catalogue, a module, a lesson with runnable Rust and
    // one with Cargo.toml blocks.
    let browser = driver.session(&fresh_profile("axe-learner")).await;
    check(&browser, &base, "/", "main").await;
    let first = &programme.modules[0];
    check(&browser, &base, &format!("/modules/{}", first.id), "main").await;
    let with_example = first
        .lessons()
        .find(|lesson| !lesson.examples.is_empty())
        .expect("a lesson with an example");
    check(
        &browser,
        &base,
        &format!("/lessons/{}/{}", first.id, with_example.id),
        "figure.example .example-run",
    )
    .await;
    let with_toml = programme
        .lessons()
        .find(|lesson| lesson.html.contains("language-toml"))
        .expect("a lesson with a TOML block");
    check(
        &browser,
        &base,
        &format!("/lessons/{}/{}", with_toml.module_id, with_toml.id),
        "pre.code code.language-toml .hl-property",
    )
    .await;

    // Signed in: an exercise with its editor and history, and the dashboard.
    log_in(&browser, &base, "ada@example.com").await;
    check(
        &browser,
        &base,
        &format!("/exercises/{EXERCISE}"),
        "#editor .cm-content",
    )
    .await;
    browser.wait_for("#history-list .badge-fail", 5).await;
    check(&browser, &base, "/dashboard", "main").await;

    // The dark theme has colours of its own.
    browser.prefer_color_scheme("dark").await;
    check(
        &browser,
        &base,
        &format!("/lessons/{}/{}", first.id, with_example.id),
        "figure.example .example-run",
    )
    .await;
    let dark = browser
        .execute(
            "return matchMedia('(prefers-color-scheme: dark)').matches;",
            json!([]),
        )
        .await;
    assert_eq!(dark, json!(true), "the dark theme is on after navigating");
    check(
        &browser,
        &base,
        &format!("/lessons/{}/{}", with_toml.module_id, with_toml.id),
        "pre.code code.language-toml .hl-property",
    )
    .await;
    check(
        &browser,
        &base,
        &format!("/exercises/{EXERCISE}"),
        "#editor .cm-content",
    )
    .await;
    browser.prefer_color_scheme("light").await;

    // The check fails on a contrast violation: grey on white, 2.3:1.
    browser
        .execute(
            "const p = document.createElement('p');
             p.id = 'too-faint';
             p.textContent = 'Barely legible';
             p.style.color = '#aaaaaa';
             p.style.background = '#ffffff';
             document.querySelector('main').appendChild(p);",
            json!([]),
        )
        .await;
    let found = axe::violations(&browser).await;
    let contrast = found
        .iter()
        .find(|v| v.rule == "color-contrast")
        .unwrap_or_else(|| panic!("axe reports the faint paragraph: {found:?}"));
    assert!(
        contrast.detail.contains("#too-faint"),
        "{}",
        contrast.detail
    );
    browser.quit().await;

    // The instructor's pages.
    let browser = driver.session(&fresh_profile("axe-instructor")).await;
    log_in(&browser, &base, "teacher@example.com").await;
    check(&browser, &base, "/instructor", "main").await;
    let cohort_path = format!("/instructor/cohorts/{}", cohort.id);
    check(&browser, &base, &cohort_path, "#matrix tbody").await;
    check(
        &browser,
        &base,
        &format!("{cohort_path}/charts"),
        "svg.chart",
    )
    .await;
    check(
        &browser,
        &base,
        &format!("{cohort_path}/exercises/{EXERCISE}"),
        "main",
    )
    .await;
    check(
        &browser,
        &base,
        &format!("/instructor/submissions/{passing}"),
        "main pre.code",
    )
    .await;
    browser.quit().await;
}
