//! `lightning-checkout-backend`: configuration from the environment (see the `config` module),
//! then serve until SIGINT or SIGTERM.

use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;

use lightning_checkout_backend::{app, AppState, Config};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("sign-order") {
        return match sign_order(&args[1..]) {
            Ok(token) => {
                println!("{token}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e}\n\nusage: lightning-checkout-backend sign-order --order-id ID (--amount-sat N | --min-sat N --max-sat N | --currency EUR --fiat-amount 4.50) [--description TEXT] [--ttl SECS]\n(the key is read from CHECKOUT_SECRET)");
                ExitCode::from(2)
            }
        };
    }
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
    let _outbox = lightning_checkout_backend::outbox::spawn(&state);
    let _subscription = lightning_checkout_backend::subscriptions::spawn(&state);
    let _onchain = lightning_checkout_backend::onchain::spawn(&state);
    let listener = tokio::net::TcpListener::bind(&bind).await?;
    let addr: SocketAddr = listener.local_addr()?;
    println!("Lightning checkout demo: http://{addr}/");
    std::io::stdout().flush()?;
    let retention = lightning_checkout_backend::server::spawn_retention(state.clone());
    let events = state.clone();
    let shutdown = async move {
        shutdown_signal().await;
        // Live status streams last minutes: end them so the graceful shutdown need not wait.
        events.events().close_all();
    };
    lightning_checkout_backend::server::serve(listener, app(state), &limits, shutdown).await?;
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

/// `sign-order`: print an order token signed with `CHECKOUT_SECRET`.
fn sign_order(args: &[String]) -> Result<String, String> {
    use lightning_checkout_backend::order_token::{self, OrderClaims, TokenAmount};
    let mut flags = std::collections::HashMap::new();
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let name = flag
            .strip_prefix("--")
            .filter(|n| {
                matches!(
                    *n,
                    "order-id"
                        | "amount-sat"
                        | "min-sat"
                        | "max-sat"
                        | "currency"
                        | "fiat-amount"
                        | "description"
                        | "ttl"
                )
            })
            .ok_or_else(|| format!("unknown argument {flag:?}"))?;
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        flags.insert(name, value.clone());
    }
    let secret = std::env::var("CHECKOUT_SECRET").unwrap_or_default();
    order_token::check_secret(secret.trim()).map_err(|e| format!("CHECKOUT_SECRET: {e}"))?;
    let num = |name: &str| -> Result<Option<u64>, String> {
        flags
            .get(name)
            .map(|v| {
                v.parse::<u64>()
                    .map_err(|_| format!("--{name} must be a whole number"))
            })
            .transpose()
    };
    let order_id = flags.get("order-id").cloned().unwrap_or_default();
    if !order_token::is_order_id(&order_id) || order_id.starts_with(order_token::WIDGET_KEY_PREFIX)
    {
        return Err("--order-id: 1 to 128 of A-Z a-z 0-9 . _ : -, not starting with wc_".into());
    }
    let fiat = match (flags.get("currency"), flags.get("fiat-amount")) {
        (None, None) => None,
        (Some(c), Some(a)) => Some(
            lightning_checkout_backend::fiat::FiatAmount::parse(c, a).map_err(|_| {
                format!(
                    "--currency and --fiat-amount: one of {} and a decimal such as 4.50 with at most its minor digits",
                    lightning_checkout_backend::fiat::Currency::supported()
                )
            })?,
        ),
        _ => return Err("give both --currency and --fiat-amount".into()),
    };
    let amount = match (num("amount-sat")?, num("min-sat")?, num("max-sat")?) {
        (None, None, None) if fiat.is_some() => {
            TokenAmount::Fiat(fiat.ok_or("unreachable")?.price())
        }
        _ if fiat.is_some() => {
            return Err("a fiat price (--currency, --fiat-amount) takes no sat amount".into())
        }
        (Some(a), None, None) if a > 0 => TokenAmount::Exact(a),
        (None, Some(min_sat), Some(max_sat)) if 0 < min_sat && min_sat <= max_sat => {
            TokenAmount::Range { min_sat, max_sat }
        }
        _ => return Err("give --amount-sat, or --min-sat and --max-sat (1 <= min <= max)".into()),
    };
    let description = flags.get("description").cloned().unwrap_or_default();
    if description.len() > lightning_checkout_backend::api::MAX_DESCRIPTION_BYTES {
        return Err("--description: at most 639 bytes".into());
    }
    let ttl = num("ttl")?.unwrap_or(3600);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|_| "the system clock is before 1970")?
        .as_secs();
    let claims = OrderClaims {
        order_id,
        amount,
        description,
        exp: now.saturating_add(ttl),
        iat: Some(now),
    };
    Ok(order_token::sign(
        &claims,
        &lightning_checkout_backend::config::Secret::new(secret.trim()),
    ))
}
