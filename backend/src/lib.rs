//! Reference merchant backend for the Lightning checkout widget.
//!
//! [`app`] builds the whole HTTP surface as an axum [`Router`] that tests drive with
//! `tower::ServiceExt::oneshot`; `main.rs` only reads the environment, binds and serves it.
//!
//! * `/api/…`: the widget's JSON contract ([`api`]), over an SQLite [`store`] whose invoices move
//!   only `pending → paid` or `pending → expired`, created through a [`provider::Provider`]
//!   (by default the embedded [`providers::demo`] provider, which signs real BOLT 11 invoices).
//! * The shop's server at both ends ([`shop`]): signed orders in ([`order_token`]), signed
//!   payment notifications out through a durable outbox ([`outbox`], started with
//!   [`outbox::spawn`]), and a reconciliation API ([`admin`]).
//! * `/pkg/…`: the built widget package, loadable from any origin; `/`: the demo shop page
//!   ([`assets`]).
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use lightning_checkout_backend::{app, AppState, Config};
//! let state = AppState::new(Config::from_env()?)?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! axum::serve(listener, app(state)).await?;
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

pub mod admin;
pub mod api;
pub mod assets;
pub mod checkout;
pub mod clock;
pub mod config;
pub mod error;
pub mod events;
pub mod fiat;
mod fsutil;
pub mod limits;
pub mod logging;
pub mod lookups;
pub mod onchain;
pub mod order_token;
pub mod outbox;
pub mod payurl;
pub mod provider;
pub mod providers;
pub mod rates;
pub mod server;
pub mod shop;
pub mod state;
pub mod store;
pub mod subscriptions;

use axum::Router;

pub use clock::{Clock, ManualClock, SystemClock};
pub use config::Config;
pub use error::AppError;
pub use state::{AppState, StartupError};

/// The whole app: `/api` (JSON, `no-store`, CORS as configured), `/pkg` (widget package, any
/// origin), `/` (demo page), one log line per request; a time limit per request and a cap on
/// requests in progress ([`limits`]). Serve it with [`server::serve`] for the connection limits
/// and the client addresses the create rate limit needs.
pub fn app(state: AppState) -> Router {
    let config = state.config();
    Router::new()
        .nest("/api", api::router(state.clone()))
        .nest("/pkg", assets::pkg(&config.pkg_dir))
        .fallback_service(assets::www(&config.www_dir))
        .layer(axum::middleware::from_fn_with_state(
            config.limits.request_timeout,
            limits::time_limit,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.concurrency(),
            limits::cap_concurrency,
        ))
        .layer(axum::middleware::from_fn(logging::log_request))
}
