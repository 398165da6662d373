//! Who is making a request: the [`identify`] middleware.
//!
//! Once per request it works out the [`Visitor`] — from a Bearer API token,
//! or from the session cookie, or neither — and makes it available twice:
//! as a request extension, for the extractors ([`crate::web::CurrentUser`],
//! [`crate::web::MaybeUser`]) and the CSRF guard; and as a task-local for
//! the duration of the request, so [`crate::web::templates::Layout::new`]
//! can show the right header (name, log-out form, CSRF token) on every page,
//! error pages included, without every handler threading it through.
//!
//! It also writes the cookies: the session cookie when its expiry slides, a
//! removal when a stale one was sent, and for signed-out visitors a CSRF
//! cookie (double-submit: forms such as log-in carry the same value) the
//! first time they are sent a page. And it turns a 401 on a page request
//! into a redirect to `/login?next=…`.
//!
//! Cookies are `HttpOnly; SameSite=Lax; Path=/`, plus `Secure` when the
//! request reached us over HTTPS. Lockstep itself speaks plain HTTP, so HTTPS
//! means a TLS-terminating proxy in front, which says so with
//! `X-Forwarded-Proto: https` (or `Forwarded: proto=https`). A client faking
//! that header only makes its own cookies HTTPS-only.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

use crate::auth::users::User;
use crate::auth::{api_tokens, secret, session};
use crate::web::AppState;
use crate::web::error::AppError;

/// The cookie that carries the session id.
pub const SESSION_COOKIE: &str = "lockstep_session";
/// The cookie that carries a signed-out visitor's CSRF token.
pub const CSRF_COOKIE: &str = "lockstep_csrf";

/// Who is making the current request.
#[derive(Clone, Debug, Default)]
pub struct Visitor {
    /// The signed-in account, if any.
    pub user: Option<User>,
    /// The token forms must echo in `csrf_token` (and scripts in
    /// `X-CSRF-Token`): the session's when signed in, the CSRF cookie's
    /// otherwise; empty for API-token requests, which need none.
    pub csrf_token: String,
    /// Authenticated by `Authorization: Bearer`, not by a cookie.
    pub via_api_token: bool,
    /// The key of the current session (for log-out).
    pub session_key: Option<String>,
    /// The request came over HTTPS (cookies get `Secure`).
    pub https: bool,
    /// The client's address (for rate limits), when known.
    pub address: Option<IpAddr>,
}

tokio::task_local! {
    static VISITOR: Visitor;
}

/// The visitor of the request being handled, if called inside one.
pub fn current() -> Option<Visitor> {
    VISITOR.try_with(Clone::clone).ok()
}

impl<S: Send + Sync> FromRequestParts<S> for Visitor {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, AppError> {
        parts
            .extensions
            .get::<Visitor>()
            .cloned()
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("the identify layer is missing")))
    }
}

/// The middleware; see the module documentation.
pub async fn identify(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let headers = request.headers();
    let https = is_https(headers);
    let address = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip());
    let mut visitor = Visitor {
        https,
        address,
        ..Visitor::default()
    };
    let mut session_cookie: Option<HeaderValue> = None;
    let mut issue_csrf_cookie = false;

    if let Some(token) = bearer_token(headers) {
        match api_tokens::authenticate(&state.db, token).await {
            Ok(Some(user)) => {
                visitor.user = Some(user);
                visitor.via_api_token = true;
            }
            Ok(None) => return invalid_token(),
            Err(error) => return AppError::from(error).into_response(),
        }
    } else {
        if let Some(id) = read_cookie(headers, SESSION_COOKIE) {
            match state.auth.sessions.find(&state.db, id).await {
                Ok(Some((found, refreshed))) => {
                    if refreshed {
                        session_cookie = Some(session_cookie_value(id, https));
                    }
                    visitor.user = Some(found.user);
                    visitor.csrf_token = found.csrf_token;
                    visitor.session_key = Some(found.key);
                }
                Ok(None) => session_cookie = Some(clear_session_cookie(https)),
                Err(error) => return AppError::from(error).into_response(),
            }
        }
        if visitor.user.is_none() {
            match read_cookie(headers, CSRF_COOKIE).filter(|t| secret::is_token_shaped(t)) {
                Some(token) => visitor.csrf_token = token.to_string(),
                None => {
                    visitor.csrf_token = secret::random_token();
                    issue_csrf_cookie = true;
                }
            }
        }
    }

    let is_page_view = matches!(*request.method(), Method::GET | Method::HEAD)
        && !request.uri().path().starts_with("/api/")
        && !accepts_json(request.headers());
    let here = request
        .uri()
        .path_and_query()
        .map_or("/", |pq| pq.as_str())
        .to_string();
    request.extensions_mut().insert(visitor.clone());
    let csrf_token = visitor.csrf_token.clone();
    let mut response = VISITOR.scope(visitor, next.run(request)).await;

    if response.status() == StatusCode::UNAUTHORIZED && is_page_view {
        response = Redirect::to(&login_url(&here)).into_response();
    }
    if let Some(value) = session_cookie
        && !sets_cookie(&response, SESSION_COOKIE)
    {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if issue_csrf_cookie && is_html && !sets_cookie(&response, CSRF_COOKIE) {
        let value = cookie(CSRF_COOKIE, &csrf_token, None, https);
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// `/login?next=<here>`.
pub fn login_url(here: &str) -> String {
    let next: String = form_urlencoded::byte_serialize(here.as_bytes()).collect();
    format!("/login?next={next}")
}

/// `next` if it is a path on this site, `/` otherwise (no open redirects).
pub fn local_path(next: Option<&str>) -> String {
    match next {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.contains('\\')
                && !path.chars().any(char::is_control) =>
        {
            path.to_string()
        }
        _ => "/".to_string(),
    }
}

/// The `Set-Cookie` value that stores a session id.
pub fn session_cookie_value(id: &str, https: bool) -> HeaderValue {
    cookie(SESSION_COOKIE, id, Some(session::LIFETIME.as_secs()), https)
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn clear_session_cookie(https: bool) -> HeaderValue {
    cookie(SESSION_COOKIE, "", Some(0), https)
}

fn cookie(name: &str, value: &str, max_age: Option<u64>, https: bool) -> HeaderValue {
    let mut cookie = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if let Some(seconds) = max_age {
        cookie.push_str(&format!("; Max-Age={seconds}"));
    }
    if https {
        cookie.push_str("; Secure");
    }
    HeaderValue::from_str(&cookie).expect("cookie values are hex")
}

fn sets_cookie(response: &Response, name: &str) -> bool {
    response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.split_once('=').is_some_and(|(n, _)| n == name))
}

fn read_cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value)
}

fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

fn is_https(headers: &HeaderMap) -> bool {
    let forwarded_proto = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .next()
                .is_some_and(|p| p.trim().eq_ignore_ascii_case("https"))
        });
    let forwarded = headers
        .get(header::FORWARDED)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().contains("proto=https"));
    forwarded_proto || forwarded
}

fn accepts_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.starts_with("application/json"))
}

/// A Bearer token that is unknown or revoked: 401, and no fallback to the
/// cookie (a request says who it is once).
fn invalid_token() -> Response {
    let mut response = AppError::Unauthorized.into_response();
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer error=\"invalid_token\""),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(local_path(Some("/exercises/x?a=1")), "/exercises/x?a=1");
        for bad in ["//evil.example", "https://evil.example", "/\\evil", "evil"] {
            assert_eq!(local_path(Some(bad)), "/", "{bad}");
        }
        assert_eq!(login_url("/a b?c=d"), "/login?next=%2Fa+b%3Fc%3Dd");
    }

    #[test]
    fn cookies_are_read_by_exact_name() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("x_lockstep_session=1; lockstep_session=abc; other=2"),
        );
        assert_eq!(read_cookie(&headers, SESSION_COOKIE), Some("abc"));
        let value = cookie(SESSION_COOKIE, "abc", Some(10), true);
        let value = value.to_str().unwrap();
        assert!(
            value.contains("HttpOnly")
                && value.contains("SameSite=Lax")
                && value.ends_with("; Secure")
        );
    }
}
