//! PURE: the message catalogue. Every sentence the widget shows is a key of [`ENGLISH`]; a
//! language is a file of the same keys (`js/locales/*.json`, fetched by the element shim) and a
//! shop may override any key. Templates name their values: `{amount}`.
//!
//! The catalogue in force is set per widget around everything that may write a sentence (each
//! event it handles, each poll of its requests): see [`with`]. Without one (native tests, the
//! default) the English text is used and numbers are grouped with commas.

use std::cell::RefCell;
use std::rc::Rc;

/// The English text of every key, built in: one `key=text` a line. (One string rather than a
/// table of pairs: no pointer per entry in the wasm.) The locale files have exactly these keys
/// (and the three `load_*` keys of the element shim), with the same placeholders:
/// `tests/locales.rs`.
pub const ENGLISH: &str = "\
amount_label=Amount in sats
submit=Pay with Lightning
sat={amount} sat
amount_empty=Enter an amount in sats.
amount_not_a_number=Enter the amount as a whole number of sats, for example 2,500.
amount_fractional=Enter a whole number of sats, without decimals.
amount_negative=Enter an amount above zero.
amount_bad_grouping=Write the amount as plain digits, like 2500, or in groups of three, like 2,500.
amount_too_small=Enter an amount of at least {amount}.
amount_too_large=Enter an amount of at most {amount}.
amount_invalid_bounds=This checkout has invalid amount limits, so it cannot take a payment.
invoice_region=Lightning invoice
qr_label=QR code of a Lightning invoice for {amount}
qr_label_link=QR code of a Kraken Pay link for {amount}
open_wallet=Open wallet
pay_with_kraken=Pay with Kraken
copy=Copy
copied=Copied
copy_label=Copy invoice to clipboard
copied_label=Invoice copied to clipboard
copy_address=Copy address
address_copied=Address copied
copy_blocked=Copying is blocked here: select the invoice text below and copy it by hand.
no_wallet=No wallet app opened? Copy the invoice into your wallet, or scan the QR code with a wallet on another device.
expires_in=Expires in {time}
webln=Pay with browser wallet
webln_sent=Your browser wallet sent the payment. Waiting for the shop to confirm it…
webln_failed=Your browser wallet did not pay. You can still scan the QR code, copy the invoice or open a wallet.
webln_timeout=Your browser wallet did not answer in time. You can still scan the QR code, copy the invoice or open a wallet.
webln_bad_proof=Your browser wallet's answer does not prove the payment. Wait for the shop to confirm, or pay another way.
creating=Creating an invoice for {amount}…
onchain_seen=Payment seen on-chain; waiting for a confirmation…
onchain_confirmations=Payment seen on-chain: {confirmations} of {required} confirmations…
waiting=Waiting for payment…
waiting_unconfirmed=Waiting for payment… (the shop's answer could not be confirmed)
waiting_flaky=Waiting for payment… (connection problems, still trying)
paid_amount=Paid {amount}. Thank you!
paid=Paid. Thank you!
expired=This invoice has expired. Do not pay it.
new_invoice=New invoice
retry=Try again
change_amount=Change amount
server_wrong_amount=The shop's server made an invoice for {found}, not the {expected} you asked for, so it is not shown.
link_expired=The payment link has already expired. Ask for a new one.
preimage_mismatch=The shop's server says the invoice is paid, but its proof of payment does not match the invoice.
internal=The checkout could not build its request.
backend_timeout=The shop's payment server did not answer in time. Try again.
backend_unreachable=The shop's payment server could not be reached. Check your connection and try again.
response_too_large=The shop's payment server sent an answer far too large to be a checkout answer, so it was not read. Try again.
connection_broke=The connection to the shop's payment server broke off. Try again.
backend_refused=The shop's payment server refused the request (HTTP {status}).
rate_limited=The shop's payment server is busy. The checkout will try again shortly.
backend_error=The shop's payment server had a problem (HTTP {status}). Try again in a moment.
bad_response=The shop's payment server sent an answer the checkout cannot read. Try again.
no_invoice=The shop's payment server sent no usable invoice. Try again.
bad_pay_url=The shop's payment server sent a payment link that is not a safe https link, so it is not shown.
invoice_empty=The shop sent an empty invoice, so there is nothing to pay.
invoice_too_long=The invoice from the shop is too long to be valid, so it is not shown.
invoice_not_lightning=The shop sent a Bitcoin address without a Lightning invoice, so it is not shown.
invoice_invalid=The shop sent an invoice that is not valid, so it is not shown.
invoice_checksum=The invoice from the shop is damaged (its checksum does not match), so it is not shown.
invoice_unknown_network=The invoice is for a network this checkout does not support, so it is not shown.
invoice_wrong_network=The invoice is for another Bitcoin network ({found}), not {expected}.
invoice_no_amount=The invoice from the shop has no amount, so it is not shown.
invoice_wrong_amount=The invoice from the shop is for {found}, not the {expected} you asked for, so it is not shown.
invoice_hash_mismatch=The invoice does not match the payment the shop created, so it is not shown.
invoice_expired=The invoice has already expired. Ask for a new one.
invoice_too_long_for_qr=The invoice is too long to show as a QR code, so it is not shown.
";

/// Writes a fiat price: `(currency, amount)` to its text, or None.
pub type FiatFormat = Box<dyn Fn(&str, &str) -> Option<String>>;

/// A widget's language: the texts that replace English ones (from its locale file and the
/// shop's `messages`) and how it writes numbers.
#[derive(Default)]
pub struct Catalogue {
    /// Replacements, by key.
    pub texts: Vec<(&'static str, String)>,
    /// Writes a number of millisatoshis as sats (`Intl.NumberFormat` in the browser); None:
    /// digits grouped by commas.
    pub number: Option<Box<dyn Fn(u64) -> String>>,
    /// Writes a fiat price (ISO 4217 code, decimal text) as the language writes money
    /// (`Intl.NumberFormat` with the currency style); None, or None from it: `EUR 4.50`.
    pub fiat: Option<FiatFormat>,
}

/// Every `(key, English text)`.
pub fn entries() -> impl Iterator<Item = (&'static str, &'static str)> {
    ENGLISH.lines().filter_map(|line| line.split_once('='))
}

/// The English text of `key`.
pub fn english(key: &str) -> Option<&'static str> {
    entries().find(|(k, _)| *k == key).map(|(_, v)| v)
}

thread_local! {
    static ACTIVE: RefCell<Option<Rc<Catalogue>>> = const { RefCell::new(None) };
}

/// Runs `f` with `catalogue` in force (the one before is back afterwards).
pub fn with<R>(catalogue: &Rc<Catalogue>, f: impl FnOnce() -> R) -> R {
    let before = ACTIVE.with(|a| a.replace(Some(catalogue.clone())));
    let out = f();
    ACTIVE.with(|a| *a.borrow_mut() = before);
    out
}

fn active() -> Option<Rc<Catalogue>> {
    ACTIVE.with(|a| a.borrow().clone())
}

/// The sentence of `key` with its `{name}` placeholders filled from `args`. An unknown key is
/// returned as is (a test checks that every key the code uses is in [`ENGLISH`]).
pub fn tf(key: &str, args: &[(&str, &str)]) -> String {
    let replaced = active().and_then(|c| {
        c.texts
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.clone())
    });
    let out = replaced.unwrap_or_else(|| String::from(english(key).unwrap_or(key)));
    if args.is_empty() {
        return out;
    }
    // `{name}` by its value; an unknown name stays as written. (By hand: `str::replace` would
    // bring the two-way string search into the wasm; `split_once` rather than slicing by index:
    // a slice can panic, and its panic message alone brings Unicode tables into the wasm.)
    let mut filled = String::with_capacity(out.len() + 16);
    let mut rest = out.as_str();
    while let Some((before, after)) = rest.split_once('{') {
        filled.push_str(before);
        let value = after.split_once('}').and_then(|(name, tail)| {
            let (_, v) = args.iter().find(|(n, _)| *n == name)?;
            Some((v, tail))
        });
        match value {
            Some((v, tail)) => {
                filled.push_str(v);
                rest = tail;
            }
            None => {
                filled.push('{');
                rest = after;
            }
        }
    }
    filled.push_str(rest);
    filled
}

/// The sentence of `key`, which has no placeholders.
pub fn t(key: &str) -> String {
    tf(key, &[])
}

/// A number of millisatoshis written as sats in the widget's language: `2,500`, `2.500`,
/// `2 500`, `2,500.001`.
pub fn number_msat(msat: u64) -> Option<String> {
    active().and_then(|c| c.number.as_ref().map(|f| f(msat)))
}

/// A fiat price in the widget's language (`4,50 €`, `€4.50`), if it has a money format.
pub fn fiat_price(currency: &str, amount: &str) -> Option<String> {
    active().and_then(|c| c.fiat.as_ref().and_then(|f| f(currency, amount)))
}
