// "Pay with browser wallet" (WebLN) in headless Chromium against the real backend, with WebLN
// providers injected into the page before any script (addInitScript): one that really pays
// (through the demo provider) and answers the real preimage; one that refuses; one that hangs;
// one that answers a wrong preimage; ones that throw or answer junk. Only the backend's status
// makes the widget say "paid"; after any failure QR, Copy and Open wallet still work.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startBackend, launchBrowser, newPage, part, waitForStatus, recordEvents, events, readQr } from './harness.mjs';

let backend;
let browser;

before(async () => {
  backend = await startBackend();
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await backend?.stop();
  backend?.cleanup();
});

/** A page with a widget for 2500 sat and the WebLN provider `provider` (a function run in the
 * page before its scripts; null: no WebLN). */
async function open(provider, attrs = '') {
  const page = await newPage(browser, { origin: backend.url });
  await recordEvents(page);
  if (provider) await page.addInitScript(provider);
  const url = `${backend.url}/webln-${Math.random().toString(36).slice(2)}.html`;
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8">
    <script type="module" src="/pkg/lightning-checkout.js"></script></head>
    <body><lightning-checkout endpoint="/api" network="regtest" amount-sat="2500" ${attrs}></lightning-checkout></body></html>`;
  await page.route(url, (route) => route.fulfill({ status: 200, contentType: 'text/html', body: html }));
  await page.goto(url);
  await part(page, 'qr').waitFor();
  await waitForStatus(page, 'Waiting for payment…');
  return page;
}

const note = (page) => part(page, 'webln-note');

/** After a failure: one sentence, nothing paid, and QR, Copy and Open wallet still work. */
async function stillPayableOtherwise(page, sentence) {
  await note(page).filter({ hasText: sentence }).waitFor();
  assert.doesNotMatch(await part(page, 'status').textContent(), /Paid/);
  assert.ok(!(await events(page)).some((e) => e.kind === 'paid'), 'no paid event');
  const invoice = (await part(page, 'invoice').textContent()).trim();
  assert.equal(await readQr(page), `lightning:${invoice.toUpperCase()}`);
  assert.equal(await part(page, 'open-wallet').getAttribute('href'), `lightning:${invoice}`);
  assert.ok(await part(page, 'open-wallet').isVisible());
  await part(page, 'copy-button').click();
  await part(page, 'copy-button').filter({ hasText: 'Copied' }).waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), invoice);
  // And the wallet can be asked again.
  assert.equal(await part(page, 'webln-button').isEnabled(), true);
}

test('no WebLN: no button', async () => {
  const page = await open(null);
  assert.equal(await part(page, 'webln-button').isHidden(), true);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('a wallet that pays: enable, sendPayment, the preimage checked, then the backend says paid', async () => {
  const page = await open(() => {
    window.weblnCalls = [];
    window.webln = {
      async enable() { window.weblnCalls.push('enable'); },
      async sendPayment(pr) {
        window.weblnCalls.push(`sendPayment ${pr}`);
        // Really pays: the demo provider settles the invoice; its preimage comes from the backend.
        const id = window.__checkoutEvents.find((e) => e.kind === 'invoice').detail.id;
        await fetch(`/api/dev/invoices/${id}/pay`, { method: 'POST' });
        // A wallet knows the preimage before the shop's backend does: read it from the store
        // directly through the status (the widget itself polls only every 2 s).
        for (;;) {
          const s = await (await fetch(`/api/invoices/${id}`)).json();
          if (s.preimage) return { preimage: s.preimage };
          await new Promise((r) => setTimeout(r, 50));
        }
      },
    };
  });
  const button = part(page, 'webln-button');
  assert.equal(await button.textContent(), 'Pay with browser wallet');
  await button.click();
  await waitForStatus(page, 'Paid 2,500 sat. Thank you!', { timeout: 10_000 });
  const invoice = (await part(page, 'invoice').textContent()).trim();
  assert.deepEqual(await page.evaluate(() => window.weblnCalls), ['enable', `sendPayment ${invoice}`]);
  const paid = (await events(page)).filter((e) => e.kind === 'paid');
  assert.equal(paid.length, 1);
  assert.ok(paid[0].detail.preimage);
  assert.equal(await button.isHidden(), true, 'paid: the action is gone');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('after a reload (the kept invoice) the action is there, and a language change keeps it', async () => {
  const page = await open(() => {
    window.webln = { async enable() {}, async sendPayment() { throw new Error('no'); } };
  });
  const invoice = (await part(page, 'invoice').textContent()).trim();
  await page.reload();
  await waitForStatus(page, 'Waiting for payment…');
  assert.equal((await part(page, 'invoice').textContent()).trim(), invoice, 'the same invoice');
  assert.equal(await part(page, 'webln-button').isVisible(), true);
  await page.locator('lightning-checkout').evaluate((e) => e.setAttribute('lang', 'de'));
  await part(page, 'webln-button').filter({ hasText: 'Mit Browser-Wallet bezahlen' }).waitFor();
  await part(page, 'webln-button').click();
  await note(page).filter({ hasText: 'Ihre Browser-Wallet hat nicht bezahlt.' }).waitFor();
  await page.context().close();
});

test('a wallet that refuses', async () => {
  const page = await open(() => {
    window.webln = { async enable() {}, async sendPayment() { throw new Error('User rejected the payment'); } };
  });
  await part(page, 'webln-button').click();
  await stillPayableOtherwise(page, 'Your browser wallet did not pay. You can still scan the QR code, copy the invoice or open a wallet.');
  await page.context().close();
});

test('a wallet that refuses to enable', async () => {
  const page = await open(() => {
    window.webln = { enable() { return Promise.reject(new Error('denied')); }, sendPayment() { throw new Error('unreachable'); } };
  });
  await part(page, 'webln-button').click();
  await stillPayableOtherwise(page, 'Your browser wallet did not pay.');
  await page.context().close();
});

test('a wallet that hangs: the bounded wait ends in one sentence', async () => {
  const page = await open(() => {
    window.webln = { async enable() {}, sendPayment() { return new Promise(() => {}); } };
  }, 'webln-timeout-ms="700"');
  await part(page, 'webln-button').click();
  assert.equal(await part(page, 'webln-button').isDisabled(), true, 'busy while the wallet is asked');
  await stillPayableOtherwise(page, 'Your browser wallet did not answer in time. You can still scan the QR code, copy the invoice or open a wallet.');
  await page.context().close();
});

test('a wallet that answers a wrong preimage: not believed, still pending', async () => {
  const page = await open(() => {
    window.webln = { async enable() {}, async sendPayment() { return { preimage: '11'.repeat(32) }; } };
  });
  await part(page, 'webln-button').click();
  await stillPayableOtherwise(page, "Your browser wallet's answer does not prove the payment. Wait for the shop to confirm, or pay another way.");
  await waitForStatus(page, 'Waiting for payment…');
  await page.context().close();
});

for (const [name, provider, sentence] of [
  ['throws a non-Error synchronously', () => { window.webln = { enable() { throw 42; }, sendPayment() {} }; }, 'did not pay'],
  ['rejects with undefined', () => { window.webln = { async enable() {}, sendPayment() { return Promise.reject(undefined); } }; }, 'did not pay'],
  ['has no sendPayment', () => { window.webln = { async enable() {} }; }, 'did not pay'],
  ['answers junk', () => { window.webln = { async enable() {}, async sendPayment() { return 'ok!'; } }; }, 'does not prove the payment'],
  ['answers a preimage that is not text', () => { window.webln = { async enable() {}, async sendPayment() { return { preimage: 12 }; } }; }, 'does not prove the payment'],
]) {
  test(`a wallet that ${name}`, async () => {
    const page = await open(provider);
    await part(page, 'webln-button').click();
    await stillPayableOtherwise(page, sentence);
    assert.deepEqual(page.errors, [], 'nothing thrown out of the widget');
    await page.context().close();
  });
}
