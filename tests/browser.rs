//! End-to-end tests in a real browser: headless Chromium driven over
//! WebDriver (Debian's `chromium` + `chromium-driver`, installed by `.ci/run`),
//! against the real app and a grading pool over the real sandbox.
//!
//! Screenshots of the main pages, at desktop and phone widths, are saved
//! under `target/screenshots/` as artifacts.

mod common;
#[path = "browser/harness.rs"]
mod harness;
#[path = "browser/webdriver.rs"]
mod webdriver;

use common::auth::{PASSWORD, create_user};
use harness::{fresh_profile, log_in, screenshot_path, screenshots};
use lockstep::auth::Role;
use lockstep::grading::pool::PoolConfig;
use serde_json::json;
use tokio::sync::Mutex;
use webdriver::{Driver, Session};

/// Browsers are heavy: the tests of this file take turns.
static ONE_AT_A_TIME: Mutex<()> = Mutex::const_new(());

/// Seconds a grading round may take (a cold compile on a busy machine).
const GRADING_SECONDS: u64 = 240;

/// Replaces the workspace editor's text.
async fn set_code(browser: &Session, code: &str) {
    browser
        .execute(
            "document.getElementById('workspace').lockstepEditor.setValue(arguments[0]);",
            json!([code]),
        )
        .await;
}

async fn code_in_editor(browser: &Session) -> String {
    browser
        .execute(
            "return document.getElementById('workspace').lockstepEditor.getValue();",
            json!([]),
        )
        .await
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// Clicks `button` and waits for the verdict; returns pass / fail / error.
async fn grade(browser: &Session, button: &str) -> String {
    browser
        .execute(
            "delete document.getElementById('workspace').dataset.verdict;",
            json!([]),
        )
        .await;
    let button = browser.wait_for(button, 10).await;
    browser.click(&button).await;
    browser
        .wait_until(
            "document.getElementById('workspace').dataset.verdict",
            GRADING_SECONDS,
            "a verdict is shown",
        )
        .await;
    browser
        .execute(
            "return document.getElementById('workspace').dataset.verdict;",
            json!([]),
        )
        .await
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_learner_signs_up_runs_an_example_fails_fixes_and_sees_progress() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let driver = Driver::start().await;
    let app = common::spawn_app().await;
    let (stop, pool) = common::spawn_pool(app.db.clone(), PoolConfig::with_workers(2)).await;
    let base = app.base_url.clone();
    let programme = common::programme();
    let module = &programme.modules[0];
    let browser = driver.session(&fresh_profile("learner")).await;

    // The catalogue, signed out.
    screenshots(&browser, &format!("{base}/"), "catalogue").await;

    // Sign up.
    browser.goto(&format!("{base}/signup")).await;
    for (name, value) in [
        ("email", "ada@example.com"),
        ("display_name", "Ada"),
        ("password", PASSWORD),
    ] {
        let field = browser.wait_for(&format!("input[name={name}]"), 10).await;
        browser.send_keys(&field, value).await;
    }
    let button = browser.wait_for("main form button[type=submit]", 10).await;
    browser.click(&button).await;
    browser.wait_for("a[href='/dashboard']", 10).await;

    // A lesson: run its first example and see the output inline.
    let lesson = module
        .lessons()
        .find(|lesson| !lesson.examples.is_empty())
        .expect("a lesson with an example");
    let lesson_url = format!("{base}/lessons/{}/{}", module.id, lesson.id);
    browser.goto(&lesson_url).await;
    let run = browser.wait_for("figure.example .example-run", 10).await;
    browser.click(&run).await;
    browser
        .wait_until(
            "document.querySelector('figure.example').dataset.ran",
            GRADING_SECONDS,
            "the example ran",
        )
        .await;
    let output = browser.wait_for("figure.example .example-output", 5).await;
    let shown = browser.text(&output).await;
    if let Some(expected) = &lesson.examples[0].expected_output {
        let first_line = expected.lines().next().unwrap_or_default().trim();
        assert!(
            shown.contains(first_line),
            "the example's output is shown: {shown:?}"
        );
    }
    browser
        .execute(
            "document.querySelector('figure.example').scrollIntoView();",
            json!([]),
        )
        .await;
    browser
        .screenshot(&screenshot_path("lesson-example-ran-desktop"))
        .await;
    // Examples become editable on click.
    let edit = browser.wait_for("figure.example .example-edit", 5).await;
    browser.click(&edit).await;
    browser
        .wait_for("figure.example .example-editor .cm-content", 15)
        .await;
    screenshots(&browser, &lesson_url, "lesson").await;

    // An exercise: reveal a hint, reset, submit the starter (fails), a compile
    // error (marked in the editor), then the solution (passes).
    let exercise = module.exercises().next().expect("an exercise");
    let exercise_url = format!("{base}/exercises/{}", exercise.id);
    browser.goto(&exercise_url).await;
    browser.wait_for("#editor .cm-content", 15).await;
    if !exercise.hints.is_empty() {
        let hint = browser.wait_for("#hint-button", 5).await;
        browser.click(&hint).await;
        let shown = browser.wait_for("#hint-1", 10).await;
        assert_eq!(browser.text(&shown).await.trim(), exercise.hints[0].trim());
    }
    set_code(&browser, "// scribbles\n").await;
    let reset = browser.wait_for("#reset", 5).await;
    browser.click(&reset).await;
    browser.accept_alert().await;
    assert_eq!(code_in_editor(&browser).await, exercise.starter);

    assert_eq!(
        grade(&browser, "#submit").await,
        "fail",
        "the starter fails"
    );
    browser.wait_for("#verdict .test-fail", 5).await;
    let phases = browser
        .execute(
            "return document.getElementById('phases').dataset.state;",
            json!([]),
        )
        .await;
    assert_eq!(phases, "done");
    // The count is said one way: the history's newest entry says what the
    // verdict's headline says, not "failed 3 / 6 tests" under "3 of 6 tests pass".
    let headline = browser.wait_for("#verdict .verdict-title", 5).await;
    let headline = browser.text(&headline).await;
    assert!(headline.ends_with("tests pass"), "{headline}");
    let result = browser
        .wait_for("#history-list .history-entry .history-result", 10)
        .await;
    assert_eq!(browser.text(&result).await, headline);

    set_code(
        &browser,
        &format!(
            "{}\npub fn broken() -> u32 {{ \"not a number\" }}\n",
            exercise.starter
        ),
    )
    .await;
    assert_eq!(grade(&browser, "#run-visible").await, "error");
    browser.wait_for("#verdict .compiler-output", 5).await;
    browser.wait_for("#editor .cm-lintRange-error", 5).await;
    browser
        .execute(
            "document.getElementById('editor').scrollIntoView();",
            json!([]),
        )
        .await;
    browser
        .screenshot(&screenshot_path("exercise-compile-error-desktop"))
        .await;

    set_code(&browser, &exercise.solution).await;
    assert_eq!(
        grade(&browser, "#submit").await,
        "pass",
        "the solution passes"
    );
    browser.wait_for("#verdict .verdict-pass", 5).await;
    browser
        .wait_until(
            "document.querySelectorAll('#history-list .history-entry').length === 3",
            10,
            "the history lists the three submissions",
        )
        .await;
    browser.wait_for("#after .history-diff", 5).await;
    // A diff is fetched when it is opened, not with the list.
    assert!(
        browser
            .execute(
                "return document.querySelectorAll('#after .history-diff pre.diff').length;",
                json!([]),
            )
            .await
            == json!(0)
    );
    browser
        .execute(
            "document.querySelector('#after .history-diff summary').click();",
            json!([]),
        )
        .await;
    browser
        .wait_for("#after .history-diff[open] pre.diff", 5)
        .await;
    let solution = browser.wait_for("#after .solution pre.code", 10).await;
    assert!(!browser.text(&solution).await.is_empty());
    browser
        .screenshot(&screenshot_path("exercise-passed-desktop"))
        .await;
    screenshots(&browser, &exercise_url, "exercise").await;

    // Progress: the lesson read and the exercise passed.
    browser.goto(&format!("{base}/dashboard")).await;
    let card = browser.wait_for(&format!("#module-{}", module.id), 5).await;
    let text = browser.text(&card).await;
    assert!(
        text.contains("2 of"),
        "two items of the module done: {text}"
    );
    browser
        .wait_for(
            &format!(
                "#module-{} a[href='/exercises/{}'] .mark-done",
                module.id, exercise.id
            ),
            5,
        )
        .await;
    screenshots(&browser, &format!("{base}/dashboard"), "dashboard").await;

    browser.quit().await;
    stop.cancel();
    let _ = pool.await;
}

/// The learner's draft of `exercise` in the database: (code, version).
async fn draft(db: &sqlx::PgPool, user_id: i64, exercise: &str) -> Option<(String, i64)> {
    sqlx::query!(
        "SELECT code, version FROM drafts WHERE user_id = $1 AND exercise_id = $2",
        user_id,
        exercise
    )
    .fetch_optional(db)
    .await
    .unwrap()
    .map(|draft| (draft.code, draft.version))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_browsers_editing_one_draft_must_choose_never_overwrite_silently() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let driver = Driver::start().await;
    let app = common::spawn_app().await;
    let base = app.base_url.clone();
    let user = create_user(&app.db, "ada@example.com", "Ada", Role::Learner).await;
    let exercise = common::programme()
        .exercises()
        .next()
        .expect("an exercise")
        .id
        .clone();
    let url = format!("{base}/exercises/{exercise}");

    let laptop = driver.session(&fresh_profile("laptop")).await;
    let phone = driver.session(&fresh_profile("phone")).await;
    for browser in [&laptop, &phone] {
        log_in(browser, &base, "ada@example.com").await;
        browser.goto(&url).await;
        browser.wait_for("#editor .cm-content", 15).await;
    }

    // The laptop saves first (autosave); typing goes through the real editor.
    let editor = laptop.wait_for("#editor .cm-content", 5).await;
    laptop.send_keys(&editor, "// typed on the laptop").await;
    laptop
        .wait_until(
            "document.getElementById('save-status').textContent.startsWith('Saved')",
            15,
            "the laptop's draft is saved",
        )
        .await;
    let (code, version) = draft(&app.db, user.id, &exercise).await.expect("a draft");
    assert!(code.contains("// typed on the laptop"));
    assert_eq!(version, 1);

    // The phone, still at version 0, is stopped and asked.
    set_code(&phone, "// from the phone\n").await;
    phone
        .wait_until(
            "!document.getElementById('conflict').hidden",
            15,
            "the phone is told about the newer draft",
        )
        .await;
    phone
        .screenshot(&screenshot_path("draft-conflict-desktop"))
        .await;
    assert_eq!(
        draft(&app.db, user.id, &exercise).await.unwrap().1,
        1,
        "nothing overwritten"
    );

    // "Keep mine" overwrites, explicitly.
    let keep = phone.wait_for("#conflict-keep", 5).await;
    phone.click(&keep).await;
    phone
        .wait_until(
            "document.getElementById('save-status').textContent.startsWith('Saved')",
            15,
            "the phone's draft is saved",
        )
        .await;
    assert_eq!(
        draft(&app.db, user.id, &exercise).await.unwrap(),
        ("// from the phone\n".to_string(), 2)
    );

    // The laptop's next save conflicts; it loads the newer draft.
    set_code(&laptop, "// laptop again\n").await;
    laptop
        .wait_until(
            "!document.getElementById('conflict').hidden",
            15,
            "the laptop is told about the newer draft",
        )
        .await;
    let load = laptop.wait_for("#conflict-load", 5).await;
    laptop.click(&load).await;
    assert_eq!(code_in_editor(&laptop).await, "// from the phone\n");
    tokio::time::sleep(std::time::Duration::from_secs(4)).await;
    assert_eq!(
        draft(&app.db, user.id, &exercise).await.unwrap(),
        ("// from the phone\n".to_string(), 2),
        "loading the newer draft writes nothing"
    );

    // A reload shows the saved draft.
    laptop.goto(&url).await;
    laptop.wait_for("#editor .cm-content", 15).await;
    assert_eq!(code_in_editor(&laptop).await, "// from the phone\n");

    laptop.quit().await;
    phone.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_learner_takes_a_concept_check_by_mouse_and_keyboard() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let driver = Driver::start().await;
    let app = common::spawn_app().await;
    let base = app.base_url.clone();
    let ada = create_user(&app.db, "ada@example.com", "Ada", Role::Learner).await;
    let programme = common::programme();
    let lesson = programme
        .lesson("async-fundamentals", "concurrency-in-a-task")
        .expect("the lesson");
    let join_order = lesson.checks.iter().find(|q| q.id == "join-order").unwrap();
    let right = join_order.answer[0];
    let wrong = (right + 1) % join_order.options.len();
    let browser = driver.session(&fresh_profile("checks")).await;
    log_in(&browser, &base, "ada@example.com").await;
    let lesson_url = format!("{base}/lessons/async-fundamentals/concurrency-in-a-task");
    browser.goto(&format!("{lesson_url}#checks")).await;
    browser.wait_for("#checks #check-join-order", 10).await;
    assert_eq!(
        browser
            .execute(
                "return document.querySelectorAll('#checks .check-explanation').length;",
                json!([]),
            )
            .await,
        json!(0),
        "no explanation before an attempt"
    );

    // A wrong prediction, by mouse: the verdict, the right option marked, the explanation.
    let option = browser
        .wait_for(&format!("#check-join-order input[value='{wrong}']"), 5)
        .await;
    browser.click(&option).await;
    let check = browser.wait_for("#check-join-order .check-submit", 5).await;
    browser.click(&check).await;
    let explanation = browser
        .wait_for("#check-join-order .check-explanation", 10)
        .await;
    assert!(!browser.text(&explanation).await.is_empty());
    let verdict = browser
        .wait_for("#check-join-order .check-verdict", 5)
        .await;
    assert!(browser.text(&verdict).await.contains("Not quite"));
    browser
        .wait_for(
            &format!("#check-join-order label.is-right-answer input[value='{right}']"),
            5,
        )
        .await;

    // Pick the line by keyboard: focus line 1, arrow down to line 6, check.
    let first_line = browser
        .wait_for("#check-permit-too-late input[value='1']", 5)
        .await;
    browser.click(&first_line).await;
    // Five ArrowDowns in one go: each send re-focuses the element it targets.
    browser.send_keys(&first_line, &"\u{E015}".repeat(5)).await;
    let picked = browser
        .execute(
            "return document.querySelector('#check-permit-too-late input:checked').value;",
            json!([]),
        )
        .await;
    assert_eq!(
        picked,
        json!("6"),
        "the arrow keys moved the pick to line 6"
    );
    let check = browser
        .wait_for("#check-permit-too-late .check-submit", 5)
        .await;
    browser.click(&check).await;
    let verdict = browser
        .wait_for("#check-permit-too-late .check-verdict", 10)
        .await;
    assert!(browser.text(&verdict).await.contains("Right"));
    browser
        .execute(
            "document.getElementById('check-permit-too-late').scrollIntoView();",
            json!([]),
        )
        .await;
    browser
        .screenshot(&screenshot_path("lesson-concept-check-desktop"))
        .await;

    let attempts: Vec<(String, bool)> = sqlx::query_as(
        "SELECT question_id, correct FROM concept_check_attempts WHERE user_id = $1 ORDER BY id",
    )
    .bind(ada.id)
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(
        attempts,
        vec![
            ("join-order".to_string(), false),
            ("permit-too-late".to_string(), true)
        ]
    );

    // Back on the page, the earlier results are shown (and still no key).
    browser.goto(&lesson_url).await;
    let past = browser.wait_for("#check-join-order .check-past", 10).await;
    assert!(
        browser
            .text(&past)
            .await
            .contains("Your last answer was wrong")
    );
    browser.quit().await;
}
