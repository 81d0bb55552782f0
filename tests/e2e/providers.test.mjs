// The whole checkout through each real provider adapter, in headless Chromium: the backend runs
// with PROVIDER=<x> pointed at that provider's local fake (testkit-fake, which checks every
// request), the payer types an amount on the demo page, the QR is read back with zbarimg, the
// fake settles the invoice (and, for webhook providers, delivers a correctly signed webhook to
// the backend), and the widget shows "Paid".
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { join } from 'node:path';
import bolt11 from 'bolt11';
import {
  ROOT, startBackend, startProcess, launchBrowser, newPage, part, readQr, waitForStatus,
  recordEvents, waitForEvent,
} from './harness.mjs';

const FAKE_BIN = join(ROOT, 'target', 'debug', 'testkit-fake');
const PROVIDERS = ['amboss', 'alphapo', 'kraken', 'lnd', 'cln', 'lnbits', 'btcpay'];
// LND and CLN have no webhooks: the widget's polling asks the node.
const WEBHOOKS = new Set(['amboss', 'alphapo', 'kraken', 'lnbits', 'btcpay']);

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

/** A free loopback port (the backend must know its own webhook URL before it starts). */
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function getJson(url, init) {
  const r = await fetch(url, init);
  assert.equal(r.status, 200, `${url}: ${r.status}`);
  return r.json();
}

for (const provider of PROVIDERS) {
  test(`${provider}: type 2500, scan, provider settles, widget shows paid`, async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const fake = await startProcess(FAKE_BIN, ['--provider', provider, '--webhook-url', `${base}/api/webhooks/${provider}`], {
      ready: /READY (http:\/\/127\.0\.0\.1:\d+)/,
    });
    const fakeUrl = fake.match[1];
    let backend;
    try {
      const env = await getJson(`${fakeUrl}/_test/env`);
      assert.equal(env.PROVIDER, provider);
      if (provider === 'lnbits') env.LNBITS_WEBHOOK_URL = `${base}/api/webhooks/lnbits`;
      backend = await startBackend({ env: { ...env, PORT: String(port) } });
      assert.equal(backend.url, base);

      const page = await newPage(browser, { origin: backend.url });
      await recordEvents(page);
      await page.goto(`${backend.url}/`);
      await part(page, 'amount-input').fill('2500');
      await part(page, 'submit-button').click();
      const scanned = await readQr(page);

      let state = await getJson(`${fakeUrl}/_test/state`);
      assert.deepEqual(state.rejections, [], 'the fake accepted every request');
      assert.equal(state.invoices.length, 1);
      assert.equal(state.invoices[0].amount_msat, 2_500_000, 'amount in the provider unit, exactly');

      if (provider === 'kraken') {
        // A pay link, not an invoice: QR of the link and a "Pay with Kraken" button.
        assert.match(scanned, new RegExp(`^${fakeUrl.replace(/\./g, '\\.')}/pay/[A-Za-z0-9+/]{22}$`));
        const action = part(page, 'open-wallet');
        assert.equal(await action.getAttribute('href'), scanned);
        assert.match(await action.textContent(), /Pay with Kraken/);
      } else {
        assert.match(scanned, /^lightning:LNBCRT25U1[0-9A-Z]+$/, 'QR is lightning: + the upper-case invoice');
        const pr = scanned.slice('lightning:'.length).toLowerCase();
        assert.equal(pr, state.invoices[0].bolt11, 'the provider\'s own invoice is shown');
        const d = bolt11.decode(pr, { bech32: 'bcrt', pubKeyHash: 0x6f, scriptHash: 0xc4, validWitnessVersions: [0, 1] });
        assert.equal(d.satoshis, 2500);
        const named = d.tags.find((t) => t.tagName === 'payee_node_key')?.data;
        assert.ok(named, 'the fake names its payee (n field)');
        assert.equal(d.payeeNodeKey, named, 'the signature recovers the named payee key');
        assert.equal(d.tags.find((t) => t.tagName === 'payment_hash').data, state.invoices[0].payment_hash);
      }
      const created = await waitForEvent(page, 'invoice');
      const id = created.detail.id;
      // A real provider: no "simulate the payment" control on the demo page.
      assert.equal(await page.locator('#demo-control').isVisible(), false);
      assert.match(id, /^inv_[a-z2-7]{26}$/);
      assert.equal((await backend.api('GET', `/invoices/${id}`)).body.status, 'pending');

      const settled = await getJson(`${fakeUrl}/_test/settle`, { method: 'POST' });
      assert.equal(settled.changed.length, 1);
      if (WEBHOOKS.has(provider)) {
        assert.equal(settled.deliveries.length, 1);
        assert.equal(settled.deliveries[0].status, 200, `webhook answered: ${settled.deliveries[0].answer}`);
        if (provider === 'kraken') assert.deepEqual(JSON.parse(settled.deliveries[0].answer), { code: 'Success' });
      } else {
        assert.equal(settled.deliveries.length, 0);
      }

      await waitForStatus(page, 'Paid 2,500 sat', { timeout: 20_000 });
      const paid = await waitForEvent(page, 'paid');
      assert.equal(paid.detail.id, id);
      const st = await backend.api('GET', `/invoices/${id}`);
      assert.equal(st.body.status, 'paid');
      if (['lnd', 'cln', 'lnbits'].includes(provider)) assert.match(st.body.preimage, /^[0-9a-f]{64}$/);
      state = await getJson(`${fakeUrl}/_test/state`);
      assert.deepEqual(state.rejections, [], 'still no refused request (status lookups included)');
      assert.equal(state.invoices.length, 1, 'one invoice at the provider');
      assert.deepEqual(page.errors, []);
      await page.context().close();
    } finally {
      await backend?.stop();
      backend?.cleanup();
      await fake.stop();
    }
  });
}
