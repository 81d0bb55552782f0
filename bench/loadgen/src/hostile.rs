//! The hostile run: what the backend refuses and what it still serves under abuse. Loopback
//! only, bounded in time (each phase at most `secs`, the slowloris phase at most 15 s).
//!
//! 1. **Create flood**: 8 keep-alive connections from one IP create invoices as fast as they can;
//!    counted by answer (201, 429, other).
//! 2. **Slowloris**: `n` connections send a request's headers one line a second and never finish;
//!    counted: how many the server closed, and how long it took. A well-behaved client asks
//!    `/api/health` meanwhile; its answers and latency are counted.
//! 3. **Polling storm**: 64 clients poll one pending invoice in a closed loop (against a slow
//!    provider in `./build.sh bench`); answers and latency counted. The provider calls are
//!    counted by the fake provider (`bench/run.mjs`).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use hyper::{Method, StatusCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::{create_body, create_invoice, percentile_ms, Conn, Error};

/// Longest the slowloris phase runs.
const SLOW_WINDOW: Duration = Duration::from_secs(15);
const FLOOD_CONNECTIONS: usize = 8;
const STORM_CLIENTS: usize = 64;

pub async fn run(
    addr: SocketAddr,
    secs: Duration,
    slowloris: usize,
    run_id: u128,
) -> Result<serde_json::Value, Error> {
    let secs = secs.clamp(Duration::from_secs(2), Duration::from_secs(10));
    // The invoice the storm polls, made before the flood spends this IP's creates.
    let mut conn = Conn::open(addr).await?;
    let invoice = create_invoice(&mut conn, &format!("hostile{run_id}")).await?;
    let poll_path = format!("/api/invoices/{invoice}");
    let flood = flood(addr, secs, run_id).await?;
    eprintln!("loadgen hostile: flood {flood}");
    let slow = slowloris_phase(addr, slowloris).await?;
    eprintln!("loadgen hostile: slowloris {slow}");
    let storm = storm(addr, &poll_path, secs).await?;
    eprintln!("loadgen hostile: storm {storm}");
    Ok(serde_json::json!({ "flood": flood, "slowloris": slow, "storm": storm }))
}

async fn flood(addr: SocketAddr, secs: Duration, run_id: u128) -> Result<serde_json::Value, Error> {
    let end = Instant::now() + secs;
    let tasks: Vec<_> = (0..FLOOD_CONNECTIONS)
        .map(|c| {
            tokio::spawn(async move {
                let mut conn = Conn::open(addr).await?;
                let mut counts = [0u64; 3];
                let mut i = 0u64;
                while Instant::now() < end {
                    i += 1;
                    let body = create_body(&format!("flood{run_id}-{c}-{i}"), 1);
                    match conn.send(Method::POST, "/api/invoices", Some(body)).await {
                        Ok((StatusCode::CREATED, _)) => counts[0] += 1,
                        Ok((StatusCode::TOO_MANY_REQUESTS, _)) => counts[1] += 1,
                        Ok(_) => counts[2] += 1,
                        Err(_) => {
                            counts[2] += 1;
                            conn = Conn::open(addr).await?;
                        }
                    }
                }
                Ok::<_, Error>(counts)
            })
        })
        .collect();
    let mut total = [0u64; 3];
    for t in tasks {
        let c = t.await??;
        for (sum, n) in total.iter_mut().zip(c) {
            *sum += n;
        }
    }
    Ok(serde_json::json!({
        "connections": FLOOD_CONNECTIONS,
        "secs": secs.as_secs_f64(),
        "requests": total.iter().sum::<u64>(),
        "created": total[0],
        "refused_429": total[1],
        "other": total[2],
    }))
}

/// One slow connection: `Some(seconds)` when the server closed it (or answered and closed).
async fn slow_client(addr: SocketAddr) -> Result<Option<f64>, Error> {
    let mut sock = TcpStream::connect(addr).await?;
    let start = Instant::now();
    sock.write_all(b"GET /api/health HTTP/1.1\r\nHost: bench\r\n")
        .await?;
    let mut i = 0u32;
    while start.elapsed() < SLOW_WINDOW {
        tokio::time::sleep(Duration::from_secs(1)).await;
        i += 1;
        let mut buf = [0u8; 256];
        // Closed (0 bytes), reset, or answered (a 408): the server ended it.
        if tokio::time::timeout(Duration::from_millis(5), sock.read(&mut buf))
            .await
            .is_ok()
        {
            return Ok(Some(start.elapsed().as_secs_f64()));
        }
        if sock
            .write_all(format!("X-Slow-{i}: y\r\n").as_bytes())
            .await
            .is_err()
        {
            return Ok(Some(start.elapsed().as_secs_f64()));
        }
    }
    Ok(None)
}

async fn slowloris_phase(addr: SocketAddr, n: usize) -> Result<serde_json::Value, Error> {
    let slow: Vec<_> = (0..n).map(|_| tokio::spawn(slow_client(addr))).collect();
    // A well-behaved client beside them, for as long as any slow one is open.
    let good = tokio::spawn(async move {
        let mut conn = Conn::open(addr).await?;
        let (mut ok, mut failed) = (0u64, 0u64);
        let mut lat = Vec::new();
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(4) {
            let t = Instant::now();
            match conn.send(Method::GET, "/api/health", None).await {
                Ok((StatusCode::OK, _)) => {
                    ok += 1;
                    lat.push(u32::try_from(t.elapsed().as_micros()).unwrap_or(u32::MAX));
                }
                _ => {
                    failed += 1;
                    conn = Conn::open(addr).await?;
                }
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        lat.sort_unstable();
        Ok::<_, Error>((ok, failed, lat))
    });
    let mut closed = Vec::new();
    let mut open = 0;
    for t in slow {
        match t.await? {
            Ok(Some(s)) => closed.push(s),
            Ok(None) => open += 1,
            Err(_) => open += 1,
        }
    }
    let (ok, failed, lat) = good.await??;
    let max_close = closed.iter().copied().fold(0.0f64, f64::max);
    Ok(serde_json::json!({
        "connections": n,
        "closed_by_server": closed.len(),
        "still_open_after_s": if open > 0 { Some(SLOW_WINDOW.as_secs()) } else { None },
        "open": open,
        "max_secs_to_close": max_close,
        "good_ok": ok,
        "good_failed": failed,
        "good_p99_ms": percentile_ms(&lat, 99.0),
    }))
}

async fn storm(addr: SocketAddr, path: &str, secs: Duration) -> Result<serde_json::Value, Error> {
    let end = Instant::now() + secs;
    let tasks: Vec<_> = (0..STORM_CLIENTS)
        .map(|_| {
            let path = path.to_owned();
            tokio::spawn(async move {
                let mut conn = Conn::open(addr).await?;
                let (mut ok, mut other) = (0u64, 0u64);
                let mut lat = Vec::new();
                while Instant::now() < end {
                    let t = Instant::now();
                    match conn.send(Method::GET, &path, None).await {
                        Ok((StatusCode::OK, _)) => {
                            ok += 1;
                            lat.push(u32::try_from(t.elapsed().as_micros()).unwrap_or(u32::MAX));
                        }
                        Ok(_) => other += 1,
                        Err(_) => {
                            other += 1;
                            conn = Conn::open(addr).await?;
                        }
                    }
                }
                Ok::<_, Error>((ok, other, lat))
            })
        })
        .collect();
    let (mut ok, mut other, mut lat) = (0, 0, Vec::new());
    for t in tasks {
        let (o, x, l) = t.await??;
        ok += o;
        other += x;
        lat.extend(l);
    }
    lat.sort_unstable();
    Ok(serde_json::json!({
        "clients": STORM_CLIENTS,
        "secs": secs.as_secs_f64(),
        "ok": ok,
        "other": other,
        "p50_ms": percentile_ms(&lat, 50.0),
        "p99_ms": percentile_ms(&lat, 99.0),
        "max_ms": percentile_ms(&lat, 100.0),
    }))
}
