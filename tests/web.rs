//! Browser tests (wasm-bindgen-test in headless Chromium): the DOM the widget builds, its parts,
//! configuration errors, the amount form, and the pieces that must not panic on wasm32 (the
//! invoice expiry check with `Date.now()`). The whole flow against the real backend is in
//! `tests/e2e/`.
#![cfg(target_arch = "wasm32")]

use lightning_checkout::embed::mount;
use lightning_checkout::invoice::{check_invoice, Expected, InvoiceError, Network};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;
use web_sys::{HtmlElement, HtmlInputElement, ShadowRoot};

wasm_bindgen_test_configure!(run_in_browser);

/// BOLT 11 spec vector: 2500u (250,000 sat) on mainnet, made in 2017, expiry 60 s.
const SPEC_INVOICE: &str = "lnbc2500u1pvjluezsp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygspp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdq5xysxxatsyp3k7enxv4jsxqzpu9qrsgquk0rl77nj30yxdy8j9vdx85fkpmdla2087ne0xh8nhedh8w27kyke0lp53ut353s06fv3qfegext0eh0ymjpf39tuven09sam30g4vgpfna3rh";

fn host() -> HtmlElement {
    let doc = web_sys::window().unwrap().document().unwrap();
    let e = doc
        .create_element("div")
        .unwrap()
        .dyn_into::<HtmlElement>()
        .unwrap();
    doc.body().unwrap().append_child(&e).unwrap();
    e
}

fn options(pairs: &[(&str, &str)]) -> JsValue {
    let o = js_sys::Object::new();
    for (k, v) in pairs {
        js_sys::Reflect::set(&o, &JsValue::from_str(k), &JsValue::from_str(v)).unwrap();
    }
    o.into()
}

fn part(root: &ShadowRoot, name: &str) -> HtmlElement {
    root.query_selector(&format!("[part='{name}']"))
        .unwrap()
        .unwrap_or_else(|| panic!("no part {name}"))
        .dyn_into::<HtmlElement>()
        .unwrap()
}

async fn sleep(ms: i32) {
    let p = js_sys::Promise::new(&mut |resolve, _| {
        web_sys::window()
            .unwrap()
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms)
            .unwrap();
    });
    wasm_bindgen_futures::JsFuture::from(p).await.unwrap();
}

#[wasm_bindgen_test]
fn expiry_check_uses_date_now_and_does_not_panic() {
    let now = js_sys::Date::now() as u64;
    let hash = lightning_checkout::invoice::parse_hash_hex(
        "0001020304050607080900010203040506070809000102030405060708090102",
    )
    .unwrap();
    let expected = Expected {
        amount_msat: 250_000_000,
        network: Network::Bitcoin,
        payment_hash: hash,
    };
    // Made in 2017 with a 60 s expiry: expired now, and saying so must not touch SystemTime.
    let err = check_invoice(SPEC_INVOICE, &expected, now).unwrap_err();
    assert!(matches!(err, InvoiceError::Expired { .. }), "{err:?}");
    // At its own timestamp it passes every check.
    assert!(check_invoice(SPEC_INVOICE, &expected, 1_496_314_658_000).is_ok());
}

#[wasm_bindgen_test]
fn builds_every_part_in_an_open_shadow_root() {
    let h = host();
    let _handle = mount(h.clone(), options(&[("endpoint", "/no-backend")])).unwrap();
    let root = h.shadow_root().expect("open shadow root");
    for name in [
        "amount-input",
        "submit-button",
        "qr",
        "invoice",
        "copy-button",
        "open-wallet",
        "countdown",
        "status",
        "error",
        "new-invoice-button",
    ] {
        // (the QR is an SVG element, not an HTML one)
        let found = root.query_selector(&format!("[part='{name}']")).unwrap();
        assert!(found.is_some(), "no part {name}");
    }
    let status = part(&root, "status");
    assert_eq!(status.get_attribute("aria-live").as_deref(), Some("polite"));
    let qr = root.query_selector("[part~='qr']").unwrap().unwrap();
    assert_eq!(qr.get_attribute("role").as_deref(), Some("img"));
    let input = part(&root, "amount-input");
    let label = root
        .query_selector("label[for='lc-amount']")
        .unwrap()
        .unwrap();
    assert_eq!(input.id(), "lc-amount");
    assert!(!label.text_content().unwrap().is_empty());
}

#[wasm_bindgen_test]
async fn a_bad_amount_is_refused_before_any_request() {
    let h = host();
    let _handle = mount(
        h.clone(),
        options(&[("endpoint", "/no-backend"), ("min-sat", "1000")]),
    )
    .unwrap();
    let root = h.shadow_root().unwrap();
    let input: HtmlInputElement = part(&root, "amount-input").dyn_into().unwrap();
    for (typed, expected) in [
        ("", "Enter"),
        ("12.5", "whole number"),
        ("999", "1,000"),
        ("abc", "number"),
    ] {
        input.set_value(typed);
        part(&root, "submit-button").click();
        sleep(10).await;
        let err = root
            .query_selector(".form-error")
            .unwrap()
            .unwrap()
            .dyn_into::<HtmlElement>()
            .unwrap();
        assert!(!err.hidden(), "no error for {typed:?}");
        let text = err.text_content().unwrap();
        assert!(text.contains(expected), "{typed:?}: {text}");
        assert_eq!(input.get_attribute("aria-invalid").as_deref(), Some("true"));
        // Still on the form: nothing was requested.
        assert!(part(&root, "status").text_content().unwrap().is_empty());
    }
}

#[wasm_bindgen_test]
fn a_bad_configuration_is_one_sentence_and_no_form() {
    for (opts, needle) in [
        (vec![], "endpoint"),
        (vec![("endpoint", "/api"), ("network", "liquid")], "network"),
        (
            vec![("endpoint", "/api"), ("min-sat", "10"), ("max-sat", "5")],
            "min-sat",
        ),
        (
            vec![("endpoint", "/api"), ("amount-sat", "1.5")],
            "amount-sat",
        ),
        (vec![("endpoint", "javascript:alert(1)")], "endpoint"),
    ] {
        let h = host();
        let _handle = mount(h.clone(), options(&opts)).unwrap();
        let root = h.shadow_root().unwrap();
        let error = part(&root, "error");
        assert!(!error.hidden());
        assert!(error.text_content().unwrap().contains(needle), "{opts:?}");
        let form = root.query_selector("form").unwrap().unwrap();
        assert!(form.dyn_into::<HtmlElement>().unwrap().hidden());
    }
}

#[wasm_bindgen_test]
async fn a_backend_error_is_a_sentence_with_a_retry() {
    // The test runner's server answers 404 (not our JSON) for this endpoint.
    let h = host();
    let _handle = mount(
        h.clone(),
        options(&[("endpoint", "/no-such-backend"), ("amount-sat", "2500")]),
    )
    .unwrap();
    let root = h.shadow_root().unwrap();
    let error = part(&root, "error");
    for _ in 0..100 {
        if !error.hidden() {
            break;
        }
        sleep(50).await;
    }
    assert!(!error.hidden(), "no error shown");
    let text = error.text_content().unwrap();
    assert!(text.contains("HTTP 404"), "{text}");
    let retry = part(&root, "retry-button");
    assert!(!retry.hidden());
    // No QR, nothing payable.
    let panel = root
        .query_selector(".panel")
        .unwrap()
        .unwrap()
        .dyn_into::<HtmlElement>()
        .unwrap();
    assert!(panel.hidden());
}

#[wasm_bindgen_test]
async fn destroy_empties_the_widget_and_stops_everything() {
    let h = host();
    let mut handle = mount(
        h.clone(),
        options(&[("endpoint", "/no-such-backend"), ("amount-sat", "2500")]),
    )
    .unwrap();
    handle.destroy();
    handle.destroy(); // twice is harmless
    let root = h.shadow_root().unwrap();
    assert_eq!(root.child_element_count(), 0);
    sleep(300).await;
    // A late answer to the aborted request must not rebuild anything.
    assert_eq!(root.child_element_count(), 0);
}

#[wasm_bindgen_test]
fn the_qr_is_drawn_with_its_quiet_zone() {
    let payload = format!("lightning:{}", SPEC_INVOICE.to_uppercase());
    let qr = lightning_checkout::qr::Qr::encode(&payload).unwrap();
    let size = qr.view_box_size(lightning_checkout::qr::QUIET_ZONE);
    assert_eq!(size, qr.width() + 8);
    let d = qr.svg_path_data(lightning_checkout::qr::QUIET_ZONE);
    assert!(d.starts_with('M'));
}

#[wasm_bindgen_test]
async fn the_heap_stops_growing_under_repeated_work() {
    // The small free-list allocator (src/lib.rs) must reuse what is freed: decode, check and
    // draw the same invoice many times; after a warm-up round the wasm memory must not grow.
    let payload = format!("lightning:{}", SPEC_INVOICE.to_uppercase());
    let hash = lightning_checkout::invoice::parse_hash_hex(
        "0001020304050607080900010203040506070809000102030405060708090102",
    )
    .unwrap();
    let expected = Expected {
        amount_msat: 250_000_000,
        network: Network::Bitcoin,
        payment_hash: hash,
    };
    let round = || {
        for _ in 0..40 {
            let inv = check_invoice(SPEC_INVOICE, &expected, 1_496_314_658_000).unwrap();
            assert_eq!(inv.amount_msat(), 250_000_000);
            let qr = lightning_checkout::qr::Qr::encode(&payload).unwrap();
            assert!(!qr.svg_path_data(4).is_empty());
        }
    };
    let memory_bytes = || {
        wasm_bindgen::memory()
            .dyn_into::<js_sys::WebAssembly::Memory>()
            .unwrap()
            .buffer()
            .dyn_into::<js_sys::ArrayBuffer>()
            .unwrap()
            .byte_length()
    };
    round();
    sleep(0).await;
    let warm = memory_bytes();
    for _ in 0..5 {
        round();
        // Yield, so the page stays responsive for the test driver.
        sleep(0).await;
    }
    assert_eq!(
        memory_bytes(),
        warm,
        "the heap grew: freed memory is not reused"
    );
}

/// Issue 10, item 11: every focus change used to leak its timer's closure (`Timeout::forget`).
/// A bad amount moves focus back to the input; thousands of them must not grow the heap.
#[wasm_bindgen_test]
async fn focus_changes_do_not_leak() {
    let h = host();
    let _handle = mount(h.clone(), options(&[("endpoint", "/no-backend")])).unwrap();
    let root = h.shadow_root().unwrap();
    let input: HtmlInputElement = part(&root, "amount-input").dyn_into().unwrap();
    let submit = part(&root, "submit-button");
    input.set_value("abc");
    let memory_bytes = || {
        wasm_bindgen::memory()
            .dyn_into::<js_sys::WebAssembly::Memory>()
            .unwrap()
            .buffer()
            .dyn_into::<js_sys::ArrayBuffer>()
            .unwrap()
            .byte_length()
    };
    let round = |n: usize| {
        for _ in 0..n {
            submit.click();
        }
    };
    round(500);
    sleep(20).await;
    let warm = memory_bytes();
    for _ in 0..8 {
        round(1000);
        // Let the focus timers fire, as they would between a payer's clicks.
        sleep(20).await;
    }
    assert_eq!(memory_bytes(), warm, "the heap grew with focus changes");
    h.remove();
}
