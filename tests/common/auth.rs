//! Signing in from tests: browsers with their own cookie jars, CSRF tokens
//! read from pages, and accounts created straight in the database.

use lockstep::auth::password::{self, NewPassword};
use lockstep::auth::users::{self, DisplayName, Email, Role, User};
use reqwest::StatusCode;
use sqlx::PgPool;

use super::TestApp;

/// The password every test account gets.
pub const PASSWORD: &str = "correct horse battery staple";

/// One visitor: a client with its own cookie jar, following no redirects.
#[derive(Clone)]
pub struct Browser {
    /// `http://127.0.0.1:port`
    pub base_url: String,
    /// The client.
    pub client: reqwest::Client,
}

impl TestApp {
    /// A new visitor with an empty cookie jar.
    pub fn browser(&self) -> Browser {
        Browser {
            base_url: self.base_url.clone(),
            client: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
        }
    }

    /// The visitor behind [`TestApp::get`] (the same cookie jar).
    pub fn default_browser(&self) -> Browser {
        Browser {
            base_url: self.base_url.clone(),
            client: self.client.clone(),
        }
    }
}

impl Browser {
    /// `GET path`.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.base_url))
            .send()
            .await
            .expect("request")
    }

    /// `GET path` and its body, asserting 200.
    pub async fn page(&self, path: &str) -> String {
        let response = self.get(path).await;
        assert_eq!(response.status(), StatusCode::OK, "GET {path}");
        response.text().await.expect("body")
    }

    /// The CSRF token of this visitor, read from a page's `<meta>`.
    pub async fn csrf_token(&self) -> String {
        meta_csrf(&self.page("/").await)
    }

    /// `POST path` as a form, exactly as given (no CSRF token added).
    pub async fn post_form_raw(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .post(format!("{}{path}", self.base_url))
            .form(fields)
            .send()
            .await
            .expect("request")
    }

    /// `POST path` as a form with this visitor's CSRF token, as a browser would.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let token = self.csrf_token().await;
        let mut fields = fields.to_vec();
        fields.push(("csrf_token", &token));
        self.post_form_raw(path, &fields).await
    }

    /// `POST path` with a JSON body and this visitor's CSRF token in the
    /// `X-CSRF-Token` header, as the site's scripts do.
    pub async fn post_json(&self, path: &str, body: &serde_json::Value) -> reqwest::Response {
        let token = self.csrf_token().await;
        self.post_json_with(&token, path, body).await
    }

    /// [`Browser::post_json`] with a token already read.
    pub async fn post_json_with(
        &self,
        token: &str,
        path: &str,
        body: &serde_json::Value,
    ) -> reqwest::Response {
        self.client
            .post(format!("{}{path}", self.base_url))
            .header("x-csrf-token", token)
            .json(body)
            .send()
            .await
            .expect("request")
    }

    /// Signs up through the form; asserts it worked.
    pub async fn sign_up(&self, email: &str, display_name: &str) {
        let response = self
            .post_form(
                "/signup",
                &[
                    ("email", email),
                    ("display_name", display_name),
                    ("password", PASSWORD),
                ],
            )
            .await;
        assert_eq!(
            response.status(),
            StatusCode::SEE_OTHER,
            "sign-up of {email}"
        );
    }

    /// Logs in through the form.
    pub async fn log_in_with(&self, email: &str, password: &str) -> reqwest::Response {
        self.post_form("/login", &[("email", email), ("password", password)])
            .await
    }

    /// Logs in with [`PASSWORD`]; asserts it worked.
    pub async fn log_in(&self, email: &str) {
        let response = self.log_in_with(email, PASSWORD).await;
        assert_eq!(
            response.status(),
            StatusCode::SEE_OTHER,
            "log-in of {email}"
        );
    }
}

/// The token in `<meta name="csrf-token" content="…">`.
pub fn meta_csrf(html: &str) -> String {
    let marker = "<meta name=\"csrf-token\" content=\"";
    let start = html.find(marker).expect("a csrf-token meta tag") + marker.len();
    html[start..].chars().take_while(|c| *c != '"').collect()
}

/// The value of cookie `name` in a response's `Set-Cookie` headers.
pub fn set_cookie<'a>(response: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
}

/// Creates an account straight in the database (faster than the form, and
/// the only way to make instructors and admins without the CLI).
pub async fn create_user(db: &PgPool, email: &str, display_name: &str, role: Role) -> User {
    let hash = password::hash(&NewPassword::parse(PASSWORD).unwrap())
        .await
        .unwrap();
    users::create(
        db,
        &Email::parse(email).unwrap(),
        &DisplayName::parse(display_name).unwrap(),
        &hash,
        role,
    )
    .await
    .unwrap()
}

/// A browser signed in as a new account with `role`.
pub async fn signed_in(app: &TestApp, email: &str, role: Role) -> (Browser, User) {
    let name = email.split('@').next().unwrap();
    let user = create_user(&app.db, email, name, role).await;
    let browser = app.browser();
    browser.log_in(email).await;
    (browser, user)
}
