// <lightning-checkout>: the only hand-written JavaScript of the widget. It loads the
// WebAssembly module once and defines the custom element; everything else is Rust (src/).
import wasmInit, { mount as wasmMount } from './lightning_checkout.js';

const TAG = 'lightning-checkout';
const ATTRIBUTES = ['endpoint', 'amount-sat', 'min-sat', 'max-sat', 'description', 'order-id', 'expiry-secs', 'network', 'order-token', 'currency', 'fiat-amount', 'unified', 'webln-timeout-ms'];
// The languages besides English (built in): each a file locales/<tag>.json next to this module,
// fetched only when chosen. Right-to-left ones get dir="rtl".
const LOCALES = ['es', 'pt-BR', 'de', 'fr', 'it', 'ja', 'zh-CN', 'ru', 'tr', 'ar'];
const RTL = ['ar'];

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
let localesUrl; // init({ localesUrl }): where the locale files are, else next to this module
const localeFiles = new Map(); // tag -> Promise of its texts (null: English)

/**
 * The widget's language: the first of `tags` that names English or one of LOCALES (exactly, any
 * case; else by its language alone: pt -> pt-BR, zh -> zh-CN, es-MX -> es); English if none.
 */
function pickLocale(tags) {
  for (const tag of tags) {
    if (typeof tag !== 'string' || !tag.trim()) continue;
    const lower = tag.trim().toLowerCase().replace(/_/g, '-');
    const base = lower.split('-')[0];
    if (base === 'en') return 'en';
    const found = LOCALES.find((l) => l.toLowerCase() === lower) ?? LOCALES.find((l) => l.toLowerCase().split('-')[0] === base);
    if (found) return found;
  }
  return 'en';
}

// A locale file, once per page; a failed one is English (and said only in the console).
function localeTexts(tag) {
  if (tag === 'en') return Promise.resolve(null);
  if (!localeFiles.has(tag)) {
    localeFiles.set(tag, (async () => {
      let url = `locales/${tag}.json`;
      try {
        url = new URL(url, localesUrl ?? import.meta.url).href;
        const res = await fetch(url, { credentials: 'same-origin' });
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        const texts = await res.json();
        if (!texts || typeof texts !== 'object') throw new Error('not a JSON object');
        return texts;
      } catch (err) {
        console.warn(`lightning-checkout: could not load ${url} (${err?.message ?? err}); showing English.`);
        return null;
      }
    })());
  }
  return localeFiles.get(tag);
}

/**
 * The options the wasm takes for a language: `locale`, `dir` and `messages` (the locale file's
 * texts under the shop's own `messages`). Chosen by `lang` (option or attribute), else the
 * element's closest [lang], else navigator.languages.
 */
async function language(element, lang, messages) {
  const nav = globalThis.navigator;
  const tag = pickLocale([lang, element.closest?.('[lang]')?.getAttribute('lang'), ...(nav?.languages ?? [nav?.language])]);
  const texts = await localeTexts(tag);
  const locale = texts ? tag : 'en';
  const own = messages && typeof messages === 'object' ? messages : {};
  // Made on first use, not here: the first Intl object of a fresh page loads the browser's ICU
  // data (15-45 ms in Chromium, the largest single cost of page load → interactive), and the
  // form needs no formatted number; warmIntl() makes it once the widget is up.
  let number;
  // None for English without the shop's texts: the wasm then asks no key of it (it asks each of
  // its ~60 keys of any object it is given, a call across the boundary each).
  const merged = { ...texts, ...own };
  return {
    locale, dir: RTL.includes(locale) ? 'rtl' : 'ltr', messages: Object.keys(merged).length ? merged : undefined,
    // amounts as the locale writes them
    formatSat: (msat) => (number ??= new Intl.NumberFormat(locale, { maximumFractionDigits: 3 })).format(msat / 1000),
    // A fiat price (decimal text, formatted exactly) as the locale writes money; null if the
    // currency is unknown to Intl (the widget then writes "EUR 4.50").
    formatFiat: (currency, amount) => {
      try {
        return new Intl.NumberFormat(locale, { style: 'currency', currency, maximumFractionDigits: 20 }).format(amount);
      } catch {
        return null;
      }
    },
  };
}

// Once a widget is up, in idle time: the number formatter (and with it the browser's ICU data),
// so that the first amount shown (the invoice's) does not pay for it in click → QR.
function warmIntl(lang) {
  const run = () => { try { lang.formatSat(0); } catch { /* shown as plain digits then */ } };
  if (globalThis.requestIdleCallback) requestIdleCallback(run, { timeout: 1000 });
  else setTimeout(run, 50);
}

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
  if (options.localesUrl != null) localesUrl = options.localesUrl;
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
  const [, lang] = await Promise.all([load(), language(element, options.lang, options.messages)]);
  let invalid = null;
  const onError = (e) => { if (e.detail?.code === 'invalid_config') invalid = e.detail.message; };
  element.addEventListener(`${TAG}:error`, onError);
  let handle;
  try {
    handle = wasmMount(element, { ...options, ...lang });
    warmIntl(lang);
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

function loadFailed(element, err, lang) {
  const code = LOAD_MESSAGES[err?.code] ? err.code : 'network';
  console.error(err);
  const root = element.shadowRoot ?? element.attachShadow({ mode: 'open' });
  const p = document.createElement('p');
  p.setAttribute('part', 'error');
  p.setAttribute('role', 'alert');
  p.lang = lang.locale;
  p.dir = lang.dir;
  const text = lang.messages?.[`load_${code}`];
  p.textContent = typeof text === 'string' ? text : LOAD_MESSAGES[code];
  root.replaceChildren(p);
  element.dispatchEvent(new CustomEvent(`${TAG}:error`, {
    bubbles: true, composed: true,
    detail: { code, message: String(err?.message ?? err), ...(err?.url ? { url: err.url } : {}) },
  }));
}

const Base = globalThis.HTMLElement ?? class {};

class LightningCheckout extends Base {
  static observedAttributes = [...ATTRIBUTES, 'lang'];
  #handle = null;
  #generation = 0;
  #messages;

  /** The shop's texts by key, over the language's (see README, Languages). */
  get messages() { return this.#messages; }
  set messages(value) { this.#messages = value; this.#restart(); }

  constructor() {
    super();
    // Set on the element before this script defined it: an own property hiding the accessor.
    if (Object.hasOwn(this, 'messages')) {
      const value = this.messages;
      delete this.messages;
      this.#messages = value;
    }
  }

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
      const lang = language(this, null, this.#messages);
      try {
        await load();
      } catch (err) {
        if (generation === this.#generation) loadFailed(this, err, await lang);
        return;
      }
      Object.assign(options, await lang);
      if (generation !== this.#generation || !this.isConnected) return;
      this.#handle = wasmMount(this, options);
      warmIntl(options);
    });
  }
}

if (globalThis.customElements && !customElements.get(TAG)) {
  customElements.define(TAG, LightningCheckout);
}
