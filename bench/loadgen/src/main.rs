//! Load generator of `./build.sh bench`: invoice creations (`POST /api/invoices`) and status polls
//! (`GET /api/invoices/{id}`) against the reference backend, on loopback only.
//!
//! ```text
//! lightning-checkout-loadgen --url http://127.0.0.1:PORT [--clients 1,16,64] [--warmup-secs 1] [--secs 5]
//! ```
//!
//! `--url` may be given more than once (several instances of the backend on one database): client
//! `c` then talks to the `c mod n`-th. Each client holds one HTTP/1.1 keep-alive connection and sends its requests one after the
//! other (a closed loop). Every scenario runs for a warm-up (not counted) then a fixed time, and
//! the program stops by itself. Prints one JSON document: per scenario and client count, the
//! requests counted, errors, requests per second, and p50 / p99 / max latency in milliseconds.
//!
//! ```text
//! lightning-checkout-loadgen --hostile --url http://127.0.0.1:PORT [--slowloris 200] [--secs 4]
//! ```
//!
//! The hostile run (see [`hostile`]): a create flood from one IP, slowloris connections beside a
//! well-behaved client, and a polling storm on one invoice. Prints one JSON document with what
//! the backend refused, what it still served, and how long the well-behaved requests took.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

type Error = Box<dyn std::error::Error + Send + Sync>;

mod hostile;

struct Options {
    /// The first `--url` (the hostile run's target).
    addr: SocketAddr,
    /// Every `--url`.
    addrs: Vec<SocketAddr>,
    clients: Vec<usize>,
    warmup: Duration,
    measure: Duration,
    hostile: bool,
    slowloris: usize,
}

fn usage() -> String {
    "usage: lightning-checkout-loadgen --url http://127.0.0.1:PORT [--clients 1,16,64] \
     [--warmup-secs 1] [--secs 5] [--hostile [--slowloris N]]"
        .to_owned()
}

fn parse_args() -> Result<Options, String> {
    let mut urls = Vec::new();
    let mut clients = vec![1, 16, 64];
    let mut warmup = 1.0;
    let mut secs = 5.0;
    let mut hostile = false;
    let mut slowloris = 200;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        if flag == "--hostile" {
            hostile = true;
            continue;
        }
        let value = args.next().ok_or_else(usage)?;
        match flag.as_str() {
            "--url" => urls.push(value),
            "--clients" => {
                clients = value
                    .split(',')
                    .map(|c| c.trim().parse().ok().filter(|&n| (1..=1024).contains(&n)))
                    .collect::<Option<Vec<usize>>>()
                    .ok_or("--clients: a comma-separated list of 1 to 1024")?;
            }
            "--warmup-secs" => warmup = value.parse().map_err(|_| "--warmup-secs: a number")?,
            "--secs" => secs = value.parse().map_err(|_| "--secs: a number")?,
            "--slowloris" => {
                slowloris = value
                    .parse()
                    .ok()
                    .filter(|n| (1..=1000).contains(n))
                    .ok_or("--slowloris: 1 to 1000 connections")?;
            }
            _ => return Err(usage()),
        }
    }
    if urls.is_empty() {
        return Err(usage());
    }
    let mut addrs = Vec::new();
    for url in &urls {
        let host = url
            .strip_prefix("http://")
            .ok_or("--url: http://127.0.0.1:PORT")?
            .trim_end_matches('/');
        let addr: SocketAddr = host
            .parse()
            .map_err(|_| "--url: a numeric address and port, e.g. http://127.0.0.1:8080")?;
        if !addr.ip().is_loopback() {
            return Err("--url: loopback addresses only".into());
        }
        addrs.push(addr);
    }
    let bounded = |s: f64| (0.0..=60.0).contains(&s);
    if !bounded(warmup) || !bounded(secs) || secs == 0.0 {
        return Err("--warmup-secs and --secs: 0 to 60 seconds".into());
    }
    Ok(Options {
        addr: addrs[0],
        addrs,
        clients,
        warmup: Duration::from_secs_f64(warmup),
        measure: Duration::from_secs_f64(secs),
        hostile,
        slowloris,
    })
}

/// One keep-alive connection.
struct Conn {
    addr: SocketAddr,
    sender: SendRequest<Full<Bytes>>,
}

impl Conn {
    async fn open(addr: SocketAddr) -> Result<Self, Error> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let (sender, conn) = http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(Self { addr, sender })
    }

    /// Sends one request and reads the whole answer: its status and body.
    async fn send(
        &mut self,
        method: Method,
        path: &str,
        body: Option<String>,
    ) -> Result<(StatusCode, Bytes), Error> {
        if self.sender.ready().await.is_err() {
            *self = Self::open(self.addr).await?;
        }
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header(hyper::header::HOST, self.addr.to_string());
        if body.is_some() {
            req = req.header(hyper::header::CONTENT_TYPE, "application/json");
        }
        let req = req.body(Full::new(Bytes::from(body.unwrap_or_default())))?;
        let res = self.sender.send_request(req).await?;
        let status = res.status();
        let body = res.into_body().collect().await?.to_bytes();
        Ok((status, body))
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Scenario {
    Create,
    Poll,
}

impl Scenario {
    fn name(self) -> &'static str {
        match self {
            Scenario::Create => "create",
            Scenario::Poll => "poll",
        }
    }
}

struct ClientResult {
    latencies_us: Vec<u32>,
    errors: u64,
}

/// A create as a payer's widget sends it: unsigned, with a widget-made id (`wc_` + 24 hex digits,
/// one per `label`) that makes a retry idempotent. A shop's own order id would need a signed
/// order token under a real provider (the hostile run's LND fake).
fn create_body(label: &str, amount_sat: u64) -> String {
    use std::hash::{Hash, Hasher};
    let half = |seed: u8| {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        (seed, label).hash(&mut h);
        h.finish()
    };
    let key = format!("wc_{:016x}{:08x}", half(1), half(2) as u32);
    format!(r#"{{"amount_sat":{amount_sat},"description":"loadgen","order_id":"{key}"}}"#)
}

/// Creates one invoice and answers its id.
async fn create_invoice(conn: &mut Conn, order_id: &str) -> Result<String, Error> {
    let (status, body) = conn
        .send(
            Method::POST,
            "/api/invoices",
            Some(create_body(order_id, 1000)),
        )
        .await?;
    if status != StatusCode::CREATED {
        return Err(format!(
            "create answered {status}: {}",
            String::from_utf8_lossy(&body)
        )
        .into());
    }
    let json: serde_json::Value = serde_json::from_slice(&body)?;
    json["id"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| "create answered no id".into())
}

async fn client(
    addr: SocketAddr,
    scenario: Scenario,
    tag: String,
    start: Instant,
    count_from: Instant,
    end: Instant,
) -> Result<ClientResult, Error> {
    let mut conn = Conn::open(addr).await?;
    let poll_path = match scenario {
        Scenario::Poll => format!(
            "/api/invoices/{}",
            create_invoice(&mut conn, &format!("{tag}-p")).await?
        ),
        Scenario::Create => String::new(),
    };
    tokio::time::sleep_until(start.into()).await;
    let mut out = ClientResult {
        latencies_us: Vec::with_capacity(1 << 14),
        errors: 0,
    };
    let mut i: u64 = 0;
    loop {
        let t = Instant::now();
        if t >= end {
            break;
        }
        i += 1;
        let result = match scenario {
            Scenario::Create => {
                let body = create_body(&format!("{tag}-{i}"), 1 + i % 100_000);
                conn.send(Method::POST, "/api/invoices", Some(body))
                    .await
                    .map(|(s, _)| s == StatusCode::CREATED)
            }
            Scenario::Poll => conn
                .send(Method::GET, &poll_path, None)
                .await
                .map(|(s, _)| s == StatusCode::OK),
        };
        let done = Instant::now();
        let counted = t >= count_from && done <= end; // not warm-up, not past the window
        match result {
            Ok(true) if counted => out
                .latencies_us
                .push(u32::try_from(done.duration_since(t).as_micros()).unwrap_or(u32::MAX)),
            Ok(true) => {}
            Ok(false) => out.errors += u64::from(counted),
            Err(_) => {
                out.errors += u64::from(counted);
                conn = Conn::open(addr).await?;
            }
        }
    }
    Ok(out)
}

fn percentile_ms(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    f64::from(sorted[rank.clamp(1, sorted.len()) - 1]) / 1000.0
}

async fn run(
    opts: &Options,
    scenario: Scenario,
    clients: usize,
    run_id: u128,
) -> Result<serde_json::Value, Error> {
    // Every client connects (and, for polls, makes its invoice) before the clock starts.
    let start = Instant::now() + Duration::from_millis(300 + 5 * clients as u64);
    let count_from = start + opts.warmup;
    let end = count_from + opts.measure;
    let tasks: Vec<_> = (0..clients)
        .map(|c| {
            let tag = format!("lg{run_id}-{}-{clients}-{c}", scenario.name());
            let addr = opts.addrs[c % opts.addrs.len()];
            tokio::spawn(client(addr, scenario, tag, start, count_from, end))
        })
        .collect();
    let mut latencies = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let r = t.await??;
        latencies.extend(r.latencies_us);
        errors += r.errors;
    }
    latencies.sort_unstable();
    let secs = opts.measure.as_secs_f64();
    Ok(serde_json::json!({
        "scenario": scenario.name(),
        "clients": clients,
        "secs": secs,
        "requests": latencies.len(),
        "errors": errors,
        "rps": latencies.len() as f64 / secs,
        "p50_ms": percentile_ms(&latencies, 50.0),
        "p99_ms": percentile_ms(&latencies, 99.0),
        "max_ms": percentile_ms(&latencies, 100.0),
    }))
}

fn main() -> ExitCode {
    let opts = match parse_args() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    // One worker thread: the backend under test runs on the same machine and needs the rest.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let run_id = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    if opts.hostile {
        return match rt.block_on(async {
            tokio::time::timeout(
                Duration::from_secs(120),
                hostile::run(opts.addr, opts.measure, opts.slowloris, run_id),
            )
            .await
        }) {
            Ok(Ok(v)) => {
                println!("{v}");
                ExitCode::SUCCESS
            }
            Ok(Err(e)) => {
                eprintln!("loadgen: {e}");
                ExitCode::FAILURE
            }
            Err(_) => {
                eprintln!("loadgen: the hostile run did not finish in 120 s");
                ExitCode::FAILURE
            }
        };
    }
    let result = rt.block_on(async {
        let mut runs = Vec::new();
        for scenario in [Scenario::Create, Scenario::Poll] {
            for &clients in &opts.clients {
                let r = tokio::time::timeout(
                    opts.warmup + opts.measure + Duration::from_secs(30),
                    run(&opts, scenario, clients, run_id),
                )
                .await
                .map_err(|_| {
                    format!("{} with {clients} clients did not finish", scenario.name())
                })??;
                eprintln!("loadgen: {r}");
                runs.push(r);
            }
        }
        Ok::<_, Error>(runs)
    });
    match result {
        Ok(runs) => {
            println!("{}", serde_json::json!({ "runs": runs }));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("loadgen: {e}");
            ExitCode::FAILURE
        }
    }
}
