// Bad backend answers and network faults, injected with Playwright's route() in front of the
// real backend: each gets one plain sentence, nothing payable, and a way out (Try again).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import {
  startBackendAndBrowser, stopBackendAndBrowser, startBackend, newPage, part, readQr, waitForStatus, recordEvents, waitForEvent,
} from './harness.mjs';

let backend;
let browser;

before(async () => ({ backend, browser } = await startBackendAndBrowser()));
after(() => stopBackendAndBrowser({ backend, browser }));

/** A page with one fixed-amount checkout on the backend's origin. */
async function shopPage({ amount = 2500, network = 'regtest', extra = '' } = {}) {
  const page = await newPage(browser);
  await recordEvents(page);
  const html = `<!doctype html><script type="module" src="/pkg/lightning-checkout.js"></script>
    <lightning-checkout endpoint="/api" amount-sat="${amount}" network="${network}" ${extra}></lightning-checkout>`;
  await page.route(`${backend.url}/shop`, (r) => r.fulfill({ contentType: 'text/html', body: html }));
  return page;
}

/** Answers the widget's create with `answer(realBody)` (the real backend's 201 body). */
async function interceptCreate(page, answer) {
  await page.route(`${backend.url}/api/invoices`, async (route) => {
    if (route.request().method() !== 'POST') return route.continue();
    const real = await route.fetch();
    const body = await real.json();
    const out = await answer(body, route.request().postDataJSON());
    return route.fulfill(out);
  });
}

/** These tests are about polling: the backend has only the two JSON routes (no live stream). */
const withoutStream = (page) => page.route(/\/api\/invoices\/[^/]+\/events$/, (r) => r.fulfill({
  status: 404, contentType: 'application/json', body: '{"error":{"code":"not_found","message":"Not found."}}',
}));

async function expectRefused(page, { sentence, code }) {
  await part(page, 'error').filter({ hasText: sentence }).waitFor();
  const err = await waitForEvent(page, 'error');
  if (code) assert.equal(err.detail.code, code);
  assert.equal(await part(page, 'qr').isVisible(), false, 'no QR');
  assert.equal(await part(page, 'open-wallet').isVisible(), false, 'nothing payable');
  assert.ok(await part(page, 'retry-button').isVisible(), 'a way to retry');
}

test('backend down: a sentence, then Try again works once it is back', async () => {
  const page = await shopPage();
  await page.route(`${backend.url}/api/invoices`, (r) => r.abort('connectionrefused'));
  await page.goto(`${backend.url}/shop`);
  await expectRefused(page, { sentence: 'could not be reached', code: 'backend_unreachable' });
  await page.unroute(`${backend.url}/api/invoices`);
  await part(page, 'retry-button').click();
  assert.match(await readQr(page), /^lightning:LNBCRT25U1/);
  await page.context().close();
});

test('HTTP 500 with an HTML page: a sentence with the status', async () => {
  const page = await shopPage();
  await page.route(`${backend.url}/api/invoices`, (r) => r.fulfill({ status: 500, contentType: 'text/html', body: '<h1>Internal Server Error</h1>' }));
  await page.goto(`${backend.url}/shop`);
  await expectRefused(page, { sentence: 'had a problem (HTTP 500)', code: 'backend_error' });
  await page.context().close();
});

test('malformed JSON in a 201: cannot read, nothing shown', async () => {
  const page = await shopPage();
  await page.route(`${backend.url}/api/invoices`, (r) => r.fulfill({ status: 201, contentType: 'application/json', body: '{"id": "inv_x", "payment_request": ' }));
  await page.goto(`${backend.url}/shop`);
  await expectRefused(page, { sentence: 'cannot read', code: 'bad_response' });
  await page.context().close();
});

test('garbage of the right shape (amount as a string, float, huge): refused', async () => {
  for (const mutate of [
    (b) => ({ ...b, amount_sat: String(b.amount_sat) }),
    (b) => ({ ...b, amount_sat: b.amount_sat + 0.5 }),
    (b) => ({ ...b, id: '../../admin' }),
    (b) => ({ ...b, payment_hash: 'zz' }),
    (b) => ({ ...b, status: 'paid' }),
  ]) {
    const page = await shopPage();
    await interceptCreate(page, (b) => ({ status: 201, json: mutate(b) }));
    await page.goto(`${backend.url}/shop`);
    await part(page, 'error').waitFor();
    assert.equal(await part(page, 'qr').isVisible(), false);
    await page.context().close();
  }
});

test('hostile text in an error message is rendered as text', async () => {
  const page = await shopPage();
  const message = '<img src=x onerror="window.pwned=1">Amount refused';
  await page.route(`${backend.url}/api/invoices`, (r) => r.fulfill({
    status: 400, contentType: 'application/json', body: JSON.stringify({ error: { code: 'amount_too_large<b>', message } }),
  }));
  await page.goto(`${backend.url}/shop`);
  await part(page, 'error').filter({ hasText: 'Amount refused' }).waitFor();
  assert.equal(await part(page, 'error').textContent(), message);
  assert.equal(await page.locator('lightning-checkout img').count(), 0);
  assert.equal(await page.evaluate(() => window.pwned), undefined);
  const err = await waitForEvent(page, 'error');
  assert.equal(err.detail.code, 'amount_too_largeb', 'codes are sanitised');
  await page.context().close();
});

test('an invoice for the wrong amount (1 sat more) is refused', async () => {
  const page = await shopPage({ amount: 2500 });
  await interceptCreate(page, async (b) => {
    const other = await backend.api('POST', '/invoices', { amount_sat: 2501 });
    // The backend's fields claim 2500, the invoice itself says 2501.
    return { status: 201, json: { ...other.body, amount_sat: 2500 } };
  });
  await page.goto(`${backend.url}/shop`);
  await expectRefused(page, { sentence: '2,501 sat', code: 'invoice_wrong_amount' });
  await page.context().close();
});

test('an invoice whose amount field disagrees with what was asked is refused', async () => {
  const page = await shopPage({ amount: 2500 });
  await interceptCreate(page, async () => {
    const other = await backend.api('POST', '/invoices', { amount_sat: 9999 });
    return { status: 201, json: other.body };
  });
  await page.goto(`${backend.url}/shop`);
  await expectRefused(page, { sentence: 'not the 2,500 sat you asked for', code: 'invoice_wrong_amount' });
  await page.context().close();
});

test('an invoice for another network is refused (regtest invoice, widget on bitcoin)', async () => {
  const page = await shopPage({ network: 'bitcoin' });
  await page.goto(`${backend.url}/shop`);
  await expectRefused(page, { sentence: 'network', code: 'invoice_wrong_network' });
  await page.context().close();
});

test('a payment hash that differs from the backend\'s is refused', async () => {
  const page = await shopPage();
  await interceptCreate(page, (b) => ({ status: 201, json: { ...b, payment_hash: 'ab'.repeat(32) } }));
  await page.goto(`${backend.url}/shop`);
  await expectRefused(page, { sentence: 'does not match the payment', code: 'invoice_hash_mismatch' });
  await page.context().close();
});

test('an invoice that has already expired is refused', async () => {
  const stale = await backend.api('POST', '/invoices', { amount_sat: 2500, expiry_secs: 1 });
  assert.equal(stale.status, 201);
  await new Promise((r) => setTimeout(r, 2100));
  const page = await shopPage();
  // Answered now (server_time is the backend's clock at the answer, not at the creation).
  await interceptCreate(page, () => ({ status: 201, json: { ...stale.body, server_time: Date.now() } }));
  await page.goto(`${backend.url}/shop`);
  await expectRefused(page, { sentence: 'expired', code: 'invoice_expired' });
  await page.context().close();
});

test('status polling: 429 with Retry-After and 500s back off, never two requests in flight, then paid', async () => {
  const page = await shopPage({ amount: 3100 });
  let inFlight = 0;
  let maxInFlight = 0;
  const times = [];
  await withoutStream(page);
  // First a 429 asking for 6 s (the backoff alone would wait 4 s), then a 500 (8 s), then the
  // real backend.
  const faults = [
    { status: 429, headers: { 'retry-after': '6' }, contentType: 'application/json', body: '{"error":{"code":"rate_limited","message":"slow down"}}' },
    { status: 500, body: 'oops' },
  ];
  await page.route(/\/api\/invoices\/inv_[a-z2-7]+$/, async (route) => {
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    times.push(Date.now());
    try {
      const fault = faults.shift();
      if (fault) {
        await new Promise((r) => setTimeout(r, 300));
        return await route.fulfill(fault);
      }
      return await route.continue();
    } finally {
      inFlight -= 1;
    }
  });
  await page.goto(`${backend.url}/shop`);
  const created = await waitForEvent(page, 'invoice');
  await part(page, 'qr').waitFor();
  while (faults.length > 0) await new Promise((r) => setTimeout(r, 200));
  const r = await backend.api('POST', `/dev/invoices/${created.detail.id}/pay`);
  assert.equal(r.status, 200);
  await waitForStatus(page, 'Paid', { timeout: 30_000 });
  assert.equal(maxInFlight, 1, 'never two status requests at once');
  const gaps = times.slice(1).map((t, i) => t - times[i]);
  assert.ok(gaps[0] >= 6000 && gaps[0] < 7500, `Retry-After honoured over the 4 s backoff: ${gaps}`);
  assert.ok(gaps[1] >= 8000 && gaps[1] < 9500, `backoff doubles: ${gaps}`);
  await page.context().close();
});

test('the backend restarts mid-poll: nothing is lost, the payment is still seen', async () => {
  // A fixed port, so the page's endpoint stays the same across the restart.
  const port = await new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
  let b = await startBackend({ env: { PORT: String(port) } });
  const dataDir = b.dataDir;
  const page = await newPage(browser);
  await recordEvents(page);
  const html = `<!doctype html><script type="module" src="/pkg/lightning-checkout.js"></script>
    <lightning-checkout endpoint="/api" amount-sat="4000" network="regtest"></lightning-checkout>`;
  await page.route(`${b.url}/shop`, (r) => r.fulfill({ contentType: 'text/html', body: html }));
  await page.goto(`${b.url}/shop`);
  const created = await waitForEvent(page, 'invoice');
  await b.stop();
  await new Promise((r) => setTimeout(r, 3000)); // a few failed polls
  b = await startBackend({ env: { PORT: String(port) }, dataDir });
  try {
    const r = await b.api('POST', `/dev/invoices/${created.detail.id}/pay`);
    assert.equal(r.status, 200, 'the invoice survived the restart');
    await waitForStatus(page, 'Paid', { timeout: 40_000 });
  } finally {
    await page.context().close();
    await b.stop();
    b.cleanup();
  }
});

test('a "paid" whose preimage does not match the hash is not believed', async () => {
  const page = await shopPage({ amount: 1500 });
  await withoutStream(page);
  await page.route(/\/api\/invoices\/inv_[a-z2-7]+$/, (route) => route.fulfill({
    status: 200, contentType: 'application/json',
    body: JSON.stringify({ id: route.request().url().split('/').pop(), status: 'paid', preimage: '00'.repeat(32) }),
  }));
  await page.goto(`${backend.url}/shop`);
  await waitForEvent(page, 'invoice');
  const err = await waitForEvent(page, 'error', { timeout: 10_000 });
  assert.equal(err.detail.code, 'preimage_mismatch');
  await new Promise((r) => setTimeout(r, 1000));
  const status = await part(page, 'status').textContent();
  assert.doesNotMatch(status, /Paid/);
  assert.ok(await part(page, 'qr').isVisible(), 'the (valid) invoice stays payable');
  await page.context().close();
});
