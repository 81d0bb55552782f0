// Unified QR with LND (issue 12 #4) in headless Chromium: the backend runs with PROVIDER=lnd
// against the testkit LND fake (a real HTTP server that checks every request); the widget's
// unified QR (read by zbarimg) carries the address LND's NewAddress gave; a payment to it in the
// fake's mempool is found by the backend's own watch (no demo control) and pushed to the widget,
// and a mined block makes it paid.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  ROOT, startBackend, startProcess, launchBrowser, newPage, part, readQr, waitForStatus,
  recordEvents, waitForEvent, serveHtml,
} from './harness.mjs';

const FAKE_BIN = join(ROOT, 'target', 'debug', 'testkit-fake');
let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

async function postJson(url, body) {
  const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  assert.equal(r.status, 200, `${url}: ${r.status}`);
  return r.json();
}

test('lnd: the unified QR carries LND\'s address; an on-chain payment is seen, then paid', async () => {
  const fake = await startProcess(FAKE_BIN, ['--provider', 'lnd'], { ready: /READY (http:\/\/127\.0\.0\.1:\d+)/ });
  const fakeUrl = fake.match[1];
  let backend;
  try {
    const env = await (await fetch(`${fakeUrl}/_test/env`)).json();
    backend = await startBackend({ env });
    const p = await newPage(browser);
    await recordEvents(p);
    await serveHtml(p, `${backend.url}/unified.html`, `<!doctype html><html><head><meta charset="utf-8">
<script type="module" src="/pkg/lightning-checkout.js"></script></head>
<body><lightning-checkout endpoint="/api" network="regtest" amount-sat="2500" unified></lightning-checkout></body></html>`);
    await p.goto(`${backend.url}/unified.html`);
    const created = await waitForEvent(p, 'invoice');
    const st = await backend.api('GET', `/invoices/${created.detail.id}`);
    const address = st.body.onchain_address;
    assert.match(address, /^bcrt1q[02-9ac-hj-np-z]{38}$/, 'LND\'s P2WPKH address of the network');
    assert.equal(await readQr(p),
      `BITCOIN:${address.toUpperCase()}?amount=0.000025&lightning=${created.detail.paymentRequest.toUpperCase()}`);
    const state = await (await fetch(`${fakeUrl}/_test/state`)).json();
    assert.deepEqual(state.rejections, [], 'the fake accepted every request');

    // The payer's wallet broadcasts: LND's wallet stream starts a watch round, which sees it in
    // the mempool, and the widget is told at once (the timed rounds, every 10 s, would too).
    await postJson(`${fakeUrl}/_test/chain_pay`, { address, sat: 2500 });
    await waitForStatus(p, 'Payment seen on-chain; waiting for a confirmation', { timeout: 30_000 });
    assert.equal((await backend.api('GET', `/invoices/${created.detail.id}`)).body.status, 'pending');
    // One block (ONCHAIN_CONFIRMATIONS=1 by default): paid.
    await postJson(`${fakeUrl}/_test/mine`, { blocks: 1 });
    await waitForStatus(p, 'Paid 2,500 sat', { timeout: 30_000 });
    assert.deepEqual(p.errors, []);
    await p.context().close();
  } finally {
    await backend?.stop();
    backend?.cleanup();
    await fake.stop();
  }
});
