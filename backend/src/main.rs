//! `lightning-checkout-backend`: configuration from the environment (see the `config` module),
//! then serve until SIGINT or SIGTERM.

use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;

use lightning_checkout_backend::{app, AppState, Config};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let config = Config::from_env()?;
    tracing::info!(?config, "starting");
    for (name, dir) in [("WWW_DIR", &config.www_dir), ("PKG_DIR", &config.pkg_dir)] {
        if !dir.is_dir() {
            tracing::warn!(%name, dir = %dir.display(), "directory not found; its files will be 404");
        }
    }
    let bind = format!("{}:{}", config.host, config.port);
    let limits = config.limits.clone();
    let state = AppState::new(config)?;
    let listener = tokio::net::TcpListener::bind(&bind).await?;
    let addr: SocketAddr = listener.local_addr()?;
    println!("Lightning checkout demo: http://{addr}/");
    std::io::stdout().flush()?;
    let retention = lightning_checkout_backend::server::spawn_retention(state.clone());
    lightning_checkout_backend::server::serve(listener, app(state), &limits, shutdown_signal())
        .await?;
    retention.abort();
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for SIGINT");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
