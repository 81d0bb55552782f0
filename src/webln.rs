//! EDGE: WebLN (`window.webln`), the browser-wallet API of Alby and other extensions:
//! `enable()`, then `sendPayment(invoice)`, which answers `{ preimage }`. Nothing here decides
//! that an invoice is paid: the glue checks the preimage against the payment hash, and the
//! backend's status still decides.

use std::cell::RefCell;
use std::rc::Rc;

use gloo_timers::callback::Timeout;
use js_sys::{Array, Function, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// How long the wallet may take (its confirmation prompt included) unless `webln-timeout-ms`
/// says otherwise.
pub const DEFAULT_TIMEOUT_MS: u32 = 60_000;

/// What the wallet did.
pub enum Outcome {
    /// It answered with this preimage text (not checked yet).
    Preimage(String),
    /// It answered, but with no preimage text.
    NoPreimage,
    /// It refused or threw (whatever it threw).
    Failed,
    /// It did not answer within the time allowed.
    Timeout,
}

/// The page's WebLN provider, if it has one.
pub fn provider() -> Option<JsValue> {
    let w = web_sys::window()?;
    Reflect::get(&w, &JsValue::from_str("webln"))
        .ok()
        .filter(JsValue::is_object)
}

/// `provider[name](...args)`, awaited; a missing method or a synchronous throw is an error.
async fn call(provider: &JsValue, name: &str, args: &Array) -> Result<JsValue, JsValue> {
    let f: Function = Reflect::get(provider, &JsValue::from_str(name))?.dyn_into()?;
    let result = Reflect::apply(&f, provider, args)?;
    JsFuture::from(Promise::resolve(&result)).await
}

async fn ask(invoice: String) -> Outcome {
    let Some(webln) = provider() else {
        return Outcome::Failed;
    };
    if call(&webln, "enable", &Array::new()).await.is_err() {
        return Outcome::Failed;
    }
    let answer = call(
        &webln,
        "sendPayment",
        &Array::of1(&JsValue::from_str(&invoice)),
    )
    .await;
    match answer {
        // `Reflect.get` on a non-object throws: junk answers are "no preimage".
        Ok(v) => match Reflect::get(&v, &JsValue::from_str("preimage")).map(|p| p.as_string()) {
            Ok(Some(p)) => Outcome::Preimage(p),
            _ => Outcome::NoPreimage,
        },
        Err(_) => Outcome::Failed,
    }
}

/// Called once, by whichever comes first: the wallet's answer or the timer.
type Done = Rc<RefCell<Option<Box<dyn FnOnce(Outcome)>>>>;

/// Asks the page's wallet to pay `invoice`; `done` gets what it did, within `timeout_ms`
/// (a wallet that never answers is left waiting, and ignored).
pub fn pay(invoice: String, timeout_ms: u32, done: impl FnOnce(Outcome) + 'static) {
    let done: Done = Rc::new(RefCell::new(Some(Box::new(done))));
    let on_timeout = done.clone();
    let timer = Timeout::new(timeout_ms, move || {
        if let Some(f) = on_timeout.borrow_mut().take() {
            f(Outcome::Timeout);
        }
    });
    wasm_bindgen_futures::spawn_local(async move {
        let outcome = ask(invoice).await;
        drop(timer);
        let f = done.borrow_mut().take();
        if let Some(f) = f {
            f(outcome);
        }
    });
}
