//! EDGE: the only code that talks to the backend (the browser's `fetch`, called directly: gloo-net
//! brought the `http` crate and its own error formatting into the wasm).
//!
//! Bodies are parsed with the browser's own `JSON.parse` and read field by field through
//! `Reflect` (no JSON parser and no serde in the wasm: serde's error paths alone pull in float
//! formatting, ~30 KB). Every failure becomes a [`Failure`]: a stable code and one plain
//! sentence; backend text is cleaned and later rendered as text only.

use wasm_bindgen::{JsCast, JsValue};
use web_sys::{AbortController, RequestCache, RequestInit, Response};

use crate::contract::{
    clean_message, ContractError, CreateRequest, Created, CreatedWire, ErrorBody, ErrorWire,
    FiatQuote, OnchainSeen, StatusReply,
};
use crate::i18n::{t, tf};
use crate::state::Failure;

/// A request still unanswered after this long is aborted and counts as failed.
pub const REQUEST_TIMEOUT_MS: u32 = 15_000;

/// Largest answer body the widget reads (64 KiB; a real answer is under 2 KiB). A larger one is
/// not read further (the stream is cancelled) and fails with `response_too_large`, so a broken
/// or hostile backend cannot fill the page's memory.
pub const MAX_RESPONSE_BYTES: usize = 64 * 1024;

/// An answer and the backend's clock when it gave it (`server_time`, Unix ms, when sent).
pub type Answer<T> = (Result<T, Failure>, Option<u64>);

/// Aborts its request when dropped (on timeout, on `destroy()`, or when superseded).
pub struct InFlight {
    controller: Option<AbortController>,
    _timeout: Option<gloo_timers::callback::Timeout>,
}

impl InFlight {
    /// A controller whose signal aborts after [`REQUEST_TIMEOUT_MS`].
    pub fn new() -> (InFlight, Option<web_sys::AbortSignal>) {
        let controller = AbortController::new().ok();
        let signal = controller.as_ref().map(AbortController::signal);
        let timeout = controller
            .clone()
            .map(|c| gloo_timers::callback::Timeout::new(REQUEST_TIMEOUT_MS, move || c.abort()));
        (
            InFlight {
                controller,
                _timeout: timeout,
            },
            signal,
        )
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if let Some(c) = &self.controller {
            c.abort();
        }
    }
}

/// `POST {endpoint}/invoices`.
pub async fn create(
    endpoint: &str,
    request: &CreateRequest,
    signal: Option<web_sys::AbortSignal>,
) -> Answer<Created> {
    let Ok(body) = js_sys::JSON::stringify(&request_to_js(request)) else {
        return (Err(build_failure()), None);
    };
    let init = request_init("POST", signal.as_ref());
    init.set_body(&JsValue::from(body));
    let value = match send(&format!("{endpoint}/invoices"), &init, signal.as_ref()).await {
        Ok(v) => v,
        Err(f) => return (Err(f), None),
    };
    let result = created_from_js(&value)
        .ok_or_else(bad_response)
        .and_then(|wire| Created::from_wire(wire).map_err(contract_failure));
    (result, field_u64(&value, "server_time"))
}

/// `GET {endpoint}/invoices/{id}` (`id` is already known to be URL-safe).
pub async fn status(
    endpoint: &str,
    id: &str,
    signal: Option<web_sys::AbortSignal>,
) -> Answer<StatusReply> {
    let init = request_init("GET", signal.as_ref());
    let value = match send(&format!("{endpoint}/invoices/{id}"), &init, signal.as_ref()).await {
        Ok(v) => v,
        Err(f) => return (Err(f), None),
    };
    let result = status_from_js(&value, id);
    (result, field_u64(&value, "server_time"))
}

/// A status answer arriving as text (a live stream's `status` message) for invoice `id`: the
/// same checks as [`status`]'s; `None` when it is not one.
pub fn status_from_text(text: &str, id: &str) -> Option<StatusReply> {
    if text.len() > MAX_RESPONSE_BYTES {
        return None;
    }
    let value = js_sys::JSON::parse(text).ok()?;
    status_from_js(&value, id).ok()
}

fn build_failure() -> Failure {
    Failure::new("internal", t("internal"))
}

/// A `fetch` request's options: `method`, JSON accepted (and sent, with a body), never from the
/// HTTP cache, aborted by `signal`.
fn request_init(method: &str, signal: Option<&web_sys::AbortSignal>) -> RequestInit {
    let init = RequestInit::new();
    init.set_method(method);
    let headers = js_sys::Object::new();
    set(&headers, "accept", &JsValue::from_str("application/json"));
    if method == "POST" {
        set(
            &headers,
            "content-type",
            &JsValue::from_str("application/json"),
        );
    }
    init.set_headers(&headers);
    init.set_cache(RequestCache::NoStore);
    init.set_signal(signal);
    init
}

async fn send(
    url: &str,
    init: &RequestInit,
    signal: Option<&web_sys::AbortSignal>,
) -> Result<JsValue, Failure> {
    let Some(window) = web_sys::window() else {
        return Err(build_failure());
    };
    // Built first, as gloo-net did: a URL `fetch` cannot take fails here, as `internal`.
    let Ok(req) = web_sys::Request::new_with_str_and_init(url, init) else {
        return Err(build_failure());
    };
    let fetched = wasm_bindgen_futures::JsFuture::from(window.fetch_with_request(&req))
        .await
        .and_then(JsCast::dyn_into::<Response>);
    let resp = match fetched {
        Ok(r) => r,
        Err(_) if signal.is_some_and(web_sys::AbortSignal::aborted) => {
            return Err(Failure::new("backend_timeout", t("backend_timeout")))
        }
        Err(_) => {
            return Err(Failure::new(
                "backend_unreachable",
                t("backend_unreachable"),
            ))
        }
    };
    let status = resp.status();
    let text = read_capped(&resp).await?;
    if (200..300).contains(&status) {
        return js_sys::JSON::parse(&text).map_err(|_| bad_response());
    }
    Err(http_failure(status, &resp, &text))
}

/// The body as text, reading at most [`MAX_RESPONSE_BYTES`] (announced or streamed).
async fn read_capped(resp: &Response) -> Result<String, Failure> {
    let too_large = || Failure::new("response_too_large", t("response_too_large"));
    let broke = || Failure::new("backend_unreachable", t("connection_broke"));
    let Some(body) = resp.body() else {
        return Ok(String::new());
    };
    let announced = resp
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|v| v.trim().parse::<u64>().ok());
    if announced.is_some_and(|n| n > MAX_RESPONSE_BYTES as u64) {
        let _ = body.cancel();
        return Err(too_large());
    }
    let reader: web_sys::ReadableStreamDefaultReader = body.get_reader().unchecked_into();
    let mut bytes = Vec::new();
    loop {
        let chunk = wasm_bindgen_futures::JsFuture::from(reader.read())
            .await
            .map_err(|_| broke())?;
        let done = js_sys::Reflect::get(&chunk, &JsValue::from_str("done"))
            .map_err(|_| broke())?
            .as_bool()
            .unwrap_or(true);
        if done {
            break;
        }
        let value: js_sys::Uint8Array = js_sys::Reflect::get(&chunk, &JsValue::from_str("value"))
            .ok()
            .and_then(|v| v.dyn_into().ok())
            .ok_or_else(broke)?;
        let start = bytes.len();
        let end = start + value.length() as usize;
        if end > MAX_RESPONSE_BYTES {
            let _ = reader.cancel();
            return Err(too_large());
        }
        bytes.resize(end, 0);
        value.copy_to(&mut bytes[start..]);
    }
    // Not UTF-8: read as empty, which then fails as JSON (or as an error body without one).
    Ok(String::from_utf8(bytes).unwrap_or_default())
}

/// A field of an answer that is there but is not what the contract says it is (a number where
/// text belongs), or an answer that is not an object and so has no fields: the answer is refused
/// as a whole, never read in part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct WrongType;

/// Field `key` of `obj`: `Ok(None)` when absent or `null`.
fn field_str(obj: &JsValue, key: &str) -> Result<Option<String>, WrongType> {
    let v = js_sys::Reflect::get(obj, &JsValue::from_str(key)).map_err(|_| WrongType)?;
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    v.as_string().map(Some).ok_or(WrongType)
}

/// Field `key` of `obj` as a whole non-negative JSON number (at most 2^53 - 1).
fn field_u64(obj: &JsValue, key: &str) -> Option<u64> {
    let n = js_sys::Reflect::get(obj, &JsValue::from_str(key))
        .ok()?
        .as_f64()?;
    (n.fract() == 0.0 && (0.0..=9_007_199_254_740_991.0).contains(&n)).then_some(n as u64)
}

fn set(obj: &js_sys::Object, key: &str, value: &JsValue) {
    js_sys::Reflect::set(obj, &JsValue::from_str(key), value).ok();
}

fn set_opt(obj: &js_sys::Object, key: &str, value: &Option<String>) {
    if let Some(v) = value {
        set(obj, key, &JsValue::from_str(v));
    }
}

/// The create body as a JS object (for `JSON.stringify`).
fn request_to_js(r: &CreateRequest) -> JsValue {
    let o = js_sys::Object::new();
    set_opt(&o, "order_token", &r.order_token);
    // A fiat price is sent instead of sats: the backend converts it.
    match (&r.currency, &r.fiat_amount) {
        (Some(c), Some(a)) => {
            set(&o, "currency", &JsValue::from_str(c));
            set(&o, "fiat_amount", &JsValue::from_str(a));
        }
        _ => set(&o, "amount_sat", &JsValue::from_f64(r.amount_sat as f64)),
    }
    if r.unified == Some(true) {
        set(&o, "unified", &JsValue::TRUE);
    }
    set_opt(&o, "description", &r.description);
    set_opt(&o, "order_id", &r.order_id);
    if let Some(e) = r.expiry_secs {
        set(&o, "expiry_secs", &JsValue::from_f64(f64::from(e)));
    }
    o.into()
}

/// Reads a create answer (or a kept one); `None` when a field is missing or of the wrong type,
/// or `v` is not an object (`Reflect.get` throws for those, so [`field_str`] fails).
pub fn created_from_js(v: &JsValue) -> Option<CreatedWire> {
    Some(CreatedWire {
        id: field_str(v, "id").ok()??,
        payment_request: field_str(v, "payment_request").ok()?,
        pay_url: field_str(v, "pay_url").ok()?,
        payment_hash: field_str(v, "payment_hash").ok()?,
        amount_sat: field_u64(v, "amount_sat")?,
        expires_at: field_u64(v, "expires_at")?,
        status: field_str(v, "status").ok()??,
        onchain_address: field_str(v, "onchain_address").ok()?,
        fiat: fiat_from_js(v),
        // The caller reads it when it wants it: a kept invoice has none, and the clock sample
        // of a create counts even when its answer is refused.
        server_time: None,
    })
}

/// `fiat.currency` and `fiat.amount` of an answer, when both are strings (the rate fields are
/// not read; [`Created::from_wire`] checks the price's shape).
fn fiat_from_js(v: &JsValue) -> Option<FiatQuote> {
    let f = js_sys::Reflect::get(v, &JsValue::from_str("fiat")).ok()?;
    if !f.is_object() {
        return None;
    }
    Some(FiatQuote {
        currency: field_str(&f, "currency").ok()??,
        amount: field_str(&f, "amount").ok()??,
        rate: String::new(),
        rate_source: String::new(),
        rate_at: 0,
    })
}

/// A created invoice as a JS object (what `sessionStorage` keeps).
pub fn created_to_js(w: &CreatedWire) -> JsValue {
    let o = js_sys::Object::new();
    set(&o, "id", &JsValue::from_str(&w.id));
    set_opt(&o, "payment_request", &w.payment_request);
    set_opt(&o, "pay_url", &w.pay_url);
    set_opt(&o, "payment_hash", &w.payment_hash);
    set(&o, "amount_sat", &JsValue::from_f64(w.amount_sat as f64));
    set(&o, "expires_at", &JsValue::from_f64(w.expires_at as f64));
    set(&o, "status", &JsValue::from_str(&w.status));
    set_opt(&o, "onchain_address", &w.onchain_address);
    if let Some(f) = &w.fiat {
        let fo = js_sys::Object::new();
        set(&fo, "currency", &JsValue::from_str(&f.currency));
        set(&fo, "amount", &JsValue::from_str(&f.amount));
        set(&o, "fiat", &fo);
    }
    o.into()
}

/// Reads and checks a status answer for invoice `id` (only the fields the widget uses; reading a
/// field of a JSON value that is not an object fails, so a bare number or string is refused).
fn status_from_js(v: &JsValue, id: &str) -> Result<StatusReply, Failure> {
    match (
        field_str(v, "id"),
        field_str(v, "status"),
        field_str(v, "preimage"),
    ) {
        (Ok(Some(got)), Ok(Some(status)), Ok(preimage)) => {
            let mut reply =
                StatusReply::check(got, &status, preimage, id).map_err(contract_failure)?;
            reply.onchain = onchain_from_js(v);
            Ok(reply)
        }
        _ => Err(bad_response()),
    }
}

/// `onchain` of a status answer, when it is an object of two whole numbers.
fn onchain_from_js(v: &JsValue) -> Option<OnchainSeen> {
    let o = js_sys::Reflect::get(v, &JsValue::from_str("onchain"))
        .ok()
        .filter(JsValue::is_object)?;
    Some(OnchainSeen {
        confirmations: u32::try_from(field_u64(&o, "confirmations")?).ok()?,
        required: u32::try_from(field_u64(&o, "required")?).ok()?,
    })
}

fn error_from_text(text: &str) -> Option<ErrorWire> {
    let v = js_sys::JSON::parse(text).ok()?;
    let e = js_sys::Reflect::get(&v, &JsValue::from_str("error")).ok()?;
    Some(ErrorWire {
        error: ErrorBody {
            code: field_str(&e, "code").ok()??,
            message: field_str(&e, "message").ok()??,
        },
    })
}

fn http_failure(status: u16, resp: &Response, text: &str) -> Failure {
    let retry_after_secs = resp
        .headers()
        .get("retry-after")
        .ok()
        .flatten()
        .and_then(|v| v.trim().parse::<u64>().ok());
    let body = error_from_text(text);
    // The status is written as a u64: u16's Display would be one more integer formatter.
    let mut f = match (status, body) {
        (400..=499, Some(ErrorWire { error })) if status != 429 => {
            let code: String = error
                .code
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
                .take(64)
                .collect();
            let message = clean_message(&error.message);
            Failure::new(
                if code.is_empty() {
                    "backend_error"
                } else {
                    &code
                },
                if message.is_empty() {
                    tf(
                        "backend_refused",
                        &[("status", &u64::from(status).to_string())],
                    )
                } else {
                    message
                },
            )
        }
        (429, _) => Failure::new("rate_limited", t("rate_limited")),
        (400..=499, None) => Failure::new(
            "backend_error",
            tf(
                "backend_refused",
                &[("status", &u64::from(status).to_string())],
            ),
        ),
        _ => Failure::new(
            "backend_error",
            tf(
                "backend_error",
                &[("status", &u64::from(status).to_string())],
            ),
        ),
    };
    f.retry_after_secs = retry_after_secs;
    f
}

fn bad_response() -> Failure {
    Failure::new("bad_response", t("bad_response"))
}

fn contract_failure(e: ContractError) -> Failure {
    match e {
        ContractError::NoPayable | ContractError::BadHash => {
            Failure::new("bad_response", t("no_invoice"))
        }
        ContractError::BadPayUrl => Failure::new("bad_response", t("bad_pay_url")),
        ContractError::BadId | ContractError::BadStatus | ContractError::WrongId => bad_response(),
    }
}
