//! Serving the app over TCP with the connection limits of [`crate::limits::Limits`]: HTTP/1.1
//! with a header-read timeout (a client that sends its headers slowly is disconnected), a cap on
//! open connections (beyond it, new ones wait in the kernel's backlog), the peer address for the
//! rate limit, graceful shutdown; and the periodic retention task.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;

use crate::limits::Limits;
use crate::state::AppState;
use crate::store::StoreError;

/// Longest wait for open requests to finish after a shutdown signal.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// Serve `app` on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: &Limits,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let connections = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let header_timeout = limits.header_read_timeout;
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            p = connections.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let app = app.clone();
        let svc = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
            let app = app.clone();
            async move { Ok::<_, Infallible>(app.oneshot(req).await.into_response_infallible()) }
        });
        let conn = http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(header_timeout)
            .serve_connection(TokioIo::new(stream), svc);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "connection closed with an error");
            }
            drop(permit);
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {},
        () = tokio::time::sleep(SHUTDOWN_GRACE) => tracing::warn!("connections still open at shutdown"),
    }
    Ok(())
}

trait IntoResponseInfallible {
    fn into_response_infallible(self) -> axum::response::Response;
}

impl IntoResponseInfallible for Result<axum::response::Response, Infallible> {
    fn into_response_infallible(self) -> axum::response::Response {
        match self {
            Ok(r) => r,
            Err(never) => match never {},
        }
    }
}

/// One retention pass at the app's clock: deletes expired, never-paid invoices (without an
/// underpayment) and webhook event ids older than `RETENTION_DAYS`. (invoices, events) deleted.
pub async fn retention_pass(state: &AppState) -> Result<(usize, usize), StoreError> {
    let Some(age) = state.config().limits.retention else {
        return Ok((0, 0));
    };
    let before = state.now().saturating_sub(age.as_secs());
    state
        .with_store(move |s| {
            let invoices = s.delete_expired_unpaid(before)?;
            s.delete_onchain_watches(before)?;
            Ok((invoices, s.delete_webhook_events(before)?))
        })
        .await
}

/// Run [`retention_pass`] every `RETENTION_INTERVAL_SECS` (first after one interval).
pub fn spawn_retention(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let every = state.config().limits.retention_interval;
        loop {
            tokio::time::sleep(every).await;
            match retention_pass(&state).await {
                Ok((0, 0)) => {}
                Ok((invoices, events)) => {
                    tracing::info!(invoices, events, "retention: old rows deleted")
                }
                Err(e) => tracing::error!(error = %e, "retention failed"),
            }
        }
    })
}
