// <lightning-checkout>: the only hand-written JavaScript of the widget. It loads the
// WebAssembly module once and defines the custom element; everything else is Rust (src/).
import init, { mount as wasmMount } from './lightning_checkout.js';

const TAG = 'lightning-checkout';
const ATTRIBUTES = ['endpoint', 'amount-sat', 'min-sat', 'max-sat', 'description', 'order-id', 'expiry-secs', 'network', 'order-token'];

let loading;
// One load per page; a failed load is forgotten so the next element can try again.
function load() {
  loading ??= init().catch((err) => { loading = undefined; throw err; });
  return loading;
}

/** Mounts a checkout into `element`; resolves to a handle whose destroy() removes it. */
export async function mount(element, options = {}) {
  await load();
  return wasmMount(element, options);
}

function loadFailed(element, err) {
  const root = element.shadowRoot ?? element.attachShadow({ mode: 'open' });
  const p = document.createElement('p');
  p.setAttribute('part', 'error');
  p.setAttribute('role', 'alert');
  const blocked = String(err).includes('CompileError') || String(err).includes('wasm-unsafe-eval');
  p.textContent = blocked
    ? 'The payment form is blocked by this page\'s Content-Security-Policy (it needs \'wasm-unsafe-eval\').'
    : 'The payment form could not load. Check your connection and reload the page.';
  root.replaceChildren(p);
  element.dispatchEvent(new CustomEvent('lightning-checkout:error', {
    bubbles: true, composed: true,
    detail: { code: blocked ? 'csp_blocked' : 'load_failed', message: String(err?.message ?? err) },
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
