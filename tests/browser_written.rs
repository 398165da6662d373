//! Written work in a real browser (headless Chromium over WebDriver, as in
//! `tests/browser.rs`): a learner writes a design note, previews it and
//! hands it in; their cohort's instructor opens it from the review queue,
//! comments on a line, scores the rubric and accepts; the learner then sees
//! the scores, the comment beside its line and the decision. Screenshots of
//! both sides land in `target/screenshots/`.

mod common;
#[path = "browser/harness.rs"]
mod harness;
// Not every WebDriver call is needed here (`tests/browser.rs` uses the rest).
#[allow(dead_code)]
#[path = "browser/webdriver.rs"]
mod webdriver;

use common::auth::create_user;
use harness::{fresh_profile, log_in, screenshot_path};
use lockstep::auth::Role;
use lockstep::auth::cohorts::{self, CohortName};
use serde_json::json;
use webdriver::{Driver, Session};

const EXERCISE: &str = "capstone-design-note";

/// Typed into the editor line by line (line 5 is the one commented on).
const NOTE: &str = "# Design note: job service\n\n## Context and forces\n\nPartner API calls, at most 5 per second.\n\n## Decisions\n\nA bounded queue and a semaphore, not an unbounded channel.\n";

async fn text_of(browser: &Session, css: &str) -> String {
    let element = browser.wait_for(css, 10).await;
    browser.text(&element).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_learner_hands_in_a_note_an_instructor_scores_it_and_the_learner_sees_why() {
    let driver = Driver::start().await;
    let app = common::spawn_app().await;
    let base = app.base_url.clone();
    let teacher = create_user(&app.db, "ines@example.com", "Ines", Role::Instructor).await;
    let learner = create_user(&app.db, "lea@example.com", "Lea", Role::Learner).await;
    let cohort = cohorts::create(&app.db, &teacher, &CohortName::parse("Spring").unwrap())
        .await
        .unwrap();
    cohorts::join(&app.db, cohort.id, learner.id).await.unwrap();

    // The learner writes, previews (the server's rendering) and hands in.
    let lea = driver.session(&fresh_profile("written-learner")).await;
    log_in(&lea, &base, "lea@example.com").await;
    lea.goto(&format!("{base}/exercises/{EXERCISE}")).await;
    let note = lea.wait_for("#note", 10).await;
    lea.execute("document.getElementById('note').value = '';", json!([]))
        .await;
    lea.send_keys(&note, NOTE).await;
    let preview = lea.wait_for("#preview-button", 5).await;
    lea.click(&preview).await;
    let heading = text_of(&lea, "#preview-body h1").await;
    assert_eq!(heading, "Design note: job service");
    // The draft autosaves through the drafts API (every few seconds).
    lea.wait_until(
        "document.getElementById('save-status').textContent.startsWith('Saved')",
        20,
        "the draft is saved",
    )
    .await;
    let draft: String = sqlx::query_scalar!(
        "SELECT code FROM drafts WHERE user_id = $1 AND exercise_id = $2",
        learner.id,
        EXERCISE
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(draft, NOTE);
    lea.screenshot(&screenshot_path("written-editor-desktop"))
        .await;
    let hand_in = lea.wait_for("#hand-in", 5).await;
    lea.click(&hand_in).await;
    assert_eq!(text_of(&lea, ".review-state").await, "awaiting review");

    // The instructor: dashboard → queue → the note; a line comment, the rubric, accept.
    let ines = driver.session(&fresh_profile("written-instructor")).await;
    log_in(&ines, &base, "ines@example.com").await;
    ines.goto(&format!("{base}/instructor")).await;
    let link = ines.wait_for("#review-queue-link", 10).await;
    assert!(
        ines.text(&link)
            .await
            .contains("1 written submission waiting")
    );
    ines.click(&link).await;
    let entry = ines.wait_for("#review-queue a", 10).await;
    ines.click(&entry).await;
    let body = text_of(&ines, ".written-review").await;
    assert!(body.contains("Partner API calls, at most 5 per second."));
    ines.execute(
        "document.getElementById('comment-line').value = '5';",
        json!([]),
    )
    .await;
    let comment = ines.wait_for("#comment-body", 5).await;
    ines.send_keys(&comment, "Which partner? Name the source of the limit.")
        .await;
    let add = ines.wait_for("#add-line-comment", 5).await;
    ines.click(&add).await;
    let shown = text_of(&ines, ".line-comment[data-line='5']").await;
    assert!(shown.contains("Which partner?"), "{shown}");
    for (criterion, points) in [
        ("context", 3),
        ("decisions", 4),
        ("failures", 3),
        ("evidence", 2),
        ("clarity", 2),
    ] {
        let level = ines
            .wait_for(
                &format!("input[name='level.{criterion}'][value='{points}']"),
                5,
            )
            .await;
        ines.click(&level).await;
    }
    let overall = ines.wait_for("#overall", 5).await;
    ines.send_keys(&overall, "Clear, complete, ready to share.")
        .await;
    ines.screenshot(&screenshot_path("written-scoring-desktop"))
        .await;
    let accept = ines.wait_for("#accept", 5).await;
    ines.click(&accept).await;
    assert!(
        text_of(&ines, "#waiting-count")
            .await
            .starts_with("0 written submissions wait")
    );

    // The learner sees the decision, the scores and the comment beside line 5.
    lea.goto(&format!("{base}/exercises/{EXERCISE}")).await;
    assert_eq!(text_of(&lea, ".review-state").await, "accepted");
    let scores = text_of(&lea, ".rubric-scores caption").await;
    assert_eq!(scores, "Scores: 14 of 14 points");
    let comment = text_of(&lea, ".written-block .line-comment[data-line='5']").await;
    assert!(comment.contains("Which partner?"), "{comment}");
    let block = text_of(&lea, "#submission-1 .written-block:nth-child(3)").await;
    assert!(
        block.contains("Partner API calls") && block.contains("Which partner?"),
        "the comment sits beside its line: {block}"
    );
    assert!(
        text_of(&lea, ".overall-comment")
            .await
            .contains("Clear, complete")
    );
    assert!(text_of(&lea, "#hand-in-closed").await.contains("accepted"));
    lea.execute(
        "document.querySelector('#reviews .written-lines').scrollIntoView();",
        json!([]),
    )
    .await;
    lea.screenshot(&screenshot_path("written-accepted-desktop"))
        .await;
    lea.quit().await;
    ines.quit().await;
}
