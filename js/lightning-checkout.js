// <lightning-checkout>: the only hand-written JavaScript of the widget. It loads the
// WebAssembly module once and defines the custom element; everything else is Rust (src/).
import wasmInit, { mount as wasmMount } from './lightning_checkout.js';

const TAG = 'lightning-checkout';
const ATTRIBUTES = ['endpoint', 'amount-sat', 'min-sat', 'max-sat', 'description', 'order-id', 'expiry-secs', 'network', 'order-token', 'currency', 'fiat-amount', 'unified'];

// Where the .wasm is: what init() was told, else next to this module. The `new URL(…,
// import.meta.url)` form is the one Vite, webpack and Parcel recognise and rewrite to the asset
// they emit. A classic-script build (lightning-checkout.iife.js) defines import.meta.url as its
// own script's URL.
function defaultWasmUrl() {
  try {
    return new URL('lightning_checkout_bg.wasm', import.meta.url);
  } catch {
    return null; // no module URL (an iife bundle made without ours): init({ wasmUrl }) must say
  }
}

let source; // { wasmUrl } or { module }, set by init()
let loading;

/** A load failure with a stable code: wasm_not_found, csp_blocked or network. */
function loadError(code, message, url) {
  const e = new Error(message);
  e.name = 'LightningCheckoutLoadError';
  e.code = code;
  if (url) e.url = url;
  return e;
}

async function fetchWasm(url) {
  if (!url) {
    throw loadError('wasm_not_found', 'lightning-checkout: cannot tell where lightning_checkout_bg.wasm is (no module URL): call init({ wasmUrl }) first.');
  }
  const href = String(url);
  // A fetch that the page's Content-Security-Policy refuses fails like a network error; the
  // browser's securitypolicyviolation event says which it was.
  let violation = null;
  const onViolation = (e) => { if (String(e.blockedURI).startsWith(new URL(href, location.href).origin)) violation = e.effectiveDirective; };
  globalThis.document?.addEventListener('securitypolicyviolation', onViolation);
  let res;
  try {
    res = await fetch(href, { credentials: 'same-origin' });
  } catch (err) {
    await new Promise((r) => setTimeout(r, 0)); // the violation event comes just after
    if (violation) {
      throw loadError('csp_blocked', `lightning-checkout: the page's Content-Security-Policy (${violation}) blocks downloading ${href}: allow its origin in connect-src.`, href);
    }
    throw loadError('network', `lightning-checkout: could not download ${href} (${err?.message ?? err}): check the connection.`, href);
  } finally {
    globalThis.document?.removeEventListener('securitypolicyviolation', onViolation);
  }
  if (!res.ok) {
    throw loadError('wasm_not_found', `lightning-checkout: lightning_checkout_bg.wasm is not at ${href} (HTTP ${res.status}): serve it there or call init({ wasmUrl }) with its URL.`, href);
  }
  return res;
}

async function instantiate() {
  const given = source?.module;
  const url = given ? null : (source?.wasmUrl ?? defaultWasmUrl());
  const module_or_path = given ?? await fetchWasm(url);
  try {
    await wasmInit({ module_or_path });
  } catch (err) {
    const text = String(err?.message ?? err);
    if (/CompileError|unsafe-eval|Content.Security.Policy/i.test(`${err?.name} ${text}`)) {
      throw loadError('csp_blocked', "lightning-checkout: the page's Content-Security-Policy blocks WebAssembly: add 'wasm-unsafe-eval' to script-src.", url && String(url));
    }
    throw loadError('wasm_not_found', `lightning-checkout: ${url ? String(url) : 'the module given to init()'} is not the widget's WebAssembly (${text}).`, url && String(url));
  }
}

// One load per page; a failed load is forgotten so the next element (or call) can try again.
function load() {
  loading ??= instantiate().catch((err) => { loading = undefined; throw err; });
  return loading;
}

/**
 * Says where the widget's WebAssembly is and loads it: `init({ wasmUrl })` (a URL, e.g. from
 * a bundler's asset import or a CDN) or `init({ module })` (a compiled WebAssembly.Module, its
 * bytes, or a fetch Response). Call it before the first element connects or mount() runs;
 * without it the .wasm is fetched from next to this script. Resolves once loaded.
 */
export function init(options = {}) {
  if (options === null || typeof options !== 'object') {
    return Promise.reject(new TypeError('lightning-checkout: init() takes { wasmUrl } or { module }.'));
  }
  if (options.wasmUrl != null || options.module != null) {
    if (loading && (source?.wasmUrl !== options.wasmUrl || source?.module !== options.module)) {
      return loading.then(() => {}); // already loading or loaded: the first source wins
    }
    source = { wasmUrl: options.wasmUrl ?? undefined, module: options.module ?? undefined };
  }
  return load().then(() => {});
}

/** Starts downloading and compiling the widget now (e.g. when the cart opens). */
export function preload() {
  return init();
}

/**
 * Mounts a checkout into `element`; resolves to a handle whose destroy() removes it. Rejects
 * when the element cannot hold a shadow root, when an option is wrong (the sentence is also
 * shown in the element), or when the widget cannot load.
 */
export async function mount(element, options = {}) {
  if (!(globalThis.HTMLElement && element instanceof HTMLElement)) {
    throw new TypeError(`lightning-checkout: mount(element, options) needs an HTMLElement, not ${element === null ? 'null' : typeof element}.`);
  }
  if (options === null || typeof options !== 'object') {
    throw new TypeError('lightning-checkout: mount(element, options) needs an options object such as { endpoint: "/api" }.');
  }
  await load();
  let invalid = null;
  const onError = (e) => { if (e.detail?.code === 'invalid_config') invalid = e.detail.message; };
  element.addEventListener(`${TAG}:error`, onError);
  let handle;
  try {
    handle = wasmMount(element, options);
  } catch (err) {
    throw new Error(`lightning-checkout: cannot mount into this element (${err?.message ?? err}).`);
  } finally {
    element.removeEventListener(`${TAG}:error`, onError);
  }
  if (invalid) throw new Error(invalid);
  return handle;
}

const LOAD_MESSAGES = {
  csp_blocked: "The payment form is blocked by this page's security settings (Content-Security-Policy).",
  wasm_not_found: 'The payment form could not load: its files are missing on the server.',
  network: 'The payment form could not load. Check your connection and reload the page.',
};

function loadFailed(element, err) {
  const code = LOAD_MESSAGES[err?.code] ? err.code : 'network';
  console.error(err);
  const root = element.shadowRoot ?? element.attachShadow({ mode: 'open' });
  const p = document.createElement('p');
  p.setAttribute('part', 'error');
  p.setAttribute('role', 'alert');
  p.textContent = LOAD_MESSAGES[code];
  root.replaceChildren(p);
  element.dispatchEvent(new CustomEvent(`${TAG}:error`, {
    bubbles: true, composed: true,
    detail: { code, message: String(err?.message ?? err), ...(err?.url ? { url: err.url } : {}) },
  }));
}

const Base = globalThis.HTMLElement ?? class {};

class LightningCheckout extends Base {
  static observedAttributes = ATTRIBUTES;
  #handle = null;
  #generation = 0;

  connectedCallback() { this.#restart(); }
  disconnectedCallback() { this.#restart(); }
  attributeChangedCallback() { this.#restart(); }

  // Attribute changes and connection arrive in bursts (an upgrade reports every attribute):
  // coalesce them into one (re)mount on the next microtask.
  #restart() {
    const generation = ++this.#generation;
    queueMicrotask(async () => {
      if (generation !== this.#generation) return;
      this.#handle?.destroy();
      this.#handle = null;
      if (!this.isConnected) return;
      const options = {};
      for (const name of ATTRIBUTES) {
        if (this.hasAttribute(name)) options[name] = this.getAttribute(name);
      }
      try {
        await load();
      } catch (err) {
        if (generation === this.#generation) loadFailed(this, err);
        return;
      }
      if (generation !== this.#generation || !this.isConnected) return;
      this.#handle = wasmMount(this, options);
    });
  }
}

if (globalThis.customElements && !customElements.get(TAG)) {
  customElements.define(TAG, LightningCheckout);
}
