// The shop's server at both ends (issue 9), in headless Chromium against the real backend:
// an order signed in Node with the npm `jose` package (the README's snippet) paid through the
// widget, the signed notification received by a real local HTTP server and verified as the
// README shows, the reconciliation API, a tampered token refused, and the demo product page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import { SignJWT } from 'jose';
import {
  startBackend, launchBrowser, newPage, part, readQr, waitForStatus, recordEvents, waitForEvent, serveHtml,
} from './harness.mjs';

const CHECKOUT_SECRET = 'e2e-checkout-secret-0123456789abcdef';
const SHOP_WEBHOOK_SECRET = 'e2e-webhook-secret-0123456789abcdef';
const ADMIN_TOKEN = 'e2e-admin-token-0123456789';

let backend;
let browser;
let hook;
const received = [];

// The README's verification snippet: t=<unix>,v1=<hex HMAC-SHA256 of "t.body">, 5-minute window.
function verifySignature(header, rawBody, secret) {
  const parts = Object.fromEntries(header.split(',').map((p) => p.split('=')));
  const t = Number(parts.t);
  if (!Number.isInteger(t) || Math.abs(Date.now() / 1000 - t) > 300) return false;
  const expected = createHmac('sha256', secret).update(`${t}.${rawBody}`).digest();
  const given = Buffer.from(parts.v1 ?? '', 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

before(async () => {
  hook = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      received.push({ signature: req.headers['lightning-checkout-signature'] ?? '', raw });
      res.writeHead(200).end();
    });
  });
  await new Promise((r) => hook.listen(0, '127.0.0.1', r));
  backend = await startBackend({
    env: {
      CHECKOUT_SECRET,
      SHOP_WEBHOOK_URL: `http://127.0.0.1:${hook.address().port}/hooks/lightning`,
      SHOP_WEBHOOK_SECRET,
      SHOP_WEBHOOK_POLL_MS: '50',
      ADMIN_TOKEN,
    },
  });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await backend?.stop();
  backend?.cleanup();
  await new Promise((r) => hook?.close(r));
});

/** What the README tells a Node shop to do (npm jose). */
async function signOrder({ orderId, amountSat, description }) {
  return new SignJWT({ order_id: orderId, amount_sat: amountSat, description })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuedAt()
    .setExpirationTime('15m')
    .sign(new TextEncoder().encode(CHECKOUT_SECRET));
}

const pageWith = (token) => `<!doctype html><html><head><meta charset="utf-8">
<script type="module" src="/pkg/lightning-checkout.js"></script></head>
<body><lightning-checkout endpoint="/api" network="regtest" order-token="${token}"></lightning-checkout></body></html>`;

test('a signed order from Node is paid in the browser and notified to the shop', async () => {
  const token = await signOrder({ orderId: 'order-1001', amountSat: 1500, description: 'Two stickers' });
  const page = await newPage(browser, { origin: backend.url });
  await recordEvents(page);
  await serveHtml(page, `${backend.url}/signed-order.html`, pageWith(token));
  await page.goto(`${backend.url}/signed-order.html`);
  // The token's amount: no form, the invoice is asked for at once.
  const scanned = await readQr(page);
  assert.match(scanned, /^lightning:LNBCRT15U1[0-9A-Z]+$/, 'an invoice for 1,500 sat');
  assert.equal(await part(page, 'amount-input').isVisible(), false, 'no amount form for a fixed order');
  const created = await waitForEvent(page, 'invoice');
  assert.equal(created.detail.amountSat, 1500);

  // The backend took order id and description from the token.
  const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
  let r = await fetch(`${backend.url}/api/admin/orders/order-1001`, { headers: auth });
  assert.equal(r.status, 200);
  let order = await r.json();
  assert.equal(order.paid, false);
  assert.equal(order.invoices[0].invoice_id, created.detail.id);
  assert.equal(order.invoices[0].description, 'Two stickers');

  // Pay (demo provider), see paid.
  const paidRes = await backend.api('POST', `/dev/invoices/${created.detail.id}/pay`);
  assert.equal(paidRes.status, 200);
  await waitForStatus(page, 'Paid 1,500 sat');

  // The shop hears it from the backend, signed.
  const deadline = Date.now() + 10_000;
  while (!received.some((e) => JSON.parse(e.raw).invoice_id === created.detail.id)) {
    assert.ok(Date.now() < deadline, 'webhook received');
    await new Promise((res) => setTimeout(res, 50));
  }
  const hit = received.find((e) => JSON.parse(e.raw).invoice_id === created.detail.id);
  assert.ok(verifySignature(hit.signature, hit.raw, SHOP_WEBHOOK_SECRET), 'signature verifies');
  assert.equal(verifySignature(hit.signature, hit.raw.replace('1500000', '1'), SHOP_WEBHOOK_SECRET), false);
  const event = JSON.parse(hit.raw);
  assert.equal(event.type, 'invoice.paid');
  assert.equal(event.order_id, 'order-1001');
  assert.equal(event.amount_msat, 1_500_000);
  assert.equal(event.amount_paid_msat, 1_500_000);
  assert.match(event.id, /^evt_[0-9a-f]{32}$/);
  assert.match(event.preimage, /^[0-9a-f]{64}$/);

  r = await fetch(`${backend.url}/api/admin/orders/order-1001`, { headers: auth });
  order = await r.json();
  assert.equal(order.paid, true);
  assert.equal((await fetch(`${backend.url}/api/admin/orders/order-1001`)).status, 401);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('a token whose amount was edited in the page is refused by the backend', async () => {
  const token = await signOrder({ orderId: 'order-1002', amountSat: 90000, description: 'A hoodie' });
  const [h, c, s] = token.split('.');
  const claims = JSON.parse(Buffer.from(c, 'base64url').toString());
  claims.amount_sat = 1;
  const tampered = `${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${s}`;
  const page = await newPage(browser);
  await recordEvents(page);
  await serveHtml(page, `${backend.url}/tampered.html`, pageWith(tampered));
  await page.goto(`${backend.url}/tampered.html`);
  const err = await waitForEvent(page, 'error');
  assert.equal(err.detail.code, 'invalid_token');
  assert.equal(await part(page, 'qr').isVisible(), false, 'nothing payable');
  // And the order was not squatted: the real token still opens it at its price.
  const ok = await backend.api('POST', '/invoices', { order_token: token });
  assert.equal(ok.status, 201);
  assert.equal(ok.body.amount_sat, 90000);
  await page.context().close();
});

test('demo shop: the fixed-price product is paid through a demo-signed order', async () => {
  const page = await newPage(browser, { origin: backend.url });
  await recordEvents(page);
  await page.goto(`${backend.url}/product.html`);
  const created = await waitForEvent(page, 'invoice');
  assert.equal(created.detail.amountSat, 4200);
  await page.locator('#simulate-payment').click();
  await waitForStatus(page, 'Paid 4,200 sat');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});
