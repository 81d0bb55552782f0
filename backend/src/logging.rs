//! One log line per request: method, path, status, latency. Never a query string, header or body,
//! so no secret or preimage reaches the log.

use std::time::Instant;

use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

/// Longest path written to the log.
const MAX_LOGGED_PATH: usize = 200;

/// Middleware: log the request once it is answered, and add `X-Content-Type-Options: nosniff`.
pub async fn log_request(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().clone();
    let path: String = req.uri().path().chars().take(MAX_LOGGED_PATH).collect();
    let mut res = next.run(req).await;
    res.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    tracing::info!(
        %method,
        %path,
        status = res.status().as_u16(),
        latency_ms = format_args!("{:.1}", start.elapsed().as_secs_f64() * 1000.0),
        "request"
    );
    res
}
