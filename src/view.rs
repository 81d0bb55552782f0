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

use crate::i18n::t;
use crate::qr::{self, QUIET_ZONE};
use crate::state::{FocusTarget, InvoiceView, ViewModel};

const SVG_NS: &str = "http://www.w3.org/2000/svg";

/// The widget's stylesheet. Custom properties a shop may set on `lightning-checkout` (or any
/// ancestor): `--lightning-checkout-brand`, `--lightning-checkout-brand-text`,
/// `--lightning-checkout-font`, `--lightning-checkout-radius`, `--lightning-checkout-background`,
/// `--lightning-checkout-text`, `--lightning-checkout-muted`, `--lightning-checkout-border`.
/// The QR code is always black on white with its quiet zone, whatever the theme.
/// (`src/widget.css`, minified at build time by build.rs.)
pub const CSS: &str = include_str!(concat!(env!("OUT_DIR"), "/widget.min.css"));

/// The widget's elements, by panel.
pub struct View {
    root: ShadowRoot,
    form: FormPanel,
    invoice: InvoicePanel,
    outcome: OutcomePanel,
    last: Option<ViewModel>,
    last_qr: Option<String>,
}

/// The amount form.
struct FormPanel {
    form: HtmlElement,
    input: HtmlInputElement,
    submit: HtmlElement,
    error: HtmlElement,
}

/// The invoice: amount, QR, countdown and the pay actions.
struct InvoicePanel {
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
    webln: HtmlElement,
    webln_note: HtmlElement,
    wallet_hint: HtmlElement,
    text: HtmlElement,
}

/// What happened: the status line, the error and the buttons that follow them.
struct OutcomePanel {
    status: HtmlElement,
    error: HtmlElement,
    new_invoice: HtmlElement,
    retry: HtmlElement,
    change_amount: HtmlElement,
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
    /// Pay with browser wallet (WebLN).
    pub webln: HtmlElement,
}

/// One element: `tag` with `attrs` and `kids`, so that [`View::build`] reads as the tree it
/// makes. The attribute `hidden` hides it.
fn h(
    doc: &Document,
    tag: &str,
    attrs: &[(&str, &str)],
    kids: &[&Element],
) -> Result<HtmlElement, JsValue> {
    let e = doc.create_element(tag)?;
    fill(&e, attrs, kids)?;
    // An element made by `createElement` in an HTML document is an `HTMLElement`.
    Ok(e.unchecked_into())
}

/// [`h`] with a text instead of children.
fn text(
    doc: &Document,
    tag: &str,
    attrs: &[(&str, &str)],
    text: &str,
) -> Result<HtmlElement, JsValue> {
    let e = h(doc, tag, attrs, &[])?;
    e.set_text_content(Some(text));
    Ok(e)
}

/// [`h`] in the SVG namespace.
fn svg(
    doc: &Document,
    tag: &str,
    attrs: &[(&str, &str)],
    kids: &[&Element],
) -> Result<Element, JsValue> {
    let e = doc.create_element_ns(Some(SVG_NS), tag)?;
    fill(&e, attrs, kids)?;
    Ok(e)
}

fn fill(e: &Element, attrs: &[(&str, &str)], kids: &[&Element]) -> Result<(), JsValue> {
    for (k, v) in attrs {
        e.set_attribute(k, v)?;
    }
    for c in kids {
        e.append_child(c)?;
    }
    Ok(())
}

/// A `type="button"` button: its `part`, its `class` (none when empty) and its label.
fn button(doc: &Document, part: &str, class: &str, label: &str) -> Result<HtmlElement, JsValue> {
    let attrs = [("type", "button"), ("part", part), ("class", class)];
    text(
        doc,
        "button",
        &attrs[..if class.is_empty() { 2 } else { 3 }],
        label,
    )
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

/// Shows `e` with `text`, or hides it when there is none: one optional line of the view.
fn set_line(e: &HtmlElement, text: Option<&str>) {
    if let Some(t) = text {
        set_text(e, t);
    }
    set_hidden(e, text.is_none());
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
    root.append_child(&text(doc, "style", &[], CSS)?.into())?;
    Ok(())
}

impl FormPanel {
    fn build(doc: &Document) -> Result<FormPanel, JsValue> {
        let input = h(
            doc,
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
            &[],
        )?
        .unchecked_into::<HtmlInputElement>();
        let submit = text(
            doc,
            "button",
            &[
                ("type", "submit"),
                ("part", "submit-button"),
                ("class", "primary"),
            ],
            &t("submit"),
        )?;
        let error = h(
            doc,
            "p",
            &[
                ("id", "lc-form-error"),
                ("class", "form-error"),
                ("part", "error form-error"),
                ("role", "alert"),
                ("hidden", ""),
            ],
            &[],
        )?;
        let form = h(
            doc,
            "form",
            &[("class", "form"), ("novalidate", "")],
            &[
                &text(doc, "label", &[("for", "lc-amount")], &t("amount_label"))?.into(),
                &h(doc, "div", &[("class", "row")], &[&input, &submit])?.into(),
                &error,
            ],
        )?;
        Ok(FormPanel {
            form,
            input,
            submit,
            error,
        })
    }
}

impl InvoicePanel {
    fn build(doc: &Document) -> Result<InvoicePanel, JsValue> {
        let p = |attrs: &[(&str, &str)]| h(doc, "p", attrs, &[]);
        let amount = p(&[("class", "amount")])?;
        let fiat = p(&[("class", "fiat"), ("part", "fiat"), ("hidden", "")])?;
        let description = p(&[("class", "description")])?;
        let qr_path = svg(doc, "path", &[("fill", "#000"), ("d", "")], &[])?;
        let qr_svg = svg(
            doc,
            "svg",
            &[
                ("part", "qr"),
                ("class", "qr"),
                ("role", "img"),
                ("shape-rendering", "crispEdges"),
                ("viewBox", "0 0 1 1"),
            ],
            &[
                &svg(
                    doc,
                    "rect",
                    &[("width", "100%"), ("height", "100%"), ("fill", "#fff")],
                    &[],
                )?,
                &qr_path,
            ],
        )?;
        let countdown = p(&[
            ("class", "countdown"),
            ("part", "countdown"),
            ("role", "timer"),
            ("aria-live", "off"),
        ])?;
        let open_wallet = text(
            doc,
            "a",
            &[("part", "open-wallet"), ("class", "open-wallet button")],
            &t("open_wallet"),
        )?;
        let copy = button(doc, "copy-button", "copy", &t("copy"))?;
        let copy_address = button(doc, "copy-address-button", "copy", &t("copy_address"))?;
        copy_address.set_hidden(true);
        let webln = button(doc, "webln-button", "webln", &t("webln"))?;
        webln.set_hidden(true);
        let actions = h(
            doc,
            "div",
            &[("class", "actions")],
            &[&open_wallet, &copy, &copy_address, &webln],
        )?;
        let webln_note = p(&[
            ("class", "webln-note"),
            ("part", "webln-note"),
            ("aria-live", "polite"),
            ("hidden", ""),
        ])?;
        let wallet_hint = p(&[("class", "wallet-hint"), ("aria-live", "polite")])?;
        let invoice_text = p(&[("class", "invoice-text"), ("part", "invoice")])?;
        let panel = h(
            doc,
            "section",
            &[
                ("class", "panel"),
                ("aria-label", &t("invoice_region")),
                ("hidden", ""),
            ],
            &[
                &amount,
                &fiat,
                &description,
                &h(doc, "div", &[("class", "qr-box")], &[&qr_svg])?.into(),
                &countdown,
                &actions,
                &webln_note,
                &wallet_hint,
                &invoice_text,
            ],
        )?;
        Ok(InvoicePanel {
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
            webln,
            webln_note,
            wallet_hint,
            text: invoice_text,
        })
    }
}

impl OutcomePanel {
    fn build(doc: &Document) -> Result<OutcomePanel, JsValue> {
        let hidden_button = |part, class, label| {
            let b = button(doc, part, class, label)?;
            b.set_hidden(true);
            Ok::<_, JsValue>(b)
        };
        Ok(OutcomePanel {
            status: h(
                doc,
                "p",
                &[
                    ("class", "status"),
                    ("part", "status"),
                    ("role", "status"),
                    ("aria-live", "polite"),
                ],
                &[],
            )?,
            error: h(
                doc,
                "p",
                &[
                    ("class", "error"),
                    ("part", "error"),
                    ("role", "alert"),
                    ("hidden", ""),
                ],
                &[],
            )?,
            new_invoice: hidden_button("new-invoice-button", "primary", &t("new_invoice"))?,
            retry: hidden_button("retry-button", "primary", &t("retry"))?,
            change_amount: hidden_button("change-amount-button", "", &t("change_amount"))?,
        })
    }
}

impl View {
    /// Builds the widget inside `host`'s shadow root (attached if missing, emptied if present):
    ///
    /// ```text
    /// div.lc
    /// ├─ form: label, div.row (input, submit), p.form-error
    /// ├─ section.panel: p.amount, p.fiat, p.description, div.qr-box (svg), p.countdown,
    /// │                 div.actions (a.open-wallet, button.copy, button.copy-address,
    /// │                 button.webln), p.webln-note, p.wallet-hint, p.invoice-text
    /// ├─ p.status, p.error
    /// └─ div.buttons: New invoice, Try again, Change amount
    /// ```
    /// `locale` and `dir` (`ltr`, `rtl`) go on the container, so that text and layout follow
    /// the widget's language whatever the page's.
    pub fn build(host: &HtmlElement, locale: &str, dir: &str) -> Result<(View, Controls), JsValue> {
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

        let form = FormPanel::build(&doc)?;
        let invoice = InvoicePanel::build(&doc)?;
        let outcome = OutcomePanel::build(&doc)?;
        let buttons = [&outcome.new_invoice, &outcome.retry, &outcome.change_amount];
        root.append_child(
            &h(
                &doc,
                "div",
                &[
                    ("class", "lc"),
                    ("part", "container"),
                    ("lang", locale),
                    ("dir", dir),
                ],
                &[
                    &form.form,
                    &invoice.panel,
                    &outcome.status,
                    &outcome.error,
                    &h(&doc, "div", &[("class", "buttons")], &buttons.map(|b| &**b))?.into(),
                ],
            )?
            .into(),
        )?;

        let controls = Controls {
            form: form.form.clone(),
            input: form.input.clone(),
            copy: invoice.copy.clone(),
            copy_address: invoice.copy_address.clone(),
            open_wallet: invoice.open_wallet.clone(),
            new_invoice: outcome.new_invoice.clone(),
            retry: outcome.retry.clone(),
            change_amount: outcome.change_amount.clone(),
            webln: invoice.webln.clone(),
        };
        let view = View {
            root,
            form,
            invoice,
            outcome,
            last: None,
            last_qr: None,
        };
        Ok((view, controls))
    }

    /// Shows a configuration error instead of the form.
    pub fn show_config_error(&mut self, message: &str) {
        set_hidden(&self.form.form, true);
        set_hidden(&self.invoice.panel, true);
        set_line(&self.outcome.error, Some(message));
    }

    /// Applies `vm`, changing only what differs from the last render.
    pub fn render(&mut self, vm: &ViewModel) {
        if self.last.as_ref() == Some(vm) {
            return;
        }
        let f = &self.form;
        set_hidden(&f.form, !vm.form);
        f.input.set_disabled(vm.busy);
        f.submit
            .toggle_attribute_with_force("disabled", vm.busy)
            .ok();
        set_line(&f.error, vm.form_error.as_deref());
        if vm.form_error.is_some() {
            f.input.set_attribute("aria-invalid", "true").ok();
        } else {
            f.input.remove_attribute("aria-invalid").ok();
        }
        match &vm.invoice {
            Some(inv) => {
                self.render_invoice(inv);
                set_hidden(&self.invoice.panel, false);
            }
            None => set_hidden(&self.invoice.panel, true),
        }
        let o = &self.outcome;
        set_text(&o.status, &vm.status);
        o.status
            .class_list()
            .toggle_with_force("paid", vm.paid)
            .ok();
        set_line(&o.error, vm.error.as_deref());
        set_hidden(&o.new_invoice, !vm.new_invoice);
        set_hidden(&o.retry, !vm.retry);
        set_hidden(&o.change_amount, !vm.change_amount);
        self.last = Some(vm.clone());
    }

    fn render_invoice(&mut self, inv: &InvoiceView) {
        if self.last_qr != inv.qr_payload {
            self.draw_qr(inv.qr_payload.as_deref(), &inv.qr_label);
            self.last_qr = inv.qr_payload.clone();
        }
        let p = &self.invoice;
        set_text(&p.amount, &inv.amount);
        set_line(&p.fiat, inv.fiat.as_deref());
        set_line(&p.description, inv.description.as_deref());
        set_line(
            &p.countdown,
            inv.countdown
                .as_ref()
                .map(|c| crate::i18n::tf("expires_in", &[("time", c)]))
                .as_deref(),
        );
        set_hidden(&p.actions, !inv.payable);
        set_hidden(&p.text, !inv.payable);
        let wallet = &p.open_wallet;
        if wallet.get_attribute("href").as_deref() != Some(inv.action_href.as_str()) {
            wallet.set_attribute("href", &inv.action_href).ok();
        }
        set_text(wallet, &inv.action_label);
        if inv.new_tab {
            wallet.set_attribute("target", "_blank").ok();
            wallet.set_attribute("rel", "noopener noreferrer").ok();
        } else {
            wallet.remove_attribute("target").ok();
            wallet.remove_attribute("rel").ok();
        }
        let (label, aria) = if inv.copied {
            ("copied", "copied_label")
        } else {
            ("copy", "copy_label")
        };
        set_text(&p.copy, &t(label));
        p.copy.set_attribute("aria-label", &t(aria)).ok();
        set_hidden(&p.copy_address, inv.address.is_none());
        let address_label = if inv.address_copied {
            "address_copied"
        } else {
            "copy_address"
        };
        set_text(&p.copy_address, &t(address_label));
        let hint = if inv.copy_failed {
            Some(t("copy_blocked"))
        } else if inv.wallet_hint {
            Some(t("no_wallet"))
        } else {
            None
        };
        set_text(&p.wallet_hint, hint.as_deref().unwrap_or_default());
        set_hidden(&p.wallet_hint, hint.is_none());
        set_text(&p.text, &inv.text);
    }

    fn draw_qr(&self, payload: Option<&str>, label: &str) {
        let svg = &self.invoice.qr_svg;
        let Some(payload) = payload else {
            svg.set_attribute("hidden", "").ok();
            return;
        };
        match qr::Qr::encode(payload) {
            Ok(code) => {
                let size = code.view_box_size(QUIET_ZONE);
                svg.set_attribute("viewBox", &format!("0 0 {size} {size}"))
                    .ok();
                self.invoice
                    .qr_path
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

    /// The browser-wallet action: shown for a payable invoice when the page has WebLN
    /// (`offered`), disabled while the wallet is asked (`busy`), and its one sentence (`note`).
    pub fn render_webln(&self, offered: bool, busy: bool, note: Option<&str>) {
        let p = &self.invoice;
        set_hidden(&p.webln, !offered);
        p.webln.toggle_attribute_with_force("disabled", busy).ok();
        set_line(&p.webln_note, note);
    }

    /// Moves keyboard focus once the payer has used this widget (`engaged`), or when focus is
    /// already inside it; never at page load, so the widget never scrolls the shop's page or
    /// steals focus from it.
    pub fn focus(&self, target: FocusTarget, engaged: bool) {
        let e = match target {
            FocusTarget::AmountInput => self.form.input.clone().unchecked_into::<HtmlElement>(),
            FocusTarget::Copy => self.invoice.copy.clone(),
            FocusTarget::NewInvoice => self.outcome.new_invoice.clone(),
            FocusTarget::Retry => self.outcome.retry.clone(),
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
