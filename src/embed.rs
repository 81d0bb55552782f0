//! JS SURFACE: the only `#[wasm_bindgen]` exports. `js/lightning-checkout.js` wraps them in the
//! `<lightning-checkout>` custom element and re-exports [`mount`].

use std::rc::Rc;

use js_sys::{Function, Reflect};
use wasm_bindgen::prelude::*;
use web_sys::HtmlElement;

use crate::config::{self, RawOptions, TokenClaims};
use crate::i18n::{entries, Catalogue};
use crate::widget::{Language, Widget};

/// A mounted checkout; `destroy()` removes every listener and timer.
#[wasm_bindgen]
pub struct Handle {
    widget: Option<Widget>,
}

#[wasm_bindgen]
impl Handle {
    /// Removes every listener and timer, aborts the request in flight and empties the widget.
    /// Calling it twice is harmless.
    pub fn destroy(&mut self) {
        if let Some(w) = self.widget.take() {
            w.destroy();
        }
    }
}

/// Reads option `key` (or its camelCase twin) from a JS object as a string; numbers become
/// their decimal text so `{amountSat: 2500}` and `amount-sat="2500"` mean the same.
fn option(options: &JsValue, keys: &[&str]) -> Option<String> {
    for key in keys {
        let v = js_sys::Reflect::get(options, &JsValue::from_str(key)).ok()?;
        if let Some(s) = v.as_string() {
            return Some(s);
        }
        if let Some(n) = v.as_f64() {
            // Whole numbers become their digits; anything else (2500.5, NaN) a text that the
            // config check refuses. No float formatting: it would add ~15 KB of wasm. (Written
            // as a u64 and a sign: i64's Display would be one more integer formatter.)
            return Some(if n.fract() == 0.0 && n.abs() < 9.0e15 {
                let digits = n.abs() as u64;
                if n < 0.0 {
                    format!("-{digits}")
                } else {
                    format!("{digits}")
                }
            } else {
                String::from("not a whole number")
            });
        }
    }
    None
}

/// Reads (does not verify) the claims of an order token: its middle part, base64url JSON.
fn read_claims(token: &str) -> Option<TokenClaims> {
    let payload = token.trim().split('.').nth(1)?;
    let text = String::from_utf8(base64url(payload)?).ok()?;
    let v = js_sys::JSON::parse(&text).ok()?;
    if !v.is_object() {
        return None;
    }
    let text_claim = |k: &str| {
        js_sys::Reflect::get(&v, &JsValue::from_str(k))
            .ok()
            .and_then(|x| x.as_string())
    };
    Some(TokenClaims {
        order_id: text_claim("order_id"),
        amount_sat: option(&v, &["amount_sat"]),
        min_sat: option(&v, &["min_sat"]),
        max_sat: option(&v, &["max_sat"]),
        description: text_claim("description"),
        currency: text_claim("currency"),
        fiat_amount: text_claim("fiat_amount"),
    })
}

/// Unpadded base64url to bytes; `None` on any other character.
fn base64url(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}

/// `formatSat(msat)`, which the element shim makes from `Intl.NumberFormat(locale)`.
fn number_format(o: &JsValue) -> Option<Box<dyn Fn(u64) -> String>> {
    let format: Function = Reflect::get(o, &JsValue::from_str("formatSat"))
        .ok()?
        .dyn_into()
        .ok()?;
    Some(Box::new(move |msat| {
        format
            .call1(&JsValue::UNDEFINED, &JsValue::from_f64(msat as f64))
            .ok()
            .and_then(|s| s.as_string())
            .unwrap_or_else(|| (msat / 1000).to_string())
    }))
}

/// `formatFiat(currency, amount)`, which the element shim makes from `Intl.NumberFormat(locale,
/// {style: 'currency'})`; anything but a string from it (an unknown currency): the plain form.
fn fiat_format(o: &JsValue) -> Option<crate::i18n::FiatFormat> {
    let format: Function = Reflect::get(o, &JsValue::from_str("formatFiat"))
        .ok()?
        .dyn_into()
        .ok()?;
    Some(Box::new(move |currency, amount| {
        format
            .call2(
                &JsValue::UNDEFINED,
                &JsValue::from_str(currency),
                &JsValue::from_str(amount),
            )
            .ok()
            .and_then(|s| s.as_string())
    }))
}

/// The widget's language from the options the element shim resolved: `locale` (a tag),
/// `dir`, `formatSat`, `formatFiat` and `messages` (the locale file merged with the shop's overrides; only known keys
/// with text values are taken).
fn language(o: &JsValue) -> Language {
    let tag = option(o, &["locale"]).unwrap_or_else(|| String::from("en"));
    let messages = Reflect::get(o, &JsValue::from_str("messages"))
        .ok()
        .filter(JsValue::is_object);
    let texts = messages
        .map(|m| {
            entries()
                .filter_map(|(key, _)| {
                    let v = Reflect::get(&m, &JsValue::from_str(key))
                        .ok()?
                        .as_string()?;
                    Some((key, v))
                })
                .collect()
        })
        .unwrap_or_default();
    Language {
        catalogue: Rc::new(Catalogue {
            texts,
            number: number_format(o),
            fiat: fiat_format(o),
        }),
        dir: if option(o, &["dir"]).as_deref() == Some("rtl") {
            "rtl"
        } else {
            "ltr"
        },
        tag,
    }
}

/// Mounts a checkout into `element` (its open shadow root is created or reused).
///
/// `options` takes the attribute names in camelCase or as written: `endpoint`, `amountSat`,
/// `minSat`, `maxSat`, `description`, `orderId`, `expirySecs`, `network`, `orderToken`,
/// `currency`, `fiatAmount` (decimal text: a number is refused, no float carries money),
/// `unified` (true, or the attribute present). A bad option is shown
/// in the widget as one sentence (and logged); nothing is requested then.
#[wasm_bindgen]
pub fn mount(element: HtmlElement, options: JsValue) -> Result<Handle, JsValue> {
    let o = if options.is_object() {
        options
    } else {
        js_sys::Object::new().into()
    };
    let order_token = option(&o, &["orderToken", "order-token"]);
    let raw = RawOptions {
        endpoint: option(&o, &["endpoint"]),
        amount_sat: option(&o, &["amountSat", "amount-sat"]),
        min_sat: option(&o, &["minSat", "min-sat"]),
        max_sat: option(&o, &["maxSat", "max-sat"]),
        description: option(&o, &["description"]),
        order_id: option(&o, &["orderId", "order-id"]),
        expiry_secs: option(&o, &["expirySecs", "expiry-secs"]),
        network: option(&o, &["network"]),
        order_token: order_token.clone(),
        token_claims: order_token.as_deref().and_then(read_claims),
        currency: option(&o, &["currency"]),
        fiat_amount: option(&o, &["fiatAmount", "fiat-amount"]),
        unified: js_sys::Reflect::get(&o, &JsValue::from_str("unified"))
            .ok()
            .and_then(|u| match u.as_bool() {
                Some(b) => Some(String::from(if b { "true" } else { "false" })),
                None => u.as_string(),
            }),
    };
    let lang = language(&o);
    // At least 100 ms (a test's hanging wallet), at most 10 minutes.
    let webln_timeout_ms = option(&o, &["weblnTimeoutMs", "webln-timeout-ms"])
        .and_then(|v| v.parse::<u32>().ok())
        .map_or(crate::webln::DEFAULT_TIMEOUT_MS, |ms| {
            ms.clamp(100, 600_000)
        });
    let widget = match config::parse(&raw) {
        Ok(cfg) => Widget::start(element, cfg, lang, webln_timeout_ms)?,
        Err(message) => {
            web_sys::console::error_1(&JsValue::from_str(&format!(
                "lightning-checkout: {message}"
            )));
            let w = Widget::show_config_error(element.clone(), &message, lang)?;
            let init = web_sys::CustomEventInit::new();
            init.set_bubbles(true);
            init.set_composed(true);
            let detail = js_sys::Object::new();
            js_sys::Reflect::set(&detail, &"code".into(), &"invalid_config".into()).ok();
            js_sys::Reflect::set(&detail, &"message".into(), &JsValue::from_str(&message)).ok();
            init.set_detail(&detail);
            if let Ok(e) =
                web_sys::CustomEvent::new_with_event_init_dict("lightning-checkout:error", &init)
            {
                element.dispatch_event(&e).ok();
            }
            w
        }
    };
    Ok(Handle {
        widget: Some(widget),
    })
}
