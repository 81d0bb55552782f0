//! PURE: the checkout state machine.
//!
//! [`Checkout::handle`] takes one [`Event`] and the current time (`Date.now()` in the browser,
//! any number in tests) and returns the [`Effect`]s the glue must run; it never performs I/O and
//! never reads a clock ("sans-IO", as str0m does). The glue arms one timer for
//! [`Checkout::next_wake`] and feeds [`Event::Tick`] back, and renders [`Checkout::view`].
//!
//! Rules that protect the payer live here, where tests reach them directly:
//! - an invoice is shown only after [`crate::invoice::check_invoice`] accepted it;
//! - at most one request is in flight; every reply carries the sequence number of its request
//!   and a reply to anything but the latest request is dropped;
//! - `paid` is final: no later answer takes it back;
//! - "paid" with a preimage whose SHA-256 is not the payment hash is not believed;
//! - at expiry one last status check (retried briefly on network failure) catches a payment
//!   made in the last seconds before the invoice is declared expired;
//! - a message of the live status stream ([`Event::Stream`]) goes through the same rules as a
//!   poll's answer; while the stream is alive polls are spaced [`STREAM_POLL_INTERVAL_MS`] apart,
//!   and once it fails or falls silent polling takes over.

use crate::amount::{format_sat, parse_amount_sat, AmountError, Bounds};
use crate::contract::{CreateRequest, Created, Payable, Status, StatusReply};
use crate::i18n::{t, tf};
use crate::invoice::{check_invoice, preimage_matches, CheckedInvoice, Expected, Network};

/// Status poll interval while an invoice is open. BTCPay's checkout polls every 2 s when its
/// WebSocket is down; a Lightning payment settles in about a second, so 2 s keeps the wait short
/// without loading the shop's backend (a poll is one indexed SQLite read there).
pub const POLL_INTERVAL_MS: u64 = 2_000;
/// While the live status stream is alive, a poll still runs this often: a safety net for a
/// backend that hears of the payment only when asked.
pub const STREAM_POLL_INTERVAL_MS: u64 = 30_000;
/// How long a stream is believed alive after a message when it did not say (its `ping` says).
pub const STREAM_SILENCE_MS: u64 = 30_000;
/// Upper bound of the exponential backoff after failed polls.
pub const MAX_BACKOFF_MS: u64 = 30_000;
/// Failed polls in a row after which the payer is told that the connection is flaky.
pub const FLAKY_AFTER_FAILURES: u32 = 3;
/// Status checks made at expiry before an unanswered invoice is declared expired.
pub const FINAL_CHECK_ATTEMPTS: u32 = 3;
/// Delay between final checks that failed.
pub const FINAL_CHECK_RETRY_MS: u64 = 1_500;
/// After the invoice expired unpaid by our clock, its status is still checked this long: a
/// payment made in the last seconds can be confirmed late (a provider's callback on its way,
/// clocks a little apart), and a payer who paid must learn it. The backend keeps such invoices
/// pending for as long (see backend PROVIDERS.md, "callback grace").
pub const LATE_PAYMENT_WINDOW_MS: u64 = 120_000;
/// Status check interval during that window.
pub const LATE_POLL_INTERVAL_MS: u64 = 5_000;
/// How long after "Open wallet" a still-visible page means no wallet app opened.
pub const WALLET_CHECK_MS: u64 = 2_500;
/// How long "Copied" stays on the button.
pub const COPIED_MS: u64 = 2_000;

/// Checkout configuration, already validated (`config.rs` parses the attributes and options).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Fixed amount: no form, the invoice is requested at once.
    pub fixed_amount_sat: Option<u64>,
    /// Bounds of a payer-typed amount.
    pub bounds: Bounds,
    /// The only network whose invoices are accepted.
    pub network: Network,
    /// Sent to the backend as the invoice description.
    pub description: Option<String>,
    /// The shop's order id.
    pub order_id: Option<String>,
    /// Requested invoice lifetime.
    pub expiry_secs: Option<u32>,
    /// A fiat price: no form, the backend converts it and its answer's sats are what is paid.
    pub fiat: Option<crate::fiat::FiatPrice>,
    /// Ask for an on-chain address too; with one, the QR is the unified BIP21 URI.
    pub unified: bool,
}

/// Something the payer should be told, and a stable code for the host page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// Stable snake_case code (the `lightning-checkout:error` event's `detail.code`).
    pub code: String,
    /// One plain sentence.
    pub message: String,
    /// Seconds the backend asked us to wait (`Retry-After` on 429/503).
    pub retry_after_secs: Option<u64>,
}

impl Failure {
    /// A failure with no `Retry-After`.
    pub fn new(code: &str, message: impl Into<String>) -> Failure {
        Failure {
            code: code.into(),
            message: message.into(),
            retry_after_secs: None,
        }
    }
}

/// What the shown invoice asks the payer to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shown {
    /// A checked BOLT 11 invoice.
    Bolt11(CheckedInvoice),
    /// A pay link (Kraken Pay).
    Link(String),
}

/// The invoice being shown (or last shown).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Current {
    /// Backend's invoice id.
    pub id: String,
    /// What to pay.
    pub shown: Shown,
    /// Amount in sats.
    pub amount_sat: u64,
    /// When it stops being payable: the BOLT 11 invoice's own timestamp + expiry.
    pub expires_at_ms: u64,
    /// The wire form, kept across a reload.
    pub created: Created,
    /// Proof of payment, once paid (when the backend gave one).
    pub preimage: Option<String>,
}

/// Where the checkout is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Phase {
    /// Waiting for the payer to type an amount.
    Form,
    /// Asking the backend for an invoice for this amount.
    Creating {
        /// The amount asked for.
        amount_sat: u64,
    },
    /// An invoice is shown; polling for its status.
    Open,
    /// Paid (final).
    Paid,
    /// Expired unpaid.
    Expired,
    /// Creating the invoice failed, or the invoice was refused.
    Failed {
        /// The amount to ask for again on "Try again".
        amount_sat: u64,
    },
}

/// Inputs to the machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The widget was mounted. `restored` is the invoice kept across a reload, if any;
    /// `fresh_id` a random id the glue made, used as order id when the shop gave none.
    Start {
        /// Invoice kept in `sessionStorage` by an earlier page load.
        restored: Option<(Created, Option<String>)>,
        /// A new random order id (`wc_…`).
        fresh_id: String,
    },
    /// The payer submitted the amount form.
    Submit {
        /// What was typed.
        amount_text: String,
        /// A new random order id, used if this is a new attempt.
        fresh_id: String,
    },
    /// Answer to [`Effect::Create`].
    Created {
        /// Sequence number of the request.
        seq: u64,
        /// Validated answer or why not.
        result: Result<Created, Failure>,
    },
    /// Answer to [`Effect::FetchStatus`].
    Status {
        /// Sequence number of the request.
        seq: u64,
        /// Validated answer or why not.
        result: Result<StatusReply, Failure>,
    },
    /// The timer armed for [`Checkout::next_wake`] fired.
    Tick,
    /// "New invoice" after expiry.
    NewInvoice {
        /// A new random order id, used when the shop gave none.
        fresh_id: String,
    },
    /// "Try again" after a failure.
    Retry,
    /// "Change amount": back to the form.
    ChangeAmount,
    /// "Copy" was pressed.
    Copy,
    /// "Copy address" (the on-chain address of a unified QR) was pressed.
    CopyAddress,
    /// The clipboard write finished.
    CopyDone {
        /// Whether it worked.
        ok: bool,
    },
    /// "Open wallet" was pressed.
    OpenWallet,
    /// The page was hidden or lost focus (a wallet app probably opened).
    PageHidden,
    /// The page became visible again (timers may have been throttled: poll now).
    PageVisible,
    /// A message of the live status stream (`GET {endpoint}/invoices/{id}/events`): a status
    /// (`reply`, already checked to be this invoice's) or a heartbeat (`None`). The stream is
    /// believed alive for `alive_ms` from now.
    Stream {
        /// The status it carried.
        reply: Option<StatusReply>,
        /// How long silence is fine.
        alive_ms: u64,
    },
    /// The live status stream failed, was refused or closed: polling takes over.
    StreamDown,
}

/// What the glue must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// `POST {endpoint}/invoices`; answer with [`Event::Created`] carrying `seq`.
    Create {
        /// Sequence number to echo.
        seq: u64,
        /// Body.
        request: CreateRequest,
    },
    /// `GET {endpoint}/invoices/{id}`; answer with [`Event::Status`] carrying `seq`.
    FetchStatus {
        /// Sequence number to echo.
        seq: u64,
        /// Invoice id (validated URL-safe).
        id: String,
    },
    /// Write text to the clipboard; answer with [`Event::CopyDone`].
    Copy(String),
    /// Dispatch a DOM event on the host element.
    Emit(Emit),
    /// Keep this invoice (and its order id) across a reload.
    Save(Created, Option<String>),
    /// Forget the kept invoice.
    Forget,
    /// Move keyboard focus.
    Focus(FocusTarget),
}

/// Where focus goes after a change the payer did not make themselves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FocusTarget {
    /// The amount input.
    AmountInput,
    /// The Copy button (first control of a shown invoice).
    Copy,
    /// The "New invoice" button.
    NewInvoice,
    /// The "Try again" button.
    Retry,
}

/// DOM events for the host page (`lightning-checkout:*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Emit {
    /// An invoice is shown.
    Invoice {
        /// Backend's invoice id.
        id: String,
        /// Lower-case BOLT 11 invoice (None for a pay link).
        payment_request: Option<String>,
        /// Pay link (None for BOLT 11).
        pay_url: Option<String>,
        /// Hex payment hash (None for a pay link).
        payment_hash: Option<String>,
        /// Amount in sats.
        amount_sat: u64,
        /// Unix seconds.
        expires_at: u64,
    },
    /// Paid.
    Paid {
        /// Backend's invoice id.
        id: String,
        /// Hex payment hash (None for a pay link).
        payment_hash: Option<String>,
        /// Hex preimage when known.
        preimage: Option<String>,
    },
    /// Expired unpaid.
    Expired {
        /// Backend's invoice id.
        id: String,
    },
    /// Something went wrong.
    Error(Failure),
}

/// Everything the view draws, derived from the state and the time.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ViewModel {
    /// Show the amount form.
    pub form: bool,
    /// The form's inline error.
    pub form_error: Option<String>,
    /// Disable inputs while a request runs.
    pub busy: bool,
    /// The invoice panel, if an invoice is shown.
    pub invoice: Option<InvoiceView>,
    /// The `aria-live` status line.
    pub status: String,
    /// The error line.
    pub error: Option<String>,
    /// Show "New invoice".
    pub new_invoice: bool,
    /// Show "Try again".
    pub retry: bool,
    /// Show "Change amount".
    pub change_amount: bool,
    /// Paid: the success state.
    pub paid: bool,
}

/// The invoice panel.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InvoiceView {
    /// QR content (`lightning:` + upper-case invoice, or the pay link); None hides the QR.
    pub qr_payload: Option<String>,
    /// The QR's accessible name.
    pub qr_label: String,
    /// Text shown under the QR and copied by Copy (lower-case invoice or link).
    pub text: String,
    /// `href` of the main action (`lightning:` + lower-case invoice, or the link).
    pub action_href: String,
    /// Label of the main action ("Open wallet" or "Pay with Kraken").
    pub action_label: String,
    /// Amount line, e.g. "2,500 sat".
    pub amount: String,
    /// The backend's fiat price under it ("≈ EUR 4.50"), for a fiat-priced invoice.
    pub fiat: Option<String>,
    /// The on-chain address of a unified QR (its own Copy action), if any.
    pub address: Option<String>,
    /// "Copied" feedback on the Copy address button.
    pub address_copied: bool,
    /// Description from the invoice (shown as text).
    pub description: Option<String>,
    /// mm:ss left, or None once expired/paid.
    pub countdown: Option<String>,
    /// "Copied" feedback on the Copy button.
    pub copied: bool,
    /// The "no wallet opened?" hint.
    pub wallet_hint: bool,
    /// The clipboard write failed (blocked by the page or the browser).
    pub copy_failed: bool,
    /// The main action opens a web page (a pay link): in a new tab, so this page stays.
    pub new_tab: bool,
    /// The pay actions (QR, copy, open) are usable.
    pub payable: bool,
}

/// The checkout state machine.
#[derive(Debug, Clone)]
pub struct Checkout {
    opts: Options,
    phase: Phase,
    current: Option<Current>,
    form_error: Option<String>,
    error: Option<Failure>,
    /// Order id of the current attempt.
    order_id: Option<String>,
    /// Amount of the current attempt (the order id is reused only for the same amount).
    attempt_amount: Option<u64>,
    seq: u64,
    /// Sequence number of the request in flight, if any.
    in_flight: Option<u64>,
    next_poll_at: u64,
    failures: u32,
    final_checks: u32,
    copied_until: u64,
    copy_failed: bool,
    /// The last copy was the on-chain address.
    copied_address: bool,
    /// An on-chain payment seen (its confirmations, and those required).
    onchain_seen: Option<crate::contract::OnchainSeen>,
    wallet_check_at: Option<u64>,
    wallet_hint: bool,
    preimage_mismatch: bool,
    /// Until when an invoice we declared expired is still checked for a late payment.
    late_until: u64,
    /// Until when the live status stream is believed alive (0: not open).
    stream_until: u64,
    /// When the last status poll was sent.
    last_poll_at: u64,
}

impl Checkout {
    /// A checkout in its initial state; send [`Event::Start`] next.
    pub fn new(opts: Options) -> Checkout {
        Checkout {
            opts,
            phase: Phase::Form,
            current: None,
            form_error: None,
            error: None,
            order_id: None,
            attempt_amount: None,
            seq: 0,
            in_flight: None,
            next_poll_at: 0,
            failures: 0,
            final_checks: 0,
            copied_until: 0,
            copy_failed: false,
            copied_address: false,
            onchain_seen: None,
            wallet_check_at: None,
            wallet_hint: false,
            preimage_mismatch: false,
            late_until: 0,
            stream_until: 0,
            last_poll_at: 0,
        }
    }

    /// Where the checkout is.
    pub fn phase(&self) -> &Phase {
        &self.phase
    }

    /// The invoice shown or last shown.
    pub fn current(&self) -> Option<&Current> {
        self.current.as_ref()
    }

    /// Whether a request is in flight.
    pub fn busy(&self) -> bool {
        self.in_flight.is_some()
    }

    /// The invoice whose live status stream should be open now: the shown one, while it is
    /// open for payment.
    pub fn stream_id(&self) -> Option<&str> {
        match (&self.phase, &self.current) {
            (Phase::Open, Some(cur)) => Some(&cur.id),
            _ => None,
        }
    }

    /// Handles one event at time `now_ms` (milliseconds since the Unix epoch).
    pub fn handle(&mut self, event: Event, now_ms: u64) -> Vec<Effect> {
        let mut fx = Vec::new();
        match event {
            Event::Start { restored, fresh_id } => self.start(restored, fresh_id, now_ms, &mut fx),
            Event::Submit {
                amount_text,
                fresh_id,
            } => self.submit(&amount_text, fresh_id, &mut fx),
            Event::Created { seq, result } => self.created(seq, result, now_ms, &mut fx),
            Event::Status { seq, result } => self.status(seq, result, now_ms, &mut fx),
            Event::Tick => self.tick(now_ms, &mut fx),
            Event::NewInvoice { fresh_id } => {
                if self.phase == Phase::Expired {
                    if let Some(amount) = self.current.as_ref().map(|c| c.amount_sat) {
                        // A new invoice is a new attempt: a shop order id is reused (the backend
                        // answers a new invoice once the old one expired), a generated one is not.
                        self.order_id = Some(self.opts.order_id.clone().unwrap_or(fresh_id));
                        fx.push(Effect::Forget);
                        self.request_invoice(amount, &mut fx);
                    }
                }
            }
            Event::Retry => {
                if let Phase::Failed { amount_sat } = self.phase {
                    // Same order id: if the first request did create an invoice and only its
                    // answer was lost, the backend returns that same invoice.
                    self.request_invoice(amount_sat, &mut fx);
                }
            }
            Event::ChangeAmount => {
                if self.can_change_amount() {
                    self.reset_to_form(&mut fx);
                    fx.push(Effect::Focus(FocusTarget::AmountInput));
                }
            }
            Event::Copy => {
                if let Some(cur) = &self.current {
                    if self.phase == Phase::Open {
                        self.copied_address = false;
                        fx.push(Effect::Copy(copy_text(&cur.shown)));
                    }
                }
            }
            Event::CopyAddress => {
                if let Some(addr) = self.current.as_ref().and_then(|c| self.unified_address(c)) {
                    if self.phase == Phase::Open {
                        self.copied_address = true;
                        fx.push(Effect::Copy(String::from(addr)));
                    }
                }
            }
            Event::CopyDone { ok } => {
                self.copy_failed = !ok;
                self.copied_until = if ok { now_ms + COPIED_MS } else { 0 };
            }
            Event::OpenWallet => {
                if self.phase == Phase::Open {
                    self.wallet_hint = false;
                    self.wallet_check_at = Some(now_ms + WALLET_CHECK_MS);
                }
            }
            Event::PageHidden => {
                self.wallet_check_at = None;
                self.wallet_hint = false;
            }
            Event::PageVisible => {
                if self.phase == Phase::Open && self.in_flight.is_none() {
                    self.next_poll_at = now_ms;
                    self.last_poll_at = 0;
                    self.tick(now_ms, &mut fx);
                }
            }
            Event::Stream { reply, alive_ms } => {
                if self.phase == Phase::Open {
                    self.stream_until = now_ms.saturating_add(alive_ms);
                }
                if let Some(reply) = reply {
                    // Only the shown invoice's: a message of a stream closed a moment ago is not.
                    let ours = self.current.as_ref().is_some_and(|c| c.id == reply.id);
                    if ours && matches!(self.phase, Phase::Open | Phase::Expired) {
                        self.apply_status(Ok(reply), false, now_ms, &mut fx);
                    }
                }
            }
            Event::StreamDown => {
                self.stream_until = 0;
                if self.phase == Phase::Open {
                    self.next_poll_at = self.next_poll_at.min(now_ms + POLL_INTERVAL_MS);
                }
            }
        }
        fx
    }

    /// When the glue must send the next [`Event::Tick`], if ever.
    pub fn next_wake(&self, now_ms: u64) -> Option<u64> {
        let mut wake: Option<u64> = None;
        let mut at = |t: u64| wake = Some(wake.map_or(t, |w| w.min(t)));
        if self.copied_until > now_ms {
            at(self.copied_until);
        }
        if let Some(t) = self.wallet_check_at {
            at(t);
        }
        if self.phase == Phase::Expired && self.in_flight.is_none() && now_ms < self.late_until {
            at(self.next_poll_at.min(self.late_until));
        }
        if self.phase == Phase::Open {
            if let Some(cur) = &self.current {
                if self.in_flight.is_none() {
                    at(self.next_poll_at.min(cur.expires_at_ms));
                }
                if now_ms < cur.expires_at_ms {
                    // The next change of the mm:ss countdown.
                    let left = cur.expires_at_ms - now_ms;
                    let step = match left % 1000 {
                        0 => 1000,
                        r => r,
                    };
                    at(now_ms + step);
                }
            }
        }
        wake
    }

    /// The open BOLT 11 invoice a browser wallet may pay: its payment request and payment hash
    /// (none for a pay link, or once paid or expired).
    pub fn open_bolt11(&self) -> Option<(&str, [u8; 32])> {
        match (&self.phase, &self.current) {
            (
                Phase::Open,
                Some(Current {
                    shown: Shown::Bolt11(inv),
                    ..
                }),
            ) => Some((inv.payment_request(), inv.payment_hash())),
            _ => None,
        }
    }

    /// What to draw at time `now_ms`.
    pub fn view(&self, now_ms: u64) -> ViewModel {
        let mut vm = ViewModel {
            busy: self.in_flight.is_some() && matches!(self.phase, Phase::Creating { .. }),
            error: self.error.as_ref().map(|e| e.message.clone()),
            change_amount: self.can_change_amount()
                && matches!(
                    self.phase,
                    Phase::Open | Phase::Expired | Phase::Failed { .. }
                ),
            ..ViewModel::default()
        };
        match &self.phase {
            Phase::Form => {
                vm.form = true;
                vm.form_error = self.form_error.clone();
                vm.change_amount = false;
            }
            Phase::Creating { amount_sat } => {
                vm.form = self.opts.fixed_amount_sat.is_none() && self.opts.fiat.is_none();
                let amount = match &self.opts.fiat {
                    Some(f) => crate::fiat::format_price(f),
                    None => format_sat(*amount_sat),
                };
                vm.status = tf("creating", &[("amount", &amount)]);
            }
            Phase::Open => {
                vm.status = if self.preimage_mismatch {
                    t("waiting_unconfirmed")
                } else if let Some(seen) = self.onchain_seen {
                    if seen.confirmations == 0 {
                        t("onchain_seen")
                    } else {
                        let count = |n: u32| crate::amount::format_count(u64::from(n));
                        tf(
                            "onchain_confirmations",
                            &[
                                ("confirmations", &count(seen.confirmations)),
                                ("required", &count(seen.required)),
                            ],
                        )
                    }
                } else if self.failures >= FLAKY_AFTER_FAILURES {
                    t("waiting_flaky")
                } else {
                    t("waiting")
                };
            }
            Phase::Paid => {
                vm.paid = true;
                vm.status = match &self.current {
                    Some(c) => tf("paid_amount", &[("amount", &format_sat(c.amount_sat))]),
                    None => t("paid"),
                };
            }
            Phase::Expired => {
                vm.status = t("expired");
                vm.new_invoice = true;
            }
            Phase::Failed { .. } => {
                vm.retry = true;
            }
        }
        if let Some(cur) = &self.current {
            if matches!(self.phase, Phase::Open | Phase::Paid | Phase::Expired) {
                vm.invoice = Some(self.invoice_view(cur, now_ms));
            }
        }
        vm
    }

    fn invoice_view(&self, cur: &Current, now_ms: u64) -> InvoiceView {
        let open = self.phase == Phase::Open;
        let amount = format_sat(cur.amount_sat);
        let address = self.unified_address(cur);
        let (qr, label, text, href, action) = match &cur.shown {
            Shown::Bolt11(inv) => (
                match address {
                    Some(a) => crate::unified::bip21(a, cur.amount_sat, inv.payment_request()),
                    None => inv.qr_payload(),
                },
                tf("qr_label", &[("amount", &amount)]),
                String::from(inv.payment_request()),
                inv.wallet_uri(),
                t("open_wallet"),
            ),
            Shown::Link(url) => (
                url.clone(),
                tf("qr_label_link", &[("amount", &amount)]),
                url.clone(),
                url.clone(),
                t("pay_with_kraken"),
            ),
        };
        let description = match &cur.shown {
            Shown::Bolt11(inv) => inv.description().map(String::from),
            Shown::Link(_) => self.opts.description.clone(),
        };
        InvoiceView {
            qr_payload: open.then_some(qr),
            qr_label: label,
            text,
            action_href: href,
            action_label: action,
            amount,
            fiat: cur.created.fiat.as_ref().map(crate::fiat::approx_line),
            description,
            countdown: open.then(|| countdown(cur.expires_at_ms.saturating_sub(now_ms))),
            copied: open && self.copied_until > now_ms && !self.copied_address,
            address: address.map(String::from),
            address_copied: open && self.copied_until > now_ms && self.copied_address,
            wallet_hint: open && self.wallet_hint,
            copy_failed: open && self.copy_failed,
            new_tab: matches!(cur.shown, Shown::Link(_)),
            payable: open,
        }
    }

    /// The on-chain address of a unified QR: asked for (`unified`), given, and beside a BOLT 11
    /// invoice.
    fn unified_address<'a>(&self, cur: &'a Current) -> Option<&'a str> {
        match (&cur.shown, &cur.created.onchain_address) {
            (Shown::Bolt11(_), Some(a)) if self.opts.unified => Some(a),
            _ => None,
        }
    }

    fn can_change_amount(&self) -> bool {
        self.opts.fixed_amount_sat.is_none()
            && self.opts.fiat.is_none()
            && self.opts.order_id.is_none()
    }

    fn reset_to_form(&mut self, fx: &mut Vec<Effect>) {
        self.phase = Phase::Form;
        self.current = None;
        self.error = None;
        self.form_error = None;
        self.in_flight = None;
        self.order_id = None;
        self.attempt_amount = None;
        self.wallet_check_at = None;
        self.wallet_hint = false;
        fx.push(Effect::Forget);
    }

    fn start(
        &mut self,
        restored: Option<(Created, Option<String>)>,
        fresh_id: String,
        now_ms: u64,
        fx: &mut Vec<Effect>,
    ) {
        if let Some((created, order_id)) = restored {
            // Show the same invoice again (checked again: storage is just another input).
            // Its expiry is handled below like any open invoice: a status check first,
            // so a payer who paid and reloaded sees "paid".
            // It must be for this purchase, compared with the current attributes (not with
            // itself): the shop's amount or bounds, and the shop's order id.
            let fits = match (&self.opts.fiat, self.opts.fixed_amount_sat) {
                (Some(f), _) => created.fiat.as_ref().is_some_and(|c| c.same_as(f)),
                (None, Some(fixed)) => created.amount_sat == fixed,
                (None, None) => (self.opts.bounds.min_sat..=self.opts.bounds.max_sat)
                    .contains(&created.amount_sat),
            } && (self.opts.order_id.is_none() || order_id == self.opts.order_id);
            self.order_id = order_id.or_else(|| self.opts.order_id.clone());
            self.attempt_amount = Some(created.amount_sat);
            let amount = created.amount_sat;
            match fits.then(|| self.accept(created, amount, 0).ok()).flatten() {
                Some(cur) => {
                    self.current = Some(cur);
                    self.phase = Phase::Open;
                    self.next_poll_at = now_ms;
                    self.tick(now_ms, fx);
                    return;
                }
                None => {
                    self.order_id = None;
                    self.attempt_amount = None;
                    fx.push(Effect::Forget);
                }
            }
        }
        // A fiat price asks for 0 sat: the backend's conversion decides (see `accept`).
        if let Some(amount) = self
            .opts
            .fixed_amount_sat
            .or(self.opts.fiat.as_ref().map(|_| 0))
        {
            self.order_id = Some(self.opts.order_id.clone().unwrap_or(fresh_id));
            self.request_invoice(amount, fx);
        }
    }

    fn submit(&mut self, amount_text: &str, fresh_id: String, fx: &mut Vec<Effect>) {
        if !matches!(self.phase, Phase::Form | Phase::Failed { .. }) || self.in_flight.is_some() {
            return;
        }
        match parse_amount_sat(amount_text, self.opts.bounds) {
            Err(e) => {
                self.form_error = Some(amount_message(&e));
                self.phase = Phase::Form;
                self.error = None;
                fx.push(Effect::Focus(FocusTarget::AmountInput));
            }
            Ok(amount) => {
                self.form_error = None;
                if self.attempt_amount != Some(amount) || self.order_id.is_none() {
                    self.order_id = Some(self.opts.order_id.clone().unwrap_or(fresh_id));
                    self.attempt_amount = Some(amount);
                }
                self.request_invoice(amount, fx);
            }
        }
    }

    fn request_invoice(&mut self, amount_sat: u64, fx: &mut Vec<Effect>) {
        self.seq += 1;
        self.in_flight = Some(self.seq);
        self.phase = Phase::Creating { amount_sat };
        self.current = None;
        self.error = None;
        self.failures = 0;
        self.final_checks = 0;
        self.preimage_mismatch = false;
        self.late_until = 0;
        self.stream_until = 0;
        self.last_poll_at = 0;
        self.wallet_check_at = None;
        self.onchain_seen = None;
        self.wallet_hint = false;
        self.attempt_amount = Some(amount_sat);
        fx.push(Effect::Create {
            seq: self.seq,
            request: CreateRequest {
                amount_sat,
                description: self.opts.description.clone(),
                order_id: self.order_id.clone(),
                expiry_secs: self.opts.expiry_secs,
                currency: self.opts.fiat.as_ref().map(|f| f.currency.clone()),
                fiat_amount: self.opts.fiat.as_ref().map(|f| f.amount.clone()),
                unified: self.opts.unified.then_some(true),
                // The shop's token is the edge's (widget.rs adds it): the state machine decides
                // what to ask, not how the order is signed.
                order_token: None,
            },
        });
    }

    fn created(
        &mut self,
        seq: u64,
        result: Result<Created, Failure>,
        now_ms: u64,
        fx: &mut Vec<Effect>,
    ) {
        let Phase::Creating { amount_sat } = self.phase else {
            return;
        };
        if self.in_flight != Some(seq) {
            return;
        }
        self.in_flight = None;
        let accepted = result.and_then(|created| self.accept(created, amount_sat, now_ms));
        match accepted {
            Ok(cur) => {
                fx.push(Effect::Save(cur.created.clone(), self.order_id.clone()));
                fx.push(Effect::Emit(invoice_event(&cur)));
                fx.push(Effect::Focus(FocusTarget::Copy));
                self.next_poll_at = now_ms + POLL_INTERVAL_MS;
                self.last_poll_at = now_ms;
                self.current = Some(cur);
                self.phase = Phase::Open;
            }
            Err(f) => self.fail(f, amount_sat, fx),
        }
    }

    /// Checks a created invoice against what was asked: the amount, and for BOLT 11 the
    /// network, the payment hash and the expiry (at `now_ms`; 0 skips the expiry check).
    fn accept(&self, created: Created, amount_sat: u64, now_ms: u64) -> Result<Current, Failure> {
        // A fiat price: the answer must state this price, and its sats (within the bounds) are
        // what the invoice must ask for.
        let amount_sat = match &self.opts.fiat {
            Some(f)
                if created.fiat.as_ref().is_some_and(|c| c.same_as(f))
                    && (self.opts.bounds.min_sat..=self.opts.bounds.max_sat)
                        .contains(&created.amount_sat) =>
            {
                created.amount_sat
            }
            Some(f) => {
                return Err(Failure::new(
                    "invoice_wrong_amount",
                    format!(
                        "The shop's server made an invoice for another price than {} {}, so it is not shown.",
                        f.currency, f.amount
                    ),
                ))
            }
            None => amount_sat,
        };
        if created.amount_sat != amount_sat {
            return Err(Failure::new(
                "invoice_wrong_amount",
                tf(
                    "server_wrong_amount",
                    &[
                        ("found", &format_sat(created.amount_sat)),
                        ("expected", &format_sat(amount_sat)),
                    ],
                ),
            ));
        }
        let (shown, expires_at_ms) = match &created.payable {
            Payable::Bolt11 {
                payment_request,
                payment_hash,
            } => {
                let expected = Expected {
                    amount_msat: amount_sat.saturating_mul(1000),
                    network: self.opts.network,
                    payment_hash: *payment_hash,
                };
                let inv = check_invoice(payment_request, &expected, now_ms)
                    .map_err(|e| Failure::new(e.code(), e.message()))?;
                let exp = inv.expires_at_ms();
                (Shown::Bolt11(inv), exp)
            }
            Payable::Link { url } => {
                let exp = created.expires_at.saturating_mul(1000);
                if now_ms != 0 && now_ms >= exp {
                    return Err(Failure::new("invoice_expired", t("link_expired")));
                }
                (Shown::Link(url.clone()), exp)
            }
        };
        Ok(Current {
            id: created.id.clone(),
            shown,
            amount_sat,
            expires_at_ms,
            created,
            preimage: None,
        })
    }

    fn fail(&mut self, f: Failure, amount_sat: u64, fx: &mut Vec<Effect>) {
        fx.push(Effect::Emit(Emit::Error(f.clone())));
        fx.push(Effect::Focus(FocusTarget::Retry));
        self.error = Some(f);
        self.phase = Phase::Failed { amount_sat };
        self.current = None;
    }

    fn tick(&mut self, now_ms: u64, fx: &mut Vec<Effect>) {
        if self.copied_until != 0 && self.copied_until <= now_ms {
            self.copied_until = 0;
        }
        if let Some(t) = self.wallet_check_at {
            if t <= now_ms {
                self.wallet_check_at = None;
                self.wallet_hint = self.phase == Phase::Open;
            }
        }
        if self.phase == Phase::Expired
            && self.in_flight.is_none()
            && now_ms < self.late_until
            && now_ms >= self.next_poll_at
        {
            if let Some(cur) = &self.current {
                self.seq += 1;
                self.in_flight = Some(self.seq);
                fx.push(Effect::FetchStatus {
                    seq: self.seq,
                    id: cur.id.clone(),
                });
            }
            return;
        }
        if self.phase != Phase::Open || self.in_flight.is_some() {
            return;
        }
        let Some(cur) = &self.current else { return };
        // An on-chain payment seen keeps the checkout open past the invoice's expiry: the
        // backend says paid once it is confirmed.
        let expired = now_ms >= cur.expires_at_ms && self.onchain_seen.is_none();
        if expired && self.final_checks >= FINAL_CHECK_ATTEMPTS {
            self.expire(now_ms, true, fx);
        } else if expired || now_ms >= self.next_poll_at {
            let slow_poll_at = self.last_poll_at.saturating_add(STREAM_POLL_INTERVAL_MS);
            if !expired && now_ms < self.stream_until && now_ms < slow_poll_at {
                // The live stream carries the status: the next poll when it falls silent, or
                // the safety-net poll, whichever comes first.
                self.next_poll_at = self.stream_until.min(slow_poll_at);
                return;
            }
            if expired {
                self.final_checks += 1;
            }
            self.last_poll_at = now_ms;
            self.seq += 1;
            self.in_flight = Some(self.seq);
            fx.push(Effect::FetchStatus {
                seq: self.seq,
                id: cur.id.clone(),
            });
        }
    }

    fn status(
        &mut self,
        seq: u64,
        result: Result<StatusReply, Failure>,
        now_ms: u64,
        fx: &mut Vec<Effect>,
    ) {
        if self.in_flight != Some(seq) || !matches!(self.phase, Phase::Open | Phase::Expired) {
            // A reply to an older request, or one that arrives after paid/reset.
            return;
        }
        self.in_flight = None;
        self.apply_status(result, true, now_ms, fx);
    }

    /// The rules for a status, whether a poll's answer (`polled`: it also schedules the next
    /// poll) or a message of the live stream.
    fn apply_status(
        &mut self,
        result: Result<StatusReply, Failure>,
        polled: bool,
        now_ms: u64,
        fx: &mut Vec<Effect>,
    ) {
        if self.phase == Phase::Expired {
            // A late check: only "paid" changes anything; "expired" from the backend ends them.
            if polled {
                self.next_poll_at = now_ms + LATE_POLL_INTERVAL_MS;
            }
            match result {
                Ok(r) if r.status == Status::Expired => self.late_until = 0,
                Ok(r) if r.status == Status::Paid => {
                    let believable = match (&self.current, &r.preimage) {
                        (
                            Some(Current {
                                shown: Shown::Bolt11(inv),
                                ..
                            }),
                            Some(pre),
                        ) => preimage_matches(pre, &inv.payment_hash()),
                        _ => true,
                    };
                    if believable {
                        self.pay(r.preimage, fx);
                    }
                }
                _ => {}
            }
            return;
        }
        let Some(cur) = &self.current else { return };
        let expired = now_ms >= cur.expires_at_ms;
        match result {
            Ok(reply) => match reply.status {
                Status::Paid => {
                    let hash = match &cur.shown {
                        Shown::Bolt11(inv) => Some(inv.payment_hash()),
                        Shown::Link(_) => None,
                    };
                    if let (Some(hash), Some(pre)) = (hash, &reply.preimage) {
                        if !preimage_matches(pre, &hash) {
                            if !self.preimage_mismatch {
                                self.preimage_mismatch = true;
                                fx.push(Effect::Emit(Emit::Error(Failure::new(
                                    "preimage_mismatch",
                                    t("preimage_mismatch"),
                                ))));
                            }
                            if polled {
                                self.backoff(now_ms, None);
                            }
                            return;
                        }
                    }
                    self.pay(reply.preimage, fx);
                }
                // The backend's own decision: final.
                Status::Expired => self.expire(now_ms, false, fx),
                // A stream's "pending" leaves the polls' schedule as it is; it may say that an
                // on-chain payment was seen.
                Status::Pending if !polled => {
                    if reply.onchain.is_some() {
                        self.onchain_seen = reply.onchain;
                    }
                }
                Status::Pending => {
                    self.failures = 0;
                    if reply.onchain.is_some() {
                        self.onchain_seen = reply.onchain;
                    }
                    self.next_poll_at = now_ms + POLL_INTERVAL_MS;
                    if expired && self.onchain_seen.is_none() {
                        // Our clock says the invoice can no longer be paid and a final check
                        // found it unpaid: expired, but a late confirmation is still watched for.
                        self.expire(now_ms, true, fx);
                    }
                }
            },
            Err(f) => {
                self.backoff(now_ms, f.retry_after_secs);
                if expired {
                    self.next_poll_at = now_ms + FINAL_CHECK_RETRY_MS;
                    if self.final_checks >= FINAL_CHECK_ATTEMPTS {
                        self.expire(now_ms, true, fx);
                    }
                }
            }
        }
    }

    fn backoff(&mut self, now_ms: u64, retry_after_secs: Option<u64>) {
        self.failures = self.failures.saturating_add(1);
        let exp = POLL_INTERVAL_MS.saturating_mul(1u64 << self.failures.min(5));
        let mut wait = exp.min(MAX_BACKOFF_MS);
        if let Some(s) = retry_after_secs {
            wait = wait.max(s.saturating_mul(1000)).min(120_000);
        }
        self.next_poll_at = now_ms + wait;
    }

    fn pay(&mut self, preimage: Option<String>, fx: &mut Vec<Effect>) {
        let Some(cur) = self.current.as_mut() else {
            return;
        };
        cur.preimage = preimage.clone();
        let payment_hash = match &cur.shown {
            Shown::Bolt11(inv) => Some(inv.payment_hash_hex()),
            Shown::Link(_) => None,
        };
        self.phase = Phase::Paid;
        self.error = None;
        self.wallet_check_at = None;
        self.wallet_hint = false;
        fx.push(Effect::Emit(Emit::Paid {
            id: cur.id.clone(),
            payment_hash,
            preimage,
        }));
    }

    /// Declares the invoice expired; `watch_late`: keep checking for a late payment for
    /// [`LATE_PAYMENT_WINDOW_MS`] (when our clock decided, not the backend).
    fn expire(&mut self, now_ms: u64, watch_late: bool, fx: &mut Vec<Effect>) {
        let Some(cur) = &self.current else { return };
        self.phase = Phase::Expired;
        self.late_until = if watch_late {
            now_ms + LATE_PAYMENT_WINDOW_MS
        } else {
            0
        };
        self.next_poll_at = now_ms + LATE_POLL_INTERVAL_MS;
        self.wallet_check_at = None;
        self.wallet_hint = false;
        fx.push(Effect::Forget);
        fx.push(Effect::Emit(Emit::Expired { id: cur.id.clone() }));
        fx.push(Effect::Focus(FocusTarget::NewInvoice));
    }
}

fn amount_message(e: &AmountError) -> String {
    e.message()
}

fn copy_text(shown: &Shown) -> String {
    match shown {
        Shown::Bolt11(inv) => String::from(inv.payment_request()),
        Shown::Link(url) => url.clone(),
    }
}

fn invoice_event(cur: &Current) -> Emit {
    let (payment_request, payment_hash, pay_url) = match &cur.shown {
        Shown::Bolt11(inv) => (
            Some(String::from(inv.payment_request())),
            Some(inv.payment_hash_hex()),
            None,
        ),
        Shown::Link(url) => (None, None, Some(url.clone())),
    };
    Emit::Invoice {
        id: cur.id.clone(),
        payment_request,
        pay_url,
        payment_hash,
        amount_sat: cur.amount_sat,
        expires_at: cur.expires_at_ms / 1000,
    }
}

/// Everything that defines a purchase, as one text: the `sessionStorage` key of the invoice kept
/// across reloads is made from it (with the page), and a kept invoice is restored only when the
/// text it was kept with is this one. Fields are separated by a control character that no
/// attribute can hold (the config refuses them in the endpoint; the description is length-
/// prefixed), so two purchases never give the same text.
pub fn purchase_text(endpoint: &str, opts: &Options) -> String {
    let amount = match (&opts.fiat, opts.fixed_amount_sat) {
        (Some(f), _) => format!("={} {}", f.currency, f.amount),
        (None, Some(a)) => format!("={a}"),
        (None, None) => format!("{}..{}", opts.bounds.min_sat, opts.bounds.max_sat),
    };
    let description = opts
        .description
        .as_deref()
        .map_or(String::from("-"), |d| format!("{}:{d}", d.len()));
    format!(
        "{endpoint}\u{1f}{}\u{1f}{amount}\u{1f}{}\u{1f}{description}",
        opts.order_id.as_deref().unwrap_or(""),
        opts.network.as_str(),
    )
}

/// `mm:ss` (or `h:mm:ss` from one hour up) for a remaining time, rounded up to whole seconds.
pub fn countdown(remaining_ms: u64) -> String {
    let secs = remaining_ms.div_ceil(1000);
    let (h, m, s) = (secs / 3600, (secs / 60) % 60, secs % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m:02}:{s:02}")
    }
}
