//! Static files: the demo shop page (`WWW_DIR` at `/`) and the widget package (`PKG_DIR` at `/pkg/`).
//!
//! `/pkg/` answers `Access-Control-Allow-Origin: *` (and `Cross-Origin-Resource-Policy:
//! cross-origin`) so a shop on another origin can load the widget with one script tag, whose
//! module then fetches its `.wasm`; `.wasm` is served as `application/wasm` (needed by
//! `WebAssembly.instantiateStreaming`) and `.js`/`.mjs` as `text/javascript`, whatever the MIME
//! table says. Nothing else gets a CORS header.

use std::path::Path;

use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::Router;
use tower_http::services::ServeDir;

/// The router serving `dir` for `/pkg/` (to be nested at `/pkg`).
pub fn pkg(dir: &Path) -> Router {
    Router::new()
        .fallback_service(ServeDir::new(dir))
        .layer(middleware::from_fn(pkg_headers))
}

/// The router serving `dir` for `/` (`index.html` for directories).
pub fn www(dir: &Path) -> Router {
    Router::new()
        .fallback_service(ServeDir::new(dir))
        .layer(middleware::from_fn(www_headers))
}

async fn pkg_headers(req: Request, next: Next) -> Response {
    let mime = match req.uri().path().rsplit_once('.').map(|(_, ext)| ext) {
        Some("wasm") => Some("application/wasm"),
        Some("js" | "mjs") => Some("text/javascript; charset=utf-8"),
        Some("ts") => Some("text/plain; charset=utf-8"),
        _ => None,
    };
    let mut res = next.run(req).await;
    let success = res.status().is_success();
    let h = res.headers_mut();
    if success {
        if let Some(m) = mime {
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static(m));
        }
    }
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    h.insert(
        "cross-origin-resource-policy",
        HeaderValue::from_static("cross-origin"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    res
}

async fn www_headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    res
}
