//! Cohorts over real HTTP: instructors see only what they teach, learners
//! join with a code, and `can_view_learner` draws the line for everything
//! that shows someone's work.

mod common;

use common::auth::{Browser, signed_in};
use common::spawn_app;
use lockstep::auth::{Role, can_view_learner};
use reqwest::StatusCode;

/// Creates a cohort through the form; returns its id and join code.
async fn create_cohort(app: &common::TestApp, browser: &Browser, name: &str) -> (i64, String) {
    let response = browser.post_form("/cohorts", &[("name", name)]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()["location"].to_str().unwrap();
    let id: i64 = location.trim_start_matches("/cohorts/").parse().unwrap();
    let code: String = sqlx::query_scalar!("SELECT join_code FROM cohorts WHERE id = $1", id,)
        .fetch_one(&app.db)
        .await
        .unwrap();
    (id, code)
}

#[tokio::test]
async fn an_instructor_creates_a_cohort_and_learners_join_it() {
    let app = spawn_app().await;
    let (teacher, _) = signed_in(&app, "ines@example.com", Role::Instructor).await;
    let (id, code) = create_cohort(&app, &teacher, "Spring 2026").await;
    assert_eq!(code.len(), 10);
    let html = teacher.page(&format!("/cohorts/{id}")).await;
    assert!(html.contains("Spring 2026") && html.contains(&code));
    assert!(html.contains("Nobody has joined yet."));

    // By link: a GET asks, the POST joins.
    let (lea, lea_user) = signed_in(&app, "lea@example.com", Role::Learner).await;
    let html = lea.page(&format!("/join/{code}")).await;
    assert!(html.contains("Join Spring 2026?"));
    let members: i64 = sqlx::query_scalar!(r#"SELECT count(*) AS "count!" FROM cohort_members"#)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(members, 0, "a GET changes nothing");
    let response = lea.post_form(&format!("/join/{code}"), &[]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(lea.page("/cohorts").await.contains("Spring 2026"));

    // By form, forgiving case and separators.
    let (max, _) = signed_in(&app, "max@example.com", Role::Learner).await;
    let typed = format!("{}-{}", &code[..5], &code[5..]).to_lowercase();
    let response = max.post_form("/join", &[("code", &typed)]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    // Joining twice is harmless.
    max.post_form("/join", &[("code", &code)]).await;

    let html = teacher.page(&format!("/cohorts/{id}")).await;
    assert!(html.contains("lea@example.com") && html.contains("max@example.com"));
    assert!(html.contains("Learners (2)"));
    assert!(teacher.page("/cohorts").await.contains("Spring 2026"));
    assert!(
        can_view_learner(
            &app_user(&app, "ines@example.com").await,
            lea_user.id,
            &app.db
        )
        .await
        .unwrap()
    );

    // Wrong codes: a field error on the form, 404 on the link.
    let response = max.post_form("/join", &[("code", "NOPE-NOPE")]).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = response.text().await.unwrap();
    assert!(html.contains("join-code-error") && html.contains("value=\"NOPE-NOPE\""));
    assert_eq!(
        max.get("/join/ZZZZZZZZZZ").await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        max.post_form("/join/ZZZZZZZZZZ", &[]).await.status(),
        StatusCode::NOT_FOUND
    );
}

async fn app_user(app: &common::TestApp, email: &str) -> lockstep::auth::User {
    lockstep::auth::users::find_by_email(&app.db, email)
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn a_learner_cannot_use_instructor_pages() {
    let app = spawn_app().await;
    let (teacher, _) = signed_in(&app, "ines@example.com", Role::Instructor).await;
    let (id, code) = create_cohort(&app, &teacher, "Private cohort").await;
    let (learner, _) = signed_in(&app, "lea@example.com", Role::Learner).await;
    learner.post_form(&format!("/join/{code}"), &[]).await;

    let response = learner.post_form("/cohorts", &[("name", "Mine")]).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let cohorts: i64 = sqlx::query_scalar!(r#"SELECT count(*) AS "count!" FROM cohorts"#)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(cohorts, 1);
    // Even a member of the cohort cannot see its roster.
    assert_eq!(
        learner.get(&format!("/cohorts/{id}")).await.status(),
        StatusCode::NOT_FOUND
    );
    let response = learner
        .post_form(
            &format!("/cohorts/{id}/instructors"),
            &[("email", "lea@example.com")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let instructors: i64 =
        sqlx::query_scalar!(r#"SELECT count(*) AS "count!" FROM cohort_instructors"#)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(instructors, 1);
    let html = learner.page("/cohorts").await;
    assert!(!html.contains("Create cohort") && !html.contains(&format!("/cohorts/{id}")));
    assert!(!html.contains(&code), "learners are not shown join codes");
}

#[tokio::test]
async fn an_instructor_of_another_cohort_sees_nothing_of_this_one() {
    let app = spawn_app().await;
    let (ines, ines_user) = signed_in(&app, "ines@example.com", Role::Instructor).await;
    let (otto, otto_user) = signed_in(&app, "otto@example.com", Role::Instructor).await;
    let (ines_cohort, ines_code) = create_cohort(&app, &ines, "Ines's cohort").await;
    let (otto_cohort, otto_code) = create_cohort(&app, &otto, "Otto's cohort").await;
    let (lea, lea_user) = signed_in(&app, "lea@example.com", Role::Learner).await;
    lea.post_form(&format!("/join/{ines_code}"), &[]).await;
    let (max, max_user) = signed_in(&app, "max@example.com", Role::Learner).await;
    max.post_form(&format!("/join/{otto_code}"), &[]).await;

    // Otto's list, his cohort page and his attempts on Ines's cohort.
    let html = otto.page("/cohorts").await;
    assert!(html.contains("Otto&#39;s cohort") || html.contains("Otto's cohort"));
    assert!(!html.contains("Ines"));
    assert!(!html.contains(&ines_code));
    assert_eq!(
        otto.get(&format!("/cohorts/{ines_cohort}")).await.status(),
        StatusCode::NOT_FOUND
    );
    let response = otto
        .post_form(
            &format!("/cohorts/{ines_cohort}/instructors"),
            &[("email", "otto@example.com")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let html = otto.page(&format!("/cohorts/{otto_cohort}")).await;
    assert!(html.contains("max@example.com") && !html.contains("lea@example.com"));

    // The authorization rule for learners' work.
    assert!(
        can_view_learner(&ines_user, lea_user.id, &app.db)
            .await
            .unwrap()
    );
    assert!(
        !can_view_learner(&ines_user, max_user.id, &app.db)
            .await
            .unwrap()
    );
    assert!(
        !can_view_learner(&otto_user, lea_user.id, &app.db)
            .await
            .unwrap()
    );
    assert!(
        can_view_learner(&lea_user, lea_user.id, &app.db)
            .await
            .unwrap()
    );
    assert!(
        !can_view_learner(&lea_user, max_user.id, &app.db)
            .await
            .unwrap()
    );
    assert!(
        !can_view_learner(&max_user, lea_user.id, &app.db)
            .await
            .unwrap()
    );
    // A demoted instructor loses sight of their old cohort's learners.
    let mut demoted = ines_user.clone();
    demoted.role = Role::Learner;
    assert!(
        !can_view_learner(&demoted, lea_user.id, &app.db)
            .await
            .unwrap()
    );

    // An admin sees every cohort and every learner.
    let (admin, admin_user) = signed_in(&app, "root@example.com", Role::Admin).await;
    let html = admin.page("/cohorts").await;
    assert!(html.contains("Ines") && html.contains("Otto"));
    assert_eq!(
        admin.get(&format!("/cohorts/{ines_cohort}")).await.status(),
        StatusCode::OK
    );
    assert!(
        can_view_learner(&admin_user, max_user.id, &app.db)
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn co_teachers_see_the_cohort_they_were_added_to() {
    let app = spawn_app().await;
    let (ines, _) = signed_in(&app, "ines@example.com", Role::Instructor).await;
    let (otto, otto_user) = signed_in(&app, "otto@example.com", Role::Instructor).await;
    let (id, code) = create_cohort(&app, &ines, "Shared").await;
    let (lea, lea_user) = signed_in(&app, "lea@example.com", Role::Learner).await;
    lea.post_form(&format!("/join/{code}"), &[]).await;
    assert_eq!(
        otto.get(&format!("/cohorts/{id}")).await.status(),
        StatusCode::NOT_FOUND
    );

    // Only instructor accounts can be added.
    let response = ines
        .post_form(
            &format!("/cohorts/{id}/instructors"),
            &[("email", "lea@example.com")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.text().await.unwrap().contains("not an instructor"));
    let response = ines
        .post_form(
            &format!("/cohorts/{id}/instructors"),
            &[("email", "nobody@example.com")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let response = ines
        .post_form(
            &format!("/cohorts/{id}/instructors"),
            &[("email", "OTTO@example.com")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let html = otto.page(&format!("/cohorts/{id}")).await;
    assert!(html.contains("lea@example.com"));
    assert!(otto.page("/cohorts").await.contains("Shared"));
    assert!(
        can_view_learner(&otto_user, lea_user.id, &app.db)
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn cohort_names_are_stored_as_given_and_rendered_escaped() {
    let app = spawn_app().await;
    let (teacher, _) = signed_in(&app, "ines@example.com", Role::Instructor).await;
    let name = "<script>alert(1)</script>'); DELETE FROM cohorts;--";
    let (id, code) = create_cohort(&app, &teacher, name).await;
    let stored: String = sqlx::query_scalar!("SELECT name FROM cohorts WHERE id = $1", id,)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(stored, name);
    let (learner, _) = signed_in(&app, "lea@example.com", Role::Learner).await;
    learner.post_form(&format!("/join/{code}"), &[]).await;
    for (browser, path) in [
        (&teacher, format!("/cohorts/{id}")),
        (&teacher, "/cohorts".to_string()),
        (&learner, format!("/join/{code}")),
        (&learner, "/cohorts".to_string()),
        (&learner, "/account".to_string()),
    ] {
        let html = browser.page(&path).await;
        assert!(!html.contains("<script>alert(1)"), "{path}");
        assert!(html.contains("&#60;script&#62;alert(1)"), "{path}");
    }
    // Join codes and co-teacher emails with SQL in them are just unknown.
    let response = learner.post_form("/join", &[("code", "' OR '1'='1")]).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let response = teacher
        .post_form(
            &format!("/cohorts/{id}/instructors"),
            &[("email", "x' OR '1'='1")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let instructors: i64 =
        sqlx::query_scalar!(r#"SELECT count(*) AS "count!" FROM cohort_instructors"#)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(instructors, 1);
    // An empty name is a field error.
    let response = teacher.post_form("/cohorts", &[("name", "  ")]).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.text().await.unwrap().contains("cohort-name-error"));
}
