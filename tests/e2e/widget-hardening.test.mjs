// Issue 10, the widget's items, in Chromium against the real backend: a payer's clock 20
// minutes fast or slow (corrected by the backend's server_time), a single-page shop switching
// product (re-issues, never re-shows another product's invoice), and answers too large to read.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import {
  startBackendAndBrowser, stopBackendAndBrowser, newPage, part, readQr, recordEvents, waitForEvent, events,
} from './harness.mjs';

let backend;
let browser;

before(async () => ({ backend, browser } = await startBackendAndBrowser()));
after(() => stopBackendAndBrowser({ backend, browser }));

const MIN20 = 20 * 60 * 1000;

/** Moves the page's clock (Date, Date.now) by `skewMs`, as a phone set wrongly by hand. */
async function skewClock(page, skewMs) {
  await page.addInitScript((skew) => {
    const RealDate = Date;
    const realNow = RealDate.now.bind(RealDate);
    class SkewedDate extends RealDate {
      constructor(...args) { super(...(args.length ? args : [realNow() + skew])); }
      static now() { return realNow() + skew; }
    }
    globalThis.Date = SkewedDate;
  }, skewMs);
}

/** Seconds of the mm:ss countdown shown. */
async function countdownSecs(page) {
  const text = await part(page, 'countdown').textContent();
  const m = text.match(/(\d+):(\d\d)/);
  assert.ok(m, `a countdown in ${JSON.stringify(text)}`);
  return Number(m[1]) * 60 + Number(m[2]);
}

async function shop(page, path, html) {
  await page.route(`${backend.url}${path}`, (r) => r.fulfill({ contentType: 'text/html', body: html }));
  await page.goto(`${backend.url}${path}`);
}

const fixedAmountPage = `<!doctype html><script type="module" src="/pkg/lightning-checkout.js"></script>
  <lightning-checkout endpoint="/api" amount-sat="700" expiry-secs="600" network="regtest"></lightning-checkout>`;

for (const [name, skew] of [['20 minutes fast', MIN20], ['20 minutes slow', -MIN20]]) {
  test(`a payer's clock ${name}: the invoice is accepted and the countdown is the invoice's`, async () => {
    const page = await newPage(browser);
    await recordEvents(page);
    await skewClock(page, skew);
    await shop(page, `/shop/skew${skew > 0 ? 'fast' : 'slow'}`, fixedAmountPage);
    assert.ok(Math.abs(await page.evaluate(() => Date.now()) - Date.now() - skew) < 5000, 'the page clock is off');
    assert.match(await readQr(page), /^lightning:LNBCRT7U1/);
    const invoice = await waitForEvent(page, 'invoice');
    // Real time left: the invoice's expiry (600 s from its creation) minus the real now.
    const realLeft = invoice.detail.expiresAt - Date.now() / 1000;
    assert.ok(realLeft > 590 && realLeft <= 600, `invoice made now: ${realLeft}`);
    const shown = await countdownSecs(page);
    assert.ok(Math.abs(shown - (invoice.detail.expiresAt - Date.now() / 1000)) <= 3,
      `countdown ${shown} s, real time left ${realLeft} s`);
    // Polling goes on and nothing says expired.
    await page.waitForTimeout(2500);
    assert.equal((await events(page)).filter((e) => e.kind !== 'invoice').length, 0);
    assert.equal(await part(page, 'qr').isVisible(), true);
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });
}

test('a backend without server_time keeps working on the payer\'s clock', async () => {
  const page = await newPage(browser);
  await recordEvents(page);
  // Polling is what this is about: the backend has only the two JSON routes here.
  await page.route(/\/api\/invoices\/[^/]+\/events$/, (r) => r.fulfill({ status: 204, body: '' }));
  let stripped = 0;
  await page.route(/\/api\/invoices(\/inv_[a-z2-7]+)?$/, async (route) => {
    const response = await route.fetch();
    const body = await response.json();
    assert.equal(typeof body.server_time, 'number', 'the backend sends server_time');
    delete body.server_time;
    stripped += 1;
    await route.fulfill({ response, json: body });
  });
  await shop(page, '/shop/notime', fixedAmountPage);
  assert.match(await readQr(page), /^lightning:LNBCRT7U1/);
  const shown = await countdownSecs(page);
  assert.ok(shown > 590 && shown <= 600, `countdown ${shown}`);
  await page.waitForTimeout(2200);
  assert.ok(stripped >= 2, 'create and a status poll went through the route');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('a single-page shop switching product re-issues, never re-shows the other product\'s invoice', async () => {
  const page = await newPage(browser);
  await recordEvents(page);
  await shop(page, '/shop/spa', `<!doctype html><script type="module" src="/pkg/lightning-checkout.js"></script>
    <lightning-checkout endpoint="/api" amount-sat="300" description="Tea" network="regtest"></lightning-checkout>`);
  const tea = (await waitForEvent(page, 'invoice')).detail;
  const invoices = async () => (await events(page)).filter((e) => e.kind === 'invoice').map((e) => e.detail);
  const waitForInvoices = (n) => page.waitForFunction((k) => window.__checkoutEvents.filter((e) => e.kind === 'invoice').length >= k, n);

  // Same amount, another product: a new invoice with the new description.
  await page.evaluate(() => document.querySelector('lightning-checkout').setAttribute('description', 'Coffee'));
  await waitForInvoices(2);
  const coffee = (await invoices())[1];
  assert.notEqual(coffee.id, tea.id, 'a new invoice, not the kept one');
  assert.notEqual(coffee.paymentRequest, tea.paymentRequest);
  assert.equal(await page.locator('lightning-checkout .description').textContent(), 'Coffee');

  // Back to tea: the same purchase, so its open invoice is shown again (no second invoice).
  await page.evaluate(() => document.querySelector('lightning-checkout').setAttribute('description', 'Tea'));
  await page.locator('lightning-checkout .description').filter({ hasText: 'Tea' }).waitFor();
  assert.equal((await part(page, 'invoice').textContent()).trim(), tea.paymentRequest);
  assert.equal((await invoices()).length, 2, 'no third invoice');

  // A payer-typed amount with other bounds is another purchase too.
  await page.evaluate(() => {
    const el = document.querySelector('lightning-checkout');
    el.removeAttribute('amount-sat');
    el.setAttribute('min-sat', '1000');
  });
  await part(page, 'amount-input').waitFor();
  assert.equal(await part(page, 'qr').isVisible(), false, 'the form, not a kept invoice');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('an answer larger than 64 KiB is not read: a clear error, announced or streamed', async () => {
  // Announced (Content-Length) on the create answer, through Playwright's route.
  const page = await newPage(browser);
  await recordEvents(page);
  const huge = JSON.stringify({ id: 'inv_x', padding: 'x'.repeat(70 * 1024) });
  await page.route(/\/api\/invoices$/, (r) => r.fulfill({ status: 201, contentType: 'application/json', body: huge }));
  await shop(page, '/shop/huge', fixedAmountPage);
  const err = await waitForEvent(page, 'error');
  assert.equal(err.detail.code, 'response_too_large');
  await part(page, 'error').filter({ hasText: 'too large' }).waitFor();
  await part(page, 'retry-button').waitFor();
  // Just under the cap is read as usual (here: a well-formed answer padded to 60 KiB).
  await page.unroute(/\/api\/invoices$/);
  await page.route(/\/api\/invoices$/, async (route) => {
    const response = await route.fetch();
    const body = await response.json();
    body.padding = 'x'.repeat(60 * 1024);
    await route.fulfill({ response, json: body });
  });
  await part(page, 'retry-button').click();
  assert.match(await readQr(page), /^lightning:LNBCRT7U1/);
  await page.context().close();

  // Streamed without a length (chunked), endlessly, by a server of our own: the widget stops
  // reading (the server sees the connection close) and says so.
  let closedEarly = null;
  const server = createServer((req, res) => {
    if (req.url === '/') {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(`<!doctype html><script type="module" src="${backend.url}/pkg/lightning-checkout.js"></script>
        <lightning-checkout endpoint="/api" amount-sat="700" network="regtest"></lightning-checkout>`);
      return;
    }
    res.writeHead(201, { 'content-type': 'application/json' });
    res.write('{"id":"inv_x","padding":"');
    let sent = 0;
    res.on('close', () => { closedEarly = !res.writableEnded; });
    const chunk = 'y'.repeat(16 * 1024);
    const more = () => {
      if (res.destroyed) return;
      if (sent > 64 * 1024 * 1024) { res.end('"}'); return; }
      sent += chunk.length;
      res.write(chunk, () => setTimeout(more, 2));
    };
    more();
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  try {
    const p = await newPage(browser);
    await recordEvents(p);
    await p.goto(`http://127.0.0.1:${server.address().port}/`);
    const e = await waitForEvent(p, 'error');
    assert.equal(e.detail.code, 'response_too_large');
    for (let i = 0; i < 50 && closedEarly === null; i += 1) await new Promise((r) => setTimeout(r, 100));
    assert.equal(closedEarly, true, 'the widget cancelled the endless answer');
    await p.context().close();
  } finally {
    server.closeAllConnections();
    server.close();
  }
});
