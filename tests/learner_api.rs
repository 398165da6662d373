//! The learner's side over HTTP: drafts with optimistic locking, hints one at
//! a time, visits and first opens recorded, history with diffs and the
//! instructor's comments, out-of-date passes, the dashboard — and every bad
//! input answered clearly.

mod common;

use common::auth::{Browser, signed_in};
use lockstep::auth::Role;
use lockstep::auth::cohorts::{self, CohortName};
use reqwest::StatusCode;
use serde_json::{Value, json};

const EXERCISE: &str = "versioned-store";

async fn put_draft(browser: &Browser, exercise: &str, body: &Value) -> reqwest::Response {
    let token = browser.csrf_token().await;
    browser
        .client
        .put(format!(
            "{}/api/exercises/{exercise}/draft",
            browser.base_url
        ))
        .header("x-csrf-token", token)
        .json(body)
        .send()
        .await
        .expect("request")
}

async fn get_draft(browser: &Browser, exercise: &str) -> Value {
    let response = browser
        .get(&format!("/api/exercises/{exercise}/draft"))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

#[tokio::test]
async fn drafts_save_with_versions_and_a_stale_save_gets_the_newer_draft() {
    let app = common::spawn_app().await;
    let (ada, _) = signed_in(&app, "ada@example.com", Role::Learner).await;
    let exercise = common::programme()
        .exercise(EXERCISE)
        .unwrap()
        .starter
        .clone();

    let first = get_draft(&ada, EXERCISE).await;
    assert_eq!(
        first["version"], 0,
        "no draft yet: the starter at version 0"
    );
    assert_eq!(first["code"], exercise.as_str());

    let saved = put_draft(
        &ada,
        EXERCISE,
        &json!({ "code": "// tab one", "version": 0 }),
    )
    .await;
    assert_eq!(saved.status(), StatusCode::OK);
    let saved: Value = saved.json().await.unwrap();
    assert_eq!(saved["version"], 1);

    // A second tab still at version 0 is refused and shown the newer draft.
    let stale = put_draft(
        &ada,
        EXERCISE,
        &json!({ "code": "// tab two", "version": 0 }),
    )
    .await;
    assert_eq!(stale.status(), StatusCode::CONFLICT);
    let stale: Value = stale.json().await.unwrap();
    assert_eq!(stale["draft"]["code"], "// tab one");
    assert_eq!(stale["draft"]["version"], 1);
    assert!(
        stale["error"]
            .as_str()
            .unwrap()
            .contains("changed elsewhere")
    );

    // "Keep mine": saving on top of the newer version overwrites, explicitly.
    let kept = put_draft(
        &ada,
        EXERCISE,
        &json!({ "code": "// tab two", "version": 1 }),
    )
    .await;
    assert_eq!(kept.status(), StatusCode::OK);
    assert_eq!(get_draft(&ada, EXERCISE).await["version"], 2);

    // Another stale write (version 1) loses nothing.
    let again = put_draft(&ada, EXERCISE, &json!({ "code": "// old", "version": 1 })).await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    assert_eq!(get_draft(&ada, EXERCISE).await["code"], "// tab two");

    // Drafts are per learner.
    let (bob, _) = signed_in(&app, "bob@example.com", Role::Learner).await;
    assert_eq!(get_draft(&bob, EXERCISE).await["version"], 0);
}

#[tokio::test]
async fn bad_draft_input_gets_a_clear_error_and_loses_nothing() {
    let app = common::spawn_app().await;
    let (ada, _) = signed_in(&app, "ada@example.com", Role::Learner).await;
    put_draft(&ada, EXERCISE, &json!({ "code": "keep me", "version": 0 })).await;

    let huge = "x".repeat(lockstep::grading::code::MAX_CODE_BYTES + 1);
    let response = put_draft(&ada, EXERCISE, &json!({ "code": huge, "version": 1 })).await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: Value = response.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("limit"), "{body}");

    let response = put_draft(&ada, EXERCISE, &json!({ "code": "a\0b", "version": 1 })).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let response = put_draft(&ada, EXERCISE, &json!({ "code": "x", "version": -3 })).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let response = put_draft(&ada, EXERCISE, &json!({ "code": "x" })).await;
    assert_eq!(
        response.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "version is required"
    );

    let response = put_draft(
        &ada,
        "no-such-exercise",
        &json!({ "code": "x", "version": 0 }),
    )
    .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);

    // Without the CSRF header the save is refused.
    let response = ada
        .client
        .put(format!("{}/api/exercises/{EXERCISE}/draft", ada.base_url))
        .json(&json!({ "code": "x", "version": 1 }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);

    // Signed out: 401, not a redirect.
    let response = app
        .browser()
        .get(&format!("/api/exercises/{EXERCISE}/draft"))
        .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);

    let draft = get_draft(&ada, EXERCISE).await;
    assert_eq!(
        (draft["code"].as_str(), draft["version"].as_i64()),
        (Some("keep me"), Some(1))
    );
}

#[tokio::test]
async fn a_draft_survives_logging_out_and_in_and_is_what_the_page_shows() {
    let app = common::spawn_app().await;
    let (ada, _) = signed_in(&app, "ada@example.com", Role::Learner).await;
    put_draft(
        &ada,
        EXERCISE,
        &json!({ "code": "fn my_work() {} // <draft>", "version": 0 }),
    )
    .await;
    let response = ada.post_form("/logout", &[]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    ada.log_in("ada@example.com").await;
    let html = ada.page(&format!("/exercises/{EXERCISE}")).await;
    assert!(
        html.contains("fn my_work() {} // &#60;draft&#62;")
            || html.contains("fn my_work() {} // &lt;draft&gt;"),
        "the draft is loaded, escaped"
    );
    assert!(html.contains("data-version=\"1\""));
}

#[tokio::test]
async fn hints_are_revealed_one_at_a_time_and_recorded() {
    let app = common::spawn_app().await;
    let (ada, user) = signed_in(&app, "ada@example.com", Role::Learner).await;
    let programme = common::programme();
    let exercise = programme
        .exercises()
        .find(|e| e.hints.len() >= 2)
        .expect("an exercise with two hints");
    let url = format!("/api/exercises/{}/hints", exercise.id);

    let html = ada.page(&format!("/exercises/{}", exercise.id)).await;
    assert!(
        !html.contains("id=\"hint-1\""),
        "no hint shown before asking"
    );
    assert!(html.contains("Reveal hint 1 of"));

    let skip = ada.post_json(&url, &json!({ "index": 1 })).await;
    assert_eq!(skip.status(), StatusCode::CONFLICT);
    let body: Value = skip.json().await.unwrap();
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("reveal hint 1 first")
    );

    let first = ada.post_json(&url, &json!({ "index": 0 })).await;
    assert_eq!(first.status(), StatusCode::OK);
    let body: Value = first.json().await.unwrap();
    assert_eq!(body["hint"], exercise.hints[0].as_str());
    assert_eq!(body["revealed"], 1);

    let beyond = ada
        .post_json(&url, &json!({ "index": exercise.hints.len() }))
        .await;
    assert_eq!(beyond.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // The form fallback (no JavaScript) reveals the next and returns to the page.
    let form = ada
        .post_form(
            &format!("/exercises/{}/hints", exercise.id),
            &[("index", "1")],
        )
        .await;
    assert_eq!(form.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        form.headers()["location"],
        format!("/exercises/{}#hint-2", exercise.id).as_str()
    );

    let recorded: Vec<i32> = sqlx::query_scalar!(
        "SELECT hint_index FROM hint_reveals WHERE user_id = $1 AND exercise_id = $2 ORDER BY hint_index",
        user.id,
        &exercise.id,
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(recorded, vec![0, 1]);
    let html = ada.page(&format!("/exercises/{}", exercise.id)).await;
    assert!(html.contains("id=\"hint-2\""));
}

#[tokio::test]
async fn visits_and_first_opens_are_recorded_and_shown_as_progress() {
    let app = common::spawn_app().await;
    let (ada, user) = signed_in(&app, "ada@example.com", Role::Learner).await;
    let programme = common::programme();
    let module = &programme.modules[0];
    let lesson = module.lessons().next().unwrap();
    let exercise = module.exercises().next().unwrap();

    let html = ada
        .page(&format!("/lessons/{}/{}", module.id, lesson.id))
        .await;
    assert!(
        html.contains("1 of"),
        "the sidebar counts the lesson just read"
    );
    assert!(html.contains("mark-done"));
    ada.page(&format!("/exercises/{}", exercise.id)).await;
    ada.page(&format!("/exercises/{}", exercise.id)).await;

    let visits: i64 = sqlx::query_scalar!(
        r#"SELECT count(*) AS "count!" FROM lesson_visits WHERE user_id = $1"#,
        user.id,
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(visits, 1);
    let opened: Option<time::OffsetDateTime> = sqlx::query_scalar!(
        "SELECT first_opened_at FROM exercise_progress WHERE user_id = $1 AND exercise_id = $2",
        user.id,
        &exercise.id,
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert!(opened.is_some());

    let dashboard = ada.page("/dashboard").await;
    assert!(dashboard.contains("Your progress"));
    assert!(
        dashboard.contains("mark-started"),
        "the opened exercise is in progress"
    );
    assert!(dashboard.contains("id=\"next-up\""));
    // Signed-out visitors can read lessons (nothing recorded) but not the dashboard.
    let visitor = app.browser();
    visitor
        .page(&format!("/lessons/{}/{}", module.id, lesson.id))
        .await;
    let response = visitor.get("/dashboard").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
}

/// Inserts a finished graded submission straight into the database.
async fn graded(
    db: &sqlx::PgPool,
    user_id: i64,
    exercise: &str,
    hash: &str,
    code: &str,
    passed: bool,
) -> i64 {
    sqlx::query_scalar!(
        "INSERT INTO submissions (user_id, mode, exercise_id, exercise_hash, code, status, verdict_status, tests_passed, tests_total, finished_at)
         VALUES ($1, 'submit', $2, $3, $4, 'done', $5, $6, 3, now()) RETURNING id",
        user_id,
        exercise,
        hash,
        code,
        if passed { "pass" } else { "fail" },
        if passed { 3 } else { 1 },
    )
    .fetch_one(db)
    .await
    .unwrap()
}

#[tokio::test]
async fn history_lists_diffs_and_a_pass_on_an_old_version_is_marked_out_of_date() {
    let app = common::spawn_app().await;
    let (ada, user) = signed_in(&app, "ada@example.com", Role::Learner).await;
    let programme = common::programme();
    let exercise = programme.exercise(EXERCISE).unwrap();

    let html = ada.page(&format!("/exercises/{EXERCISE}")).await;
    assert!(html.contains("Nothing handed in yet"));
    assert!(html.contains("Pass the exercise to see the reference solution"));

    // An earlier version of the exercise, as if it had been seen before it changed.
    sqlx::query!(
        "INSERT INTO exercise_versions (hash, exercise_id, visible) VALUES ('old-hash', $1, 'an older statement')",
        EXERCISE,
    )
        .execute(&app.db)
        .await
        .unwrap();
    graded(
        &app.db,
        user.id,
        EXERCISE,
        "old-hash",
        "fn attempt() { 1 }\n",
        false,
    )
    .await;
    let pass = graded(
        &app.db,
        user.id,
        EXERCISE,
        "old-hash",
        "fn attempt() { 2 }\n",
        true,
    )
    .await;
    sqlx::query!(
        "INSERT INTO exercise_progress (user_id, exercise_id, attempts, best_passed, best_total, passed_at, passed_hash)
         VALUES ($1, $2, 2, 3, 3, now(), 'old-hash')
         ON CONFLICT (user_id, exercise_id) DO UPDATE SET passed_at = now(), passed_hash = 'old-hash'",
        user.id,
        EXERCISE,
    )
    .execute(&app.db)
    .await
    .unwrap();

    let fragment = ada.page(&format!("/exercises/{EXERCISE}/history")).await;
    // The list links each change; the diff itself is loaded on demand.
    let diff_url = format!("/exercises/{EXERCISE}/history/{pass}/diff");
    assert!(fragment.contains(&format!("data-diff-url=\"{diff_url}\"")));
    let list = &fragment[fragment.find("id=\"history-heading\"").unwrap()..];
    assert!(!list.contains("diff-del"), "no diff computed for the list");
    let diff = ada.page(&format!("{diff_url}?partial=1")).await;
    assert!(diff.contains("<span class=\"diff-del\">- fn attempt() { 1 }"));
    assert!(diff.contains("<span class=\"diff-add\">+ fn attempt() { 2 }"));
    assert!(diff.contains("+1</span>"), "{diff}");
    let page = ada.page(&diff_url).await;
    assert!(page.contains("Back to the exercise") && page.contains("diff-add"));
    assert!(fragment.contains("1 of 3 tests pass") && fragment.contains("all 3 tests pass"));
    assert!(fragment.contains("changed since you passed it"));
    assert!(fragment.contains(&format!("submission #{pass}")));
    assert!(
        fragment.contains("- an older statement"),
        "what changed in the exercise"
    );
    assert!(fragment.contains("Reference solution"));
    assert!(fragment.contains("id=\"rerun\""));
    assert!(
        !fragment.contains("Pass the exercise to see"),
        "the solution is unlocked"
    );
    if exercise.discussion_html.is_some() {
        assert!(fragment.contains("Discussion"));
    }

    let dashboard = ada.page("/dashboard").await;
    assert!(
        dashboard.contains("mark-out-of-date"),
        "the pass still counts, marked"
    );

    // Someone else's history is their own.
    let (bob, _) = signed_in(&app, "bob@example.com", Role::Learner).await;
    let theirs = bob.page(&format!("/exercises/{EXERCISE}/history")).await;
    assert!(theirs.contains("Nothing handed in yet"));
    assert_eq!(
        bob.get("/exercises/nope/history").await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        bob.get(&diff_url).await.status(),
        StatusCode::NOT_FOUND,
        "another learner's diff"
    );
}

#[tokio::test]
async fn an_instructors_comment_shows_escaped_in_the_learners_history_and_nobody_elses() {
    let app = common::spawn_app().await;
    let (teacher, teacher_user) = signed_in(&app, "teacher@example.com", Role::Instructor).await;
    let cohort = cohorts::create(
        &app.db,
        &teacher_user,
        &CohortName::parse("Spring").unwrap(),
    )
    .await
    .unwrap();
    let (ada, ada_user) = signed_in(&app, "ada@example.com", Role::Learner).await;
    let (bob, bob_user) = signed_in(&app, "bob@example.com", Role::Learner).await;
    for learner in [&ada_user, &bob_user] {
        cohorts::join(&app.db, cohort.id, learner.id).await.unwrap();
    }
    let first = graded(&app.db, ada_user.id, EXERCISE, "h", "fn a() {}\n", false).await;
    let second = graded(&app.db, ada_user.id, EXERCISE, "h", "fn b() {}\n", false).await;
    graded(&app.db, bob_user.id, EXERCISE, "h", "fn c() {}\n", false).await;

    let body = "Look at <b>this</b> & that:\n    the indented line";
    let posted = teacher
        .post_form(
            &format!("/instructor/submissions/{first}/comments"),
            &[("body", body)],
        )
        .await;
    assert_eq!(posted.status(), StatusCode::SEE_OTHER);
    teacher
        .post_form(
            &format!("/instructor/submissions/{first}/comments"),
            &[("body", "And a second thought.")],
        )
        .await;

    let escaped = "Look at &#60;b&#62;this&#60;/b&#62; &#38; that:\n    the indented line";
    for page in [
        ada.page(&format!("/exercises/{EXERCISE}/history")).await,
        ada.page(&format!("/exercises/{EXERCISE}")).await,
    ] {
        assert!(page.contains(escaped), "escaped, whitespace kept: {page}");
        assert!(!page.contains("<b>this</b>"), "never raw HTML");
        assert!(page.contains("class=\"comment-body\""), "pre-wrap class");
        assert!(page.contains("<span class=\"comment-author\">teacher</span>"));
        assert!(!page.contains("style="), "CSP forbids inline styles");
        // Both comments sit under the first submission (listed last), in order.
        let at = |needle: &str| page.find(needle).unwrap();
        assert!(at(&format!("#{second}<")) < at(&format!("#{first}<")));
        assert!(at(&format!("#{first}<")) < at(escaped));
        assert!(at(escaped) < at("And a second thought."));
    }

    for page in [
        bob.page(&format!("/exercises/{EXERCISE}/history")).await,
        bob.page(&format!("/exercises/{EXERCISE}")).await,
    ] {
        assert!(page.contains("fn c()") || page.contains("First submission."));
        assert!(!page.contains("the indented line"), "not Ada's comment");
        assert!(!page.contains("And a second thought."));
        assert!(!page.contains("class=\"comment\""));
    }
}

#[tokio::test]
async fn the_history_of_fifty_large_alternating_submissions_is_paged_and_each_diff_is_bounded() {
    use lockstep::progress::{diff, history};
    let app = common::spawn_app().await;
    let (ada, user) = signed_in(&app, "ada@example.com", Role::Learner).await;
    // 64 KiB each, and every other submission shares almost no line with the
    // one before: the worst case for a line diff.
    let sevens: String = (0..32 * 1024).map(|i| format!("{}\n", i % 7)).collect();
    let fives: String = (0..32 * 1024).map(|i| format!("{}\n", i % 5)).collect();
    let mut ids = Vec::new();
    for n in 0..50 {
        let code = if n % 2 == 0 { &sevens } else { &fives };
        ids.push(graded(&app.db, user.id, EXERCISE, "h", code, false).await);
    }

    let started = std::time::Instant::now();
    let response = ada.get(&format!("/exercises/{EXERCISE}/history")).await;
    let first_page_took = started.elapsed();
    assert_eq!(response.status(), StatusCode::OK);
    let html = response.text().await.unwrap();
    println!(
        "history of 50 × 64 KiB: first page {first_page_took:?}, {} bytes",
        html.len()
    );
    assert!(
        first_page_took < std::time::Duration::from_secs(1),
        "{first_page_took:?}"
    );
    // The list carries neither code nor diffs: its size does not depend on them.
    assert_eq!(
        html.matches("class=\"history-entry\"").count(),
        history::PAGE_SIZE as usize
    );
    assert!(html.len() < 32 * 1024, "{} bytes", html.len());
    assert!(!html.contains("diff-add"));

    // Paging with `before` lists every submission exactly once.
    let mut seen = Vec::new();
    let mut path = format!("/exercises/{EXERCISE}/history");
    loop {
        let page = ada.page(&path).await;
        for part in page.split("<span class=\"history-id\">#").skip(1) {
            seen.push(part.split('<').next().unwrap().parse::<i64>().unwrap());
        }
        let marker = "class=\"history-older\" href=\"";
        let Some(start) = page.find(marker) else {
            break;
        };
        let href: String = page[start + marker.len()..]
            .chars()
            .take_while(|c| *c != '#' && *c != '"')
            .collect();
        let before = href.split("before=").nth(1).unwrap();
        path = format!("/exercises/{EXERCISE}/history?before={before}");
    }
    ids.reverse();
    assert_eq!(seen, ids);

    // One diff on demand: at most `MAX_LINES` lines, the rest counted.
    let started = std::time::Instant::now();
    let diff_html = ada
        .page(&format!(
            "/exercises/{EXERCISE}/history/{}/diff?partial=1",
            ids[0]
        ))
        .await;
    println!(
        "one diff of 64 KiB against 64 KiB: {:?}, {} bytes",
        started.elapsed(),
        diff_html.len()
    );
    let lines: usize = ["add", "del", "same", "gap"]
        .iter()
        .map(|kind| {
            diff_html
                .matches(&format!("<span class=\"diff-{kind}\">"))
                .count()
        })
        .sum();
    assert!(lines > 0 && lines <= diff::MAX_LINES, "{lines} lines");
    assert!(diff_html.contains("more lines of changes are not shown"));
}
