//! Single sign-on with OpenID Connect, end to end against a real provider
//! (npm `oidc-provider`, `tests/oidc/provider.js`): the app discovers it,
//! sends a browser there, and the provider's real authorization code flow
//! (with PKCE required, signed ID tokens) comes back to the app. The
//! provider logs in the account a test names, without a form, so a client
//! that keeps cookies and follows redirects plays the browser.

mod common;

use common::auth::{PASSWORD, create_user};
use common::identity_servers::OpenIdProvider;
use common::{TestApp, fresh_database, spawn_app_with_accounts_at};
use lockstep::auth::Role;
use reqwest::StatusCode;
use serde_json::json;

const CLIENT_ID: &str = "lockstep";
const CLIENT_SECRET: &str = "a client secret for the tests";

/// The provider's accounts: id (= subject) and claims.
fn accounts() -> serde_json::Value {
    json!({
        "ada": {"email": "ada@example.com", "email_verified": true, "name": "Ada Lovelace", "groups": ["staff", "engineering"]},
        "grace": {"email": "grace@example.com", "email_verified": true, "name": "Grace Hopper", "groups": ["engineering"]},
        "mallory": {"email": "victim@example.com", "email_verified": false, "name": "Mallory", "groups": []},
    })
}

/// A provider (signing with RS256) and an app that uses it, with the app's
/// extra `args`.
async fn provider_and_app(args: &[&str]) -> (OpenIdProvider, TestApp) {
    provider_signing_with("RS256", args).await
}

/// [`provider_and_app`] with ID tokens signed with `algorithm`.
async fn provider_signing_with(algorithm: &str, args: &[&str]) -> (OpenIdProvider, TestApp) {
    let port = common::free_port();
    let redirect = format!("http://127.0.0.1:{port}/auth/oidc/callback");
    let provider =
        OpenIdProvider::start(CLIENT_ID, CLIENT_SECRET, &redirect, &accounts(), algorithm).await;
    let (db, _) = fresh_database().await;
    let mut all = vec![
        "--oidc-issuer",
        &provider.issuer,
        "--oidc-client-id",
        CLIENT_ID,
        "--oidc-client-secret",
        CLIENT_SECRET,
        "--oidc-name",
        "Example Corp",
    ];
    all.extend_from_slice(args);
    let app = spawn_app_with_accounts_at(db, port, &all).await;
    (provider, app)
}

/// A browser that keeps cookies and follows redirects (to the provider
/// and back).
fn following_browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::limited(20))
        .build()
        .expect("client")
}

/// Signs in as the provider's `account` from the app's log-in page; the
/// final response (after every redirect).
async fn sso_as(
    provider: &OpenIdProvider,
    app: &TestApp,
    browser: &reqwest::Client,
    account: &str,
) -> reqwest::Response {
    provider.choose_account(browser, account).await;
    let login = browser
        .get(format!("{}/login?next=/account", app.base_url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(login.contains("Log in with Example Corp"), "{login}");
    assert!(login.contains("href=\"/auth/oidc/start?next="), "{login}");
    let start = format!("{}/auth/oidc/start?next=%2Faccount", app.base_url);
    browser.get(start).send().await.expect("the flow runs")
}

/// The signed-in account's id, by the response of a finished sign-in.
async fn signed_in_as(app: &TestApp, response: reqwest::Response, email: &str) -> i64 {
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.url().as_str(),
        format!("{}/account", app.base_url),
        "back at the page asked for"
    );
    let page = response.text().await.unwrap();
    assert!(page.contains("action=\"/logout\""), "signed in: {page}");
    sqlx::query_scalar("SELECT id FROM users WHERE lower(email) = lower($1)")
        .bind(email)
        .fetch_one(&app.db)
        .await
        .unwrap()
}

async fn count(app: &TestApp, sql: &'static str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(&app.db).await.unwrap()
}

#[tokio::test]
async fn the_first_sign_in_creates_a_learner_and_the_next_one_finds_it() {
    let (provider, app) = provider_and_app(&[]).await;
    let first = sso_as(&provider, &app, &following_browser(), "grace").await;
    let id = signed_in_as(&app, first, "grace@example.com").await;
    let (name, role): (String, String) =
        sqlx::query_as("SELECT display_name, role FROM users WHERE id = $1")
            .bind(id)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!((name.as_str(), role.as_str()), ("Grace Hopper", "learner"));
    let (issuer, subject): (String, String) =
        sqlx::query_as("SELECT issuer, subject FROM identities WHERE user_id = $1")
            .bind(id)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(
        (issuer.as_str(), subject.as_str()),
        (provider.issuer.as_str(), "grace")
    );
    // The sign-in's state, nonce and verifier were used up.
    assert_eq!(count(&app, "SELECT count(*) FROM oidc_sign_ins").await, 0);

    // Another browser, another provider session: the same account.
    let second = sso_as(&provider, &app, &following_browser(), "grace").await;
    assert_eq!(signed_in_as(&app, second, "grace@example.com").await, id);
    assert_eq!(count(&app, "SELECT count(*) FROM users").await, 1);
    assert_eq!(count(&app, "SELECT count(*) FROM identities").await, 1);
}

#[tokio::test]
async fn a_local_account_with_the_verified_email_is_linked_not_duplicated() {
    let (provider, app) = provider_and_app(&[]).await;
    let local = create_user(&app.db, "Ada@Example.com", "Ada", Role::Learner).await;
    let response = sso_as(&provider, &app, &following_browser(), "ada").await;
    assert_eq!(
        signed_in_as(&app, response, "ada@example.com").await,
        local.id
    );
    assert_eq!(count(&app, "SELECT count(*) FROM users").await, 1);
    let linked: i64 = sqlx::query_scalar("SELECT user_id FROM identities WHERE subject = 'ada'")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(linked, local.id);
    // The local password still works.
    let browser = app.browser();
    browser.log_in("ada@example.com").await;

    // An unverified email is not enough to take over an account.
    create_user(&app.db, "victim@example.com", "Victim", Role::Learner).await;
    let refused = sso_as(&provider, &app, &following_browser(), "mallory").await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    let page = refused.text().await.unwrap();
    assert!(
        page.contains("does not say the address is verified"),
        "{page}"
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM identities WHERE subject = 'mallory'"
        )
        .await,
        0
    );
}

#[tokio::test]
async fn id_tokens_signed_with_an_algorithm_the_provider_names_verify() {
    // ES256, not the ID-token verifier's default RS256: the client built
    // from discovery allows the algorithms the provider names.
    let (provider, app) = provider_signing_with("ES256", &[]).await;
    let response = sso_as(&provider, &app, &following_browser(), "grace").await;
    signed_in_as(&app, response, "grace@example.com").await;
}

#[tokio::test]
async fn signing_keys_the_provider_rotated_are_fetched_again() {
    let (mut provider, app) = provider_and_app(&[]).await;
    let before = sso_as(&provider, &app, &following_browser(), "grace").await;
    let id = signed_in_as(&app, before, "grace@example.com").await;
    // The restarted provider signs with a key the app did not see at start-up.
    provider.restart().await;
    let after = sso_as(&provider, &app, &following_browser(), "grace").await;
    assert_eq!(signed_in_as(&app, after, "grace@example.com").await, id);
}

#[tokio::test]
async fn the_role_claim_makes_instructors() {
    let (provider, app) = provider_and_app(&[
        "--oidc-role-claim",
        "groups",
        "--oidc-instructor-value",
        "staff",
    ])
    .await;
    let ada = sso_as(&provider, &app, &following_browser(), "ada").await;
    let ada = signed_in_as(&app, ada, "ada@example.com").await;
    let grace = sso_as(&provider, &app, &following_browser(), "grace").await;
    let grace = signed_in_as(&app, grace, "grace@example.com").await;
    let role = |id: i64| {
        let db = app.db.clone();
        async move {
            sqlx::query_scalar::<_, String>("SELECT role FROM users WHERE id = $1")
                .bind(id)
                .fetch_one(&db)
                .await
                .unwrap()
        }
    };
    assert_eq!(role(ada).await, "instructor");
    assert_eq!(role(grace).await, "learner");
    // The claim is the provider's word at every sign-in: an instructor made
    // by hand goes back to learner when the claim does not say instructor.
    sqlx::query("UPDATE users SET role = 'instructor' WHERE id = $1")
        .bind(grace)
        .execute(&app.db)
        .await
        .unwrap();
    let again = sso_as(&provider, &app, &following_browser(), "grace").await;
    assert_eq!(signed_in_as(&app, again, "grace@example.com").await, grace);
    assert_eq!(role(grace).await, "learner");
}

#[tokio::test]
async fn a_forged_or_missing_state_is_refused() {
    let (provider, app) = provider_and_app(&[]).await;
    // A started sign-in (not followed): the provider's URL and the state cookie.
    let browser = app.browser();
    let started = browser.get("/auth/oidc/start?next=/").await;
    assert_eq!(started.status(), StatusCode::SEE_OTHER);
    let location = started.headers()["location"].to_str().unwrap().to_string();
    assert!(
        location.starts_with(&format!("{}/auth?", provider.issuer)),
        "{location}"
    );
    let url = reqwest::Url::parse(&location).unwrap();
    let param = |name: &str| {
        url.query_pairs()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.into_owned())
            .unwrap_or_else(|| panic!("no {name} in {location}"))
    };
    assert_eq!(param("code_challenge_method"), "S256");
    assert!(param("code_challenge").len() >= 43);
    assert!(!param("nonce").is_empty());
    let state = param("state");

    for query in [
        "code=whatever".to_string(),
        "state=&code=whatever".to_string(),
        "state=forged&code=whatever".to_string(),
    ] {
        let response = browser.get(&format!("/auth/oidc/callback?{query}")).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{query}");
        let page = response.text().await.unwrap();
        assert!(
            page.contains("did not start in this browser"),
            "{query}: {page}"
        );
    }
    // The right state from another browser (a link sent to a victim).
    let elsewhere = app
        .browser()
        .get(&format!("/auth/oidc/callback?state={state}&code=whatever"))
        .await;
    assert_eq!(elsewhere.status(), StatusCode::BAD_REQUEST);
    // The right state in the right browser with a code the provider never
    // issued: refused by the provider, and the state is used up.
    let bad_code = browser
        .get(&format!(
            "/auth/oidc/callback?state={state}&code=not-a-code"
        ))
        .await;
    assert_eq!(bad_code.status(), StatusCode::FORBIDDEN);
    assert!(
        bad_code
            .text()
            .await
            .unwrap()
            .contains("code exchange failed")
    );
    let replay = browser
        .get(&format!(
            "/auth/oidc/callback?state={state}&code=not-a-code"
        ))
        .await;
    assert_eq!(replay.status(), StatusCode::BAD_REQUEST);
    assert!(
        replay
            .text()
            .await
            .unwrap()
            .contains("unknown, used or expired")
    );
    assert_eq!(count(&app, "SELECT count(*) FROM users").await, 0);
}

#[tokio::test]
async fn sso_only_refuses_local_passwords() {
    let (provider, app) = provider_and_app(&["--sso-only"]).await;
    create_user(&app.db, "local@example.com", "Local", Role::Learner).await;
    let browser = app.browser();
    let login = browser.page("/login").await;
    assert!(login.contains("Log in with Example Corp"), "{login}");
    assert!(
        !login.contains("type=\"password\""),
        "no password form: {login}"
    );
    assert!(
        !login.contains("href=\"/signup"),
        "no sign-up link: {login}"
    );
    let refused = browser.log_in_with("local@example.com", PASSWORD).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("Log in with Example Corp")
    );
    let signup = browser
        .post_form(
            "/signup",
            &[
                ("email", "new@example.com"),
                ("display_name", "New"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(signup.status(), StatusCode::FORBIDDEN);
    assert_eq!(browser.get("/signup").await.status(), StatusCode::FORBIDDEN);
    assert_eq!(count(&app, "SELECT count(*) FROM users").await, 1);
    // Single sign-on still works.
    let response = sso_as(&provider, &app, &following_browser(), "ada").await;
    signed_in_as(&app, response, "ada@example.com").await;
}

#[tokio::test]
async fn an_unreachable_issuer_stops_the_start_with_a_clear_error() {
    let closed = common::free_port();
    let (db, _) = fresh_database().await;
    let issuer = format!("http://127.0.0.1:{closed}");
    let error = common::try_spawn_app_with_accounts_at(
        db,
        common::free_port(),
        &["--oidc-issuer", &issuer, "--oidc-client-id", CLIENT_ID],
    )
    .await
    .err()
    .expect("the start fails");
    let message = format!("{error:#}");
    assert!(
        message.contains(&format!(
            "the OpenID provider {issuer} cannot be discovered"
        )),
        "{message}"
    );
}
