// Issue 17: how the widget loads, as a shop developer meets it. init({ wasmUrl } | { module })
// and preload(); load failures that name their cause on screen, in console.error and in the
// event's code (wasm_not_found with the URL, csp_blocked, network); mount() that rejects.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startBackendAndBrowser, stopBackendAndBrowser, newPage, part, readQr, recordEvents, waitForEvent,
} from './harness.mjs';

let backend;
let browser;

before(async () => ({ backend, browser } = await startBackendAndBrowser()));
after(() => stopBackendAndBrowser({ backend, browser }));

async function shop(page, path, html, headers = {}) {
  await page.route(`${backend.url}${path}`, (r) => r.fulfill({ contentType: 'text/html', body: html, headers }));
  await page.goto(`${backend.url}${path}`);
}

const element = '<lightning-checkout endpoint="/api" amount-sat="100" network="regtest"></lightning-checkout>';

test('init({ wasmUrl }) finds a wasm moved elsewhere; preload() loads it before any element', async () => {
  const page = await newPage(browser);
  // The wasm only at another path (as a CDN or a bundler with hashed names would put it).
  const wasm = await (await fetch(`${backend.url}/pkg/lightning_checkout_bg.wasm`)).arrayBuffer();
  await page.route(`${backend.url}/assets/lc-1234abcd.wasm`, (r) => r.fulfill({ contentType: 'application/wasm', body: Buffer.from(wasm) }));
  let defaultAsked = 0;
  page.on('request', (r) => { if (r.url().endsWith('/pkg/lightning_checkout_bg.wasm')) defaultAsked += 1; });
  await shop(page, '/shop/init', `<!doctype html><script type="module">
      import { init, preload } from '/pkg/lightning-checkout.js';
      await init({ wasmUrl: '/assets/lc-1234abcd.wasm' });
      await preload(); // already loaded: resolves at once
      window.ready = true;
      document.body.insertAdjacentHTML('beforeend', '${element}');
    </script>`);
  assert.match(await readQr(page), /^lightning:LNBCRT1U1/);
  assert.equal(await page.evaluate(() => window.ready), true);
  assert.equal(defaultAsked, 0, 'the default location was never asked');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('init({ module }) takes a compiled WebAssembly.Module', async () => {
  const page = await newPage(browser);
  let wasmRequests = 0;
  page.on('request', (r) => { if (r.url().includes('.wasm')) wasmRequests += 1; });
  await shop(page, '/shop/module', `<!doctype html><script type="module">
      import { init } from '/pkg/lightning-checkout.js';
      const bytes = await (await fetch('/pkg/lightning_checkout_bg.wasm')).arrayBuffer();
      await init({ module: await WebAssembly.compile(bytes) });
      document.body.insertAdjacentHTML('beforeend', '${element}');
    </script>`);
  assert.match(await readQr(page), /^lightning:LNBCRT1U1/);
  assert.equal(wasmRequests, 1, 'only the page\'s own fetch');
  await page.context().close();
});

test('a wasm that is not there: wasm_not_found with its URL, on screen and in console.error', async () => {
  const page = await newPage(browser);
  await recordEvents(page);
  await page.route(/lightning_checkout_bg\.wasm/, (r) => r.fulfill({ status: 404, body: 'Not Found' }));
  await shop(page, '/shop/nowasm', `<!doctype html><script type="module" src="/pkg/lightning-checkout.js"></script>${element}`);
  const err = await waitForEvent(page, 'error');
  assert.equal(err.detail.code, 'wasm_not_found');
  assert.equal(err.detail.url, `${backend.url}/pkg/lightning_checkout_bg.wasm`);
  assert.match(err.detail.message, /HTTP 404/);
  await part(page, 'error').filter({ hasText: 'files are missing' }).waitFor();
  assert.ok(page.errors.some((e) => e.includes('lightning_checkout_bg.wasm is not at') && e.includes('init({ wasmUrl })')),
    `console.error names the URL and the fix: ${page.errors}`);
  await page.context().close();
});

test("a CSP whose connect-src leaves out the wasm's origin: csp_blocked naming connect-src", async () => {
  const page = await newPage(browser);
  await recordEvents(page);
  await shop(page, '/shop/connect', `<!doctype html><script type="module" src="/pkg/lightning-checkout.js"></script>${element}`, {
    'content-security-policy': "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; connect-src https://api.elsewhere.example",
  });
  const err = await waitForEvent(page, 'error');
  assert.equal(err.detail.code, 'csp_blocked');
  assert.match(err.detail.message, /connect-src/);
  await part(page, 'error').filter({ hasText: 'Content-Security-Policy' }).waitFor();
  assert.ok(page.errors.some((e) => /connect-src/.test(e) && e.includes('lightning-checkout')));
  await page.context().close();
});

test('mount() rejects on a missing element and on a bad option, with the reason', async () => {
  const page = await newPage(browser);
  await shop(page, '/shop/mount', '<!doctype html><div id="box"></div>');
  const outcome = await page.evaluate(async () => {
    const { mount } = await import('/pkg/lightning-checkout.js');
    const why = async (p) => p.then(() => 'resolved', (e) => `${e.name}: ${e.message}`);
    return {
      nullElement: await why(mount(null, { endpoint: '/api' })),
      noOptions: await why(mount(document.getElementById('box'), null)),
      badOption: await why(mount(document.getElementById('box'), { endpoint: '/api', amountSat: 'lots' })),
      input: await why(mount(document.createElement('input'), { endpoint: '/api' })),
      shown: document.getElementById('box').shadowRoot?.textContent ?? '',
    };
  });
  assert.match(outcome.nullElement, /^TypeError: .*HTMLElement, not null/);
  assert.match(outcome.noOptions, /^TypeError: .*options object/);
  assert.match(outcome.badOption, /^Error: .*amount-sat/);
  assert.match(outcome.input, /^Error: .*cannot mount/);
  assert.match(outcome.shown, /amount-sat/, 'the sentence is in the element too');
  await page.context().close();
});

test('no Intl object before the widget is up: the number formatter is made in idle time after (issue 15, start)', async () => {
  // The first Intl object of a fresh page loads the browser's ICU data (15-45 ms in Chromium);
  // the form needs no formatted number, so it must not be made on the way to interactive.
  const page = await newPage(browser);
  await page.addInitScript(() => {
    window.intlMade = [];
    Intl.NumberFormat = new Proxy(Intl.NumberFormat, {
      construct(target, args) {
        const root = document.querySelector('lightning-checkout')?.shadowRoot;
        window.intlMade.push({ formShown: !!root?.querySelector('[part="amount-input"]') });
        return Reflect.construct(target, args);
      },
    });
  });
  await shop(page, '/shop/intl', `<!doctype html><script type="module" src="/pkg/lightning-checkout.js"></script>
    <lightning-checkout endpoint="/api" min-sat="1" max-sat="1000000" network="regtest"></lightning-checkout>`);
  await part(page, 'amount-input').waitFor();
  // Warmed once the widget is up (before the payer's first invoice needs it), never before.
  await page.waitForFunction(() => window.intlMade.length > 0, null, { timeout: 5000 });
  const made = await page.evaluate(() => window.intlMade);
  assert.ok(made.every((m) => m.formShown), `an Intl.NumberFormat was made before the form was shown: ${JSON.stringify(made)}`);
  // And amounts are still written as the language writes them.
  await part(page, 'amount-input').fill('1234');
  await part(page, 'submit-button').click();
  await page.locator('lightning-checkout').getByText('1,234 sat').first().waitFor();
  assert.deepEqual(page.errors, []);
  await page.context().close();
});
