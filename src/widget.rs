//! GLUE: owns the state machine, the view, one timer, the DOM listeners and the request in
//! flight; runs [`Effect`]s and feeds their results back as [`Event`]s.
//!
//! Every browser resource lives in a value whose `Drop` releases it (listener removed, timer
//! cleared, fetch aborted), so [`Widget::destroy`] is a drop. Callbacks hold only a `Weak`
//! reference: a widget that is gone ignores late answers.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::task::{Context, Poll};

use gloo_timers::callback::Timeout;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{CustomEvent, CustomEventInit, EventTarget, HtmlElement};

use crate::api::{self, InFlight};
use crate::clock::ServerClock;
use crate::config::Config;
use crate::contract::Created;
use crate::i18n::{self, Catalogue};
use crate::state::{Checkout, Effect, Emit, Event, STREAM_SILENCE_MS};
use crate::stream::{LiveStatus, Message};
use crate::view::View;
use crate::webln::{self, Outcome};

/// The widget's language: its catalogue, its BCP 47 tag and its direction (`ltr`, `rtl`).
pub struct Language {
    /// Texts and number format.
    pub catalogue: Rc<Catalogue>,
    /// e.g. `de`, `pt-BR`.
    pub tag: String,
    /// `ltr` or `rtl`.
    pub dir: &'static str,
}

/// A future polled with a widget's catalogue in force, so that the sentences its requests
/// write are in that widget's language.
struct InCatalogue<F> {
    catalogue: Rc<Catalogue>,
    future: Pin<Box<F>>,
}

impl<F: Future> Future for InCatalogue<F> {
    type Output = F::Output;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = &mut *self;
        i18n::with(&this.catalogue, || this.future.as_mut().poll(cx))
    }
}

/// The browser-wallet action: which invoice it would pay, and what the wallet last did.
#[derive(Default)]
struct Webln {
    /// The page has a WebLN provider.
    offered: bool,
    /// The open invoice: payment request and payment hash.
    target: Option<(String, [u8; 32])>,
    /// The wallet is being asked.
    busy: bool,
    /// The key of the sentence to show.
    note: Option<&'static str>,
    timeout_ms: u32,
}

/// Prefix of the widget's DOM events.
pub const EVENT_PREFIX: &str = "lightning-checkout:";

/// A DOM listener removed when dropped (the pattern of gloo-events).
pub(crate) struct Listener {
    target: EventTarget,
    kind: &'static str,
    callback: Closure<dyn FnMut(web_sys::Event)>,
}

impl Listener {
    pub(crate) fn new(
        target: &EventTarget,
        kind: &'static str,
        f: impl FnMut(web_sys::Event) + 'static,
    ) -> Listener {
        let callback = Closure::<dyn FnMut(web_sys::Event)>::new(f);
        target
            .add_event_listener_with_callback(kind, callback.as_ref().unchecked_ref())
            .ok();
        Listener {
            target: target.clone(),
            kind,
            callback,
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.target
            .remove_event_listener_with_callback(self.kind, self.callback.as_ref().unchecked_ref())
            .ok();
    }
}

struct Inner {
    machine: Checkout,
    view: View,
    host: HtmlElement,
    endpoint: String,
    /// The shop's signed order, sent with every create.
    order_token: Option<String>,
    storage_key: String,
    /// What defines this purchase ([`crate::state::purchase_text`]), kept with the invoice.
    purchase: String,
    timer: Option<Timeout>,
    /// The pending focus move (after the paint): replaced by the next, cleared on destroy.
    focus_timer: Option<Timeout>,
    /// The backend's clock (`server_time`): every time given to the machine is corrected by it.
    clock: ServerClock,
    request: Option<InFlight>,
    listeners: Vec<Listener>,
    catalogue: Rc<Catalogue>,
    webln: Webln,
    alive: bool,
    /// The payer has used this widget's controls: from then on focus may follow the checkout
    /// (to Copy when the invoice arrives, to "New invoice" at expiry). Never before, so a widget
    /// that starts by itself never scrolls the page or steals focus.
    engaged: bool,
    /// The live status stream of the shown invoice ([`crate::stream`]), and the invoice whose
    /// stream the browser gave up on (refused): not opened again, polling serves it.
    live: Option<LiveStatus>,
    live_refused: Option<String>,
}

/// A mounted checkout. Dropping it (or [`Widget::destroy`]) removes every listener and timer
/// and aborts the request in flight.
pub struct Widget {
    inner: Rc<RefCell<Inner>>,
}

fn now_ms() -> u64 {
    let t = js_sys::Date::now();
    if t.is_finite() && t > 0.0 {
        t as u64
    } else {
        0
    }
}

/// A random id for an order the shop did not name: `wc_` + 24 hex digits from
/// `crypto.getRandomValues`, the form the backend knows as the widget's own
/// (`lightning_checkout_contract::is_widget_key`).
fn fresh_id() -> String {
    let mut bytes = [0u8; 12];
    let ok = web_sys::window()
        .and_then(|w| w.crypto().ok())
        .is_some_and(|c| c.get_random_values_with_u8_array(&mut bytes).is_ok());
    if !ok {
        // No Web Crypto (very old browser): Math.random is enough for an idempotency key.
        for b in &mut bytes {
            *b = (js_sys::Math::random() * 256.0) as u8;
        }
    }
    format!("wc_{}", crate::contract::hex_encode(&bytes))
}

fn session_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.session_storage().ok()?
}

/// What a reload finds in `sessionStorage`: `{"v": 2, "purchase": …, "order_id": …, "invoice":
/// {create answer}}`. Kept for another purchase (see [`crate::state::purchase_text`]): nothing.
fn load_kept(key: &str, purchase: &str) -> Option<(Created, Option<String>)> {
    let text = session_storage()?.get_item(key).ok()??;
    let value = js_sys::JSON::parse(&text).ok()?;
    let get = |k: &str| js_sys::Reflect::get(&value, &JsValue::from_str(k)).ok();
    if get("v")?.as_f64() != Some(2.0) || get("purchase")?.as_string()? != purchase {
        return None;
    }
    let order_id = get("order_id").and_then(|v| v.as_string());
    let invoice = crate::api::created_from_js(&get("invoice")?)?;
    Some((Created::from_wire(invoice).ok()?, order_id))
}

fn save_kept(key: &str, purchase: &str, created: &Created, order_id: Option<String>) {
    let kept = js_sys::Object::new();
    set(&kept, "v", JsValue::from_f64(2.0));
    set(&kept, "purchase", JsValue::from_str(purchase));
    set(&kept, "order_id", opt_str(&order_id));
    set(
        &kept,
        "invoice",
        crate::api::created_to_js(&created.to_wire()),
    );
    let text = js_sys::JSON::stringify(&kept)
        .ok()
        .and_then(|s| s.as_string());
    if let (Some(storage), Some(text)) = (session_storage(), text) {
        // Private mode or a full quota: the checkout still works, only reload recovery is lost.
        storage.set_item(key, &text).ok();
    }
}

fn forget_kept(key: &str) {
    if let Some(storage) = session_storage() {
        storage.remove_item(key).ok();
    }
}

impl Widget {
    /// Builds the widget in `host` and starts it.
    pub fn start(
        host: HtmlElement,
        config: Config,
        lang: Language,
        webln_timeout_ms: u32,
    ) -> Result<Widget, JsValue> {
        let (view, controls) =
            i18n::with(&lang.catalogue, || View::build(&host, &lang.tag, lang.dir))?;
        let purchase = crate::state::purchase_text(&config.endpoint, &config.options);
        let storage_key = storage_key(&host, &purchase);
        let inner = Rc::new(RefCell::new(Inner {
            machine: Checkout::new(config.options),
            view,
            host: host.clone(),
            endpoint: config.endpoint,
            order_token: config.order_token,
            storage_key,
            purchase,
            timer: None,
            focus_timer: None,
            clock: ServerClock::default(),
            request: None,
            listeners: Vec::new(),
            catalogue: lang.catalogue,
            webln: Webln {
                offered: webln::provider().is_some(),
                timeout_ms: webln_timeout_ms,
                ..Webln::default()
            },
            alive: true,
            engaged: false,
            live: None,
            live_refused: None,
        }));
        let weak = Rc::downgrade(&inner);
        let mut listeners = Vec::new();
        {
            let w = weak.clone();
            let input = controls.input.clone();
            listeners.push(Listener::new(&controls.form, "submit", move |e| {
                e.prevent_default();
                let amount_text = input.value();
                send(
                    &w,
                    Event::Submit {
                        amount_text,
                        fresh_id: fresh_id(),
                    },
                    true,
                );
            }));
        }
        let click = |target: &HtmlElement, make: fn() -> Event| {
            let w = weak.clone();
            Listener::new(target, "click", move |_| send(&w, make(), true))
        };
        listeners.push(click(&controls.copy, || Event::Copy));
        listeners.push(click(&controls.copy_address, || Event::CopyAddress));
        listeners.push(click(&controls.open_wallet, || Event::OpenWallet));
        listeners.push(click(&controls.retry, || Event::Retry));
        listeners.push(click(&controls.change_amount, || Event::ChangeAmount));
        listeners.push(click(&controls.new_invoice, || Event::NewInvoice {
            fresh_id: fresh_id(),
        }));
        {
            let w = weak.clone();
            listeners.push(Listener::new(&controls.webln, "click", move |_| {
                pay_with_webln(&w)
            }));
        }
        if let Some(window) = web_sys::window() {
            if let Some(doc) = window.document() {
                let w = weak.clone();
                let d = doc.clone();
                listeners.push(Listener::new(&doc, "visibilitychange", move |_| {
                    let event = if d.visibility_state() == web_sys::VisibilityState::Hidden {
                        Event::PageHidden
                    } else {
                        Event::PageVisible
                    };
                    send(&w, event, false);
                }));
            }
            let w = weak.clone();
            listeners.push(Listener::new(&window, "blur", move |_| {
                send(&w, Event::PageHidden, false)
            }));
            let w = weak.clone();
            listeners.push(Listener::new(&window, "online", move |_| {
                send(&w, Event::PageVisible, false)
            }));
        }
        let restored = {
            let i = inner.borrow();
            load_kept(&i.storage_key, &i.purchase)
        };
        inner.borrow_mut().listeners = listeners;
        dispatch(
            &inner,
            Event::Start {
                restored,
                fresh_id: fresh_id(),
            },
            false,
        );
        Ok(Widget { inner })
    }

    /// Shows a configuration error in `host` (nothing is requested).
    pub fn show_config_error(
        host: HtmlElement,
        message: &str,
        lang: Language,
    ) -> Result<Widget, JsValue> {
        let (mut view, _) =
            i18n::with(&lang.catalogue, || View::build(&host, &lang.tag, lang.dir))?;
        view.show_config_error(message);
        let inner = Rc::new(RefCell::new(Inner {
            machine: Checkout::new(crate::state::Options {
                fixed_amount_sat: None,
                bounds: crate::amount::Bounds::default(),
                network: crate::invoice::Network::Bitcoin,
                description: None,
                order_id: None,
                expiry_secs: None,
                fiat: None,
                unified: false,
            }),
            view,
            host,
            endpoint: String::new(),
            order_token: None,
            storage_key: String::new(),
            purchase: String::new(),
            timer: None,
            focus_timer: None,
            clock: ServerClock::default(),
            request: None,
            listeners: Vec::new(),
            catalogue: lang.catalogue,
            webln: Webln::default(),
            alive: true,
            engaged: false,
            live: None,
            live_refused: None,
        }));
        Ok(Widget { inner })
    }

    /// Removes every listener and timer, aborts the request in flight and empties the shadow
    /// root. Late answers are ignored.
    pub fn destroy(self) {
        let mut inner = self.inner.borrow_mut();
        inner.alive = false;
        inner.listeners.clear();
        inner.timer = None;
        inner.focus_timer = None;
        inner.request = None;
        inner.live = None;
        inner.view.clear();
    }
}

/// `sessionStorage` key of the invoice kept across reloads: one per purchase (endpoint, order
/// id, amount or bounds, description, network), page path and element id (a page may hold
/// several checkouts), hashed so that a long description makes no long key.
fn storage_key(host: &HtmlElement, purchase: &str) -> String {
    let path = web_sys::window()
        .and_then(|w| w.location().pathname().ok())
        .unwrap_or_default();
    let digest =
        crate::sha256::sha256(format!("{purchase}\u{1f}{path}\u{1f}{}", host.id()).as_bytes());
    format!(
        "lightning-checkout:v2:{}",
        crate::contract::hex_encode(&digest[..16])
    )
}

fn send(weak: &Weak<RefCell<Inner>>, event: Event, user_driven: bool) {
    if let Some(rc) = weak.upgrade() {
        dispatch(&rc, event, user_driven);
    }
}

/// Runs one event through the machine, then its effects, the render and the timer. No
/// `RefCell` borrow is held while host-page code runs (events, clipboard), so a host listener
/// may call `destroy()` safely.
/// `user_driven`: the payer pressed one of this widget's controls.
fn dispatch(rc: &Rc<RefCell<Inner>>, event: Event, user_driven: bool) {
    let Ok(catalogue) = rc.try_borrow().map(|i| i.catalogue.clone()) else {
        return;
    };
    i18n::with(&catalogue, || dispatch_in_language(rc, event, user_driven));
}

fn dispatch_in_language(rc: &Rc<RefCell<Inner>>, event: Event, user_driven: bool) {
    let (now, effects) = {
        let mut inner = rc.borrow_mut();
        if !inner.alive {
            return;
        }
        let now = inner.clock.now(now_ms());
        inner.engaged |= user_driven;
        (now, inner.machine.handle(event, now))
    };
    let mut later = Vec::new();
    for effect in effects {
        match effect {
            Effect::Create { seq, mut request } => {
                request.order_token = rc.borrow().order_token.clone();
                spawn_request(rc, move |endpoint, signal| async move {
                    let (result, server_time) = api::create(&endpoint, &request, signal).await;
                    (Event::Created { seq, result }, server_time)
                })
            }
            Effect::FetchStatus { seq, id } => {
                spawn_request(rc, move |endpoint, signal| async move {
                    let (result, server_time) = api::status(&endpoint, &id, signal).await;
                    (Event::Status { seq, result }, server_time)
                })
            }
            Effect::Save(created, order_id) => {
                let inner = rc.borrow();
                save_kept(&inner.storage_key, &inner.purchase, &created, order_id);
            }
            Effect::Forget => forget_kept(&rc.borrow().storage_key),
            other => later.push(other),
        }
    }
    let host = {
        let mut inner = rc.borrow_mut();
        let vm = inner.machine.view(now);
        inner.view.render(&vm);
        inner.host.clone()
    };
    for effect in later {
        match effect {
            Effect::Copy(text) => copy(rc, text),
            Effect::Emit(emit) => emit_event(&host, emit),
            Effect::Focus(target) => {
                // After this task, so that the browser paints the new state (the QR) first:
                // focusing forces style and layout, ~4 ms in the click-to-QR benchmark.
                // The timer is owned (replacing it cancels the earlier move; destroy clears it):
                // a forgotten one would leak its closure at every focus change.
                let weak = Rc::downgrade(rc);
                let timer = Timeout::new(0, move || {
                    if let Some(rc) = weak.upgrade() {
                        if let Ok(mut inner) = rc.try_borrow_mut() {
                            inner.focus_timer = None;
                            if inner.alive {
                                inner.view.focus(target, inner.engaged);
                            }
                        }
                    }
                });
                if let Ok(mut inner) = rc.try_borrow_mut() {
                    inner.focus_timer = Some(timer);
                }
            }
            _ => {}
        }
    }
    sync_stream(rc);
    webln_follow(rc);
    arm_timer(rc, now);
}

/// Opens the live status stream of the invoice the machine wants one for, closes any other.
fn sync_stream(rc: &Rc<RefCell<Inner>>) {
    let Ok(mut inner) = rc.try_borrow_mut() else {
        return;
    };
    let want = inner.machine.stream_id().map(str::to_owned);
    if !inner.alive || want.as_deref() == inner.live.as_ref().map(|l| l.id.as_str()) {
        return;
    }
    if let Some(old) = inner.live.take() {
        // This may run inside one of its listeners: stop it now, drop it after this task.
        old.close();
        wasm_bindgen_futures::spawn_local(async move { drop(old) });
    }
    let Some(id) = want.filter(|id| inner.live_refused.as_ref() != Some(id)) else {
        return;
    };
    let weak = Rc::downgrade(rc);
    // How long a silence is fine: twice the backend's heartbeat, once it said it.
    let alive_ms = Rc::new(std::cell::Cell::new(STREAM_SILENCE_MS));
    let stream_id = id.clone();
    let on = Rc::new(move |m: Message| {
        let event = match m {
            Message::Status(reply) => Event::Stream {
                reply: Some(reply),
                alive_ms: alive_ms.get(),
            },
            Message::Ping(ms) => {
                alive_ms.set(ms.saturating_mul(2).clamp(1_000, 120_000));
                Event::Stream {
                    reply: None,
                    alive_ms: alive_ms.get(),
                }
            }
            Message::Down { closed } => {
                if closed {
                    if let Some(rc) = weak.upgrade() {
                        if let Ok(mut inner) = rc.try_borrow_mut() {
                            inner.live_refused = Some(stream_id.clone());
                        }
                    }
                }
                Event::StreamDown
            }
        };
        send(&weak, event, false);
    });
    inner.live = LiveStatus::open(&inner.endpoint, &id, on);
}

/// Starts the one request in flight (replacing, and so aborting, any earlier one); its answer
/// comes back as the event `run` makes, unless the widget is gone by then. The `server_time`
/// of the answer corrects the widget's clock before that event is handled.
fn spawn_request<F, Fut>(rc: &Rc<RefCell<Inner>>, run: F)
where
    F: FnOnce(String, Option<web_sys::AbortSignal>) -> Fut + 'static,
    Fut: std::future::Future<Output = (Event, Option<u64>)> + 'static,
{
    let (flight, signal) = InFlight::new();
    let endpoint = {
        let mut inner = rc.borrow_mut();
        inner.request = Some(flight);
        inner.endpoint.clone()
    };
    let weak = Rc::downgrade(rc);
    let catalogue = rc.borrow().catalogue.clone();
    let run = |endpoint, signal| InCatalogue {
        catalogue,
        future: Box::pin(run(endpoint, signal)),
    };
    wasm_bindgen_futures::spawn_local(async move {
        let sent = now_ms();
        let (event, server_time) = run(endpoint, signal).await;
        if let (Some(server_time), Some(rc)) = (server_time, weak.upgrade()) {
            if let Ok(mut inner) = rc.try_borrow_mut() {
                inner.clock.observe(sent, now_ms(), server_time);
            }
        }
        send(&weak, event, false);
    });
}

/// Follows the invoice the checkout shows (new, restored after a reload, paid, expired): the
/// browser wallet may pay an open BOLT 11 invoice; another invoice, or none, drops what the
/// wallet said about the last one.
fn webln_follow(rc: &Rc<RefCell<Inner>>) {
    if let Ok(mut inner) = rc.try_borrow_mut() {
        let open = inner
            .machine
            .open_bolt11()
            .map(|(pr, hash)| (String::from(pr), hash));
        let w = &mut inner.webln;
        if w.target.as_ref().map(|t| t.1) != open.as_ref().map(|t| t.1) {
            w.busy = false;
            w.note = None;
        }
        w.target = open;
    }
    render_webln(rc);
}

fn render_webln(rc: &Rc<RefCell<Inner>>) {
    if let Ok(inner) = rc.try_borrow() {
        let w = &inner.webln;
        i18n::with(&inner.catalogue, || {
            let note = w.note.map(i18n::t);
            inner
                .view
                .render_webln(w.offered && w.target.is_some(), w.busy, note.as_deref());
        });
    }
}

/// "Pay with browser wallet": `enable()` then `sendPayment(invoice)`, bounded in time. Only a
/// preimage whose SHA-256 is the payment hash lets it say the payment was sent, and even then
/// the backend decides "paid" (it is asked at once). Whatever else happens, one sentence, and
/// QR, Copy and Open wallet stay as they were.
fn pay_with_webln(weak: &Weak<RefCell<Inner>>) {
    let Some(rc) = weak.upgrade() else {
        return;
    };
    let (target, timeout_ms) = {
        let Ok(mut inner) = rc.try_borrow_mut() else {
            return;
        };
        inner.engaged = true;
        let w = &mut inner.webln;
        match (&w.target, w.busy) {
            (Some(t), false) => {
                w.busy = true;
                w.note = None;
                (t.clone(), w.timeout_ms)
            }
            _ => return,
        }
    };
    render_webln(&rc);
    let weak = weak.clone();
    let (invoice, hash) = target;
    webln::pay(invoice, timeout_ms, move |outcome| {
        let Some(rc) = weak.upgrade() else {
            return;
        };
        let proven = {
            let Ok(mut inner) = rc.try_borrow_mut() else {
                return;
            };
            let w = &mut inner.webln;
            if w.target.as_ref().map(|t| t.1) != Some(hash) {
                return; // another invoice by now
            }
            w.busy = false;
            let proven = matches!(&outcome, Outcome::Preimage(p)
                if crate::invoice::preimage_matches(p, &hash));
            w.note = Some(match outcome {
                _ if proven => "webln_sent",
                Outcome::Preimage(_) | Outcome::NoPreimage => "webln_bad_proof",
                Outcome::Timeout => "webln_timeout",
                Outcome::Failed => "webln_failed",
            });
            proven
        };
        render_webln(&rc);
        if proven {
            // Like a tab coming back: the status is asked at once.
            send(&weak, Event::PageVisible, false);
        }
    });
}

fn arm_timer(rc: &Rc<RefCell<Inner>>, now: u64) {
    let Ok(mut inner) = rc.try_borrow_mut() else {
        return;
    };
    if !inner.alive {
        return;
    }
    inner.timer = inner.machine.next_wake(now).map(|at| {
        let delay = at.saturating_sub(now).min(u64::from(u32::MAX / 2)) as u32;
        let weak = Rc::downgrade(rc);
        Timeout::new(delay, move || send(&weak, Event::Tick, false))
    });
}

fn copy(rc: &Rc<RefCell<Inner>>, text: String) {
    let weak = Rc::downgrade(rc);
    // `navigator.clipboard` is missing on plain http (not a secure context) and in older engines:
    // calling into it would throw out of the task and leave Copy silent. A failed copy instead.
    let clipboard = web_sys::window()
        .and_then(|w| js_sys::Reflect::get(&w.navigator(), &JsValue::from_str("clipboard")).ok())
        .filter(JsValue::is_object)
        .map(JsCast::unchecked_into::<web_sys::Clipboard>);
    wasm_bindgen_futures::spawn_local(async move {
        let ok = match clipboard {
            Some(c) => wasm_bindgen_futures::JsFuture::from(c.write_text(&text))
                .await
                .is_ok(),
            None => false,
        };
        send(&weak, Event::CopyDone { ok }, false);
    });
}

fn set(obj: &js_sys::Object, key: &str, value: JsValue) {
    js_sys::Reflect::set(obj, &JsValue::from_str(key), &value).ok();
}

fn opt_str(v: &Option<String>) -> JsValue {
    v.as_deref().map_or(JsValue::NULL, JsValue::from_str)
}

/// Dispatches `lightning-checkout:<kind>` (bubbles, composed) with a plain-object `detail`.
fn emit_event(host: &HtmlElement, emit: Emit) {
    let detail = js_sys::Object::new();
    let kind = match emit {
        Emit::Invoice {
            id,
            payment_request,
            pay_url,
            payment_hash,
            amount_sat,
            expires_at,
        } => {
            set(&detail, "id", JsValue::from_str(&id));
            set(&detail, "paymentRequest", opt_str(&payment_request));
            set(&detail, "paymentHash", opt_str(&payment_hash));
            if pay_url.is_some() {
                set(&detail, "payUrl", opt_str(&pay_url));
            }
            set(&detail, "amountSat", JsValue::from_f64(amount_sat as f64));
            set(&detail, "expiresAt", JsValue::from_f64(expires_at as f64));
            "invoice"
        }
        Emit::Paid {
            id,
            payment_hash,
            preimage,
        } => {
            set(&detail, "id", JsValue::from_str(&id));
            set(&detail, "paymentHash", opt_str(&payment_hash));
            set(&detail, "preimage", opt_str(&preimage));
            "paid"
        }
        Emit::Expired { id } => {
            set(&detail, "id", JsValue::from_str(&id));
            "expired"
        }
        Emit::Error(f) => {
            set(&detail, "code", JsValue::from_str(&f.code));
            set(&detail, "message", JsValue::from_str(&f.message));
            "error"
        }
    };
    let init = CustomEventInit::new();
    init.set_bubbles(true);
    init.set_composed(true);
    init.set_detail(&detail);
    if let Ok(event) =
        CustomEvent::new_with_event_init_dict(&format!("{EVENT_PREFIX}{kind}"), &init)
    {
        host.dispatch_event(&event).ok();
    }
}
