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
//! Cookies are `HttpOnly; SameSite=Lax; Path=/`, plus `Secure` and the
//! `__Host-` name prefix when the request reached us over HTTPS (the prefix
//! makes the browser refuse the cookie unless it is `Secure`, host-only and
//! `Path=/`, so a sibling subdomain or a plain-HTTP page cannot plant or
//! shadow it). Lockstep itself speaks plain HTTP, so HTTPS means a
//! TLS-terminating proxy in front, which says so with `X-Forwarded-Proto:
//! https` (or `Forwarded: proto=https`). Over plain HTTP — `cargo run` on
//! localhost — the cookies are named without the prefix, since a `__Host-`
//! cookie must be `Secure` and browsers differ on storing those for
//! `http://` origins. A client faking the header only makes its own cookies
//! HTTPS-only.
//!
//! Over HTTPS every response also carries `Strict-Transport-Security`, and
//! every response to a signed-in visitor `Cache-Control: no-store` (unless
//! the handler chose a policy), so a shared computer's cache or a proxy
//! keeps no copy of anyone's work.
//!
//! The client's address (for throttles) is the TCP peer's, unless the peer
//! is a configured trusted proxy (`--trusted-proxy`): then it is the
//! right-most address in `Forwarded: for=` or `X-Forwarded-For` that is not
//! itself a trusted proxy — the left-hand entries are whatever the client
//! chose to send, so they are never believed.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

use crate::auth::api_tokens::{self, Grant, TokenScope};
use crate::auth::users::User;
use crate::auth::{secret, session};
use crate::config::{ProxyNetwork, unmapped};
use crate::web::AppState;
use crate::web::error::AppError;

/// The cookie that carries the session id (over plain HTTP).
pub const SESSION_COOKIE: &str = "lockstep_session";
/// The cookie that carries a signed-out visitor's CSRF token (over plain HTTP).
pub const CSRF_COOKIE: &str = "lockstep_csrf";
/// The prefix of both cookies' names over HTTPS.
pub const HOST_PREFIX: &str = "__Host-";
/// `Strict-Transport-Security` over HTTPS: a year, as browsers' preload
/// lists expect; subdomains are the operator's to decide, so not included.
const HSTS: &str = "max-age=31536000";

/// The session cookie's name for a request over HTTPS or not.
pub fn session_cookie_name(https: bool) -> String {
    cookie_name(SESSION_COOKIE, https)
}

pub(crate) fn cookie_name(name: &str, https: bool) -> String {
    if https {
        format!("{HOST_PREFIX}{name}")
    } else {
        name.to_string()
    }
}

/// Who is making the current request.
#[derive(Clone, Debug, Default)]
pub struct Visitor {
    /// The signed-in account, if any.
    pub user: Option<User>,
    /// The token forms must echo in `csrf_token` (and scripts in
    /// `X-CSRF-Token`): the session's when signed in, the CSRF cookie's
    /// otherwise; empty for API-token requests, which need none.
    pub csrf_token: String,
    /// The API token that authenticated the request (`Authorization:
    /// Bearer`), if it was not a cookie.
    pub api_token: Option<Grant>,
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

impl Visitor {
    /// Authenticated by `Authorization: Bearer`, not by a cookie.
    pub fn via_api_token(&self) -> bool {
        self.api_token.is_some()
    }

    /// Authenticated by a token that may only read.
    pub fn read_only(&self) -> bool {
        self.api_token
            .is_some_and(|grant| grant.scope == TokenScope::Read)
    }
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
        .map(|ConnectInfo(peer)| client_address(peer.ip(), headers, &state.trusted_proxies));
    let mut visitor = Visitor {
        https,
        address,
        ..Visitor::default()
    };
    let mut session_cookie: Option<HeaderValue> = None;
    let mut issue_csrf_cookie = false;

    if let Some(token) = bearer_token(headers) {
        match api_tokens::authenticate(&state.db, token).await {
            Ok(Some((user, grant))) => {
                visitor.user = Some(user);
                visitor.api_token = Some(grant);
            }
            Ok(None) => return invalid_token(),
            Err(error) => return AppError::from(error).into_response(),
        }
    } else {
        if let Some(id) = read_cookie(headers, &session_cookie_name(https)) {
            match state.auth.sessions.find(&state.db, id).await {
                Ok(Some((found, refreshed))) => {
                    if refreshed {
                        session_cookie = Some(session_cookie_value(id, &found, https));
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
            match read_cookie(headers, &cookie_name(CSRF_COOKIE, https))
                .filter(|t| secret::is_token_shaped(t))
            {
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
    let signed_in = visitor.user.is_some();
    let mut response = VISITOR.scope(visitor, next.run(request)).await;

    if response.status() == StatusCode::UNAUTHORIZED && is_page_view {
        response = Redirect::to(&login_url(&here)).into_response();
    }
    if let Some(value) = session_cookie
        && !sets_cookie(&response, &session_cookie_name(https))
    {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    let csrf_cookie = cookie_name(CSRF_COOKIE, https);
    if issue_csrf_cookie && is_html && !sets_cookie(&response, &csrf_cookie) {
        let value = cookie(CSRF_COOKIE, &csrf_token, None, https);
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    let headers = response.headers_mut();
    if https {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(HSTS),
        );
    }
    if signed_in && !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// The client's address: see the module documentation.
pub fn client_address(peer: IpAddr, headers: &HeaderMap, trusted: &[ProxyNetwork]) -> IpAddr {
    let peer = unmapped(peer);
    let is_trusted = |address: IpAddr| trusted.iter().any(|proxy| proxy.contains(address));
    if !is_trusted(peer) {
        return peer;
    }
    let forwarded = forwarded_for(headers);
    // Walk back from the nearest hop: the first address our proxies did not
    // add is the client as far as anyone we trust can tell.
    let mut client = peer;
    for hop in forwarded.iter().rev() {
        match hop {
            Some(address) => {
                client = unmapped(*address);
                if !is_trusted(client) {
                    return client;
                }
            }
            // An obfuscated or unreadable hop: nothing beyond it is known.
            None => return client,
        }
    }
    client
}

/// The `for=` addresses of `Forwarded` (RFC 7239), or else the addresses
/// of `X-Forwarded-For`, in order, nearest hop last; `None` for a hop that
/// is not an IP address (`unknown`, an obfuscated name, junk).
fn forwarded_for(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let values = |name| {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    let forwarded = values(header::FORWARDED);
    if !forwarded.is_empty() {
        return forwarded
            .iter()
            .filter_map(|element| {
                element.split(';').find_map(|pair| {
                    let (name, value) = pair.trim().split_once('=')?;
                    name.trim()
                        .eq_ignore_ascii_case("for")
                        .then(|| parse_node(value.trim().trim_matches('"')))
                })
            })
            .collect();
    }
    values(HeaderName::from_static("x-forwarded-for"))
        .iter()
        .map(|v| parse_node(v))
        .collect()
}

/// `192.0.2.1`, `192.0.2.1:4711`, `[2001:db8::1]:4711` or `2001:db8::1`.
fn parse_node(node: &str) -> Option<IpAddr> {
    if let Ok(address) = node.parse() {
        return Some(address);
    }
    if let Some(rest) = node.strip_prefix('[') {
        return rest.split_once(']')?.0.parse().ok();
    }
    node.parse::<SocketAddr>().ok().map(|a| a.ip())
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

/// The `Set-Cookie` value that stores the id of `session`, kept by the
/// browser until the session expires.
pub fn session_cookie_value(id: &str, session: &session::Session, https: bool) -> HeaderValue {
    let left = (session.expires_at - time::OffsetDateTime::now_utc()).whole_seconds();
    cookie(SESSION_COOKIE, id, Some(left.max(0).unsigned_abs()), https)
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn clear_session_cookie(https: bool) -> HeaderValue {
    cookie(SESSION_COOKIE, "", Some(0), https)
}

/// A cookie named `name` (with the `__Host-` prefix over HTTPS).
pub(crate) fn cookie(name: &str, value: &str, max_age: Option<u64>, https: bool) -> HeaderValue {
    let name = cookie_name(name, https);
    let mut cookie = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if let Some(seconds) = max_age {
        cookie.push_str(&format!("; Max-Age={seconds}"));
    }
    if https {
        cookie.push_str("; Secure");
    }
    HeaderValue::from_str(&cookie).expect("cookie values are hex or base64url")
}

fn sets_cookie(response: &Response, name: &str) -> bool {
    response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.split_once('=').is_some_and(|(n, _)| n == name))
}

pub(crate) fn read_cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
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
            value.starts_with("__Host-lockstep_session=abc; Path=/;")
                && value.contains("HttpOnly")
                && value.contains("SameSite=Lax")
                && value.ends_with("; Secure")
                && !value.contains("Domain"),
            "{value}"
        );
        let plain = cookie(SESSION_COOKIE, "abc", Some(10), false);
        assert!(plain.to_str().unwrap().starts_with("lockstep_session=abc;"));
    }

    #[test]
    fn forwarded_addresses_are_believed_only_from_trusted_proxies() {
        let proxies: Vec<ProxyNetwork> = vec!["10.0.0.0/8".parse().unwrap()];
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            HeaderValue::from_static("6.6.6.6, 203.0.113.9, 10.0.0.2"),
        );
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let stranger: IpAddr = "198.51.100.4".parse().unwrap();
        // The left-most entry is the client's own claim: the right-most
        // untrusted one is believed.
        assert_eq!(
            client_address(proxy, &headers, &proxies),
            "203.0.113.9".parse::<IpAddr>().unwrap()
        );
        assert_eq!(client_address(stranger, &headers, &proxies), stranger);
        assert_eq!(client_address(proxy, &headers, &[]), proxy);
        let mut forwarded = HeaderMap::new();
        forwarded.insert(
            header::FORWARDED,
            HeaderValue::from_static("for=192.0.2.60;proto=https, for=\"[2001:db8::7]:4711\""),
        );
        assert_eq!(
            client_address(proxy, &forwarded, &proxies),
            "2001:db8::7".parse::<IpAddr>().unwrap()
        );
        let mut unknown = HeaderMap::new();
        unknown.insert("x-forwarded-for", HeaderValue::from_static("unknown"));
        assert_eq!(client_address(proxy, &unknown, &proxies), proxy);
    }
}
