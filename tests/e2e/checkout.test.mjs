// The whole checkout in headless Chromium against the real reference backend (demo provider):
// QR read back by zbarimg, invoices checked by an independent BOLT 11 decoder (npm bolt11),
// paid through the demo endpoint, reload, expiry, cross-origin embedding, CSP, dark mode.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import bolt11 from 'bolt11';
import {
  startBackendAndBrowser, stopBackendAndBrowser, startBackend, newPage, part, readQr, waitForStatus, recordEvents, events, waitForEvent,
} from './harness.mjs';

let backend;
let browser;

before(async () => ({ backend, browser } = await startBackendAndBrowser()));
after(() => stopBackendAndBrowser({ backend, browser }));

const sha256hex = (hex) => createHash('sha256').update(Buffer.from(hex, 'hex')).digest('hex');

/** Decodes with the npm bolt11 package and checks the signature: the key it recovers must be
 * the payee key the invoice itself names (`n`). */
function independentDecode(pr) {
  const d = bolt11.decode(pr, { bech32: 'bcrt', pubKeyHash: 0x6f, scriptHash: 0xc4, validWitnessVersions: [0, 1] });
  const named = d.tags.find((t) => t.tagName === 'payee_node_key')?.data;
  assert.ok(named, 'the demo invoice names its payee (n field)');
  assert.equal(d.payeeNodeKey, named, 'signature recovers the payee key');
  return d;
}

test('demo shop: type an amount, scan the QR, pay, see paid', async () => {
  const page = await newPage(browser, { origin: backend.url });
  await recordEvents(page);
  await page.goto(`${backend.url}/`);
  await part(page, 'amount-input').fill('2500');
  await part(page, 'submit-button').click();

  const scanned = await readQr(page);
  assert.match(scanned, /^lightning:LNBCRT25U1[0-9A-Z]+$/, 'QR is lightning: + the upper-case invoice');
  const text = (await part(page, 'invoice').textContent()).trim();
  assert.equal(scanned, `lightning:${text.toUpperCase()}`, 'QR and shown invoice are the same invoice');
  assert.equal(text, text.toLowerCase());
  assert.equal(await part(page, 'open-wallet').getAttribute('href'), `lightning:${text}`);

  const d = independentDecode(text);
  assert.equal(d.satoshis, 2500);
  const created = await waitForEvent(page, 'invoice');
  assert.equal(created.detail.paymentRequest, text);
  assert.equal(created.detail.amountSat, 2500);
  assert.equal(created.detail.paymentHash, d.tags.find((t) => t.tagName === 'payment_hash').data);
  assert.ok(created.bubbles && created.composed, 'events bubble out of the shadow root');

  // Accessible QR and a ticking countdown.
  assert.equal(await part(page, 'qr').getAttribute('role'), 'img');
  assert.match(await part(page, 'qr').getAttribute('aria-label'), /Lightning invoice for 2,500 sat/);
  assert.match(await part(page, 'countdown').textContent(), /Expires in 1[45]:\d\d/);

  // Copy puts the plain lower-case invoice on the clipboard and says so.
  await part(page, 'copy-button').click();
  await part(page, 'copy-button').filter({ hasText: 'Copied' }).waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), text);

  // Pay through the demo provider, as the demo page's button does.
  await page.locator('#simulate-payment').click();
  await waitForStatus(page, 'Paid 2,500 sat');
  const paid = await waitForEvent(page, 'paid');
  assert.equal(paid.detail.id, created.detail.id);
  assert.equal(sha256hex(paid.detail.preimage), created.detail.paymentHash, 'preimage proves payment');
  assert.equal(await part(page, 'qr').isVisible(), false, 'nothing payable after paid');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('fixed amount with an order id: reload shows the same invoice, then paid; never a second invoice', async () => {
  const page = await newPage(browser);
  await recordEvents(page);
  const creates = [];
  page.on('request', (r) => { if (r.method() === 'POST' && r.url().endsWith('/api/invoices')) creates.push(r.url()); });
  const html = `<!doctype html><script type="module" src="/pkg/lightning-checkout.js"></script>
    <lightning-checkout endpoint="/api" amount-sat="1234" order-id="order-reload-1" network="regtest"
      description="Reload test"></lightning-checkout>`;
  await page.route(`${backend.url}/shop/reload`, (r) => r.fulfill({ contentType: 'text/html', body: html }));
  await page.goto(`${backend.url}/shop/reload`);
  const first = await waitForEvent(page, 'invoice');
  const qr1 = await readQr(page);
  await page.reload();
  await part(page, 'qr').waitFor();
  assert.equal(await readQr(page), qr1, 'same invoice after reload');
  assert.equal(creates.length, 1, 'no second create after reload');

  const r = await backend.api('POST', `/dev/invoices/${first.detail.id}/pay`);
  assert.equal(r.status, 200);
  await waitForStatus(page, 'Paid');
  await page.reload();
  await waitForStatus(page, 'Paid 1,234 sat');
  assert.equal(creates.length, 1, 'paid order: still one invoice');

  // Even without the kept state, the backend refuses a new invoice for a paid order.
  const again = await backend.api('POST', '/invoices', { amount_sat: 1234, order_id: 'order-reload-1' });
  assert.equal(again.status, 409);
  assert.equal(again.body.error.code, 'order_paid');
  await page.context().close();
});

test('expiry: countdown ends, expired event, QR hidden, New invoice asks for a fresh one', async () => {
  const page = await newPage(browser);
  await recordEvents(page);
  const html = `<!doctype html><script type="module" src="/pkg/lightning-checkout.js"></script>
    <lightning-checkout endpoint="/api" amount-sat="777" expiry-secs="3" network="regtest"></lightning-checkout>`;
  await page.route(`${backend.url}/shop/expiry`, (r) => r.fulfill({ contentType: 'text/html', body: html }));
  await page.goto(`${backend.url}/shop/expiry`);
  const first = await waitForEvent(page, 'invoice');
  await part(page, 'qr').waitFor();
  const expired = await waitForEvent(page, 'expired', { timeout: 10_000 });
  assert.equal(expired.detail.id, first.detail.id);
  assert.equal(await part(page, 'qr').isVisible(), false);
  await waitForStatus(page, 'expired');
  const status = await backend.api('GET', `/invoices/${first.detail.id}`);
  assert.equal(status.body.status, 'expired', 'backend agrees');
  await part(page, 'new-invoice-button').click();
  await page.waitForFunction(() => window.__checkoutEvents.filter((e) => e.kind === 'invoice').length === 2);
  const all = await events(page);
  const second = all.filter((e) => e.kind === 'invoice')[1];
  assert.notEqual(second.detail.id, first.detail.id);
  await part(page, 'qr').waitFor();
  await page.context().close();
});

test('open wallet with no wallet installed: the payer is told and offered Copy or scanning', async () => {
  const page = await newPage(browser, { viewport: { width: 390, height: 844 }, hasTouch: true });
  const html = `<!doctype html><script type="module" src="/pkg/lightning-checkout.js"></script>
    <lightning-checkout endpoint="/api" amount-sat="2100" network="regtest"></lightning-checkout>`;
  await page.route(`${backend.url}/shop/wallet`, (r) => r.fulfill({ contentType: 'text/html', body: html }));
  await page.goto(`${backend.url}/shop/wallet`);
  const open = part(page, 'open-wallet');
  await open.waitFor();
  // On a phone, "Open wallet" comes first and spans the width.
  const [openBox, copyBox] = [await open.boundingBox(), await part(page, 'copy-button').boundingBox()];
  assert.ok(openBox.y < copyBox.y, 'Open wallet above Copy on a narrow touch screen');
  // A lightning: link with no handler: the page stays visible.
  await page.evaluate(() => {
    document.querySelector('lightning-checkout').shadowRoot.querySelector('[part~="open-wallet"]')
      .addEventListener('click', (e) => e.preventDefault());
  });
  await open.click();
  await page.locator('lightning-checkout .wallet-hint').filter({ hasText: 'No wallet app opened' }).waitFor({ timeout: 6000 });
  await page.context().close();
});

test('keyboard only: Tab to the amount, type, Enter submits; focus moves to Copy', async () => {
  const page = await newPage(browser);
  await page.goto(`${backend.url}/`);
  await part(page, 'amount-input').waitFor();
  await page.keyboard.press('Tab');
  await page.keyboard.type('3000');
  await page.keyboard.press('Enter');
  await part(page, 'qr').waitFor();
  await page.waitForFunction(() => document.querySelector('lightning-checkout').shadowRoot.activeElement?.getAttribute('part') === 'copy-button');
  await page.context().close();
});

test('dark mode: the QR stays dark-on-light with its quiet zone and scans', async () => {
  const page = await newPage(browser, { colorScheme: 'dark' });
  await page.goto(`${backend.url}/`);
  await part(page, 'amount-input').fill('4242');
  await part(page, 'submit-button').click();
  assert.match(await readQr(page), /^lightning:LNBCRT42420N1/);
  const bg = await page.evaluate(() => getComputedStyle(document.querySelector('lightning-checkout').shadowRoot.querySelector('.lc')).backgroundColor);
  assert.notEqual(bg, 'rgb(255, 255, 255)', 'the widget itself is dark');
  await page.context().close();
});

test('a description holding <script> is shown as text, nothing runs', async () => {
  const page = await newPage(browser);
  const html = `<!doctype html><script type="module" src="/pkg/lightning-checkout.js"></script>
    <lightning-checkout endpoint="/api" amount-sat="100" network="regtest"
      description="<script>window.pwned=1</script><img src=x onerror=window.pwned=2>"></lightning-checkout>`;
  await page.route(`${backend.url}/shop/xss`, (r) => r.fulfill({ contentType: 'text/html', body: html }));
  await page.goto(`${backend.url}/shop/xss`);
  await part(page, 'qr').waitFor();
  const desc = await page.locator('lightning-checkout .description').textContent();
  assert.equal(desc, '<script>window.pwned=1</script><img src=x onerror=window.pwned=2>');
  assert.equal(await page.locator('lightning-checkout script, lightning-checkout img').count(), 0);
  assert.equal(await page.evaluate(() => window.pwned), undefined);
  await page.context().close();
});

test('embedded from another origin with a strict CSP', async () => {
  // The shop's page lives on its own origin and loads the widget from the backend's origin.
  let cors;
  const shop = createServer((req, res) => {
    res.writeHead(200, {
      'content-type': 'text/html',
      'content-security-policy': `default-src 'self'; script-src ${cors.url} 'wasm-unsafe-eval'; connect-src ${cors.url}; style-src 'self'`,
    });
    res.end(`<!doctype html><script type="module" src="${cors.url}/pkg/lightning-checkout.js"></script>
      <lightning-checkout endpoint="${cors.url}/api" amount-sat="5000" network="regtest"></lightning-checkout>`);
  });
  await new Promise((r) => shop.listen(0, '127.0.0.1', r));
  const shopUrl = `http://127.0.0.1:${shop.address().port}`;
  cors = await startBackend({ env: { CORS_ORIGINS: shopUrl } });
  try {
    const page = await newPage(browser);
    const csp = [];
    page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) csp.push(m.text()); });
    await page.goto(shopUrl);
    assert.match(await readQr(page), /^lightning:LNBCRT50U1/);
    assert.deepEqual(csp, [], 'no CSP violation with the documented directives');
    await page.context().close();

    // The same page from an origin the backend does not allow: the browser refuses the answer.
    const other = await newPage(browser);
    await other.goto(shopUrl.replace('127.0.0.1', 'localhost'));
    await part(other, 'error').filter({ hasText: 'could not be reached' }).waitFor();
    await other.context().close();
  } finally {
    await cors.stop();
    cors.cleanup();
    shop.close();
  }
});

test("a CSP without 'wasm-unsafe-eval' gets a clear sentence and an error event", async () => {
  const page = await newPage(browser);
  await recordEvents(page);
  const html = `<!doctype html><script type="module" src="/pkg/lightning-checkout.js"></script>
    <lightning-checkout endpoint="/api" amount-sat="100" network="regtest"></lightning-checkout>`;
  await page.route(`${backend.url}/shop/nocsp`, (r) => r.fulfill({
    contentType: 'text/html', body: html,
    headers: { 'content-security-policy': "default-src 'self'; script-src 'self'" },
  }));
  await page.goto(`${backend.url}/shop/nocsp`);
  await part(page, 'error').filter({ hasText: "Content-Security-Policy" }).waitFor();
  const err = await waitForEvent(page, 'error');
  assert.equal(err.detail.code, 'csp_blocked');
  await page.context().close();
});

test('the script included twice defines one element that works', async () => {
  const page = await newPage(browser);
  const html = `<!doctype html>
    <script type="module" src="/pkg/lightning-checkout.js"></script>
    <script type="module" src="/pkg/lightning-checkout.js?again"></script>
    <lightning-checkout endpoint="/api" amount-sat="100" network="regtest"></lightning-checkout>`;
  await page.route(`${backend.url}/shop/twice`, (r) => r.fulfill({ contentType: 'text/html', body: html }));
  await page.goto(`${backend.url}/shop/twice`);
  await part(page, 'qr').waitFor();
  assert.equal(await page.locator('lightning-checkout [part~="qr"]').count(), 1);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('mount() / destroy(): the JS API removes every listener, timer and request', async () => {
  const page = await newPage(browser);
  const html = `<!doctype html><div id="box"></div>
    <script type="module">
      import { mount } from '/pkg/lightning-checkout.js';
      window.handle = await mount(document.getElementById('box'), { endpoint: '/api', amountSat: 900, network: 'regtest' });
      window.mounted = true;
    </script>`;
  await page.route(`${backend.url}/shop/api`, (r) => r.fulfill({ contentType: 'text/html', body: html }));
  let requests = 0;
  page.on('request', (r) => { if (r.url().includes('/api/invoices')) requests += 1; });
  await page.goto(`${backend.url}/shop/api`);
  await page.locator('#box [part~="qr"]').waitFor();
  await page.waitForTimeout(2500); // at least one status poll
  assert.ok(requests >= 2);
  await page.evaluate(() => window.handle.destroy());
  const after = requests;
  assert.equal(await page.evaluate(() => document.getElementById('box').shadowRoot.childElementCount), 0);
  await page.waitForTimeout(5000);
  assert.equal(requests, after, 'no request after destroy()');
  await page.context().close();
});

test('the wasm fails to load once: a sentence and an error event; the next element loads it', async () => {
  const page = await newPage(browser);
  await recordEvents(page);
  const html = `<!doctype html><script type="module" src="/pkg/lightning-checkout.js"></script>
    <lightning-checkout id="first" endpoint="/api" amount-sat="100" network="regtest"></lightning-checkout>`;
  await page.route(`${backend.url}/shop/loader`, (r) => r.fulfill({ contentType: 'text/html', body: html }));
  let failures = 1;
  await page.route(/lightning_checkout_bg\.wasm/, (r) => (failures-- > 0 ? r.abort('connectionreset') : r.continue()));
  await page.goto(`${backend.url}/shop/loader`);
  await part(page, 'error', '#first').filter({ hasText: 'could not load' }).waitFor();
  const err = await waitForEvent(page, 'error');
  assert.equal(err.detail.code, 'network');
  // The failed load is forgotten: a new element tries again, and works.
  await page.evaluate(() => {
    const el = document.createElement('lightning-checkout');
    el.id = 'second';
    for (const [k, v] of Object.entries({ endpoint: '/api', 'amount-sat': '100', network: 'regtest' })) el.setAttribute(k, v);
    document.body.append(el);
  });
  await part(page, 'qr', '#second').waitFor();
  await page.context().close();
});
