//! # lightning-checkout
//!
//! A Lightning (BOLT 11) checkout widget, in Rust compiled to WebAssembly. A shop adds one
//! module script and one element:
//!
//! ```html
//! <script type="module" src="https://shop.example/pkg/lightning-checkout.js"></script>
//! <lightning-checkout endpoint="/api" amount-sat="2500" description="1 cup coffee"
//!                     order-id="order-42" network="bitcoin"></lightning-checkout>
//! ```
//!
//! The widget asks the shop's backend (`POST {endpoint}/invoices`) for an invoice, checks it
//! (amount, network, payment hash, expiry) before showing anything payable, draws its QR code,
//! offers Copy and "Open wallet", counts down to expiry and polls
//! `GET {endpoint}/invoices/{id}` until the invoice is paid or expired.
//!
//! ## Modules
//! Pure modules (no browser, no clock; tested natively):
//! - [`amount`]: amount input parsing and formatting, integer sats only.
//! - [`invoice`]: BOLT 11 decoding and the checks against what was asked.
//! - [`qr`]: the QR code and its SVG path.
//! - [`contract`]: the backend JSON contract, parsed then validated.
//! - [`config`]: attributes / `mount()` options, checked.
//! - [`fiat`]: a fiat price as text (the backend converts it).
//! - [`unified`]: the unified BIP21 QR string (on-chain address + Lightning invoice).
//! - [`sha256`]: a compact SHA-256 for the preimage check.
//! - [`state`]: the checkout state machine (`handle(event, now) -> effects`).
//! - [`clock`]: the backend's clock (`server_time`), which corrects the payer's.
//! - [`i18n`]: the message catalogue: every sentence shown, in the widget's language.
//!
//! Browser edge (wasm32 only):
//! - `api`: the only code that talks to the backend.
//! - `view`: the DOM, built once; `render(&ViewModel)`.
//! - `webln`: the browser wallet (`window.webln`).
//! - `widget`: the glue running effects, timers and listeners.
//! - `stream`: the live status stream (`EventSource`), fed to the machine like poll answers.
//! - `embed`: the `#[wasm_bindgen]` surface (`mount`, `Handle::destroy`).
#![deny(missing_docs)]

pub mod amount;
pub mod clock;
pub mod config;
pub mod contract;
pub mod fiat;
pub mod i18n;
pub mod invoice;
pub mod qr;
pub mod sha256;
pub mod state;
pub mod unified;

#[cfg(target_arch = "wasm32")]
pub mod api;
#[cfg(all(target_arch = "wasm32", feature = "bench"))]
pub mod bench;
#[cfg(target_arch = "wasm32")]
pub mod embed;
#[cfg(target_arch = "wasm32")]
mod stream;
#[cfg(target_arch = "wasm32")]
pub mod view;
#[cfg(target_arch = "wasm32")]
pub mod webln;
#[cfg(target_arch = "wasm32")]
pub mod widget;

/// The allocator: a small free list (sorted by address, neighbours coalesced) instead of
/// dlmalloc, 3 KB less to download. The widget's heap is small and single-threaded (wasm32
/// without threads), so O(free-list length) operations are fine; tests/web.rs checks that
/// repeated decoding and QR drawing do not grow the heap.
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: lol_alloc::AssumeSingleThreaded<lol_alloc::FreeListAllocator> =
    // SAFETY: wasm32-unknown-unknown without the atomics feature has a single thread.
    unsafe { lol_alloc::AssumeSingleThreaded::new(lol_alloc::FreeListAllocator::new()) };
