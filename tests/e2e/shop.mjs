// A real HTTP server in front of the real backend, for journeys that every engine runs (WebDriver
// has no request interception): it serves test pages, forwards everything else to the backend,
// answers chosen requests with a fault, counts invoice creations, and injects a recorder script
// into every HTML page so that console errors, CSP violations and checkout events are read from
// the page itself in any engine.
import { createServer, request } from 'node:http';

const RECORDER = `(() => {
  const errors = (window.__errors = []);
  const push = (s) => errors.push(String(s));
  window.__checkoutEvents = [];
  window.__csp = [];
  addEventListener('error', (e) => {
    const t = e.target;
    push(e.message || (t && (t.src || t.href) ? 'failed to load ' + (t.src || t.href) : 'error event'));
  }, true);
  addEventListener('unhandledrejection', (e) => push('unhandled rejection: ' + ((e.reason && e.reason.message) || e.reason)));
  document.addEventListener('securitypolicyviolation', (e) => {
    window.__csp.push(e.violatedDirective + ' ' + e.blockedURI);
    push('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI);
  });
  const original = console.error;
  console.error = function (...a) { push(a.map(String).join(' ')); return original.apply(this, a); };
  for (const kind of ['invoice', 'paid', 'expired', 'error']) {
    document.addEventListener('lightning-checkout:' + kind, (e) => {
      window.__checkoutEvents.push({ kind, detail: e.detail, composed: e.composed, bubbles: e.bubbles });
    });
  }
})();`;

const TAG = '<script src="/__e2e/record.js"></script>';

/** Puts the recorder first in `html` (right after <head> when there is one). */
const inject = (html) => (/<head>/i.test(html) ? html.replace(/<head>/i, (m) => m + TAG) : TAG + html);

/**
 * Starts the shop server on a free port. `page(path, html, headers)` serves a page;
 * `fault('POST /api/invoices', handler)` lets `handler({ forward })` answer instead of the
 * backend (`forward()` resolves to the backend's { status, headers, body }); `clearFault(key)`;
 * `creates` counts invoice creations that reached the backend. `setBackend(url)` must be called
 * before the first forwarded request.
 */
export async function startShop() {
  const pages = new Map();
  const faults = new Map();
  const shop = { creates: 0, backend: null };

  const forward = (req, body) => new Promise((resolve, reject) => {
    const target = new URL(req.url, shop.backend);
    const headers = { ...req.headers, host: target.host };
    delete headers['accept-encoding'];
    const out = request(target, { method: req.method, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    out.on('error', reject);
    out.end(body);
  });

  const server = createServer(async (req, res) => {
    try {
      const chunks = [];
      for await (const c of req) chunks.push(c);
      const body = Buffer.concat(chunks);
      const path = new URL(req.url, 'http://x').pathname;
      if (path === '/__e2e/record.js') {
        res.writeHead(200, { 'content-type': 'text/javascript', 'cache-control': 'no-store' });
        return res.end(RECORDER);
      }
      if (path === '/__e2e/no-clipboard.js') {
        // A page without the Clipboard API, as on plain http or in an engine without it.
        res.writeHead(200, { 'content-type': 'text/javascript', 'cache-control': 'no-store' });
        return res.end("Object.defineProperty(Navigator.prototype, 'clipboard', { get: () => undefined, configurable: true });");
      }
      const p = pages.get(path);
      if (p) {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', ...p.headers });
        return res.end(inject(p.html));
      }
      if (req.method === 'POST' && path === '/api/invoices') shop.creates += 1;
      const fault = faults.get(`${req.method} ${path}`);
      if (fault) {
        const answer = await fault({ forward: () => forward(req, body), body });
        if (answer === 'reset') return req.socket.destroy();
        res.writeHead(answer.status, answer.headers ?? {});
        return res.end(answer.body);
      }
      if (req.headers.accept === 'text/event-stream') {
        // A stream is passed through as it comes.
        const target = new URL(req.url, shop.backend);
        const out = request(target, { method: req.method, headers: { ...req.headers, host: target.host } }, (up) => {
          res.writeHead(up.statusCode, up.headers);
          up.pipe(res);
        });
        out.on('error', () => res.destroy());
        res.on('close', () => out.destroy());
        return out.end(body);
      }
      const up = await forward(req, body);
      const headers = { ...up.headers };
      let out = up.body;
      if (/text\/html/.test(headers['content-type'] ?? '')) {
        out = Buffer.from(inject(out.toString('utf8')));
        delete headers['content-length'];
        delete headers.etag;
      }
      delete headers['transfer-encoding'];
      headers['content-length'] = String(out.length);
      res.writeHead(up.status, headers);
      res.end(out);
    } catch (e) {
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`shop server: ${e.message}`);
    }
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${server.address().port}`;
  return Object.assign(shop, {
    url,
    setBackend(u) { shop.backend = u; },
    page(path, html, headers = {}) { pages.set(path, { html, headers }); return `${url}${path}`; },
    fault(key, handler) { faults.set(key, handler); },
    clearFault(key) { faults.delete(key); },
    stop: () => new Promise((r) => { server.closeAllConnections?.(); server.close(() => r()); }),
  });
}
