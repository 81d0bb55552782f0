// The live status stream (issue 11) in Chromium against the real backend: paid shown from the
// stream without polling; one event turns two tabs on one invoice paid; a stream refused (503),
// cut mid-way, or held by a buffering proxy hands over to polling with exactly one "paid".
//
// The page is served through a small HTTP proxy in front of the backend (the way a shop's reverse
// proxy sits there), which counts the widget's requests and can cut or hold the event stream.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import {
  startBackend, launchBrowser, newPage, waitForStatus, recordEvents, waitForEvent, events,
} from './harness.mjs';

let browser;
const backends = [];

before(async () => { browser = await launchBrowser(); });
after(async () => {
  await browser?.close();
  for (const b of backends) { await b.stop(); b.cleanup(); }
});

async function backendWith(env = {}) {
  const b = await startBackend({ env });
  backends.push(b);
  return b;
}

/**
 * A proxy to `target` on a free port. `mode` for `/events` answers: `pass`, `cut` (each stream
 * is cut 300 ms after its first bytes), `hold` (headers, then nothing: a proxy buffering the whole
 * answer), `hold-after-first` (the first chunk, then nothing).
 */
async function proxy(target, mode = 'pass') {
  const counts = { polls: 0, streams: 0, creates: 0 };
  const sockets = new Set();
  const server = http.createServer((req, res) => {
    const isStream = /\/api\/invoices\/[^/]+\/events$/.test(req.url);
    if (isStream) counts.streams += 1;
    else if (/\/api\/invoices\/inv_[a-z2-7]+$/.test(req.url)) counts.polls += 1;
    else if (req.url === '/api/invoices' && req.method === 'POST') counts.creates += 1;
    const up = http.request(`${target}${req.url}`, { method: req.method, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode, r.headers);
      if (!isStream || mode === 'pass' || r.statusCode !== 200) { r.pipe(res); return; }
      res.flushHeaders();
      let first = true;
      r.on('data', (chunk) => {
        if (mode === 'cut') {
          res.write(chunk);
          if (first) setTimeout(() => { r.destroy(); res.destroy(); }, 300);
        } else if (mode === 'hold-after-first' && first) {
          res.write(chunk);
        }
        first = false;
      });
      r.on('end', () => { if (mode === 'cut') res.end(); });
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}`;
  return {
    url,
    counts,
    close: () => new Promise((resolve) => { for (const s of sockets) s.destroy(); server.close(resolve); }),
  };
}

/** A page with one checkout for `amount` (order `order`), served through `p`. */
async function checkout(p, { amount = 2500, order } = {}) {
  const page = await newPage(browser);
  await recordEvents(page);
  const attrs = order ? ` order-id="${order}"` : '';
  const html = `<!doctype html><script type="module" src="/pkg/lightning-checkout.js"></script>
    <lightning-checkout endpoint="/api" amount-sat="${amount}" network="regtest"${attrs}></lightning-checkout>`;
  await page.route(`${p.url}/shop`, (r) => r.fulfill({ contentType: 'text/html', body: html }));
  await page.goto(`${p.url}/shop`);
  const inv = await waitForEvent(page, 'invoice');
  return { page, id: inv.detail.id };
}

async function pay(b, id) {
  const r = await b.api('POST', `/dev/invoices/${id}/pay`);
  assert.equal(r.status, 200, r.text);
}

const paidCount = async (page) => (await events(page)).filter((e) => e.kind === 'paid').length;

test('happy path: paid comes from the stream at once, with no status poll', async () => {
  const b = await backendWith();
  const p = await proxy(b.url);
  try {
    const { page, id } = await checkout(p);
    // The stream is open and has said "pending" (the widget stops its 2 s polls).
    await page.waitForTimeout(300);
    assert.equal(p.counts.streams, 1);
    const t0 = Date.now();
    await pay(b, id);
    await waitForStatus(page, 'Paid', { timeout: 2000 });
    const ms = Date.now() - t0;
    assert.ok(ms < 1000, `paid shown ${ms} ms after the backend had it`);
    const paid = await waitForEvent(page, 'paid');
    assert.equal(paid.detail.id, id);
    assert.match(paid.detail.preimage, /^[0-9a-f]{64}$/);
    assert.equal(p.counts.polls, 0, 'no status poll while the stream was up');
    await page.waitForTimeout(2500);
    assert.equal(await paidCount(page), 1);
    assert.equal(p.counts.polls, 0, 'nothing polled after paid either');
    assert.deepEqual(page.errors, []);
    await page.close();
  } finally { await p.close(); }
});

test('two tabs on one invoice both turn paid from one event', async () => {
  const b = await backendWith();
  const p = await proxy(b.url);
  try {
    const a = await checkout(p, { order: 'order-two-tabs' });
    const c = await checkout(p, { order: 'order-two-tabs' });
    assert.equal(a.id, c.id, 'one invoice for one order');
    await a.page.waitForTimeout(300);
    assert.equal(p.counts.streams, 2);
    await pay(b, a.id);
    await Promise.all([waitForStatus(a.page, 'Paid', { timeout: 2000 }), waitForStatus(c.page, 'Paid', { timeout: 2000 })]);
    assert.equal(p.counts.polls, 0);
    assert.equal(await paidCount(a.page), 1);
    assert.equal(await paidCount(c.page), 1);
    await a.page.close();
    await c.page.close();
  } finally { await p.close(); }
});

test('stream refused (503 past MAX_EVENT_STREAMS): polling serves, one paid', async () => {
  const b = await backendWith({ MAX_EVENT_STREAMS: '0' });
  const p = await proxy(b.url);
  try {
    const { page, id } = await checkout(p);
    const r = await fetch(`${b.url}/api/invoices/${id}/events`);
    assert.equal(r.status, 503);
    assert.equal((await r.json()).error.code, 'too_many_streams');
    await page.waitForTimeout(2500);
    assert.ok(p.counts.polls >= 1, 'it polls');
    const streams = p.counts.streams;
    await pay(b, id);
    await waitForStatus(page, 'Paid', { timeout: 5000 });
    await page.waitForTimeout(2500);
    assert.equal(await paidCount(page), 1);
    assert.equal(p.counts.streams, streams, 'a refused stream is not retried for this invoice');
    assert.deepEqual(page.errors.filter((e) => !/503|Service Unavailable|EventSource/i.test(e)), []);
    await page.close();
  } finally { await p.close(); }
});

test('stream cut mid-way, again and again: polling takes over, exactly one paid', async () => {
  const b = await backendWith();
  const p = await proxy(b.url, 'cut');
  try {
    const { page, id } = await checkout(p);
    // Cut after 300 ms each time; the browser reconnects; meanwhile the widget polls.
    await page.waitForTimeout(4500);
    assert.ok(p.counts.streams >= 2, `reconnected (${p.counts.streams} streams)`);
    assert.ok(p.counts.polls >= 1, 'polling took over while the stream was down');
    await pay(b, id);
    await waitForStatus(page, 'Paid', { timeout: 5000 });
    await page.waitForTimeout(3000);
    assert.equal(await paidCount(page), 1, 'one paid, whichever path told first');
    await page.close();
  } finally { await p.close(); }
});

test('a proxy that buffers the whole stream: nothing arrives, polling serves', async () => {
  const b = await backendWith();
  const p = await proxy(b.url, 'hold');
  try {
    const { page, id } = await checkout(p);
    await pay(b, id);
    await waitForStatus(page, 'Paid', { timeout: 5000 });
    assert.ok(p.counts.polls >= 1, 'paid came from a poll');
    assert.equal(await paidCount(page), 1);
    await page.close();
  } finally { await p.close(); }
});

test('a proxy that goes silent after the first event: polling after the announced silence', async () => {
  // Heartbeat 1 s: the widget believes a silent stream for 2 s, then polls.
  const b = await backendWith({ EVENT_STREAM_HEARTBEAT_MS: '1000' });
  const p = await proxy(b.url, 'hold-after-first');
  try {
    const { page, id } = await checkout(p);
    await page.waitForTimeout(500);
    const before = p.counts.polls;
    await pay(b, id);
    const t0 = Date.now();
    await waitForStatus(page, 'Paid', { timeout: 6000 });
    const ms = Date.now() - t0;
    assert.ok(p.counts.polls > before, 'paid came from a poll');
    assert.ok(ms < 4500, `polling took over within the silence window (${ms} ms)`);
    assert.equal(await paidCount(page), 1);
    await page.close();
  } finally { await p.close(); }
});
