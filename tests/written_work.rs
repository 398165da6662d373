//! Written work over real HTTP: a learner hands in a design note, only the
//! instructors of their cohort can open and score it, the decision reaches
//! the learner and their progress, and a learner who has passed everything
//! gets a certificate anyone can verify.

mod common;

use common::auth::{Browser, signed_in};
use common::spawn_app;
use lockstep::auth::Role;
use lockstep::auth::cohorts::{self, CohortName};
use lockstep::auth::users::User;
use reqwest::StatusCode;
use serde_json::json;

const EXERCISE: &str = "capstone-design-note";

const NOTE: &str = "# Design note: job service\n\
\n\
## Context and forces\n\
\n\
Partner API calls, at most 5 per second.\n\
\n\
## Decisions\n\
\n\
A bounded queue and a semaphore, not an unbounded channel.\n";

/// An app with two cohorts: Ines teaches Lea and Max, Otto teaches nobody
/// of theirs.
struct Class {
    app: common::TestApp,
    /// Ines's cohort (Lea and Max).
    cohort: i64,
    ines: Browser,
    otto: Browser,
    lea: Browser,
    lea_user: User,
    max: Browser,
}

async fn class() -> Class {
    let app = spawn_app().await;
    let (ines, ines_user) = signed_in(&app, "ines@example.com", Role::Instructor).await;
    let (otto, otto_user) = signed_in(&app, "otto@example.com", Role::Instructor).await;
    let (lea, lea_user) = signed_in(&app, "lea@example.com", Role::Learner).await;
    let (max, max_user) = signed_in(&app, "max@example.com", Role::Learner).await;
    let (_, olga_user) = signed_in(&app, "olga@example.com", Role::Learner).await;
    let ours = cohorts::create(&app.db, &ines_user, &CohortName::parse("Spring").unwrap())
        .await
        .unwrap();
    let theirs = cohorts::create(&app.db, &otto_user, &CohortName::parse("Autumn").unwrap())
        .await
        .unwrap();
    cohorts::join(&app.db, ours.id, lea_user.id).await.unwrap();
    cohorts::join(&app.db, ours.id, max_user.id).await.unwrap();
    cohorts::join(&app.db, theirs.id, olga_user.id)
        .await
        .unwrap();
    Class {
        app,
        cohort: ours.id,
        ines,
        otto,
        lea,
        lea_user,
        max,
    }
}

/// Hands `body` in as `learner` through the API; returns the response.
async fn hand_in(learner: &Browser, body: &str) -> reqwest::Response {
    learner
        .post_json(
            &format!("/api/exercises/{EXERCISE}/written"),
            &json!({ "body": body }),
        )
        .await
}

/// `PUT` the note's draft (the drafts API code uses) based on `version`.
async fn put_draft(learner: &Browser, text: &str, version: i64) -> reqwest::Response {
    let token = learner.csrf_token().await;
    learner
        .client
        .put(format!(
            "{}/api/exercises/{EXERCISE}/draft",
            learner.base_url
        ))
        .header("x-csrf-token", token)
        .json(&json!({ "code": text, "version": version }))
        .send()
        .await
        .expect("request")
}

async fn hand_in_ok(learner: &Browser, body: &str) -> i64 {
    let response = hand_in(learner, body).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let created: serde_json::Value = response.json().await.unwrap();
    assert_eq!(created["state"], "awaiting_review");
    created["id"].as_i64().unwrap()
}

/// Every criterion of the sample rubric at its top level.
const FULL_MARKS: &[(&str, &str)] = &[
    ("level.context", "3"),
    ("level.decisions", "4"),
    ("level.failures", "3"),
    ("level.evidence", "2"),
    ("level.clarity", "2"),
];

/// Lea's page in the instructor's dashboard (matrix row and timeline), as Ines sees it.
async fn lea_as_ines_sees_her(class: &Class) -> String {
    class
        .ines
        .page(&format!(
            "/instructor/cohorts/{}/learners/{}",
            class.cohort, class.lea_user.id
        ))
        .await
}

async fn decide(
    instructor: &Browser,
    id: i64,
    levels: &[(&str, &str)],
    decision: &str,
    overall: &str,
) -> reqwest::Response {
    let mut fields = levels.to_vec();
    fields.push(("decision", decision));
    fields.push(("overall", overall));
    instructor
        .post_form(&format!("/instructor/reviews/{id}/decision"), &fields)
        .await
}

#[tokio::test]
async fn a_learner_hands_in_a_note_and_nobody_else_in_the_class_can_read_it() {
    let class = class().await;
    let page = class.lea.page(&format!("/exercises/{EXERCISE}")).await;
    assert!(
        page.contains("States the context and forces"),
        "the rubric is shown"
    );
    assert!(
        page.contains("## Failure modes"),
        "the template is in the editor"
    );
    assert!(page.contains("Hand in for review"));

    // The draft autosaves with optimistic locking, as code does: a save
    // based on a stale version is refused with the newer draft.
    assert_eq!(
        put_draft(&class.lea, "# Draft 1\n", 0).await.status(),
        StatusCode::OK
    );
    let stale = put_draft(&class.lea, "# From another tab\n", 0).await;
    assert_eq!(stale.status(), StatusCode::CONFLICT);
    let stale: serde_json::Value = stale.json().await.unwrap();
    assert_eq!(stale["draft"]["code"], "# Draft 1\n");
    assert!(
        class
            .lea
            .page(&format!("/exercises/{EXERCISE}"))
            .await
            .contains("# Draft 1")
    );

    // Handing in the untouched template is refused; so is the code API.
    let template = std::fs::read_to_string(
        common::source_tree()
            .join("curriculum/capstone/exercises/capstone-design-note/template.md"),
    )
    .unwrap();
    assert_eq!(
        hand_in(&class.lea, &template).await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let code_api = class
        .lea
        .post_json(
            &format!("/api/exercises/{EXERCISE}/submissions"),
            &json!({ "code": NOTE }),
        )
        .await;
    assert_eq!(code_api.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let jobs: i64 = sqlx::query_scalar!(r#"SELECT count(*) AS "n!" FROM submissions"#)
        .fetch_one(&class.app.db)
        .await
        .unwrap();
    assert_eq!(jobs, 0, "written work never enters the sandbox queue");

    // The form (no script needed) hands it in.
    let response = class
        .lea
        .post_form(&format!("/exercises/{EXERCISE}/written"), &[("body", NOTE)])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let id: i64 = sqlx::query_scalar!("SELECT id FROM written_submissions")
        .fetch_one(&class.app.db)
        .await
        .unwrap();
    let page = class.lea.page(&format!("/exercises/{EXERCISE}")).await;
    assert!(page.contains("awaiting review"));
    assert!(page.contains("waiting for an instructor"));
    // A second hand-in while the first waits is refused.
    assert_eq!(
        hand_in(&class.lea, NOTE).await.status(),
        StatusCode::CONFLICT
    );

    // The author reads it; a classmate gets 404 from the page and the API.
    let mine: serde_json::Value = class
        .lea
        .get(&format!("/api/written/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine["state"], "awaiting_review");
    assert_eq!(mine["body"], NOTE);
    assert!(
        class
            .lea
            .page(&format!("/written/{id}"))
            .await
            .contains("at most 5 per second")
    );
    for path in [format!("/written/{id}"), format!("/api/written/{id}")] {
        assert_eq!(
            class.max.get(&path).await.status(),
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    let their_page = class.max.page(&format!("/exercises/{EXERCISE}")).await;
    assert!(!their_page.contains("at most 5 per second"));
    // An instructor of another cohort cannot read it either.
    assert_eq!(
        class.otto.get(&format!("/api/written/{id}")).await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn only_the_cohorts_instructors_can_open_and_score_it() {
    let class = class().await;
    let id = hand_in_ok(&class.lea, NOTE).await;

    // The cohort's instructor sees it in the queue, counted on the dashboard.
    let dashboard = class.ines.page("/instructor").await;
    assert!(
        dashboard.contains("Review queue: 1 written submission waiting"),
        "{dashboard}"
    );
    let queue = class.ines.page("/instructor/reviews").await;
    assert!(queue.contains(&format!("/instructor/reviews/{id}")));
    assert!(queue.contains("lea") && queue.contains("Capstone design note"));
    let json: serde_json::Value = class
        .ines
        .get("/api/instructor/reviews")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(json.as_array().unwrap().len(), 1);
    assert!(
        class
            .ines
            .page(&format!("/instructor/reviews/{id}"))
            .await
            .contains("Accept")
    );

    // Another cohort's instructor: not in their queue, 404 on the entry and its forms.
    let queue = class.otto.page("/instructor/reviews").await;
    assert!(queue.contains("0 written submissions wait"));
    assert!(!queue.contains(&format!("/instructor/reviews/{id}")));
    assert_eq!(
        class
            .otto
            .get(&format!("/instructor/reviews/{id}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        decide(&class.otto, id, FULL_MARKS, "accept", "")
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let comment = class
        .otto
        .post_form(
            &format!("/instructor/reviews/{id}/comments"),
            &[("line", "1"), ("body", "sneaky")],
        )
        .await;
    assert_eq!(comment.status(), StatusCode::NOT_FOUND);

    // Learners, the author included: 403.
    for learner in [&class.lea, &class.max] {
        assert_eq!(
            learner
                .get(&format!("/instructor/reviews/{id}"))
                .await
                .status(),
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            decide(learner, id, FULL_MARKS, "accept", "").await.status(),
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            learner.get("/instructor/reviews").await.status(),
            StatusCode::FORBIDDEN
        );
    }
    let state: String =
        sqlx::query_scalar!("SELECT state FROM written_submissions WHERE id = $1", id)
            .fetch_one(&class.app.db)
            .await
            .unwrap();
    assert_eq!(state, "awaiting_review", "nobody else changed it");
    assert_eq!(
        sqlx::query_scalar!(r#"SELECT count(*) AS "n!" FROM written_line_comments"#)
            .fetch_one(&class.app.db)
            .await
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn scoring_records_levels_and_line_comments_and_accepting_passes_the_exercise() {
    let class = class().await;
    let id = hand_in_ok(&class.lea, NOTE).await;
    let review = format!("/instructor/reviews/{id}");

    // A comment on line 5 ("Partner API calls…"); a line past the end is refused.
    let response = class
        .ines
        .post_form(
            &format!("{review}/comments"),
            &[
                ("line", "5"),
                ("body", "Which partner? Name the rate limit's source."),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let past_end = class
        .ines
        .post_form(
            &format!("{review}/comments"),
            &[("line", "99"), ("body", "x")],
        )
        .await;
    assert_eq!(past_end.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = class.ines.page(&review).await;
    assert!(page.contains("Which partner?"));
    assert!(page.contains("data-line=\"5\""));

    // Accepting below pass_points, or without every criterion, is refused.
    let low = [
        ("level.context", "1"),
        ("level.decisions", "2"),
        ("level.failures", "1"),
        ("level.evidence", "1"),
        ("level.clarity", "1"),
    ];
    let refused = decide(&class.ines, id, &low, "accept", "").await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("below the 9 needed to accept")
    );
    let refused = decide(&class.ines, id, &FULL_MARKS[..4], "accept", "").await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let off_level = [
        ("level.context", "2"),
        ("level.decisions", "4"),
        ("level.failures", "3"),
        ("level.evidence", "2"),
        ("level.clarity", "2"),
    ];
    assert_eq!(
        decide(&class.ines, id, &off_level, "accept", "")
            .await
            .status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );

    let accepted = decide(&class.ines, id, FULL_MARKS, "accept", "Clear and complete.").await;
    assert_eq!(accepted.status(), StatusCode::SEE_OTHER);
    let scores = sqlx::query!(
        "SELECT criterion_id, points FROM written_scores WHERE submission_id = $1 ORDER BY criterion_id",
        id
    )
    .fetch_all(&class.app.db)
    .await
    .unwrap();
    let scores: Vec<(String, i32)> = scores
        .into_iter()
        .map(|r| (r.criterion_id, r.points))
        .collect();
    assert_eq!(
        scores,
        vec![
            ("clarity".into(), 2),
            ("context".into(), 3),
            ("decisions".into(), 4),
            ("evidence".into(), 2),
            ("failures".into(), 3)
        ]
    );
    let progress = sqlx::query!(
        "SELECT passed_at, review_state, attempts, best_passed, best_total FROM exercise_progress
          WHERE user_id = $1 AND exercise_id = $2",
        class.lea_user.id,
        EXERCISE
    )
    .fetch_one(&class.app.db)
    .await
    .unwrap();
    assert!(progress.passed_at.is_some(), "accepted is passed");
    assert_eq!(progress.review_state.as_deref(), Some("accepted"));
    assert_eq!(
        (progress.attempts, progress.best_passed, progress.best_total),
        (1, 14, 14)
    );

    // The exercise's analytics page counts it passed.
    let analytics = class
        .ines
        .page(&format!(
            "/instructor/cohorts/{}/exercises/{EXERCISE}",
            class.cohort
        ))
        .await;
    assert!(analytics.contains("Capstone design note"));

    // Deciding twice is a conflict; the queue is empty again.
    assert_eq!(
        decide(&class.ines, id, FULL_MARKS, "request_changes", "")
            .await
            .status(),
        StatusCode::CONFLICT
    );
    assert!(
        class
            .ines
            .page("/instructor")
            .await
            .contains("Review queue: 0 written submissions waiting")
    );

    // The learner sees the decision, scores per criterion and the comment beside its line.
    let page = class.lea.page(&format!("/exercises/{EXERCISE}")).await;
    assert!(page.contains("accepted"));
    assert!(page.contains("Scores: 14 of 14 points"));
    assert!(page.contains("Clear and complete."));
    assert!(page.contains("Which partner?"));
    assert!(page.contains("this exercise is passed"));
    let json: serde_json::Value = class
        .lea
        .get(&format!("/api/written/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(json["state"], "accepted");
    assert_eq!(json["points"], 14);
    assert_eq!(json["comments"][0]["line"], 5);
    assert_eq!(json["scores"].as_array().unwrap().len(), 5);
    // Nothing more to hand in.
    assert_eq!(
        hand_in(&class.lea, "# Again\n").await.status(),
        StatusCode::CONFLICT
    );
}

#[tokio::test]
async fn changes_requested_then_a_resubmission_is_accepted() {
    let class = class().await;
    let first = hand_in_ok(&class.lea, NOTE).await;
    let low = [
        ("level.context", "1"),
        ("level.decisions", "2"),
        ("level.failures", "0"),
        ("level.evidence", "1"),
        ("level.clarity", "1"),
    ];
    let response = decide(
        &class.ines,
        first,
        &low,
        "request_changes",
        "Add the failure modes.",
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let page = class.lea.page(&format!("/exercises/{EXERCISE}")).await;
    assert!(page.contains("changes requested"));
    assert!(page.contains("Add the failure modes."));
    assert!(page.contains("Scores: 5 of 14 points"));
    assert!(
        page.contains("Hand in for review"),
        "the learner may hand in again"
    );
    let passed: Option<time::OffsetDateTime> = sqlx::query_scalar!(
        "SELECT passed_at FROM exercise_progress WHERE user_id = $1 AND exercise_id = $2",
        class.lea_user.id,
        EXERCISE
    )
    .fetch_one(&class.app.db)
    .await
    .unwrap();
    assert!(passed.is_none(), "changes requested is not passed");
    // The cohort matrix and the progress export say so.
    let matrix = class
        .ines
        .page(&format!("/instructor/cohorts/{}", class.cohort))
        .await;
    assert!(
        matrix.contains("changes requested: 1 hand-in, best 5/14 points"),
        "{matrix}"
    );
    let csv = class
        .ines
        .page(&format!(
            "/instructor/cohorts/{}/export/matrix.csv",
            class.cohort
        ))
        .await;
    assert!(
        csv.contains(&format!(",{EXERCISE},changes-requested,1,5,14,")),
        "{csv}"
    );
    let learner_page = lea_as_ines_sees_her(&class).await;
    assert!(learner_page.contains("changes requested: 1 hand-in, best 5/14 points"));
    // The hand-in is on the learner's timeline, linked to its scoring page.
    let title = common::programme()
        .exercise(EXERCISE)
        .unwrap()
        .title
        .clone();
    let timeline_entry = |id: i64| {
        format!("<a href=\"/instructor/reviews/{id}\">Handed in “{title}” for review</a>")
    };
    assert!(
        learner_page.contains(&timeline_entry(first)),
        "{learner_page}"
    );
    assert!(
        learner_page.contains("changes requested</"),
        "{learner_page}"
    );

    let second = hand_in_ok(
        &class.lea,
        &format!("{NOTE}\n## Failure modes\n\nA slow partner fills the queue.\n"),
    )
    .await;
    assert!(second > first);
    let queue = class.ines.page("/instructor/reviews").await;
    assert!(queue.contains(&format!("/instructor/reviews/{second}")));
    let matrix = class
        .ines
        .page(&format!("/instructor/cohorts/{}", class.cohort))
        .await;
    assert!(matrix.contains("awaiting review: 2 hand-ins"), "{matrix}");
    assert!(!queue.contains(&format!("/instructor/reviews/{first}\"")));
    assert_eq!(
        decide(&class.ines, second, FULL_MARKS, "accept", "")
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    let row = sqlx::query!(
        "SELECT passed_at, attempts, review_state FROM exercise_progress WHERE user_id = $1 AND exercise_id = $2",
        class.lea_user.id,
        EXERCISE
    )
    .fetch_one(&class.app.db)
    .await
    .unwrap();
    assert!(row.passed_at.is_some());
    assert_eq!(row.attempts, 2);
    assert_eq!(row.review_state.as_deref(), Some("accepted"));
    let learner_page = lea_as_ines_sees_her(&class).await;
    assert!(
        learner_page.contains(&timeline_entry(second)),
        "{learner_page}"
    );
    assert!(learner_page.contains("accepted · 14/14"), "{learner_page}");
    // The written-work export has both hand-ins and who decided.
    let csv = class
        .ines
        .page(&format!(
            "/instructor/cohorts/{}/export/written.csv",
            class.cohort
        ))
        .await;
    let lea_id = class.lea_user.id;
    assert!(
        csv.starts_with("id,user_id,email,exercise_id,state,points,max_points,reviewer_email,created_at,reviewed_at\r\n")
            || csv.starts_with("id,user_id,email,exercise_id,state,points,max_points,reviewer_email,created_at,reviewed_at\n"),
        "{csv}"
    );
    assert!(
        csv.contains(&format!(
            "{first},{lea_id},lea@example.com,{EXERCISE},changes_requested,5,14,ines@example.com,"
        )),
        "{csv}"
    );
    assert!(
        csv.contains(&format!(
            "{second},{lea_id},lea@example.com,{EXERCISE},accepted,14,14,ines@example.com,"
        )),
        "{csv}"
    );
    // Both submissions stay in the learner's history, with their own decisions.
    let page = class.lea.page(&format!("/exercises/{EXERCISE}")).await;
    assert!(
        page.contains(&format!("Submission #{first}"))
            && page.contains(&format!("Submission #{second}"))
    );
}

#[tokio::test]
async fn a_certificate_appears_only_when_everything_is_passed_and_verifies_publicly() {
    let class = class().await;
    let programme = common::programme();
    assert!(
        class
            .lea
            .page("/dashboard")
            .await
            .contains("href=\"/certificate\"")
    );
    let page = class.lea.page("/certificate").await;
    assert!(page.contains("to go"), "{page}");
    assert!(!page.contains("/certificates/"));

    // Every exercise but the note passed (as the grader records it).
    for exercise in programme.exercises().filter(|e| e.id != EXERCISE) {
        sqlx::query!(
            "INSERT INTO exercise_progress (user_id, exercise_id, attempts, passed_at, passed_hash)
             VALUES ($1, $2, 1, now(), $3)",
            class.lea_user.id,
            exercise.id,
            exercise.content_hash,
        )
        .execute(&class.app.db)
        .await
        .unwrap();
    }
    let page = class.lea.page("/certificate").await;
    assert!(page.contains("1 to go"), "{page}");
    assert!(page.contains(&format!("/exercises/{EXERCISE}")));
    let none: i64 = sqlx::query_scalar!(r#"SELECT count(*) AS "n!" FROM certificates"#)
        .fetch_one(&class.app.db)
        .await
        .unwrap();
    assert_eq!(none, 0);

    let id = hand_in_ok(&class.lea, NOTE).await;
    assert!(
        class.lea.page("/certificate").await.contains("1 to go"),
        "waiting is not passed"
    );
    assert_eq!(
        decide(&class.ines, id, FULL_MARKS, "accept", "")
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    let page = class.lea.page("/certificate").await;
    let start = page.find("/certificates/").expect("a verification URL");
    let url: String = page[start..]
        .chars()
        .take_while(|c| *c != '"' && *c != '<')
        .collect();
    let certificate_id = url.trim_start_matches("/certificates/").to_string();
    assert_eq!(certificate_id.len(), 32);
    assert!(certificate_id.chars().all(|c| c.is_ascii_hexdigit()));
    // Opening it again shows the same certificate.
    assert!(class.lea.page("/certificate").await.contains(&url));

    // An employer, not signed in.
    let employer = class.app.browser();
    let response = employer.get(&url).await;
    assert_eq!(response.status(), StatusCode::OK);
    let html = response.text().await.unwrap();
    assert!(html.contains("This is a valid Lockstep certificate."));
    assert!(
        html.contains("id=\"certificate-name\">lea</dd>"),
        "the learner's name"
    );
    assert!(html.contains(&programme.title));
    assert!(
        html.contains(&lockstep::progress::certificate::programme_version(
            &programme
        ))
    );
    assert!(html.contains("Capstone design note: the job service"));
    assert_eq!(
        html.matches("<tr><td>").count(),
        programme.exercises().count(),
        "every exercise is listed as completed"
    );
    assert!(!html.contains("Revoke this certificate"));
    // Ids that were never issued: 404.
    for bad in [
        "/certificates/0123456789abcdef0123456789abcdef",
        "/certificates/nope",
    ] {
        assert_eq!(
            employer.get(bad).await.status(),
            StatusCode::NOT_FOUND,
            "{bad}"
        );
    }

    // Only the cohort's instructors (and admins) may revoke it.
    assert_eq!(
        class
            .lea
            .post_form(&format!("{url}/revoke"), &[])
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        class
            .otto
            .post_form(&format!("{url}/revoke"), &[])
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert!(
        class
            .ines
            .page(&url)
            .await
            .contains("Revoke this certificate")
    );
    assert_eq!(
        class
            .ines
            .post_form(&format!("{url}/revoke"), &[])
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    let response = employer.get(&url).await;
    assert_eq!(response.status(), StatusCode::GONE);
    assert!(response.text().await.unwrap().contains("was revoked"));
}
