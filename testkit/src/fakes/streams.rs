//! The push paths of LND and Core Lightning, as the daemons serve them:
//!
//! * LND `GET /v1/invoices/subscribe?add_index=&settle_index=` (grpc-gateway's server stream of
//!   lnrpc `SubscribeInvoices`): an open answer of newline-delimited JSON objects, each
//!   `{"result": Invoice}`: first every invoice settled after `settle_index` (and added after
//!   `add_index`), in order, then each invoice added or settled from then on. An index of 0 (or
//!   none) sends no backlog, as in lnd ("If specified (non-zero)…", lnrpc `InvoiceSubscription`).
//! * clnrest `POST /v1/waitanyinvoice {"lastpay_index", "timeout"}`: the first invoice paid with
//!   a `pay_index` above `lastpay_index` (201), waiting for one; past `timeout` seconds HTTP 500
//!   `{"code": 904}`.
//!
//! * LND `GET /v1/transactions/subscribe` (lnrpc `SubscribeTransactions`): `{"result":
//!   Transaction}` for each wallet transaction entering the mempool or confirming, from now on.
//!
//! [`crate::Fake::drop_streams`] cuts them all: the answer breaks off mid-way, as when the node
//! restarts.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Method};
use axum::response::Response;
use serde_json::{json, Value};

use crate::creds::{CLN_RUNE, LND_MACAROON_HEX};
use crate::{json_response, pay_index, FakeStatus, Kind, Shared};

/// How often an open subscription looks for news.
const TICK: Duration = Duration::from_millis(5);

/// The answer for a subscription request, or `None` for any other request.
pub async fn route(
    shared: &Arc<Shared>,
    method: &Method,
    path: &str,
    query: Option<&str>,
    headers: &HeaderMap,
    body: &Bytes,
) -> Option<Response> {
    let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok());
    match (shared.kind, method.as_str(), path) {
        (Kind::Lnd, "GET", "/v1/invoices/subscribe") => {
            if !header("grpc-metadata-macaroon")
                .is_some_and(|m| m.eq_ignore_ascii_case(LND_MACAROON_HEX))
            {
                return Some(super::lnd::rpc_error(
                    shared,
                    "subscribe without the macaroon",
                    500,
                    2,
                    "verification failed",
                ));
            }
            if shared.down.load(Ordering::SeqCst) {
                return Some(down());
            }
            Some(lnd_subscribe(shared.clone(), query))
        }
        (Kind::Lnd, "GET", "/v1/transactions/subscribe") => {
            if !header("grpc-metadata-macaroon")
                .is_some_and(|m| m.eq_ignore_ascii_case(LND_MACAROON_HEX))
            {
                return Some(super::lnd::rpc_error(
                    shared,
                    "transaction subscribe without the macaroon",
                    500,
                    2,
                    "verification failed",
                ));
            }
            if shared.down.load(Ordering::SeqCst) {
                return Some(down());
            }
            Some(lnd_transactions(shared.clone()))
        }
        (Kind::Cln, "POST", "/v1/waitanyinvoice") => {
            if header("rune") != Some(CLN_RUNE) {
                return Some(super::cln::rpc_error(
                    shared,
                    "waitanyinvoice without the rune",
                    401,
                    1502,
                    "Rune is not valid",
                ));
            }
            if shared.down.load(Ordering::SeqCst) {
                return Some(down());
            }
            Some(cln_waitany(shared.clone(), body).await)
        }
        _ => None,
    }
}

fn down() -> Response {
    json_response(
        503,
        &json!({"error": "service unavailable (testkit: down)"}),
    )
}

fn query_u64(query: Option<&str>, name: &str) -> Option<u64> {
    query?
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == name)
        .and_then(|(_, v)| v.parse().ok())
}

/// A body that breaks off (the connection is cut) once the fake's streams are dropped.
fn broken() -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::ConnectionReset,
        "testkit: streams dropped",
    )
}

struct LndCursor {
    shared: Arc<Shared>,
    generation: u64,
    settle_index: u64,
    add_index: u64,
    pending: std::collections::VecDeque<Value>,
}

impl LndCursor {
    /// The invoices to send now, in order.
    fn news(&mut self) {
        let g = self.shared.inner.lock().unwrap();
        let mut settled: Vec<_> = g
            .invoices
            .iter()
            .filter(|i| i.status == FakeStatus::Paid && pay_index(i) > self.settle_index)
            .collect();
        settled.sort_by_key(|i| pay_index(i));
        let mut added: Vec<_> = g
            .invoices
            .iter()
            .filter(|i| i.seq > self.add_index)
            .collect();
        added.sort_by_key(|i| i.seq);
        for i in added {
            self.add_index = i.seq;
            let mut v = super::lnd::invoice_json(i);
            // An add event shows the invoice as it was added.
            v["state"] = json!("OPEN");
            v["settled"] = json!(false);
            v["settle_index"] = json!("0");
            self.pending.push_back(v);
        }
        for i in settled {
            self.settle_index = pay_index(i);
            self.pending.push_back(super::lnd::invoice_json(i));
        }
    }
}

fn lnd_subscribe(shared: Arc<Shared>, query: Option<&str>) -> Response {
    let asked = query_u64(query, "settle_index").unwrap_or(0);
    // As lnd: an index of 0 (or none) sends no backlog, only what happens from now on.
    let (settle_index, add_index) = {
        let g = shared.inner.lock().unwrap();
        let settle = match asked {
            0 => g.pay_seq,
            n => n,
        };
        let add = query_u64(query, "add_index")
            .filter(|a| *a > 0)
            .unwrap_or(g.seq);
        (settle, add)
    };
    {
        let mut g = shared.inner.lock().unwrap();
        g.stream_connects += 1;
        g.stream_from.push(asked);
    }
    let cursor = LndCursor {
        generation: shared.stream_generation.load(Ordering::SeqCst),
        shared,
        settle_index,
        add_index,
        pending: Default::default(),
    };
    let body = futures_util::stream::unfold(Some(cursor), |cursor| async move {
        let mut c = cursor?;
        loop {
            if c.shared.stream_generation.load(Ordering::SeqCst) != c.generation {
                return Some((Err(broken()), None));
            }
            if let Some(v) = c.pending.pop_front() {
                let line = format!("{}\n", json!({ "result": v }));
                return Some((Ok::<_, std::io::Error>(Bytes::from(line)), Some(c)));
            }
            c.news();
            if c.pending.is_empty() {
                tokio::time::sleep(TICK).await;
            }
        }
    });
    Response::builder()
        .status(200)
        .header("content-type", "application/json")
        .body(Body::from_stream(body))
        .expect("a valid response")
}

/// lnrpc `SubscribeTransactions`: each wallet transaction event from now on (no backlog).
fn lnd_transactions(shared: Arc<Shared>) -> Response {
    let next = {
        let mut g = shared.inner.lock().unwrap();
        g.chain.subscribers += 1;
        g.chain.events.len()
    };
    let generation = shared.stream_generation.load(Ordering::SeqCst);
    let body = futures_util::stream::unfold(Some((shared, next)), move |state| async move {
        let (shared, mut next) = state?;
        loop {
            if shared.stream_generation.load(Ordering::SeqCst) != generation {
                return Some((Err(broken()), None));
            }
            let event = shared.inner.lock().unwrap().chain.events.get(next).cloned();
            if let Some(v) = event {
                next += 1;
                let line = format!("{}\n", json!({ "result": v }));
                return Some((
                    Ok::<_, std::io::Error>(Bytes::from(line)),
                    Some((shared, next)),
                ));
            }
            tokio::time::sleep(TICK).await;
        }
    });
    Response::builder()
        .status(200)
        .header("content-type", "application/json")
        .body(Body::from_stream(body))
        .expect("a valid response")
}

async fn cln_waitany(shared: Arc<Shared>, body: &Bytes) -> Response {
    let args: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    if !args.is_object() {
        return super::cln::rpc_error(
            &shared,
            "waitanyinvoice body is not an object",
            500,
            -32602,
            "params must be an object",
        );
    }
    let lastpay = match &args["lastpay_index"] {
        Value::Null => 0,
        v => match v.as_u64() {
            Some(n) => n,
            None => {
                return super::cln::rpc_error(
                    &shared,
                    "lastpay_index is not a non-negative integer",
                    500,
                    -32602,
                    "lastpay_index: should be an unsigned 64 bit integer",
                )
            }
        },
    };
    let timeout = args["timeout"].as_u64().map(Duration::from_secs);
    {
        let mut g = shared.inner.lock().unwrap();
        g.stream_connects += 1;
        g.stream_from.push(lastpay);
    }
    let generation = shared.stream_generation.load(Ordering::SeqCst);
    let start = Instant::now();
    loop {
        if shared.stream_generation.load(Ordering::SeqCst) != generation {
            // Headers, then a cut: the client sees the connection break.
            let cut = futures_util::stream::once(async { Err::<Bytes, _>(broken()) });
            return Response::builder()
                .status(201)
                .header("content-type", "application/json")
                .body(Body::from_stream(cut))
                .expect("a valid response");
        }
        let next = {
            let g = shared.inner.lock().unwrap();
            g.invoices
                .iter()
                .filter(|i| i.status == FakeStatus::Paid && pay_index(i) > lastpay)
                .min_by_key(|i| pay_index(i))
                .map(|i| super::cln::invoice_json(i, shared.now()))
        };
        if let Some(v) = next {
            return json_response(201, &v);
        }
        if timeout.is_some_and(|t| start.elapsed() >= t) {
            return json_response(500, &json!({"code": 904, "message": "Timed out"}));
        }
        tokio::time::sleep(TICK).await;
    }
}
