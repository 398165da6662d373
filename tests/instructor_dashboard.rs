//! The instructor's dashboard over HTTP against a small, hand-written
//! history whose every number is known: the matrix, stuck learners,
//! per-exercise analytics, the learner drill-down, comments, exports, and
//! who may see what (no IDOR).

mod common;

use common::auth::{Browser, create_user, signed_in};
use common::{TestApp, spawn_app};
use lockstep::auth::cohorts::{self, CohortName};
use lockstep::auth::{Role, User};
use reqwest::StatusCode;
use serde_json::{Value, json};

const EXERCISE: &str = "counter-actor";

struct Fixture {
    app: TestApp,
    teacher: Browser,
    cohort: i64,
    ada: User,
    bo: User,
    cy: User,
    /// Ada's three submissions, in order (the last passes).
    ada_submissions: Vec<i64>,
    bo_last: i64,
}

fn verdict(results: &[(&str, bool, bool, Option<&str>)]) -> Value {
    let all_pass = results.iter().all(|r| r.1);
    json!({
        "version": 2, "status": if all_pass { "pass" } else { "fail" }, "reason": null,
        "message": null, "stdout": "", "stderr": "", "compile_output": "", "diagnostics": [],
        "duration_ms": {"queue": 1, "compile": 1, "run": 1, "total": 3},
        "tests": results.iter().map(|(name, pass, hidden, message)| json!({
            "name": name, "status": if *pass { "pass" } else { "fail" },
            "message": message, "output": null, "hidden": hidden,
        })).collect::<Vec<_>>(),
    })
}

/// Inserts a graded submission `minutes_ago` minutes ago.
async fn submission(
    app: &TestApp,
    user: i64,
    code: &str,
    verdict: &Value,
    minutes_ago: i64,
) -> i64 {
    let passed = verdict["tests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["status"] == "pass")
        .count() as i32;
    sqlx::query_scalar!(
        "INSERT INTO submissions (user_id, mode, exercise_id, exercise_hash, code, status, verdict,
                                  verdict_status, tests_passed, tests_total, created_at, finished_at)
         VALUES ($1, 'submit', $2, 'h', $3, 'done', $4, $5, $6, 4,
                 now() - make_interval(mins => $7), now() - make_interval(mins => $7))
         RETURNING id",
        user,
        EXERCISE,
        code,
        verdict,
        verdict["status"].as_str().unwrap(),
        passed,
        minutes_ago as i32,
    )
    .fetch_one(&app.db)
    .await
    .unwrap()
}

/// Ada passes on her third attempt after two hints; Bo fails five times
/// ten days ago and goes quiet; Cy never starts.
async fn fixture() -> Fixture {
    let app = spawn_app().await;
    let (teacher, teacher_user) = signed_in(&app, "teacher@example.com", Role::Instructor).await;
    let cohort = cohorts::create(
        &app.db,
        &teacher_user,
        &CohortName::parse("Spring").unwrap(),
    )
    .await
    .unwrap();
    let ada = create_user(&app.db, "ada@example.com", "Ada", Role::Learner).await;
    let bo = create_user(&app.db, "bo@example.com", "Bo", Role::Learner).await;
    let cy = create_user(&app.db, "cy@example.com", "Cy", Role::Learner).await;
    for learner in [&ada, &bo, &cy] {
        cohorts::join(&app.db, cohort.id, learner.id).await.unwrap();
    }
    let t = |t2: bool, h1: bool, message: &'static str| {
        verdict(&[
            ("visible::t1", true, false, None),
            ("visible::t2", t2, false, (!t2).then_some(message)),
            ("visible::t3", true, false, None),
            ("hidden::h1", h1, true, None),
        ])
    };
    let ada_submissions = vec![
        submission(
            &app,
            ada.id,
            "fn a() {\n    1\n}\n",
            &t(false, false, "m-old"),
            180,
        )
        .await,
        submission(
            &app,
            ada.id,
            "fn a() {\n    2\n}\n",
            &t(false, true, "m-ada"),
            120,
        )
        .await,
        submission(&app, ada.id, "fn a() {\n    3\n}\n", &t(true, true, ""), 60).await,
    ];
    let mut bo_last = 0;
    for i in 0..5 {
        bo_last = submission(
            &app,
            bo.id,
            "fn b() {}\n",
            &t(false, false, "m-bo"),
            10 * 1440 - 60 * i,
        )
        .await;
    }
    sqlx::query!(
        "INSERT INTO exercise_progress (user_id, exercise_id, first_opened_at, attempts, best_passed,
                                        best_total, passed_at, passed_hash, last_submission_id, last_activity_at)
         VALUES ($1, $3, now() - interval '240 minutes', 3, 4, 4, now() - interval '60 minutes', 'h', $4, now() - interval '60 minutes'),
                ($2, $3, now() - interval '10 days', 5, 2, 4, NULL, NULL, $5, now() - interval '9 days 20 hours')",
        ada.id,
        bo.id,
        EXERCISE,
        ada_submissions[2],
        bo_last,
    )
    .execute(&app.db)
    .await
    .unwrap();
    sqlx::query!(
        "INSERT INTO hint_reveals (user_id, exercise_id, hint_index) VALUES ($1, $2, 0), ($1, $2, 1)",
        ada.id,
        EXERCISE,
    )
    .execute(&app.db)
    .await
    .unwrap();
    sqlx::query!(
        "INSERT INTO lesson_visits (user_id, module_id, lesson_id, first_at, last_at)
         VALUES ($1, 'locks-and-sync', 'arc-mutex', now() - interval '5 hours', now() - interval '5 hours')",
        ada.id,
    )
    .execute(&app.db)
    .await
    .unwrap();
    Fixture {
        app,
        teacher,
        cohort: cohort.id,
        ada,
        bo,
        cy,
        ada_submissions,
        bo_last,
    }
}

async fn json_of(browser: &Browser, path: &str) -> Value {
    let response = browser.get(path).await;
    assert_eq!(response.status(), StatusCode::OK, "GET {path}");
    response.json().await.unwrap()
}

#[tokio::test]
async fn the_matrix_shows_each_learners_state_totals_and_sorts() {
    let f = fixture().await;
    let matrix = json_of(
        &f.teacher,
        &format!("/api/instructor/cohorts/{}/matrix?sort=progress", f.cohort),
    )
    .await;
    let exercises = matrix["exercises"].as_array().unwrap();
    let column = exercises.iter().position(|e| e["id"] == EXERCISE).unwrap();
    assert_eq!(exercises[column]["passed"], 1);
    assert_eq!(exercises[column]["attempted"], 1);
    let learners = matrix["learners"].as_array().unwrap();
    let names: Vec<&str> = learners
        .iter()
        .map(|l| l["display_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Ada", "Bo", "Cy"], "sorted by progress");
    assert_eq!(learners[0]["cells"][column]["state"], "passed");
    assert_eq!(learners[0]["cells"][column]["attempts"], 3);
    assert_eq!(learners[1]["cells"][column]["state"], "attempted");
    assert_eq!(learners[1]["cells"][column]["best_passed"], 2);
    assert_eq!(learners[2]["cells"][column]["state"], "not-started");
    assert_eq!(learners[0]["passed"], 1);
    assert_eq!(learners[1]["attempted"], 1);

    let by_activity = json_of(
        &f.teacher,
        &format!("/api/instructor/cohorts/{}/matrix?sort=activity", f.cohort),
    )
    .await;
    let order: Vec<i64> = by_activity["learners"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_i64().unwrap())
        .collect();
    assert_eq!(order, [f.ada.id, f.bo.id, f.cy.id]);

    let page = f
        .teacher
        .page(&format!(
            "/instructor/cohorts/{}?module=locks-and-sync",
            f.cohort
        ))
        .await;
    assert!(page.contains("passed after 3 attempts"), "{page}");
    assert!(page.contains("attempted: 5 attempts, best 2/4 tests"));
    assert!(page.contains("class=\"visually-hidden\">not started"));
    assert!(
        !page.contains("data-exercise=\"bounded-fetch\""),
        "filtered to one module"
    );
    assert!(page.contains("data-exercise=\"counter-actor\""));
    assert!(!page.contains("style="), "no inline styles (CSP)");
}

#[tokio::test]
async fn stuck_learners_follow_the_thresholds() {
    let f = fixture().await;
    let stuck = json_of(
        &f.teacher,
        &format!("/api/instructor/cohorts/{}/stuck", f.cohort),
    )
    .await;
    let learners = stuck["learners"].as_array().unwrap();
    assert_eq!(learners.len(), 2, "{stuck}");
    assert_eq!(learners[0]["id"], f.bo.id);
    let kinds: Vec<&str> = learners[0]["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["inactive", "failing", "slow"]);
    assert_eq!(learners[0]["reasons"][1]["submission_id"], f.bo_last);
    assert_eq!(learners[0]["latest_submission_id"], f.bo_last);
    assert_eq!(learners[1]["id"], f.cy.id);
    assert_eq!(learners[1]["reasons"][0]["days"], Value::Null);

    let stricter = json_of(
        &f.teacher,
        &format!(
            "/api/instructor/cohorts/{}/stuck?failures=6&minutes=100000&days=30",
            f.cohort
        ),
    )
    .await;
    let ids: Vec<i64> = stricter["learners"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [f.cy.id], "Bo is under every stricter threshold");

    // A slow-but-recent learner: Ada's 4 hours on it count with a 60-minute threshold only if unpassed.
    let page = f
        .teacher
        .page(&format!(
            "/instructor/cohorts/{}/stuck?minutes=60",
            f.cohort
        ))
        .await;
    assert!(page.contains("failed “"), "{page}");
    assert!(page.contains(&format!("/instructor/submissions/{}", f.bo_last)));
    assert!(page.contains("2 learners match."));
}

#[tokio::test]
async fn exercise_analytics_give_the_known_numbers() {
    let f = fixture().await;
    let page = f
        .teacher
        .page(&format!(
            "/instructor/cohorts/{}/exercises/{EXERCISE}",
            f.cohort
        ))
        .await;
    let text = |id: &str| {
        let start = page
            .find(&format!("id=\"{id}\">"))
            .unwrap_or_else(|| panic!("{id} in {page}"));
        let rest = &page[start + id.len() + 6..];
        rest[..rest.find('<').unwrap()].to_string()
    };
    assert_eq!(text("pass-rate"), "50%");
    assert_eq!(text("attempts-median"), "median 3");
    assert_eq!(text("attempts-p90"), "p90 3");
    assert_eq!(text("minutes-median"), "3 h 0 min");
    assert_eq!(text("hints"), "2");
    assert!(page.contains("1 passed of 2 who tried (3 learners)"));
    // visible::t2 failed in Ada's first two and all five of Bo's; the
    // example is the latest message; the hidden test shows none.
    let t2 = page.find("<code>visible::t2</code>").expect("t2 listed");
    let h1 = page.find("<code>hidden::h1</code>").expect("h1 listed");
    assert!(t2 < h1, "most failures first");
    assert!(
        page[t2..h1].contains("<td>7</td><td>2</td>"),
        "{}",
        &page[t2..h1]
    );
    assert!(page[t2..h1].contains("m-bo"));
    assert!(page[h1..].contains("<td>6</td><td>2</td>"));
    assert!(
        page.contains("4/4") && page.contains("2/4"),
        "partial credit per learner"
    );
    assert!(page.contains("yes, at attempt 3"));
}

#[tokio::test]
async fn the_drill_down_shows_timeline_code_diff_and_takes_comments() {
    let f = fixture().await;
    let page = f
        .teacher
        .page(&format!(
            "/instructor/cohorts/{}/learners/{}",
            f.cohort, f.ada.id
        ))
        .await;
    assert!(page.contains("Submitted “"));
    assert!(page.contains("pass · 4/4"));
    assert!(page.contains("Read “"));
    for id in &f.ada_submissions {
        assert!(page.contains(&format!("/instructor/submissions/{id}")));
    }

    let second = f.ada_submissions[1];
    let page = f
        .teacher
        .page(&format!("/instructor/submissions/{second}"))
        .await;
    assert!(page.contains("hl-"), "highlighted code");
    assert!(
        page.contains("<span class=\"diff-del\">-     1</span>"),
        "{page}"
    );
    assert!(page.contains("<span class=\"diff-add\">+     2</span>"));
    assert!(page.contains(&format!("Previous: #{}", f.ada_submissions[0])));
    assert!(page.contains("m-ada"));

    // No CSRF token: refused. With it: stored, and the learner reads it.
    let refused = f
        .teacher
        .post_form_raw(
            &format!("/instructor/submissions/{second}/comments"),
            &[("body", "x")],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let posted = f
        .teacher
        .post_form(
            &format!("/instructor/submissions/{second}/comments"),
            &[("body", "Look at <t2>")],
        )
        .await;
    assert_eq!(posted.status(), StatusCode::SEE_OTHER);
    let page = f
        .teacher
        .page(&format!("/instructor/submissions/{second}"))
        .await;
    assert!(page.contains("Look at &"), "stored and shown");
    assert!(!page.contains("Look at <t2>"), "escaped");

    let ada = f.app.browser();
    ada.log_in("ada@example.com").await;
    let comments = json_of(&ada, &format!("/api/submissions/{second}/comments")).await;
    assert_eq!(comments["comments"][0]["body"], "Look at <t2>");
    assert_eq!(comments["comments"][0]["author"], "teacher");
    let bo = f.app.browser();
    bo.log_in("bo@example.com").await;
    assert_eq!(
        bo.get(&format!("/api/submissions/{second}/comments"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    // Learners cannot use the instructor pages, even for their own work.
    assert_eq!(
        ada.get(&format!("/instructor/submissions/{second}"))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn nobody_sees_a_cohort_or_learner_they_do_not_teach() {
    let f = fixture().await;
    let (other, other_user) = signed_in(&f.app, "other@example.com", Role::Instructor).await;
    let other_cohort = cohorts::create(
        &f.app.db,
        &other_user,
        &CohortName::parse("Autumn").unwrap(),
    )
    .await
    .unwrap();
    let zed = create_user(&f.app.db, "zed@example.com", "Zed", Role::Learner).await;
    cohorts::join(&f.app.db, other_cohort.id, zed.id)
        .await
        .unwrap();
    let c = f.cohort;
    let sub = f.ada_submissions[0];
    for path in [
        format!("/instructor/cohorts/{c}"),
        format!("/instructor/cohorts/{c}/stuck"),
        format!("/instructor/cohorts/{c}/charts"),
        format!("/instructor/cohorts/{c}/exercises/{EXERCISE}"),
        format!("/instructor/cohorts/{c}/learners/{}", f.ada.id),
        format!("/instructor/cohorts/{c}/export/submissions.csv"),
        format!("/instructor/submissions/{sub}"),
        format!("/api/instructor/cohorts/{c}/matrix"),
        format!("/api/instructor/cohorts/{c}/submissions"),
        format!("/api/instructor/cohorts/{c}/learners/{}/progress", f.ada.id),
        format!("/api/submissions/{sub}/comments"),
        // Their own cohort, someone else's learner.
        format!(
            "/instructor/cohorts/{}/learners/{}",
            other_cohort.id, f.ada.id
        ),
        format!(
            "/api/instructor/cohorts/{}/learners/{}/progress",
            other_cohort.id, f.ada.id
        ),
    ] {
        assert_eq!(
            other.get(&path).await.status(),
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    let response = other
        .post_form(
            &format!("/instructor/submissions/{sub}/comments"),
            &[("body", "hi")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    // The teacher cannot reach a learner of another cohort through their own.
    let path = format!("/instructor/cohorts/{c}/learners/{}", zed.id);
    assert_eq!(f.teacher.get(&path).await.status(), StatusCode::NOT_FOUND);
    // Learners: 403 on the dashboard.
    let ada = f.app.browser();
    ada.log_in("ada@example.com").await;
    assert_eq!(
        ada.get(&format!("/instructor/cohorts/{c}")).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        ada.get("/api/instructor/cohorts").await.status(),
        StatusCode::FORBIDDEN
    );
    // Signed out: no data.
    let anonymous = f.app.browser();
    assert_ne!(
        anonymous
            .get(&format!("/api/instructor/cohorts/{c}/matrix"))
            .await
            .status(),
        StatusCode::OK
    );
    // Admins see everything.
    let (admin, _) = signed_in(&f.app, "admin@example.com", Role::Admin).await;
    assert_eq!(
        admin
            .get(&format!("/instructor/cohorts/{c}"))
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn exports_stream_csv_and_json_and_work_with_a_token() {
    let f = fixture().await;
    let csv = f
        .teacher
        .page(&format!(
            "/instructor/cohorts/{}/export/submissions.csv",
            f.cohort
        ))
        .await;
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("id,user_id,email,exercise_id,mode"));
    assert_eq!(lines.len(), 1 + 8, "{csv}");
    let tests = f
        .teacher
        .page(&format!(
            "/instructor/cohorts/{}/export/tests.csv",
            f.cohort
        ))
        .await;
    assert_eq!(tests.lines().count(), 1 + 8 * 4);
    assert_eq!(
        tests
            .lines()
            .filter(|l| l.ends_with(",visible::t2,false,fail"))
            .count(),
        7
    );
    let matrix = f
        .teacher
        .page(&format!(
            "/instructor/cohorts/{}/export/matrix.csv",
            f.cohort
        ))
        .await;
    assert!(
        matrix.contains(",Ada,ada@example.com,counter-actor,passed,3,4,4,"),
        "{matrix}"
    );
    assert!(matrix.contains(",Bo,bo@example.com,counter-actor,attempted,5,2,4,"));

    let token_user = lockstep::auth::users::find_by_email(&f.app.db, "teacher@example.com")
        .await
        .unwrap()
        .unwrap();
    let (_, secret) = lockstep::auth::api_tokens::create(
        &f.app.db,
        token_user.id,
        &lockstep::auth::api_tokens::TokenName::parse("tools").unwrap(),
        lockstep::auth::api_tokens::TokenScope::Read,
        None,
    )
    .await
    .unwrap();
    let response = f
        .app
        .client
        .get(format!(
            "{}/api/instructor/cohorts/{}/submissions",
            f.app.base_url, f.cohort
        ))
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let rows: Vec<Value> = response.json().await.unwrap();
    assert_eq!(rows.len(), 8);
    assert_eq!(rows[0]["id"], f.ada_submissions[0]);
    assert_eq!(rows[0]["tests_passed"], 2);
    let tests: Vec<Value> = json_of(
        &f.teacher,
        &format!("/api/instructor/cohorts/{}/tests", f.cohort),
    )
    .await
    .as_array()
    .unwrap()
    .clone();
    assert_eq!(tests.len(), 32);
    assert_eq!(tests[3]["hidden"], true);
}

#[tokio::test]
async fn charts_are_svg_with_table_fallbacks() {
    let f = fixture().await;
    let page = f
        .teacher
        .page(&format!("/instructor/cohorts/{}/charts", f.cohort))
        .await;
    assert_eq!(page.matches("<svg class=\"chart\"").count(), 2);
    assert!(page.contains("<polyline class=\"chart-line\""));
    assert!(page.contains("<rect class=\"chart-bar-passed\""));
    assert!(page.contains("Pass rates as a table"));
    assert!(
        page.contains("<td>1</td><td>1</td><td>3</td>"),
        "counter-actor: 1 passed, 1 attempted, 3 learners"
    );
    assert!(!page.contains("style="));
}

#[tokio::test]
async fn runs_that_did_what_no_solution_needs_are_flagged_for_instructors() {
    let f = fixture().await;
    let mut flagged = verdict(&[("visible::t1", false, false, None)]);
    flagged["status"] = json!("error");
    flagged["reason"] = json!("runtime_error");
    flagged["integrity"] = json!(["blocked_syscall", "exited_mid_run"]);
    let id = submission(&f.app, f.ada.id, "fn a() {}\n", &flagged, 5).await;

    let page = f
        .teacher
        .page(&format!("/instructor/submissions/{id}"))
        .await;
    assert!(page.contains("Worth a look"), "{page}");
    assert!(page.contains("exited in the middle of the test run"));
    assert!(page.contains("starting a process"));
    // An ordinary failure carries no such note.
    let page = f
        .teacher
        .page(&format!("/instructor/submissions/{}", f.bo_last))
        .await;
    assert!(!page.contains("Worth a look"));

    let csv = f
        .teacher
        .page(&format!(
            "/instructor/cohorts/{}/export/submissions.csv",
            f.cohort
        ))
        .await;
    assert!(
        csv.lines().next().unwrap().ends_with(",integrity_flags"),
        "{csv}"
    );
    let row = csv
        .lines()
        .find(|l| l.starts_with(&format!("{id},")))
        .expect("the flagged submission is exported");
    assert!(row.ends_with(",blocked_syscall exited_mid_run"), "{row}");
}
