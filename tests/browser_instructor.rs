//! The instructor's dashboard in a real browser (headless Chromium over
//! WebDriver, as in `tests/browser.rs`), against a small, known history:
//! sign in through the form, the cohort matrix, a learner's drill-down, one
//! submission's code, the progress CSV, and screenshots of the overview, the
//! learner page and the stuck learners at desktop and phone widths under
//! `target/screenshots/`.

mod common;
#[path = "browser/harness.rs"]
mod harness;
// Not every WebDriver call is needed here (`tests/browser.rs` uses the rest).
#[allow(dead_code)]
#[path = "browser/webdriver.rs"]
mod webdriver;

use common::TestApp;
use common::auth::create_user;
use harness::{fresh_profile, log_in, screenshots};
use lockstep::auth::Role;
use lockstep::auth::cohorts::{self, CohortName};
use serde_json::{Value, json};
use webdriver::{Driver, Session};

const EXERCISE: &str = "counter-actor";

/// A cohort and the ids the test follows.
struct Fixture {
    cohort: i64,
    ada: i64,
    bo: i64,
    /// Ada's passing submission.
    ada_pass: i64,
}

/// A version-2 verdict with `passed` of four tests passing.
fn verdict(passed: usize) -> Value {
    json!({
        "version": 2, "status": if passed == 4 { "pass" } else { "fail" }, "reason": null,
        "message": null, "stdout": "", "stderr": "", "compile_output": "", "diagnostics": [],
        "duration_ms": {"queue": 1, "compile": 1, "run": 1, "total": 3},
        "tests": (0..4).map(|i| json!({
            "name": format!("visible::t{i}"), "status": if i < passed { "pass" } else { "fail" },
            "message": null, "output": null, "hidden": false,
        })).collect::<Vec<_>>(),
    })
}

/// Inserts a graded submission of [`EXERCISE`] `minutes_ago` minutes ago.
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

/// The teacher's cohort "Spring": Ada passes on her second attempt an hour
/// ago; Bo fails five times ten days ago (stuck twice over); Cy never starts.
async fn fixture(app: &TestApp) -> Fixture {
    let teacher = create_user(&app.db, "teacher@example.com", "Teacher", Role::Instructor).await;
    let cohort = cohorts::create(&app.db, &teacher, &CohortName::parse("Spring").unwrap())
        .await
        .unwrap();
    let ada = create_user(&app.db, "ada@example.com", "Ada", Role::Learner).await;
    let bo = create_user(&app.db, "bo@example.com", "Bo", Role::Learner).await;
    let cy = create_user(&app.db, "cy@example.com", "Cy", Role::Learner).await;
    for learner in [&ada, &bo, &cy] {
        cohorts::join(&app.db, cohort.id, learner.id).await.unwrap();
    }
    submission(app, ada.id, "fn count() -> u32 {\n    1\n}\n", 2, 120).await;
    let ada_pass = submission(app, ada.id, "fn count() -> u32 {\n    42\n}\n", 4, 60).await;
    let mut bo_last = 0;
    for i in 0..5 {
        bo_last = submission(app, bo.id, "fn count() {}\n", 1, 10 * 1440 - 60 * i).await;
    }
    sqlx::query!(
        "INSERT INTO exercise_progress (user_id, exercise_id, first_opened_at, attempts, best_passed,
                                        best_total, passed_at, passed_hash, last_submission_id, last_activity_at)
         VALUES ($1, $3, now() - interval '3 hours', 2, 4, 4, now() - interval '1 hour', 'h', $4, now() - interval '1 hour'),
                ($2, $3, now() - interval '10 days', 5, 1, 4, NULL, NULL, $5, now() - interval '9 days 20 hours')",
        ada.id,
        bo.id,
        EXERCISE,
        ada_pass,
        bo_last,
    )
    .execute(&app.db)
    .await
    .unwrap();
    Fixture {
        cohort: cohort.id,
        ada: ada.id,
        bo: bo.id,
        ada_pass,
    }
}

/// `GET url` from the page, with the browser's own session cookie (a
/// synchronous request, so WebDriver's plain `execute` gets the answer):
/// status, content type, content disposition and body.
async fn fetch_in_page(browser: &Session, url: &str) -> (i64, String, String, String) {
    let answer = browser
        .execute(
            "const request = new XMLHttpRequest();
             request.open('GET', arguments[0], false);
             request.send();
             return [request.status, request.getResponseHeader('content-type'),
                     request.getResponseHeader('content-disposition'), request.responseText];",
            json!([url]),
        )
        .await;
    let text = |i: usize| answer[i].as_str().unwrap_or_default().to_string();
    (answer[0].as_i64().unwrap_or(0), text(1), text(2), text(3))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instructor_signs_in_reads_the_matrix_drills_down_and_exports() {
    let driver = Driver::start().await;
    let app = common::spawn_app().await;
    let base = app.base_url.clone();
    let f = fixture(&app).await;
    let browser = driver.session(&fresh_profile("instructor")).await;

    // Sign in through the form; the cohort is one click from /instructor.
    log_in(&browser, &base, "teacher@example.com").await;
    browser.goto(&format!("{base}/instructor")).await;
    let overview_url = format!("{base}/instructor/cohorts/{}", f.cohort);
    let cohort_link = browser
        .wait_for(&format!("a[href='/instructor/cohorts/{}']", f.cohort), 10)
        .await;
    browser.click(&cohort_link).await;

    // The matrix: every learner, Ada's cell passed, Bo's attempted five times.
    let matrix = browser.wait_for("#matrix tbody", 10).await;
    let rows = browser.text(&matrix).await;
    for name in ["Ada", "Bo", "Cy"] {
        assert!(rows.contains(name), "{name} is in the matrix: {rows}");
    }
    let column = browser
        .execute(
            "return Array.from(document.querySelectorAll('#matrix .exercise-head'))
                 .findIndex(th => th.dataset.exercise === arguments[0]);",
            json!([EXERCISE]),
        )
        .await
        .as_i64()
        .expect("the exercise's column");
    assert!(column >= 0, "{EXERCISE} has a column");
    let cell_class = |learner: i64| {
        browser.execute(
            "const row = document.querySelector(`#matrix tr[data-learner='${arguments[0]}']`);
             return row.querySelectorAll('td.cell')[arguments[1]].className;",
            json!([learner, column]),
        )
    };
    let class = cell_class(f.ada).await;
    assert_eq!(class, "cell cell-passed", "Ada passed {EXERCISE}");
    assert_eq!(cell_class(f.bo).await, "cell cell-attempted", "Bo tried");
    assert_eq!(
        browser
            .execute(
                "return document.querySelectorAll('#matrix td.cell-passed').length;",
                json!([])
            )
            .await,
        1,
        "only Ada passed anything"
    );
    screenshots(&browser, &overview_url, "instructor-overview").await;

    // The progress CSV, with the instructor's session, as the tab links it.
    let (status, content_type, disposition, csv) = fetch_in_page(
        &browser,
        &format!("/instructor/cohorts/{}/export/matrix.csv", f.cohort),
    )
    .await;
    assert_eq!(status, 200);
    assert!(content_type.starts_with("text/csv"), "{content_type}");
    assert!(disposition.starts_with("attachment"), "{disposition}");
    assert_eq!(
        csv.lines().next(),
        Some(
            "user_id,display_name,email,exercise_id,state,attempts,best_passed,best_total,\
             first_opened_at,passed_at,last_activity_at"
        )
    );
    assert!(csv.contains(",Ada,ada@example.com,counter-actor,passed,2,4,4,"));

    // Ada's drill-down, then her passing submission with its code.
    let learner_url = format!("{base}/instructor/cohorts/{}/learners/{}", f.cohort, f.ada);
    let ada_link = browser
        .wait_for(
            &format!(
                "#matrix a[href='/instructor/cohorts/{}/learners/{}']",
                f.cohort, f.ada
            ),
            5,
        )
        .await;
    browser.click(&ada_link).await;
    let heading = browser.wait_for("main h1", 10).await;
    assert_eq!(browser.text(&heading).await, "Ada");
    let timeline = browser.wait_for("ol.timeline", 5).await;
    let timeline = browser.text(&timeline).await;
    assert!(timeline.contains("pass"), "{timeline}");
    screenshots(&browser, &learner_url, "instructor-learner").await;

    let submission_link = browser
        .wait_for(
            &format!(
                "ol.timeline a[href='/instructor/submissions/{}']",
                f.ada_pass
            ),
            5,
        )
        .await;
    browser.click(&submission_link).await;
    let code = browser.wait_for("main pre.code", 10).await;
    let code = browser.text(&code).await;
    assert!(
        code.contains("fn count() -> u32"),
        "the code is shown: {code}"
    );
    assert!(code.contains("42"));
    let verdict = browser.wait_for("main h2 .verdict", 5).await;
    assert_eq!(browser.text(&verdict).await, "pass");
    screenshots(
        &browser,
        &format!("{base}/instructor/submissions/{}", f.ada_pass),
        "instructor-submission",
    )
    .await;

    // Stuck learners: Bo (five failures, quiet for days) and Cy (never active).
    let stuck_url = format!("{base}/instructor/cohorts/{}/stuck", f.cohort);
    browser.goto(&stuck_url).await;
    let table = browser.wait_for("table.stuck", 10).await;
    let stuck = browser.text(&table).await;
    assert!(stuck.contains("Bo") && stuck.contains("Cy"), "{stuck}");
    assert!(!stuck.contains("Ada"), "{stuck}");
    screenshots(&browser, &stuck_url, "instructor-stuck").await;

    browser.quit().await;
}
