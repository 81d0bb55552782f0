// Fiat prices (issue 12 #3) in headless Chromium against the real backend (demo provider, its
// default fixed rate EUR 60,000.00 per BTC): the demo shop's euro-priced mug shows the sats it
// asks and the euro price under them, its QR (read by zbarimg) is an invoice for exactly those
// sats, and it is paid; an unsigned tip in euro; a signed price edited in the page is refused.
// Unified QR (issue 12 #4): read back by zbarimg, Copy of both, on-chain mempool then paid.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { SignJWT } from 'jose';
import {
  startBackend, launchBrowser, newPage, part, readQr, waitForStatus, recordEvents, waitForEvent, serveHtml,
} from './harness.mjs';

const CHECKOUT_SECRET = 'e2e-checkout-secret-0123456789abcdef';
let backend;
let browser;

before(async () => {
  backend = await startBackend({ env: { CHECKOUT_SECRET } });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await backend?.stop();
  backend?.cleanup();
});

const page = (attrs) => `<!doctype html><html><head><meta charset="utf-8">
<script type="module" src="/pkg/lightning-checkout.js"></script></head>
<body><lightning-checkout endpoint="/api" network="regtest" ${attrs}></lightning-checkout></body></html>`;

test('demo shop: the euro-priced mug shows both amounts, its QR asks the converted sats, and it is paid', async () => {
  const p = await newPage(browser, { origin: backend.url });
  await recordEvents(p);
  await p.goto(`${backend.url}/mug.html`);
  const created = await waitForEvent(p, 'invoice');
  // EUR 4.50 at the fixed demo rate of 60,000.00: 7,500 sat.
  assert.equal(created.detail.amountSat, 7500);
  assert.equal((await part(p, 'fiat').textContent()).trim(), '≈ €4.50', 'the euro price as English writes money (Intl)');
  assert.match(await p.locator('lightning-checkout .amount').textContent(), /7,500 sat/);
  assert.match(await p.locator('.demo-rate').textContent(), /fixed rate/, 'the demo rate is labelled');
  // The mug's QR is unified: the invoice for exactly these sats is in it (the whole URI below).
  assert.ok((await readQr(p)).endsWith(`&lightning=${created.detail.paymentRequest.toUpperCase()}`));
  assert.match(created.detail.paymentRequest, /^lnbcrt75u1/, 'an invoice for 7,500 sat');
  // The answer records the rate, its source and time.
  const st = await backend.api('GET', `/invoices/${created.detail.id}`);
  assert.equal(st.body.fiat.currency, 'EUR');
  assert.equal(st.body.fiat.amount, '4.50');
  assert.equal(st.body.fiat.rate, '60000.00');
  assert.equal(st.body.fiat.rate_source, 'fixed');
  assert.ok(Math.abs(st.body.fiat.rate_at - Date.now() / 1000) < 60);
  await p.locator('#simulate-payment').click();
  await waitForStatus(p, 'Paid 7,500 sat');
  assert.deepEqual(p.errors, []);
  await p.context().close();
});

test('an unsigned tip in euro: the backend converts, rounding up to a whole sat', async () => {
  const p = await newPage(browser);
  await recordEvents(p);
  await serveHtml(p, `${backend.url}/tip.html`, page('currency="EUR" fiat-amount="0.01" description="Tip"'));
  await p.goto(`${backend.url}/tip.html`);
  const created = await waitForEvent(p, 'invoice');
  // 0.01 / 60000 BTC = 16.67 sat: 17.
  assert.equal(created.detail.amountSat, 17);
  assert.equal((await part(p, 'fiat').textContent()).trim(), '≈ €0.01');
  assert.equal(await part(p, 'amount-input').isVisible(), false, 'no amount form for a fiat price');
  const scanned = await readQr(p);
  assert.match(scanned, /^lightning:LNBCRT170N1[0-9A-Z]+$/);
  assert.deepEqual(p.errors, []);
  await p.context().close();
});

test('a signed euro price edited in the page is refused, nothing payable', async () => {
  const token = await new SignJWT({ order_id: 'order-eur-7', currency: 'EUR', fiat_amount: '45.00' })
    .setProtectedHeader({ alg: 'HS256' }).setIssuedAt().setExpirationTime('15m')
    .sign(new TextEncoder().encode(CHECKOUT_SECRET));
  const [h, c, s] = token.split('.');
  const claims = JSON.parse(Buffer.from(c, 'base64url').toString());
  claims.fiat_amount = '0.45';
  const tampered = `${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${s}`;
  const p = await newPage(browser);
  await recordEvents(p);
  await serveHtml(p, `${backend.url}/tampered-eur.html`, page(`order-token="${tampered}"`));
  await p.goto(`${backend.url}/tampered-eur.html`);
  const err = await waitForEvent(p, 'error');
  assert.equal(err.detail.code, 'invalid_token');
  assert.equal(await part(p, 'qr').isVisible(), false);
  // The genuine token opens the order at its price.
  const ok = await backend.api('POST', '/invoices', { order_token: token });
  assert.equal(ok.status, 201);
  assert.equal(ok.body.amount_sat, 75000);
  assert.equal(ok.body.fiat.amount, '45.00');
  await p.context().close();
});

test('unified QR: zbarimg reads BITCOIN:ADDRESS?amount=…&lightning=INVOICE; Copy offers both; on-chain pending then paid', async () => {
  const p = await newPage(browser, { origin: backend.url });
  await recordEvents(p);
  await p.goto(`${backend.url}/mug.html`);
  const created = await waitForEvent(p, 'invoice');
  const st = await backend.api('GET', `/invoices/${created.detail.id}`);
  const address = st.body.onchain_address;
  assert.match(address, /^bcrt1q[02-9ac-hj-np-z]{38}$/, 'a regtest P2WPKH address');
  // 7,500 sat = 0.000075 BTC, exact.
  assert.equal(await readQr(p),
    `BITCOIN:${address.toUpperCase()}?amount=0.000075&lightning=${created.detail.paymentRequest.toUpperCase()}`);
  // Copy: the invoice; Copy address: the address.
  await part(p, 'copy-button').click();
  assert.equal(await p.evaluate(() => navigator.clipboard.readText()), created.detail.paymentRequest);
  await part(p, 'copy-address-button').click();
  await part(p, 'copy-address-button').filter({ hasText: 'Address copied' }).waitFor();
  assert.equal(await p.evaluate(() => navigator.clipboard.readText()), address);
  // Seen in the mempool (the demo control): still pending, and the payer is told.
  await p.locator('#simulate-mempool').click();
  await waitForStatus(p, 'Payment seen on-chain; waiting for a confirmation');
  assert.equal((await backend.api('GET', `/invoices/${created.detail.id}`)).body.status, 'pending');
  // Confirmed (ONCHAIN_CONFIRMATIONS=1 by default): paid.
  await p.locator('#simulate-confirm').click();
  await waitForStatus(p, 'Paid 7,500 sat');
  assert.deepEqual(p.errors, []);
  await p.context().close();
});

test('without unified the QR stays Lightning-only and there is no Copy address', async () => {
  const p = await newPage(browser);
  await recordEvents(p);
  await serveHtml(p, `${backend.url}/plain.html`, page('amount-sat="2500"'));
  await p.goto(`${backend.url}/plain.html`);
  await waitForEvent(p, 'invoice');
  assert.match(await readQr(p), /^lightning:LNBCRT25U1/);
  assert.equal(await part(p, 'copy-address-button').isVisible(), false);
  await p.context().close();
});

test('in German: the euro price, Copy address, the QR label and the on-chain counts are German', async () => {
  const own = await startBackend({ env: { ONCHAIN_CONFIRMATIONS: '2' } });
  try {
    const p = await newPage(browser);
    await recordEvents(p);
    await serveHtml(p, `${own.url}/de.html`, page('lang="de" currency="EUR" fiat-amount="4.50" unified'));
    await p.goto(`${own.url}/de.html`);
    const created = await waitForEvent(p, 'invoice');
    assert.equal(created.detail.amountSat, 7500);
    // Intl's German money and number formats (with its no-break space).
    assert.equal((await part(p, 'fiat').textContent()).trim().replace(/\u00a0/g, ' '), '≈ 4,50 €');
    assert.equal((await part(p, 'copy-address-button').textContent()).trim(), 'Adresse kopieren');
    assert.equal(await part(p, 'qr').getAttribute('aria-label'), 'QR-Code einer Lightning-Rechnung über 7.500 sat');
    assert.ok((await readQr(p)).startsWith('BITCOIN:BCRT1Q'), 'the unified QR');
    const onchain = (confirmations) =>
      own.api('POST', `/dev/invoices/${created.detail.id}/onchain`, { confirmations });
    assert.equal((await onchain(0)).status, 200);
    await waitForStatus(p, 'Zahlung on-chain gesehen; warte auf eine Bestätigung');
    assert.equal((await onchain(1)).status, 200);
    await waitForStatus(p, 'Zahlung on-chain gesehen: 1 von 2 Bestätigungen');
    assert.equal((await onchain(2)).status, 200);
    await waitForStatus(p, '7.500 sat bezahlt');
    assert.deepEqual(p.errors, []);
    await p.context().close();
  } finally {
    await own.stop();
    own.cleanup();
  }
});
