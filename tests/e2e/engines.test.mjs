// The core journeys in every engine: Chromium (playwright-core), Firefox (geckodriver) and WebKit
// (WebKitGTK's MiniBrowser) against the real backend, through a real shop server (shop.mjs) that
// also injects the faults. The same journey code runs in each; a failure names its engine.
// Screenshots (desktop and phone, light and dark) go to target/screenshots/ for a person.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bolt11 from 'bolt11';
import { startBackend, ROOT } from './harness.mjs';
import { startShop } from './shop.mjs';
import { ENGINES, PHONE, NARROWEST, launchEngine, part, inShadow, TAB, ENTER } from './engines.mjs';

const SHOTS = join(ROOT, 'target', 'screenshots');
mkdirSync(SHOTS, { recursive: true });

let shop;
let backend;

before(async () => {
  shop = await startShop();
  // The shop's own origin may call the backend directly too (the cross-origin CSP journey).
  backend = await startBackend({ env: { CORS_ORIGINS: shop.url } });
  shop.setBackend(backend.url);
});
after(async () => {
  await shop?.stop();
  await backend?.stop();
  backend?.cleanup();
});

const sha256hex = (hex) => createHash('sha256').update(Buffer.from(hex, 'hex')).digest('hex');

function decode(pr) {
  const d = bolt11.decode(pr, { bech32: 'bcrt', pubKeyHash: 0x6f, scriptHash: 0xc4, validWitnessVersions: [0, 1] });
  assert.equal(d.payeeNodeKey, d.tags.find((t) => t.tagName === 'payee_node_key')?.data, 'signature recovers the payee key');
  return d;
}

// ---- engine-independent page helpers (everything is read from the page) ----

/** Polls `fn(arg)` in the page until it returns something truthy; resolves to it. */
async function waitUntil(page, what, fn, arg, { timeout = 15_000 } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await page.eval(fn, arg);
      if (last) return last;
    } catch (e) { last = e.message; }
    if (Date.now() > deadline) {
      const seen = await page.eval("() => document.querySelector('lightning-checkout')?.shadowRoot?.textContent").catch(() => '?');
      throw new Error(`[${page.engine}] timed out after ${timeout} ms waiting for ${what} (last: ${JSON.stringify(last)}; the widget shows: ${JSON.stringify(seen)})`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

const VISIBLE = `(t) => { const e = find(t); if (!e) return false;
  if (e.checkVisibility) return e.checkVisibility({ visibilityProperty: true });
  return e.getClientRects().length > 0 && !e.closest('[hidden]'); }`;

const visible = (page, t) => page.eval(VISIBLE, t);
const waitVisible = (page, t, opts) => waitUntil(page, `${JSON.stringify(t)} visible`, VISIBLE, t, opts);
const text = (page, t) => page.eval('(t) => { const e = find(t); return e ? e.textContent : null; }', t);
const attr = (page, t, name) => page.eval('(a) => { const e = find(a[0]); return e ? e.getAttribute(a[1]) : null; }', [t, name]);
const box = (page, t) => page.eval('(t) => { const r = find(t).getBoundingClientRect(); return { x: r.x, y: r.y, width: r.width, height: r.height }; }', t);
const waitText = (page, t, needle, opts) => waitUntil(page, `${JSON.stringify(t)} to say "${needle}"`,
  '(a) => { const e = find(a[0]); return !!e && e.textContent.includes(a[1]); }', [t, needle], opts);
const events = (page) => page.eval('() => window.__checkoutEvents || []');
const errors = (page) => page.eval('() => window.__errors || []');
const waitEvent = (page, kind, { nth = 1, timeout } = {}) => waitUntil(page, `${nth} '${kind}' event(s)`,
  '(a) => (window.__checkoutEvents || []).filter((e) => e.kind === a[0])[a[1] - 1]', [kind, nth], { timeout });
/** The part name of the focused element inside the widget's shadow root. */
const focusedPart = (page) => page.eval("() => { const h = document.querySelector('lightning-checkout'); const a = h && h.shadowRoot.activeElement; return a ? a.getAttribute('part') : null; }");

/** The QR is centred in the widget (Firefox and WebKit do not centre a block with justify-self). */
async function assertQrCentred(page) {
  const [qr, panel] = [await box(page, inShadow('.qr-box')), await box(page, inShadow('.panel'))];
  const off = (qr.x + qr.width / 2) - (panel.x + panel.width / 2);
  assert.ok(Math.abs(off) <= 1, `the QR is centred (${off.toFixed(1)} px off)`);
}

/** Screenshot of the QR with its quiet zone, read by zbarimg: what a phone's camera reads. A
 * screenshot taken as the QR is being painted may miss it: up to three tries. */
async function readQr(page, host) {
  await waitVisible(page, part('qr', host));
  const dir = mkdtempSync(join(tmpdir(), 'lc-qr-'));
  const file = join(dir, 'qr.png');
  try {
    for (let attempt = 1; ; attempt += 1) {
      try {
        await page.screenshotElement(inShadow('.qr-box', host), file);
        return execFileSync('zbarimg', ['--quiet', '--raw', '-Sdisable', '-Sqrcode.enable', file], { encoding: 'utf8' }).trim();
      } catch (e) {
        if (attempt < 3) { await new Promise((r) => setTimeout(r, 300)); continue; }
        const kept = join(SHOTS, `${page.engine}-unreadable-qr.png`);
        try { copyFileSync(file, kept); } catch { /* no screenshot */ }
        throw new Error(`[${page.engine}] zbarimg read no QR code (the screenshot: ${kept}): ${e.message}`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The widget's error sentence (the form's own error line also has the part name `error`). */
const ERROR_LINE = inShadow('[part~="error"]:not([part~="form-error"])');

const widgetPage = (attrs, { src = '/pkg/lightning-checkout.js', head = '' } = {}) =>
  `<!doctype html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">${head}
  <script type="module" src="${src}"></script></head><body>
  <lightning-checkout ${attrs}></lightning-checkout></body></html>`;

for (const name of ENGINES) {
  describe(`[${name}]`, () => {
    let engine;
    let page; // desktop, light: the journeys share it, each on its own page
    before(async () => {
      engine = await launchEngine(name);
    });
    after(async () => {
      await page?.close().catch(() => {});
      await engine?.close();
    });
    const desktop = async () => (page ??= await engine.newPage({ origin: shop.url }));
    /** Another page: the shared one is closed first (geckodriver holds one session at a time). */
    const another = async (opts) => { await page?.close(); page = undefined; return engine.newPage(opts); };

    /** A test whose failure message starts with the engine's name. */
    const journey = (title, fn) => test(`[${name}] ${title}`, async () => {
      try { await fn(); } catch (e) {
        if (!String(e.message).startsWith(`[${name}]`)) e.message = `[${name}] ${e.message}`;
        throw e;
      }
    });

    journey('demo shop: amount, QR read by zbarimg, lowercase lightning: link, countdown, copy, paid', async () => {
      const p = await desktop();
      await p.goto(`${shop.url}/`);
      await waitVisible(p, part('amount-input'));
      await p.fill(part('amount-input'), '2500');
      await p.click(part('submit-button'));

      const scanned = await readQr(p);
      assert.match(scanned, /^lightning:LNBCRT25U1[0-9A-Z]+$/, 'QR is lightning: + the upper-case invoice');
      const inv = (await text(p, part('invoice'))).trim();
      assert.equal(scanned, `lightning:${inv.toUpperCase()}`, 'QR and shown invoice are the same invoice');
      assert.equal(await attr(p, part('open-wallet'), 'href'), `lightning:${inv}`, 'Open wallet: lowercase lightning: link');
      const d = decode(inv);
      assert.equal(d.satoshis, 2500);
      const created = await waitEvent(p, 'invoice');
      assert.equal(created.detail.paymentRequest, inv);
      assert.equal(created.detail.paymentHash, d.tags.find((t) => t.tagName === 'payment_hash').data);
      assert.ok(created.bubbles && created.composed, 'events bubble out of the shadow root');

      // The countdown shows and ticks.
      const c1 = await text(p, part('countdown'));
      assert.match(c1, /Expires in 1[45]:\d\d/);
      await waitUntil(p, 'the countdown to tick', '(a) => find(a[0]).textContent !== a[1]', [part('countdown'), c1], { timeout: 3000 });
      await assertQrCentred(p);
      await p.screenshot(join(SHOTS, `${name}-desktop-light.png`));

      // Copy: the invoice lands on the clipboard, read back by pasting it (or the engine's
      // clipboard refusal gets the stated sentence: select the text by hand).
      await p.click(part('copy-button'));
      const outcome = await waitUntil(p, 'Copied or the copy-blocked sentence', `(a) => {
        if (find(a[0]).textContent.includes('Copied')) return 'copied';
        const h = find(a[1]); return h && !h.hidden && h.textContent.includes('Copying is blocked') ? 'blocked' : false; }`,
      [part('copy-button'), inShadow('.wallet-hint')]);
      assert.equal(outcome, 'copied', 'the clipboard accepted the invoice');
      assert.equal(await p.pasted(), inv, 'the clipboard holds the plain lowercase invoice');

      // Pay through the demo provider, as the demo page's button does.
      await p.click('#simulate-payment');
      await waitText(p, part('status'), 'Paid 2,500 sat');
      const paid = await waitEvent(p, 'paid');
      assert.equal(paid.detail.id, created.detail.id);
      assert.equal(sha256hex(paid.detail.preimage), created.detail.paymentHash, 'preimage proves payment');
      assert.equal(await visible(p, part('qr')), false, 'nothing payable after paid');
      assert.deepEqual(await errors(p), [], 'no console error');
    });

    journey('no Clipboard API (an insecure context, an older engine): Copy states the fallback', async () => {
      const p = await desktop();
      // Served before the widget loads: this page has no navigator.clipboard, as on plain http.
      const head = '<script src="/__e2e/no-clipboard.js"></script>';
      await p.goto(shop.page(`/no-clipboard-${name}`, widgetPage('endpoint="/api" amount-sat="600" network="regtest"', { head })));
      assert.equal(await p.eval('() => navigator.clipboard === undefined'), true, 'no clipboard on this page');
      await waitVisible(p, part('copy-button'));
      await p.click(part('copy-button'));
      await waitText(p, inShadow('.wallet-hint'), 'Copying is blocked here');
      assert.ok(await visible(p, part('invoice')), 'the invoice text is there to select by hand');
      // The widget still works after it: paid is seen.
      const inv = await waitEvent(p, 'invoice');
      assert.equal((await backend.api('POST', `/dev/invoices/${inv.detail.id}/pay`)).status, 200);
      await waitText(p, part('status'), 'Paid 600 sat');
      assert.deepEqual(await errors(p), [], 'no console error');
    });

    journey('keyboard only: Tab to the amount, type, Enter; focus moves to Copy', async () => {
      const p = await desktop();
      await p.goto(shop.page(`/keyboard-${name}`, widgetPage('endpoint="/api" network="regtest" min-sat="100"')));
      await waitVisible(p, part('amount-input'));
      await p.keys(TAB);
      assert.equal(await focusedPart(p), 'amount-input', 'Tab reaches the amount first');
      await p.keys('3000', ENTER);
      await waitVisible(p, part('qr'));
      await waitUntil(p, 'focus on Copy', "() => document.querySelector('lightning-checkout').shadowRoot.activeElement?.getAttribute('part') === 'copy-button'");
    });

    journey('reload resumes the same invoice, then paid; never a second invoice', async () => {
      const p = await desktop();
      const order = `order-reload-${name}-${Date.now()}`;
      const url = shop.page(`/reload-${name}`, widgetPage(`endpoint="/api" amount-sat="1234" order-id="${order}" network="regtest"`));
      const before = shop.creates;
      await p.goto(url);
      const first = await waitEvent(p, 'invoice');
      const qr1 = await readQr(p);
      await p.reload();
      assert.equal(await readQr(p), qr1, 'same invoice after reload');
      assert.equal(shop.creates - before, 1, 'no second create after reload');
      const r = await backend.api('POST', `/dev/invoices/${first.detail.id}/pay`);
      assert.equal(r.status, 200);
      await waitText(p, part('status'), 'Paid');
      await p.reload();
      await waitText(p, part('status'), 'Paid 1,234 sat');
      assert.equal(shop.creates - before, 1, 'paid order: still one invoice');
      assert.deepEqual(await errors(p), []);
    });

    journey('expiry: countdown ends, expired event, QR hidden, New invoice gets a fresh one', async () => {
      const p = await desktop();
      const url = shop.page(`/expiry-${name}`, widgetPage('endpoint="/api" amount-sat="777" expiry-secs="3" network="regtest"'));
      await p.goto(url);
      const first = await waitEvent(p, 'invoice');
      await waitVisible(p, part('qr'));
      const expired = await waitEvent(p, 'expired', { timeout: 10_000 });
      assert.equal(expired.detail.id, first.detail.id);
      assert.equal(await visible(p, part('qr')), false, 'no QR once expired');
      await waitText(p, part('status'), 'expired');
      const status = await backend.api('GET', `/invoices/${first.detail.id}`);
      assert.equal(status.body.status, 'expired', 'backend agrees');
      await p.click(part('new-invoice-button'));
      const second = await waitEvent(p, 'invoice', { nth: 2 });
      assert.notEqual(second.detail.id, first.detail.id);
      assert.match(await readQr(p), /^lightning:LNBCRT7770N1/);
      assert.deepEqual(await errors(p), []);
    });

    journey('bad backend answers: connection reset, then HTTP 500; each a sentence and Try again', async () => {
      const p = await desktop();
      const url = shop.page(`/faults-${name}`, widgetPage('endpoint="/api" amount-sat="2500" network="regtest"'));
      const key = 'POST /api/invoices';
      const refused = async (sentence, code, nth) => {
        await waitText(p, ERROR_LINE, sentence);
        const err = await waitEvent(p, 'error', { nth });
        assert.equal(err.detail.code, code);
        assert.equal(await visible(p, part('qr')), false, 'no QR');
        assert.equal(await visible(p, part('open-wallet')), false, 'nothing payable');
        assert.ok(await visible(p, part('retry-button')), 'a way to retry');
      };
      try {
        shop.fault(key, () => 'reset');
        await p.goto(url);
        await refused('could not be reached', 'backend_unreachable', 1);
        shop.fault(key, () => ({ status: 500, headers: { 'content-type': 'text/html' }, body: '<h1>Internal Server Error</h1>' }));
        await p.click(part('retry-button'));
        await refused('had a problem (HTTP 500)', 'backend_error', 2);
        shop.fault(key, async ({ forward }) => {
          const real = await forward();
          return { status: 201, headers: { 'content-type': 'application/json' }, body: real.body.toString().slice(0, 30) };
        });
        await p.click(part('retry-button'));
        await refused('cannot read', 'bad_response', 3);
      } finally {
        shop.clearFault(key);
      }
      await p.click(part('retry-button'));
      assert.match(await readQr(p), /^lightning:LNBCRT25U1/);
    });

    journey("strict CSP, widget from another origin: works with 'wasm-unsafe-eval', a sentence without", async () => {
      const p = await desktop();
      const attrs = `endpoint="${backend.url}/api" amount-sat="5000" network="regtest"`;
      const opts = { src: `${backend.url}/pkg/lightning-checkout.js` };
      // 'self' only for the test's recorder script.
      const strict = `default-src 'self'; script-src 'self' ${backend.url} 'wasm-unsafe-eval'; connect-src ${backend.url}; style-src 'self'; img-src 'self'`;
      await p.goto(shop.page(`/csp-${name}`, widgetPage(attrs, opts), { 'content-security-policy': strict }));
      assert.match(await readQr(p), /^lightning:LNBCRT50U1/);
      assert.deepEqual(await p.eval('() => window.__csp'), [], 'no CSP violation with the documented directives');
      assert.deepEqual(await errors(p), []);

      const noWasm = `default-src 'self'; script-src 'self' ${backend.url}; connect-src ${backend.url}; style-src 'self'`;
      await p.goto(shop.page(`/nocsp-${name}`, widgetPage(attrs, opts), { 'content-security-policy': noWasm }));
      await waitText(p, ERROR_LINE, 'Content-Security-Policy');
      assert.equal((await waitEvent(p, 'error')).detail.code, 'csp_blocked');
    });

    journey('phone: Open wallet first and full width, QR >= 220 px, no side scroll, focus order, no-wallet hint', async () => {
      const p = await another({ phone: true });
      try {
        const url = shop.page(`/phone-${name}`, widgetPage('endpoint="/api" amount-sat="2100" network="regtest" description="A cup of coffee"'));
        await p.goto(url);
        await waitVisible(p, part('open-wallet'));
        const env = await p.eval('() => ({ w: innerWidth, ua: navigator.userAgent, coarse: matchMedia("(pointer: coarse)").matches })');
        // Firefox's and MiniBrowser's windows cannot be as narrow as a phone: the narrowest they get.
        assert.equal(env.w, NARROWEST[name], `the viewport is as narrow as the engine allows (${PHONE.width} px wanted)`);
        assert.match(env.ua, /iPhone/, 'a mobile user agent');
        if (name !== 'webkit') assert.ok(env.coarse, 'a coarse (touch) pointer');
        const [open, copy, actions, qr] = await Promise.all([
          box(p, part('open-wallet')), box(p, part('copy-button')), box(p, inShadow('.actions')), box(p, part('qr'))]);
        assert.ok(open.y + open.height <= copy.y, 'Open wallet above Copy');
        assert.ok(open.width >= actions.width - 1, `Open wallet spans the width (${open.width} of ${actions.width})`);
        assert.ok(qr.width >= 220 && qr.height >= 220, `the QR is large enough to scan (${qr.width} px)`);
        const scroll = await p.eval('() => [document.documentElement.scrollWidth, innerWidth]');
        assert.ok(scroll[0] <= scroll[1], `no horizontal scroll (${scroll[0]} > ${scroll[1]})`);
        await assertQrCentred(p);
        await p.screenshot(join(SHOTS, `${name}-phone-light.png`));

        // Keyboard (a screen reader's order): the first action reached is the first one shown.
        await p.eval("() => { document.activeElement?.blur?.(); }");
        await p.keys(TAB);
        assert.equal(await focusedPart(p), 'open-wallet', 'Tab reaches Open wallet first');
        await p.keys(TAB);
        assert.equal(await focusedPart(p), 'copy-button', 'then Copy');

        // A lightning: link with no wallet app: nothing happens, so the payer is told what to do.
        await p.eval(`() => find(${JSON.stringify(part('open-wallet'))}).addEventListener('click', (e) => e.preventDefault())`);
        await p.click(part('open-wallet'));
        await waitText(p, inShadow('.wallet-hint'), 'No wallet app opened', { timeout: 8000 });
        assert.deepEqual(await errors(p), []);
      } finally {
        await p.close();
      }
    });

    journey('dark mode, desktop and phone: the QR stays dark-on-light and scans; screenshots', async () => {
      for (const phone of [false, true]) {
        const p = await another({ phone, colorScheme: 'dark' });
        try {
          await p.goto(`${shop.url}/`);
          await waitVisible(p, part('amount-input'));
          assert.ok(await p.eval("() => matchMedia('(prefers-color-scheme: dark)').matches"), 'the engine is in dark mode');
          await p.fill(part('amount-input'), '4242');
          await p.click(part('submit-button'));
          assert.match(await readQr(p), /^lightning:LNBCRT42420N1/);
          const bg = await p.eval("() => getComputedStyle(find({ host: 'lightning-checkout', inner: '.lc' })).backgroundColor");
          assert.notEqual(bg, 'rgb(255, 255, 255)', 'the widget itself is dark');
          // Scrollbars (the invoice text scrolls) and controls drawn by the engine are dark too.
          assert.equal(await p.eval("() => getComputedStyle(find({ host: 'lightning-checkout', inner: '.invoice-text' })).colorScheme"), 'dark');
          await assertQrCentred(p);
          await p.screenshot(join(SHOTS, `${name}-${phone ? 'phone' : 'desktop'}-dark.png`));
          assert.deepEqual(await errors(p), []);
        } finally {
          await p.close();
        }
      }
    });
  });
}
