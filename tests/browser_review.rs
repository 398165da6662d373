//! Code review in a real browser (headless Chromium over WebDriver, as in
//! `tests/browser.rs`): a learner marks lines of a pull request by mouse and
//! by keyboard, picks categories, hands the review in and reads the score and
//! the key; the page meets WCAG AA (axe) before and after. Screenshots land
//! in `target/screenshots/`.

#[path = "browser/axe.rs"]
mod axe;
mod common;
#[path = "browser/harness.rs"]
mod harness;
// Not every WebDriver call is needed here (`tests/browser.rs` uses the rest).
#[allow(dead_code)]
#[path = "browser/webdriver.rs"]
mod webdriver;

use common::auth::create_user;
use harness::{fresh_profile, log_in, screenshot_path, screenshots};
use lockstep::auth::Role;
use serde_json::json;
use webdriver::Driver;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_learner_reviews_a_pull_request_by_mouse_and_keyboard_and_sees_the_key() {
    let driver = Driver::start().await;
    let app = common::spawn_app().await;
    let base = app.base_url.clone();
    let ada = create_user(&app.db, "ada@example.com", "Ada", Role::Learner).await;
    let programme = common::programme();
    let exercise = programme
        .exercise("review-supplier-quotes")
        .expect("the review exercise");
    let review = exercise.review().expect("a review");
    let defects = &review.defects;
    let browser = driver.session(&fresh_profile("review")).await;
    log_in(&browser, &base, "ada@example.com").await;
    let url = format!("{base}/exercises/{}", exercise.id);
    screenshots(&browser, &url, "exercise-review").await;
    browser.goto(&url).await;
    browser.wait_for("#review-workspace", 10).await;
    axe::assert_accessible(&browser, "/exercises/review-supplier-quotes").await;
    assert_eq!(
        browser
            .execute(
                "return document.querySelectorAll('.review-key, #review-result').length;",
                json!([]),
            )
            .await,
        json!(0),
        "no key before handing in"
    );
    let line_button =
        |file: &str, line: u32| format!("button.mark-line[data-file='{file}'][data-line='{line}']");

    // The first defect by mouse, with its category.
    let first = browser
        .wait_for(&line_button(&defects[0].file, defects[0].lines[0]), 10)
        .await;
    browser.click(&first).await;
    let option = browser
        .wait_for(
            &format!(
                "tr.mark-editor select.mark-category option[value='{}']",
                defects[0].category.id()
            ),
            5,
        )
        .await;
    browser.click(&option).await;
    let comment = browser
        .wait_for("tr.mark-editor textarea.mark-comment", 5)
        .await;
    browser
        .send_keys(&comment, "The guard is held across the fan-out.")
        .await;

    // The second by keyboard: Enter on its line number opens the mark
    // (focus moves to its category), a wrong category: half a point.
    let second = browser
        .wait_for(&line_button(&defects[1].file, defects[1].lines[0]), 5)
        .await;
    browser.send_keys(&second, "\u{E007}").await;
    assert_eq!(
        browser
            .execute(
                "return document.activeElement.classList.contains('mark-category');",
                json!([]),
            )
            .await,
        json!(true),
        "the category of the new mark has the focus"
    );
    let wrong = if defects[1].category.id() == "other" {
        "race-condition"
    } else {
        "other"
    };
    let editors = browser
        .execute(
            "return document.querySelectorAll('tr.mark-editor').length;",
            json!([]),
        )
        .await;
    assert_eq!(editors, json!(2));
    let option = browser
        .wait_for(
            &format!(
                "tr.mark-editor[data-line='{}'] select.mark-category option[value='{wrong}']",
                defects[1].lines[0]
            ),
            5,
        )
        .await;
    browser.click(&option).await;
    // A mark added and removed again counts for nothing.
    let third = browser
        .wait_for(&line_button(&defects[2].file, defects[2].lines[0]), 5)
        .await;
    browser.click(&third).await;
    browser.click(&third).await;
    assert_eq!(
        browser
            .execute(
                "return document.querySelectorAll('tr.mark-editor').length;",
                json!([]),
            )
            .await,
        json!(2)
    );
    let count = browser.wait_for("#mark-count", 5).await;
    assert!(browser.text(&count).await.contains("2 lines marked"));

    // The marks are kept as they are made: a reload brings both back,
    // with their categories and comment, and not the removed one.
    browser
        .wait_until(
            "document.getElementById('marks-saved').textContent === 'Your marks are saved.'",
            10,
            "the marks are saved",
        )
        .await;
    browser.goto(&url).await;
    browser
        .wait_until(
            "document.querySelectorAll('tr.mark-editor').length === 2",
            10,
            "both marks are back after a reload",
        )
        .await;
    let restored = browser
        .execute(
            "return [...document.querySelectorAll('tr.mark-editor')].map((row) =>
                [row.dataset.line, row.querySelector('.mark-category').value,
                 row.querySelector('.mark-comment').value]);",
            json!([]),
        )
        .await;
    let mut restored: Vec<(String, String, String)> =
        serde_json::from_value(restored).expect("rows of three strings");
    restored.sort();
    let mut expected = vec![
        (
            defects[0].lines[0].to_string(),
            defects[0].category.id().to_string(),
            "The guard is held across the fan-out.".to_string(),
        ),
        (
            defects[1].lines[0].to_string(),
            wrong.to_string(),
            String::new(),
        ),
    ];
    expected.sort();
    assert_eq!(restored, expected);

    let hand_in = browser.wait_for("#hand-in-review", 5).await;
    browser.click(&hand_in).await;
    let result = browser.wait_for("#review-result", 20).await;
    axe::assert_accessible(&browser, "/exercises/review-supplier-quotes (handed in)").await;
    let shown = browser.text(&result).await;
    // (1 + ½ + 0) / 3 = 50%.
    assert!(shown.contains("Your review: 50%, not passed"), "{shown}");
    let findings = browser
        .execute(
            "return [...document.querySelectorAll('.review-key li')].map(li => li.className);",
            json!([]),
        )
        .await;
    assert_eq!(
        findings,
        json!([
            "defect defect-found",
            "defect defect-half",
            "defect defect-missed"
        ])
    );
    let key_text = browser.wait_for(".review-key", 5).await;
    let key_text = browser.text(&key_text).await;
    assert!(key_text.contains(defects[2].category.label()), "{key_text}");
    assert!(
        browser.try_find("tr.mark-shown").await.is_some(),
        "the learner's marks are shown on the diff"
    );
    browser
        .execute(
            "document.getElementById('review-result').scrollIntoView();",
            json!([]),
        )
        .await;
    browser
        .screenshot(&screenshot_path("exercise-review-result-desktop"))
        .await;
    let stored: (f64, bool) =
        sqlx::query_as("SELECT score, passed FROM review_submissions WHERE user_id = $1")
            .bind(ada.id)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(stored, (0.5, false));
    browser.quit().await;
}
