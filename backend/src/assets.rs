//! Static files: the demo shop page (`WWW_DIR` at `/`) and the widget package (`PKG_DIR` at `/pkg/`).
//!
//! `/pkg/` answers `Access-Control-Allow-Origin: *` (and `Cross-Origin-Resource-Policy:
//! cross-origin`) so a shop on another origin can load the widget with one script tag, whose
//! module then fetches its `.wasm`; `.wasm` is served as `application/wasm` (needed by
//! `WebAssembly.instantiateStreaming`) and `.js`/`.mjs` as `text/javascript`, whatever the MIME
//! table says. Nothing else gets a CORS header.
//!
//! Files that compress (JS, wasm, JSON, HTML, CSS, SVG, text) go out gzip-compressed to a client
//! that accepts gzip: each is compressed once, at its first request (best level), and the result
//! kept in memory (with the file as it is) while the file stays the same (length and
//! modification time, to the second): neither compressed nor read again per request. Every such answer carries `Vary: Accept-Encoding` and a strong `ETag` (a hash of the
//! bytes sent, so one per encoding), and `If-None-Match` with it is answered `304`: with
//! `Cache-Control: no-cache` a returning visitor revalidates each file in one small round trip.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use sha2::{Digest, Sha256};
use tower_http::services::ServeDir;

/// The router serving `dir` for `/pkg/` (to be nested at `/pkg`).
pub fn pkg(dir: &Path) -> Router {
    Router::new()
        .fallback_service(ServeDir::new(dir))
        .layer(middleware::from_fn_with_state(
            Arc::new(Compressed::default()),
            compress,
        ))
        .layer(middleware::from_fn(pkg_headers))
}

/// The router serving `dir` for `/` (`index.html` for directories).
pub fn www(dir: &Path) -> Router {
    Router::new()
        .fallback_service(ServeDir::new(dir))
        .layer(middleware::from_fn_with_state(
            Arc::new(Compressed::default()),
            compress,
        ))
        .layer(middleware::from_fn(www_headers))
}

/// Larger files go out as they are (streamed by `ServeDir`, never held in memory).
const MAX_COMPRESSED_FILE: usize = 4 << 20;
/// Bytes kept per directory (both forms); past it the memory is emptied and refilled on demand.
const MAX_KEPT_BYTES: usize = 64 << 20;

/// One file as last seen: its validators, its bytes and `ETag` as is, and its gzip form with
/// that form's.
struct Entry {
    last_modified: Option<HeaderValue>,
    len: usize,
    raw: Bytes,
    etag: HeaderValue,
    gzip: Bytes,
    gzip_etag: HeaderValue,
}

/// The files of one directory as sent, by request path, and the bytes they hold.
#[derive(Default)]
pub struct Compressed {
    files: Mutex<(HashMap<String, Arc<Entry>>, usize)>,
}

/// A strong entity tag: the first 128 bits of the SHA-256 of `bytes`, in hex.
fn etag_of(bytes: &[u8]) -> HeaderValue {
    let digest = Sha256::digest(bytes);
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    HeaderValue::from_str(&format!("\"{hex}\"")).unwrap_or(HeaderValue::from_static("\"0\""))
}

fn gzip(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(bytes).ok()?;
    e.finish().ok()
}

/// Whether a file of this content type is worth compressing (not images, fonts or archives,
/// which are compressed already).
fn compressible(headers: &HeaderMap) -> bool {
    let Some(ct) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let ct = ct.split(';').next().unwrap_or_default().trim();
    ct.starts_with("text/")
        || matches!(
            ct,
            "application/wasm"
                | "application/javascript"
                | "application/json"
                | "image/svg+xml"
                | "application/manifest+json"
        )
}

/// Whether the request's `Accept-Encoding` takes gzip (listed, and not with `q=0`).
fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|item| {
            let mut parts = item.split(';');
            let coding = parts.next().unwrap_or_default().trim();
            let refused = parts.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q == 0.0)
            });
            (coding.eq_ignore_ascii_case("gzip") || coding == "*") && !refused
        })
}

/// Whether `If-None-Match` names `etag` (or `*`); weak comparison, as RFC 9110 asks for it.
fn none_match(headers: &HeaderMap, etag: &HeaderValue) -> bool {
    let want = etag.to_str().unwrap_or_default();
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == want || t == "*")
}

/// The file `ServeDir` found, gzip-compressed once (see the module's documentation), with
/// `Vary`, `ETag` and `304` for `If-None-Match`. Anything else (not found, ranges, `HEAD`, large
/// or already-compressed files) passes as `ServeDir` answered it.
async fn compress(State(cache): State<Arc<Compressed>>, req: Request, next: Next) -> Response {
    let get = req.method() == Method::GET;
    let path = req.uri().path().to_owned();
    let wants_gzip = accepts_gzip(req.headers());
    let conditional = req.headers().clone();
    let res = next.run(req).await;
    if !compressible(res.headers()) {
        return res;
    }
    if res.status() != StatusCode::OK || !get {
        let mut res = res;
        res.headers_mut()
            .insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        return res;
    }
    let Some(len) = res
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok())
        .filter(|n| *n <= MAX_COMPRESSED_FILE)
    else {
        return res;
    };
    let (mut parts, body) = res.into_parts();
    let last_modified = parts.headers.get(header::LAST_MODIFIED).cloned();
    // Known and unchanged (same length, same modification time to the second): sent from
    // memory, the file is not read again.
    let known = cache.files.lock().ok().and_then(|f| {
        f.0.get(&path)
            .filter(|e| e.len == len && e.last_modified == last_modified)
            .cloned()
    });
    let entry = match known {
        Some(e) => e,
        None => {
            let Ok(bytes) = axum::body::to_bytes(body, MAX_COMPRESSED_FILE).await else {
                // The file could not be read to its end: nothing sensible to send.
                return StatusCode::INTERNAL_SERVER_ERROR.into_response();
            };
            let b = bytes.clone();
            let Ok(Some(gz)) = tokio::task::spawn_blocking(move || gzip(&b)).await else {
                return Response::from_parts(parts, Body::from(bytes));
            };
            let e = Arc::new(Entry {
                last_modified: last_modified.clone(),
                len: bytes.len(),
                etag: etag_of(&bytes),
                gzip_etag: etag_of(&gz),
                gzip: Bytes::from(gz),
                raw: bytes,
            });
            if let Ok(mut f) = cache.files.lock() {
                let size = e.raw.len() + e.gzip.len();
                if f.1 + size > MAX_KEPT_BYTES {
                    *f = (HashMap::new(), 0);
                }
                if let Some(old) = f.0.insert(path, e.clone()) {
                    f.1 -= old.raw.len() + old.gzip.len();
                }
                f.1 += size;
            }
            e
        }
    };
    // Sent compressed only when that is smaller (a tiny file may grow).
    let gzipped = wants_gzip && entry.gzip.len() < entry.raw.len();
    let (body, etag) = if gzipped {
        (entry.gzip.clone(), entry.gzip_etag.clone())
    } else {
        (entry.raw.clone(), entry.etag.clone())
    };
    let h = &mut parts.headers;
    h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    h.insert(header::ETAG, etag.clone());
    h.remove(header::ACCEPT_RANGES); // ranges of the compressed form are not offered
    if gzipped {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    if none_match(&conditional, &etag) {
        parts.status = StatusCode::NOT_MODIFIED;
        h.remove(header::CONTENT_LENGTH);
        h.remove(header::CONTENT_ENCODING);
        return Response::from_parts(parts, Body::empty());
    }
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
    Response::from_parts(parts, Body::from(body))
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
