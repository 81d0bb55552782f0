//! EDGE: the only code that talks to the backend (`fetch` through gloo-net).
//!
//! Bodies are parsed with the browser's own `JSON.parse` and mapped with serde-wasm-bindgen,
//! so no JSON parser is compiled into the wasm. Every failure becomes a [`Failure`]: a stable
//! code and one plain sentence; backend text is cleaned and later rendered as text only.

use gloo_net::http::{Request, Response};
use serde::de::DeserializeOwned;
use wasm_bindgen::JsValue;
use web_sys::{AbortController, RequestCache};

use crate::contract::{
    clean_message, ContractError, CreateRequest, Created, CreatedWire, ErrorWire, StatusReply,
    StatusWire,
};
use crate::state::Failure;

/// A request still unanswered after this long is aborted and counts as failed.
pub const REQUEST_TIMEOUT_MS: u32 = 15_000;

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
        let timeout = controller.clone().map(|c| {
            gloo_timers::callback::Timeout::new(REQUEST_TIMEOUT_MS, move || c.abort())
        });
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
) -> Result<Created, Failure> {
    let body = serde_wasm_bindgen::to_value(request)
        .ok()
        .and_then(|v| js_sys::JSON::stringify(&v).ok())
        .ok_or_else(|| Failure::new("internal", "The checkout could not build its request."))?;
    let req = Request::post(&format!("{endpoint}/invoices"))
        .header("content-type", "application/json")
        .header("accept", "application/json")
        .cache(RequestCache::NoStore)
        .abort_signal(signal.as_ref())
        .body(JsValue::from(body))
        .map_err(|_| Failure::new("internal", "The checkout could not build its request."))?;
    let wire: CreatedWire = send(req, signal.as_ref()).await?;
    Created::from_wire(wire).map_err(contract_failure)
}

/// `GET {endpoint}/invoices/{id}` (`id` is already known to be URL-safe).
pub async fn status(
    endpoint: &str,
    id: &str,
    signal: Option<web_sys::AbortSignal>,
) -> Result<StatusReply, Failure> {
    let req = Request::get(&format!("{endpoint}/invoices/{id}"))
        .header("accept", "application/json")
        .cache(RequestCache::NoStore)
        .abort_signal(signal.as_ref())
        .build()
        .map_err(|_| Failure::new("internal", "The checkout could not build its request."))?;
    let wire: StatusWire = send(req, signal.as_ref()).await?;
    StatusReply::from_wire(wire, id).map_err(contract_failure)
}

async fn send<T: DeserializeOwned>(
    req: Request,
    signal: Option<&web_sys::AbortSignal>,
) -> Result<T, Failure> {
    let resp = match req.send().await {
        Ok(r) => r,
        Err(_) if signal.is_some_and(web_sys::AbortSignal::aborted) => {
            return Err(Failure::new(
                "backend_timeout",
                "The shop's payment server did not answer in time. Try again.",
            ))
        }
        Err(_) => {
            return Err(Failure::new(
                "backend_unreachable",
                "The shop's payment server could not be reached. Check your connection and try again.",
            ))
        }
    };
    let status = resp.status();
    let text = resp.text().await.map_err(|_| {
        Failure::new(
            "backend_unreachable",
            "The connection to the shop's payment server broke off. Try again.",
        )
    })?;
    if (200..300).contains(&status) {
        return parse::<T>(&text).ok_or_else(bad_response);
    }
    Err(http_failure(status, &resp, &text))
}

fn parse<T: DeserializeOwned>(text: &str) -> Option<T> {
    let value = js_sys::JSON::parse(text).ok()?;
    serde_wasm_bindgen::from_value(value).ok()
}

fn http_failure(status: u16, resp: &Response, text: &str) -> Failure {
    let retry_after_secs = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.trim().parse::<u64>().ok());
    let body = parse::<ErrorWire>(text);
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
                    format!("The shop's payment server refused the request (HTTP {status}).")
                } else {
                    message
                },
            )
        }
        (429, _) => Failure::new(
            "rate_limited",
            "The shop's payment server is busy. The checkout will try again shortly.",
        ),
        (400..=499, None) => Failure::new(
            "backend_error",
            format!("The shop's payment server refused the request (HTTP {status})."),
        ),
        _ => Failure::new(
            "backend_error",
            format!("The shop's payment server had a problem (HTTP {status}). Try again in a moment."),
        ),
    };
    f.retry_after_secs = retry_after_secs;
    f
}

fn bad_response() -> Failure {
    Failure::new(
        "bad_response",
        "The shop's payment server sent an answer the checkout cannot read. Try again.",
    )
}

fn contract_failure(e: ContractError) -> Failure {
    match e {
        ContractError::NoPayable | ContractError::BadHash => Failure::new(
            "bad_response",
            "The shop's payment server sent no usable invoice. Try again.",
        ),
        ContractError::BadPayUrl => Failure::new(
            "bad_response",
            "The shop's payment server sent a payment link that is not a safe https link, so it is not shown.",
        ),
        ContractError::BadId | ContractError::BadStatus | ContractError::WrongId => bad_response(),
    }
}
