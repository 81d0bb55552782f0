//! EDGE: the DOM. Built once inside an open shadow root; [`View::render`] applies a
//! [`ViewModel`] and touches only what changed (so the `aria-live` region announces changes,
//! not every second's re-render).
//!
//! Everything that came from the network is set with `textContent` or `setAttribute`, never
//! parsed as HTML. Styles go in through a constructable stylesheet (`adoptedStyleSheets`), which
//! a Content-Security-Policy without `'unsafe-inline'` allows; a `<style>` element is the fallback
//! for browsers without it.

use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Document, Element, HtmlElement, HtmlInputElement, ShadowRoot};

use crate::qr::{self, QUIET_ZONE};
use crate::state::{FocusTarget, InvoiceView, ViewModel};

const SVG_NS: &str = "http://www.w3.org/2000/svg";

/// The widget's stylesheet. Custom properties a shop may set on `lightning-checkout` (or any
/// ancestor): `--lightning-checkout-brand`, `--lightning-checkout-brand-text`,
/// `--lightning-checkout-font`, `--lightning-checkout-radius`, `--lightning-checkout-background`,
/// `--lightning-checkout-text`, `--lightning-checkout-muted`, `--lightning-checkout-border`.
/// The QR code is always black on white with its quiet zone, whatever the theme.
pub const CSS: &str = include_str!("widget.css");

/// The widget's elements.
pub struct View {
    root: ShadowRoot,
    form: HtmlElement,
    input: HtmlInputElement,
    submit: HtmlElement,
    form_error: HtmlElement,
    panel: HtmlElement,
    amount: HtmlElement,
    fiat: HtmlElement,
    description: HtmlElement,
    qr_svg: Element,
    qr_path: Element,
    countdown: HtmlElement,
    actions: HtmlElement,
    open_wallet: HtmlElement,
    copy: HtmlElement,
    copy_address: HtmlElement,
    wallet_hint: HtmlElement,
    invoice_text: HtmlElement,
    status: HtmlElement,
    error: HtmlElement,
    new_invoice: HtmlElement,
    retry: HtmlElement,
    change_amount: HtmlElement,
    last: Option<ViewModel>,
    last_qr: Option<String>,
}

/// The controls the glue listens to.
pub struct Controls {
    /// The amount form (`submit`).
    pub form: HtmlElement,
    /// The amount input.
    pub input: HtmlInputElement,
    /// Copy.
    pub copy: HtmlElement,
    /// Copy address (a unified QR's on-chain address).
    pub copy_address: HtmlElement,
    /// Open wallet / Pay with Kraken.
    pub open_wallet: HtmlElement,
    /// New invoice.
    pub new_invoice: HtmlElement,
    /// Try again.
    pub retry: HtmlElement,
    /// Change amount.
    pub change_amount: HtmlElement,
}

fn el(doc: &Document, tag: &str, attrs: &[(&str, &str)]) -> Result<HtmlElement, JsValue> {
    let e = doc.create_element(tag)?;
    for (k, v) in attrs {
        e.set_attribute(k, v)?;
    }
    e.dyn_into::<HtmlElement>()
        .map_err(|_| JsValue::from_str("not an HTML element"))
}

fn svg(doc: &Document, tag: &str, attrs: &[(&str, &str)]) -> Result<Element, JsValue> {
    let e = doc.create_element_ns(Some(SVG_NS), tag)?;
    for (k, v) in attrs {
        e.set_attribute(k, v)?;
    }
    Ok(e)
}

fn append(parent: &Element, children: &[&Element]) -> Result<(), JsValue> {
    for c in children {
        parent.append_child(c)?;
    }
    Ok(())
}

fn set_hidden(e: &HtmlElement, hidden: bool) {
    if e.hidden() != hidden {
        e.set_hidden(hidden);
    }
}

fn set_text(e: &HtmlElement, text: &str) {
    if e.text_content().as_deref() != Some(text) {
        e.set_text_content(Some(text));
    }
}

/// Installs the stylesheet: constructable when available (CSP-friendly), else `<style>`.
fn install_css(doc: &Document, root: &ShadowRoot) -> Result<(), JsValue> {
    if let Ok(sheet) = web_sys::CssStyleSheet::new() {
        if sheet.replace_sync(CSS).is_ok() {
            let sheets = js_sys::Array::of1(&sheet);
            if js_sys::Reflect::set(root, &JsValue::from_str("adoptedStyleSheets"), &sheets)
                .unwrap_or(false)
            {
                return Ok(());
            }
        }
    }
    let style = el(doc, "style", &[])?;
    style.set_text_content(Some(CSS));
    root.append_child(&style)?;
    Ok(())
}

impl View {
    /// Builds the widget inside `host`'s shadow root (attached if missing, emptied if present).
    pub fn build(host: &HtmlElement) -> Result<(View, Controls), JsValue> {
        let doc = host
            .owner_document()
            .ok_or_else(|| JsValue::from_str("no document"))?;
        let root = match host.shadow_root() {
            Some(r) => r,
            None => {
                host.attach_shadow(&web_sys::ShadowRootInit::new(web_sys::ShadowRootMode::Open))?
            }
        };
        root.set_text_content(None);
        install_css(&doc, &root)?;

        let container = el(&doc, "div", &[("class", "lc"), ("part", "container")])?;
        let form = el(&doc, "form", &[("class", "form"), ("novalidate", "")])?;
        let label = el(&doc, "label", &[("for", "lc-amount")])?;
        label.set_text_content(Some("Amount in sats"));
        let row = el(&doc, "div", &[("class", "row")])?;
        let input = el(
            &doc,
            "input",
            &[
                ("id", "lc-amount"),
                ("part", "amount-input"),
                ("type", "text"),
                ("inputmode", "numeric"),
                ("autocomplete", "off"),
                ("enterkeyhint", "go"),
                ("aria-describedby", "lc-form-error"),
            ],
        )?
        .dyn_into::<HtmlInputElement>()
        .map_err(|_| JsValue::from_str("input"))?;
        let submit = el(
            &doc,
            "button",
            &[
                ("type", "submit"),
                ("part", "submit-button"),
                ("class", "primary"),
            ],
        )?;
        submit.set_text_content(Some("Pay with Lightning"));
        let form_error = el(
            &doc,
            "p",
            &[
                ("id", "lc-form-error"),
                ("class", "form-error"),
                ("part", "error form-error"),
                ("role", "alert"),
            ],
        )?;
        form_error.set_hidden(true);
        append(&row, &[&input, &submit])?;
        append(&form, &[&label, &row, &form_error])?;

        let panel = el(
            &doc,
            "section",
            &[("class", "panel"), ("aria-label", "Lightning invoice")],
        )?;
        panel.set_hidden(true);
        let amount = el(&doc, "p", &[("class", "amount")])?;
        let fiat = el(&doc, "p", &[("class", "fiat"), ("part", "fiat")])?;
        let description = el(&doc, "p", &[("class", "description")])?;
        let qr_box = el(&doc, "div", &[("class", "qr-box")])?;
        let qr_svg = svg(
            &doc,
            "svg",
            &[
                ("part", "qr"),
                ("class", "qr"),
                ("role", "img"),
                ("shape-rendering", "crispEdges"),
                ("viewBox", "0 0 1 1"),
            ],
        )?;
        let qr_bg = svg(
            &doc,
            "rect",
            &[("width", "100%"), ("height", "100%"), ("fill", "#fff")],
        )?;
        let qr_path = svg(&doc, "path", &[("fill", "#000"), ("d", "")])?;
        append(&qr_svg, &[&qr_bg, &qr_path])?;
        qr_box.append_child(&qr_svg)?;
        let countdown = el(
            &doc,
            "p",
            &[
                ("class", "countdown"),
                ("part", "countdown"),
                ("role", "timer"),
                ("aria-live", "off"),
            ],
        )?;
        let actions = el(&doc, "div", &[("class", "actions")])?;
        let open_wallet = el(
            &doc,
            "a",
            &[("part", "open-wallet"), ("class", "open-wallet button")],
        )?;
        open_wallet.set_text_content(Some("Open wallet"));
        let copy = el(
            &doc,
            "button",
            &[
                ("type", "button"),
                ("part", "copy-button"),
                ("class", "copy"),
            ],
        )?;
        copy.set_text_content(Some("Copy"));
        let copy_address = el(
            &doc,
            "button",
            &[
                ("type", "button"),
                ("part", "copy-address-button"),
                ("class", "copy"),
            ],
        )?;
        copy_address.set_hidden(true);
        append(&actions, &[&open_wallet, &copy, &copy_address])?;
        let wallet_hint = el(
            &doc,
            "p",
            &[("class", "wallet-hint"), ("aria-live", "polite")],
        )?;
        let invoice_text = el(&doc, "p", &[("class", "invoice-text"), ("part", "invoice")])?;
        append(
            &panel,
            &[
                &amount,
                &fiat,
                &description,
                &qr_box,
                &countdown,
                &actions,
                &wallet_hint,
                &invoice_text,
            ],
        )?;

        let status = el(
            &doc,
            "p",
            &[
                ("class", "status"),
                ("part", "status"),
                ("role", "status"),
                ("aria-live", "polite"),
            ],
        )?;
        let error = el(
            &doc,
            "p",
            &[("class", "error"), ("part", "error"), ("role", "alert")],
        )?;
        error.set_hidden(true);
        let buttons = el(&doc, "div", &[("class", "buttons")])?;
        let new_invoice = el(
            &doc,
            "button",
            &[
                ("type", "button"),
                ("part", "new-invoice-button"),
                ("class", "primary"),
            ],
        )?;
        new_invoice.set_text_content(Some("New invoice"));
        let retry = el(
            &doc,
            "button",
            &[
                ("type", "button"),
                ("part", "retry-button"),
                ("class", "primary"),
            ],
        )?;
        retry.set_text_content(Some("Try again"));
        let change_amount = el(
            &doc,
            "button",
            &[("type", "button"), ("part", "change-amount-button")],
        )?;
        change_amount.set_text_content(Some("Change amount"));
        for b in [&new_invoice, &retry, &change_amount] {
            b.set_hidden(true);
        }
        append(&buttons, &[&new_invoice, &retry, &change_amount])?;
        append(&container, &[&form, &panel, &status, &error, &buttons])?;
        root.append_child(&container)?;

        let controls = Controls {
            form: form.clone(),
            input: input.clone(),
            copy: copy.clone(),
            copy_address: copy_address.clone(),
            open_wallet: open_wallet.clone(),
            new_invoice: new_invoice.clone(),
            retry: retry.clone(),
            change_amount: change_amount.clone(),
        };
        Ok((
            View {
                root,
                form,
                input,
                submit,
                form_error,
                panel,
                amount,
                fiat,
                description,
                qr_svg,
                qr_path,
                countdown,
                actions,
                open_wallet,
                copy,
                copy_address,
                wallet_hint,
                invoice_text,
                status,
                error,
                new_invoice,
                retry,
                change_amount,
                last: None,
                last_qr: None,
            },
            controls,
        ))
    }

    /// Shows a configuration error instead of the form.
    pub fn show_config_error(&mut self, message: &str) {
        set_hidden(&self.form, true);
        set_hidden(&self.panel, true);
        set_text(&self.error, message);
        set_hidden(&self.error, false);
    }

    /// Applies `vm`, changing only what differs from the last render.
    pub fn render(&mut self, vm: &ViewModel) {
        if self.last.as_ref() == Some(vm) {
            return;
        }
        set_hidden(&self.form, !vm.form);
        self.input.set_disabled(vm.busy);
        self.submit
            .toggle_attribute_with_force("disabled", vm.busy)
            .ok();
        match &vm.form_error {
            Some(msg) => {
                set_text(&self.form_error, msg);
                set_hidden(&self.form_error, false);
                self.input.set_attribute("aria-invalid", "true").ok();
            }
            None => {
                set_hidden(&self.form_error, true);
                self.input.remove_attribute("aria-invalid").ok();
            }
        }
        match &vm.invoice {
            Some(inv) => {
                self.render_invoice(inv);
                set_hidden(&self.panel, false);
            }
            None => set_hidden(&self.panel, true),
        }
        set_text(&self.status, &vm.status);
        self.status
            .class_list()
            .toggle_with_force("paid", vm.paid)
            .ok();
        match &vm.error {
            Some(msg) => {
                set_text(&self.error, msg);
                set_hidden(&self.error, false);
            }
            None => set_hidden(&self.error, true),
        }
        set_hidden(&self.new_invoice, !vm.new_invoice);
        set_hidden(&self.retry, !vm.retry);
        set_hidden(&self.change_amount, !vm.change_amount);
        self.last = Some(vm.clone());
    }

    fn render_invoice(&mut self, inv: &InvoiceView) {
        set_text(&self.amount, &inv.amount);
        set_text(&self.fiat, inv.fiat.as_deref().unwrap_or(""));
        set_hidden(&self.fiat, inv.fiat.is_none());
        match &inv.description {
            Some(d) => {
                set_text(&self.description, d);
                set_hidden(&self.description, false);
            }
            None => set_hidden(&self.description, true),
        }
        if self.last_qr != inv.qr_payload {
            self.draw_qr(inv.qr_payload.as_deref(), &inv.qr_label);
            self.last_qr = inv.qr_payload.clone();
        }
        match &inv.countdown {
            Some(c) => {
                set_text(&self.countdown, &format!("Expires in {c}"));
                set_hidden(&self.countdown, false);
            }
            None => set_hidden(&self.countdown, true),
        }
        set_hidden(&self.actions, !inv.payable);
        set_hidden(&self.invoice_text, !inv.payable);
        if self.open_wallet.get_attribute("href").as_deref() != Some(inv.action_href.as_str()) {
            self.open_wallet
                .set_attribute("href", &inv.action_href)
                .ok();
        }
        set_text(&self.open_wallet, &inv.action_label);
        set_text(&self.copy, if inv.copied { "Copied" } else { "Copy" });
        self.copy
            .set_attribute(
                "aria-label",
                if inv.copied {
                    "Invoice copied to clipboard"
                } else {
                    "Copy invoice to clipboard"
                },
            )
            .ok();
        set_hidden(&self.copy_address, inv.address.is_none());
        set_text(
            &self.copy_address,
            crate::unified::copy_address_label(inv.address_copied),
        );
        let hint = if inv.copy_failed {
            "Copying is blocked here: select the invoice text below and copy it by hand."
        } else if inv.wallet_hint {
            "No wallet app opened? Copy the invoice into your wallet, or scan the QR code with a wallet on another device."
        } else {
            ""
        };
        set_text(&self.wallet_hint, hint);
        set_hidden(&self.wallet_hint, hint.is_empty());
        if inv.new_tab {
            self.open_wallet.set_attribute("target", "_blank").ok();
            self.open_wallet
                .set_attribute("rel", "noopener noreferrer")
                .ok();
        } else {
            self.open_wallet.remove_attribute("target").ok();
            self.open_wallet.remove_attribute("rel").ok();
        }
        set_text(&self.invoice_text, &inv.text);
    }

    fn draw_qr(&self, payload: Option<&str>, label: &str) {
        let svg = &self.qr_svg;
        let Some(payload) = payload else {
            svg.set_attribute("hidden", "").ok();
            return;
        };
        match qr::Qr::encode(payload) {
            Ok(code) => {
                let size = code.view_box_size(QUIET_ZONE);
                svg.set_attribute("viewBox", &format!("0 0 {size} {size}"))
                    .ok();
                self.qr_path
                    .set_attribute("d", &code.svg_path_data(QUIET_ZONE))
                    .ok();
                svg.set_attribute("aria-label", label).ok();
                svg.remove_attribute("hidden").ok();
            }
            Err(_) => {
                // The invoice checks refuse anything that does not fit a QR code, so this is
                // unreachable in practice; hide the QR rather than draw a wrong one.
                svg.set_attribute("hidden", "").ok();
            }
        }
    }

    /// Moves keyboard focus once the payer has used this widget (`engaged`), or when focus is
    /// already inside it; never at page load, so the widget never scrolls the shop's page or
    /// steals focus from it.
    pub fn focus(&self, target: FocusTarget, engaged: bool) {
        let e = match target {
            FocusTarget::AmountInput => self.input.clone().unchecked_into::<HtmlElement>(),
            FocusTarget::Copy => self.copy.clone(),
            FocusTarget::NewInvoice => self.new_invoice.clone(),
            FocusTarget::Retry => self.retry.clone(),
        };
        if engaged || self.root.active_element().is_some() {
            e.focus().ok();
        }
    }

    /// Empties the shadow root (on `destroy()`).
    pub fn clear(&self) {
        self.root.set_text_content(None);
        js_sys::Reflect::set(
            &self.root,
            &JsValue::from_str("adoptedStyleSheets"),
            &js_sys::Array::new(),
        )
        .ok();
    }
}
