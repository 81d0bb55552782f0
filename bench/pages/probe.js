// Injected into every load-page run before any of the page's scripts (page.addInitScript): it
// timestamps, in the page's own clock (performance.now(), 0 = navigation start),
//  * the WebAssembly compile + instantiate call and its resolution,
//  * the widget becoming interactive: its shadow root holds an enabled amount input,
//  * a click on the submit button (capture phase on window, before the widget sees it), and the
//    invoice the widget then shows (its lightning-checkout:invoice event),
//  * the QR in the DOM (svg [part="qr"] visible with a non-empty path), and painted: the next
//    animation frame, then the first task after it (the frame's paint has been done by then).
// Each shadow root gets its own record in window.__bench.roots.
(() => {
  const bench = { roots: [], wasm: [] };
  window.__bench = bench;

  for (const name of ['instantiateStreaming', 'instantiate', 'compileStreaming', 'compile']) {
    const orig = WebAssembly[name];
    if (typeof orig !== 'function') continue;
    WebAssembly[name] = function (...args) {
      const rec = { name, start: performance.now() };
      bench.wasm.push(rec);
      return orig.apply(this, args).then((r) => { rec.end = performance.now(); return r; });
    };
  }

  document.addEventListener('lightning-checkout:invoice', (ev) => { bench.invoice = ev.detail; });

  addEventListener('click', (ev) => {
    const target = ev.composedPath()[0];
    if (target instanceof Element && target.closest('[part="submit-button"]')) bench.clickAt = performance.now();
  }, true);

  const afterPaint = (cb) => requestAnimationFrame(() => {
    const frame = performance.now();
    const ch = new MessageChannel();
    ch.port1.onmessage = () => cb(frame, performance.now());
    ch.port2.postMessage(0);
  });

  function watch(root) {
    const rec = {};
    bench.roots.push(rec);
    const check = () => {
      if (rec.interactive === undefined) {
        const input = root.querySelector('[part="amount-input"]');
        if (input && !input.disabled) {
          rec.interactive = performance.now();
          performance.mark('widget-interactive');
        }
      }
      if (rec.qrDom === undefined) {
        const svg = root.querySelector('svg[part="qr"]');
        const d = svg?.querySelector('path')?.getAttribute('d');
        if (svg && d && !svg.hasAttribute('hidden') && svg.checkVisibility?.() !== false) {
          rec.qrDom = performance.now();
          performance.mark('qr-dom');
          afterPaint((frame, painted) => {
            rec.qrFrame = frame;
            rec.qrPainted = painted;
            performance.mark('qr-painted');
          });
        }
      }
    };
    new MutationObserver(check).observe(root, { subtree: true, childList: true, attributes: true });
    queueMicrotask(check);
  }

  const attachShadow = Element.prototype.attachShadow;
  Element.prototype.attachShadow = function (init) {
    const root = attachShadow.call(this, init);
    if (this.localName === 'lightning-checkout') watch(root);
    return root;
  };
})();
