//! `testkit-fake --provider <name> [--webhook-url URL] [--port N]`: run one provider's fake on
//! 127.0.0.1, print `READY http://127.0.0.1:PORT` on stdout, serve until killed. The backend's
//! environment for it is at `GET /_test/env`; control endpoints are listed in the crate docs.

use std::io::Write;
use std::process::ExitCode;

use testkit::{Fake, Kind};

const USAGE: &str = "usage: testkit-fake --provider amboss|alphapo|kraken|lnd|cln|lnbits|btcpay [--webhook-url URL] [--port N]";

#[tokio::main]
async fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let (mut provider, mut webhook, mut port) = (None, None, 0u16);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--provider" => provider = args.next(),
            "--webhook-url" => webhook = args.next(),
            "--port" => match args.next().and_then(|p| p.parse().ok()) {
                Some(p) => port = p,
                None => {
                    eprintln!("{USAGE}");
                    return ExitCode::from(2);
                }
            },
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            _ => {
                eprintln!("unknown argument {a:?}\n{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    let Some(kind) = provider.as_deref().and_then(Kind::parse) else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let fake = Fake::start_on(kind, &format!("127.0.0.1:{port}")).await;
    if let Some(w) = webhook {
        fake.set_webhook_url(&w);
    }
    println!("READY {}", fake.url());
    let _ = std::io::stdout().flush();
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM");
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
    drop(fake);
    ExitCode::SUCCESS
}
