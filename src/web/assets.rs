//! Static files with fingerprinted URLs, served from memory.
//!
//! The files are the ones built into the binary, or those of `--static-dir`
//! read once at start-up. Each is hashed; pages link to
//! `/static/<name>?v=<hash>`, which may be cached for a year because a new
//! version gets a new URL. Requests without the fingerprint revalidate with
//! the file's `ETag`.

use std::collections::HashMap;
use std::fs;
use std::path::Path;

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use crate::web::state::AppState;

/// One static file in memory.
#[derive(Debug)]
struct StaticFile {
    /// Cheap to clone: shared, never copied per request.
    content: Bytes,
    /// Short hash of the content: the URL's fingerprint.
    fingerprint: String,
    /// `"<full hash>"`, for revalidation.
    etag: HeaderValue,
    content_type: &'static str,
}

/// The static files, by path relative to `static/`.
#[derive(Debug, Default)]
pub struct Assets {
    files: HashMap<String, StaticFile>,
}

impl Assets {
    /// The static files built into the binary.
    pub fn built_in() -> Self {
        let files = crate::bundle::STATIC
            .files
            .iter()
            .map(|(name, content)| {
                (
                    name.to_string(),
                    StaticFile::new(name, Bytes::from_static(content)),
                )
            })
            .collect();
        Self { files }
    }

    /// Reads every file under `dir`.
    pub fn load(dir: &Path) -> std::io::Result<Self> {
        let mut files = HashMap::new();
        let mut pending = vec![dir.to_path_buf()];
        while let Some(current) = pending.pop() {
            for entry in fs::read_dir(&current)?.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    pending.push(path);
                } else if let Ok(relative) = path.strip_prefix(dir) {
                    let name = relative.to_string_lossy().into_owned();
                    let file = StaticFile::new(&name, Bytes::from(fs::read(&path)?));
                    files.insert(name, file);
                }
            }
        }
        Ok(Self { files })
    }

    /// The URL of `name` (e.g. `style.css`), fingerprinted when known.
    pub fn url(&self, name: &str) -> String {
        match self.files.get(name) {
            Some(file) => format!("/static/{name}?v={}", file.fingerprint),
            None => format!("/static/{name}"),
        }
    }
}

impl StaticFile {
    fn new(name: &str, content: Bytes) -> Self {
        let digest = hex::encode(Sha256::digest(&content));
        Self {
            fingerprint: digest[..12].to_string(),
            etag: HeaderValue::from_str(&format!("\"{digest}\"")).expect("hex is a valid header"),
            content_type: content_type(name),
            content,
        }
    }
}

/// `GET /static/{*path}`: the file, or 304 when the client's copy (by
/// `If-None-Match`) is current.
pub async fn serve(
    State(state): State<AppState>,
    axum::extract::Path(path): axum::extract::Path<String>,
    headers: HeaderMap,
) -> Response {
    let Some(file) = state.assets.files.get(&path) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let current = headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|tag| {
            let tag = tag.trim();
            tag == "*" || tag.trim_start_matches("W/") == file.etag
        });
    let status = if current {
        StatusCode::NOT_MODIFIED
    } else {
        StatusCode::OK
    };
    let mut response = if current {
        status.into_response()
    } else {
        (status, file.content.clone()).into_response()
    };
    let headers = response.headers_mut();
    headers.insert(header::ETAG, file.etag.clone());
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(file.content_type),
    );
    response
}

/// The media type of a static file, by its extension.
fn content_type(name: &str) -> &'static str {
    match name.rsplit_once('.').map(|(_, extension)| extension) {
        Some("css") => "text/css; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("json" | "map") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("woff2") => "font/woff2",
        Some("wasm") => "application/wasm",
        Some("html") => "text/html; charset=utf-8",
        Some("txt" | "md") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// Long-lived caching for fingerprinted URLs, revalidation for the rest.
pub async fn cache_headers(request: Request, next: Next) -> Response {
    let fingerprinted = request.uri().query().is_some_and(|q| q.starts_with("v="));
    let mut response = next.run(request).await;
    let value = if fingerprinted && response.status().is_success() {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
    response
}
