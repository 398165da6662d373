//! Code-review exercises over real HTTP: a learner marks lines of the pull
//! request and hands the review in; the score follows the format's exact
//! arithmetic, the key reaches no page or API before the learner's own
//! hand-in, nobody else reads a learner's result, and bad marks are refused
//! with a clear 422.

mod common;

use common::auth::{Browser, signed_in};
use common::spawn_app;
use lockstep::auth::Role;
use lockstep::auth::cohorts::{self, CohortName};
use lockstep::curriculum::review::{DefectCategory, Review};
use reqwest::StatusCode;
use serde_json::{Value, json};

const EXERCISE: &str = "review-supplier-quotes";

/// The exercise's pull request and key, as the server loaded them.
fn key() -> std::sync::Arc<lockstep::curriculum::Programme> {
    common::programme()
}

fn review(programme: &lockstep::curriculum::Programme) -> &Review {
    programme
        .exercise(EXERCISE)
        .and_then(|e| e.review())
        .expect("the sample review exercise")
}

/// A mark as the page sends it.
fn mark(file: &str, line: u32, category: DefectCategory) -> Value {
    json!({ "file": file, "line": line, "category": category.id(), "comment": "see here" })
}

/// A category other than `category`.
fn another(category: DefectCategory) -> DefectCategory {
    if category == DefectCategory::Other {
        DefectCategory::RaceCondition
    } else {
        DefectCategory::Other
    }
}

/// A markable line of the diff on no defect's lines.
fn innocent_line(review: &Review) -> (String, u32) {
    review
        .files
        .iter()
        .flat_map(|file| {
            file.hunks
                .iter()
                .flat_map(|h| &h.lines)
                .filter_map(|l| l.new)
                .map(move |n| (file.path.clone(), n))
        })
        .find(|(file, line)| {
            review.markable(file, *line)
                && !review
                    .defects
                    .iter()
                    .any(|d| &d.file == file && d.lines.contains(line))
        })
        .expect("a line with no defect")
}

async fn hand_in(learner: &Browser, marks: Vec<Value>) -> reqwest::Response {
    learner
        .post_json(
            &format!("/api/exercises/{EXERCISE}/review"),
            &json!({ "marks": marks }),
        )
        .await
}

async fn hand_in_ok(learner: &Browser, marks: Vec<Value>) -> Value {
    let response = hand_in(learner, marks).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json().await.unwrap()
}

fn findings(result: &Value) -> Vec<&str> {
    result["defects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["finding"].as_str().unwrap())
        .collect()
}

/// The longest run of text between tags of `html`: a piece of an
/// explanation that only the key holds.
fn telling_text(html: &str) -> String {
    html.split(['<', '>'])
        .max_by_key(|piece| piece.len())
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn reviews_score_exactly_as_the_format_says() {
    let app = spawn_app().await;
    let programme = key();
    let review = review(&programme);
    let defects = &review.defects;
    assert_eq!(
        defects.len(),
        3,
        "the arithmetic below assumes three defects"
    );
    let on =
        |i: usize, category: DefectCategory| mark(&defects[i].file, defects[i].lines[0], category);
    let (file, line) = innocent_line(review);

    // Every defect found: 3/3.
    let (lea, lea_user) = signed_in(&app, "lea@example.com", Role::Learner).await;
    let all: Vec<Value> = (0..3).map(|i| on(i, defects[i].category)).collect();
    let result = hand_in_ok(&lea, all).await;
    assert_eq!(result["score"], json!(1.0));
    assert_eq!(result["passed"], json!(true));
    assert_eq!(
        (
            result["found"].as_u64(),
            result["half"].as_u64(),
            result["missed"].as_u64()
        ),
        (Some(3), Some(0), Some(0))
    );
    assert_eq!(findings(&result), ["found", "found", "found"]);
    for (shown, defect) in result["defects"].as_array().unwrap().iter().zip(defects) {
        assert_eq!(shown["explanation_html"], json!(defect.explanation_html));
        assert_eq!(shown["category"], json!(defect.category.id()));
    }
    // A pass is a passed exercise, recorded against this version.
    let (passed_hash, best_passed, best_total): (Option<String>, i32, i32) = sqlx::query_as(
        "SELECT passed_hash, best_passed, best_total FROM exercise_progress WHERE user_id = $1 AND exercise_id = $2",
    )
    .bind(lea_user.id)
    .bind(EXERCISE)
    .fetch_one(&app.db)
    .await
    .unwrap();
    let exercise = programme.exercise(EXERCISE).unwrap();
    assert_eq!(passed_hash.as_deref(), Some(exercise.content_hash.as_str()));
    assert_eq!((best_passed, best_total), (3, 3));
    // The key is shown: a second hand-in of the same version is refused.
    let again = hand_in(&lea, vec![on(0, defects[0].category)]).await;
    assert_eq!(again.status(), StatusCode::CONFLICT);

    // One found, one on its line with another category, one missed: 1.5/3.
    let (max, max_user) = signed_in(&app, "max@example.com", Role::Learner).await;
    let result = hand_in_ok(
        &max,
        vec![
            on(0, defects[0].category),
            on(1, another(defects[1].category)),
        ],
    )
    .await;
    assert_eq!(result["score"], json!(0.5));
    assert_eq!(result["passed"], json!(false));
    assert_eq!(findings(&result), ["found", "half", "missed"]);
    assert_eq!(result["false_alarms"], json!([]));
    let passed: Option<String> = sqlx::query_scalar(
        "SELECT passed_hash FROM exercise_progress WHERE user_id = $1 AND exercise_id = $2",
    )
    .bind(max_user.id)
    .bind(EXERCISE)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(passed, None, "a failed review passes nothing");

    // All found plus a false alarm: (3 - 0.25)/3, still a pass.
    let (ida, _) = signed_in(&app, "ida@example.com", Role::Learner).await;
    let mut marks: Vec<Value> = (0..3).map(|i| on(i, defects[i].category)).collect();
    marks.push(mark(&file, line, DefectCategory::UnboundedQueue));
    let result = hand_in_ok(&ida, marks).await;
    let score = result["score"].as_f64().unwrap();
    assert!((score - 2.75 / 3.0).abs() < 1e-12, "{score}");
    assert_eq!(result["passed"], json!(true));
    assert_eq!(result["false_alarms"][0]["line"], json!(line));
    assert_eq!(result["false_alarms"][0]["file"], json!(file));

    // Two marks on one defect count it once; two false alarms: (1 - 0.5)/3.
    let (ole, _) = signed_in(&app, "ole@example.com", Role::Learner).await;
    let (_, second_line) = innocent_line_after(review, &file, line);
    let mut marks = vec![on(0, another(defects[0].category))];
    marks.push(mark(
        &defects[0].file,
        defects[0].lines[1],
        defects[0].category,
    ));
    marks.push(mark(&file, line, DefectCategory::Other));
    marks.push(mark(&file, second_line, DefectCategory::Other));
    let result = hand_in_ok(&ole, marks).await;
    let score = result["score"].as_f64().unwrap();
    assert!((score - 0.5 / 3.0).abs() < 1e-12, "{score}");
    assert_eq!(findings(&result), ["found", "missed", "missed"]);

    // Only false alarms: clamped at 0.
    let (uwe, _) = signed_in(&app, "uwe@example.com", Role::Learner).await;
    let result = hand_in_ok(&uwe, vec![mark(&file, line, DefectCategory::Other)]).await;
    assert_eq!(result["score"], json!(0.0));
    assert_eq!(findings(&result), ["missed", "missed", "missed"]);
}

/// Another markable line with no defect, after `line` of `file`.
fn innocent_line_after(review: &Review, file: &str, line: u32) -> (String, u32) {
    let diff = review.files.iter().find(|f| f.path == file).unwrap();
    let next = diff
        .hunks
        .iter()
        .flat_map(|h| &h.lines)
        .filter_map(|l| l.new)
        .find(|&n| {
            n > line
                && review.markable(file, n)
                && !review
                    .defects
                    .iter()
                    .any(|d| d.file == file && d.lines.contains(&n))
        })
        .expect("a second line with no defect");
    (file.to_string(), next)
}

#[tokio::test]
async fn the_key_is_shown_only_after_the_learners_own_hand_in() {
    let app = spawn_app().await;
    let programme = key();
    let review = review(&programme);
    let (lea, _) = signed_in(&app, "lea@example.com", Role::Learner).await;
    let (max, _) = signed_in(&app, "max@example.com", Role::Learner).await;
    let url = format!("/exercises/{EXERCISE}");
    let secrets: Vec<String> = review
        .defects
        .iter()
        .map(|d| telling_text(&d.explanation_html))
        .collect();
    for secret in &secrets {
        assert!(secret.len() > 40, "a telling piece of the key: {secret:?}");
    }

    let page = lea.page(&url).await;
    // The diff is there, line by line, with buttons on new-side lines…
    let first = &review.defects[0];
    assert!(page.contains(&format!(
        "data-file=\"{}\" data-line=\"{}\"",
        first.file, first.lines[0]
    )));
    assert!(page.contains("class=\"mark-category\""));
    // …and no part of the key.
    for secret in &secrets {
        assert!(!page.contains(secret.as_str()), "the key leaked: {secret}");
    }
    assert!(!page.contains("review-key"));
    let api = lea.get(&format!("/api/exercises/{EXERCISE}/review")).await;
    assert_eq!(api.status(), StatusCode::NOT_FOUND);
    let body = api.text().await.unwrap();
    assert!(secrets.iter().all(|s| !body.contains(s.as_str())));
    let workspace = lea
        .get(&format!("/api/exercises/{EXERCISE}/workspace"))
        .await;
    assert_eq!(workspace.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let text = workspace.text().await.unwrap();
    assert!(secrets.iter().all(|s| !text.contains(s.as_str())));

    // Lea hands in; now her page and API hold the key with the explanations.
    let marks = vec![mark(&first.file, first.lines[0], first.category)];
    let created = hand_in_ok(&lea, marks).await;
    let id = created["id"].as_i64().unwrap();
    let page = lea.page(&url).await;
    for secret in &secrets {
        assert!(page.contains(secret.as_str()), "the key is shown: {secret}");
    }
    assert!(page.contains("id=\"review-result\""));
    assert!(!page.contains("class=\"mark-line\""), "no more marking");
    let mine: Value = lea
        .get(&format!("/api/exercises/{EXERCISE}/review"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine["id"], json!(id));
    assert_eq!(mine["score"], created["score"]);
    let own = lea.get(&format!("/api/reviews/{id}")).await;
    assert_eq!(own.status(), StatusCode::OK);

    // Max has handed nothing in: still no key for him, and Lea's result is not his to read.
    let page = max.page(&url).await;
    assert!(secrets.iter().all(|s| !page.contains(s.as_str())));
    let theirs = max.get(&format!("/api/reviews/{id}")).await;
    assert_eq!(theirs.status(), StatusCode::NOT_FOUND);
    let body = theirs.text().await.unwrap();
    assert!(secrets.iter().all(|s| !body.contains(s.as_str())));
    let his = max.get(&format!("/api/exercises/{EXERCISE}/review")).await;
    assert_eq!(his.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn bad_marks_are_refused_with_a_clear_422_and_nothing_is_stored() {
    let app = spawn_app().await;
    let programme = key();
    let review = review(&programme);
    let defect = &review.defects[0];
    let (file, line) = innocent_line(review);
    let (lea, _) = signed_in(&app, "lea@example.com", Role::Learner).await;
    let blank = review.files[0]
        .hunks
        .iter()
        .flat_map(|h| &h.lines)
        .find(|l| l.new.is_some() && l.text.trim().is_empty())
        .and_then(|l| l.new)
        .expect("a blank line in the diff");
    let good = mark(&defect.file, defect.lines[0], defect.category);
    let cases: Vec<(Vec<Value>, &str)> = vec![
        (vec![], "mark at least one line"),
        (
            vec![json!({ "file": file, "line": line, "category": "deadlock", "comment": "" })],
            "unknown category \"deadlock\"; one of: lock-across-await",
        ),
        (
            vec![mark(&file, 99_999, DefectCategory::Other)],
            "not a line you can mark",
        ),
        (
            vec![mark(&review.files[0].path, blank, DefectCategory::Other)],
            "not a line you can mark",
        ),
        (
            vec![mark("src/elsewhere.rs", 1, DefectCategory::Other)],
            "the pull request has no such file",
        ),
        (
            vec![
                json!({ "file": file, "line": line, "category": "other", "comment": "x".repeat(2001) }),
            ],
            "the comment has 2001 characters; at most 2000",
        ),
        (vec![good.clone(), good.clone()], "marked twice"),
        (vec![good.clone(); 51], "at most 50 marks; this one has 51"),
        (
            vec![json!({ "file": file, "line": line, "category": "other", "severity": 3 })],
            "unknown field `severity`",
        ),
    ];
    for (marks, expected) in cases {
        let response = hand_in(&lea, marks).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{expected}"
        );
        let body: Value = response.json().await.unwrap();
        let message = body["error"].as_str().unwrap_or_default();
        assert!(message.contains(expected), "{expected}: {message}");
    }
    // A comment of exactly 2000 characters is fine; nothing before it was stored.
    let none = lea.get(&format!("/api/exercises/{EXERCISE}/review")).await;
    assert_eq!(none.status(), StatusCode::NOT_FOUND);
    let longest = json!({ "file": defect.file, "line": defect.lines[0], "category": defect.category.id(), "comment": "é".repeat(2000) });
    hand_in_ok(&lea, vec![longest]).await;
    // Code submissions of a review exercise are refused, pointing here.
    let code = lea
        .post_json(
            &format!("/api/exercises/{EXERCISE}/submissions"),
            &json!({ "code": "fn main() {}", "mode": "submit" }),
        )
        .await;
    assert_eq!(code.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = code.json().await.unwrap();
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains(&format!("/api/exercises/{EXERCISE}/review")),
        "{body}"
    );
}

#[tokio::test]
async fn the_cohorts_instructor_sees_the_defects_missed_most_and_each_result() {
    let app = spawn_app().await;
    let programme = key();
    let review = review(&programme);
    let defects = &review.defects;
    let (ines, ines_user) = signed_in(&app, "ines@example.com", Role::Instructor).await;
    let (otto, _) = signed_in(&app, "otto@example.com", Role::Instructor).await;
    let cohort = cohorts::create(&app.db, &ines_user, &CohortName::parse("Spring").unwrap())
        .await
        .unwrap();
    let on =
        |i: usize, category: DefectCategory| mark(&defects[i].file, defects[i].lines[0], category);
    // Lea finds the first two, Max the first and half the second: the third
    // is missed by both, the second half-found once.
    let (lea, lea_user) = signed_in(&app, "lea@example.com", Role::Learner).await;
    let (max, max_user) = signed_in(&app, "max@example.com", Role::Learner).await;
    // Olga is in no cohort of Ines's: her review is not counted.
    let (olga, _) = signed_in(&app, "olga@example.com", Role::Learner).await;
    cohorts::join(&app.db, cohort.id, lea_user.id)
        .await
        .unwrap();
    cohorts::join(&app.db, cohort.id, max_user.id)
        .await
        .unwrap();
    let lea_id = hand_in_ok(
        &lea,
        vec![on(0, defects[0].category), on(1, defects[1].category)],
    )
    .await["id"]
        .as_i64()
        .unwrap();
    hand_in_ok(
        &max,
        vec![
            on(0, defects[0].category),
            on(1, another(defects[1].category)),
        ],
    )
    .await;
    hand_in_ok(&olga, vec![on(2, defects[2].category)]).await;

    let page = ines
        .page(&format!(
            "/instructor/cohorts/{}/exercises/{EXERCISE}",
            cohort.id
        ))
        .await;
    let table = page
        .split("class=\"list missed-defects\"")
        .nth(1)
        .expect("the table of missed defects")
        .split("</table>")
        .next()
        .unwrap();
    let rows: Vec<&str> = table.split("<tr>").skip(2).collect();
    let place = |i: usize| {
        let lines: Vec<String> = defects[i].lines.iter().map(u32::to_string).collect();
        format!("<code>{}:{}</code>", defects[i].file, lines.join(", "))
    };
    // Most missed first: the third (missed 2 of 2), then the second (half once), then the first.
    assert!(rows[0].contains(&place(2)), "{}", rows[0]);
    assert!(
        rows[0].contains("<td>2</td><td>0</td><td>2</td>"),
        "{}",
        rows[0]
    );
    assert!(rows[1].contains(&place(1)), "{}", rows[1]);
    assert!(
        rows[1].contains("<td>0</td><td>1</td><td>2</td>"),
        "{}",
        rows[1]
    );
    assert!(rows[2].contains(&place(0)), "{}", rows[2]);
    assert!(
        rows[2].contains("<td>0</td><td>0</td><td>2</td>"),
        "{}",
        rows[2]
    );

    // The hand-in is on Lea's timeline, with its score (two of three found).
    let timeline = ines
        .page(&format!(
            "/instructor/cohorts/{}/learners/{}",
            cohort.id, lea_user.id
        ))
        .await;
    let title = &programme.exercise(EXERCISE).unwrap().title;
    assert!(
        timeline.contains(&format!(
            "<a href=\"/instructor/cohorts/{}/exercises/{EXERCISE}\">Handed in the review “{title}”</a>",
            cohort.id
        )),
        "{timeline}"
    );
    assert!(timeline.contains("not passed · 67%"), "{timeline}");
    // The cohort's export of review hand-ins: Lea's and Max's, not Olga's.
    let csv = ines
        .page(&format!(
            "/instructor/cohorts/{}/export/reviews.csv",
            cohort.id
        ))
        .await;
    assert!(
        csv.contains(&format!(
            "{lea_id},{},lea@example.com,{EXERCISE},0.667,false,found found missed,",
            lea_user.id
        )),
        "{csv}"
    );
    assert!(csv.contains("max@example.com"), "{csv}");
    assert!(!csv.contains("olga@example.com"), "{csv}");

    // Ines may read Lea's result; Otto, who does not teach her, may not.
    let result = ines.get(&format!("/api/reviews/{lea_id}")).await;
    assert_eq!(result.status(), StatusCode::OK);
    let theirs = otto.get(&format!("/api/reviews/{lea_id}")).await;
    assert_eq!(theirs.status(), StatusCode::NOT_FOUND);
}
