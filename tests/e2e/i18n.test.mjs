// Languages in headless Chromium against the real backend: the chosen locale file is fetched
// (and only it; an English page fetches none), texts and amounts follow the locale, `lang`
// switches at runtime, a shop overrides one message, Arabic mirrors the layout (dir="rtl"),
// navigator.languages decides when no lang is given (pt -> pt-BR), a missing file is English.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startBackend, launchBrowser, newPage, part, waitForStatus, recordEvents, waitForEvent, ROOT } from './harness.mjs';

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

/** A page at the backend's origin holding one widget with `attrs`, inside <html lang=pageLang>. */
async function open(attrs, { pageLang = 'en', context = {}, before: prepare } = {}) {
  const page = await newPage(browser, { origin: backend.url, ...context });
  const requests = [];
  page.on('request', (r) => requests.push(r.url()));
  page.requests = requests;
  await recordEvents(page);
  const url = `${backend.url}/i18n-${Math.random().toString(36).slice(2)}.html`;
  const html = `<!doctype html><html${pageLang == null ? '' : ` lang="${pageLang}"`}><head><meta charset="utf-8">
    <script type="module" src="/pkg/lightning-checkout.js"></script></head>
    <body><lightning-checkout id="c" endpoint="/api" network="regtest" ${attrs}></lightning-checkout></body></html>`;
  await page.route(url, (route) => route.fulfill({ status: 200, contentType: 'text/html', body: html }));
  if (prepare) await prepare(page);
  await page.goto(url);
  return page;
}

const localeRequests = (page) => page.requests.filter((u) => u.includes('/locales/'));

test('an English page downloads no locale file', async () => {
  const page = await open('amount-sat="12345"');
  await part(page, 'qr').waitFor();
  await waitForStatus(page, 'Waiting for payment');
  assert.equal((await part(page, 'submit-button').count()), 1);
  assert.match(await part(page, 'countdown').textContent(), /^Expires in \d\d:\d\d$/);
  assert.equal((await page.locator('lightning-checkout .amount').textContent()), '12,345 sat');
  assert.deepEqual(localeRequests(page), []);
  // The demo shop's page (lang="en") neither.
  const demo = await newPage(browser, { origin: backend.url });
  const seen = [];
  demo.on('request', (r) => seen.push(r.url()));
  await demo.goto(`${backend.url}/`);
  await part(demo, 'submit-button').waitFor();
  assert.equal(await part(demo, 'submit-button').textContent(), 'Pay with Lightning');
  assert.deepEqual(seen.filter((u) => u.includes('/locales/')), []);
  assert.deepEqual(page.errors, []);
  await page.context().close();
  await demo.context().close();
});

test('lang="de": German texts and amounts, only de.json fetched', async () => {
  const page = await open('lang="de" min-sat="100"');
  await part(page, 'submit-button').waitFor();
  assert.equal(await part(page, 'submit-button').textContent(), 'Mit Lightning bezahlen');
  assert.equal(await page.locator('lightning-checkout label').textContent(), 'Betrag in Sats');
  await part(page, 'amount-input').fill('5');
  await part(page, 'submit-button').click();
  assert.equal(await part(page, 'error form-error').textContent(), 'Geben Sie mindestens 100 sat ein.');
  await part(page, 'amount-input').fill('12345');
  await part(page, 'submit-button').click();
  await part(page, 'qr').waitFor();
  assert.equal(await page.locator('lightning-checkout .amount').textContent(), '12.345 sat');
  await waitForStatus(page, 'Warten auf die Zahlung…');
  assert.match(await part(page, 'countdown').textContent(), /^Läuft ab in \d\d:\d\d$/);
  assert.equal(await part(page, 'copy-button').textContent(), 'Kopieren');
  assert.equal(await part(page, 'qr').getAttribute('aria-label'), 'QR-Code einer Lightning-Rechnung über 12.345 sat');
  const container = part(page, 'container');
  assert.equal(await container.getAttribute('lang'), 'de');
  assert.equal(await container.getAttribute('dir'), 'ltr');
  const files = localeRequests(page);
  assert.equal(files.length, 1, files.join());
  assert.equal(new URL(files[0]).pathname, '/pkg/locales/de.json', 'next to the module');
  const created = await waitForEvent(page, 'invoice');
  await backend.api('POST', `/dev/invoices/${created.detail.id}/pay`);
  await waitForStatus(page, '12.345 sat bezahlt. Vielen Dank!');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('amounts through Intl.NumberFormat in each locale', async () => {
  const expected = {
    en: '12,345 sat', de: '12.345 sat', fr: '12\u202f345 sat', ru: '12\u00a0345 сат', es: '12.345 sat',
    'pt-BR': '12.345 sat', it: '12.345 sat', ja: '12,345 sat', 'zh-CN': '12,345 聪', tr: '12.345 sat',
    ar: '12,345 ساتوشي', // CLDR: Arabic's default digits are Latin now
  };
  for (const [lang, text] of Object.entries(expected)) {
    const page = await open(`lang="${lang}" amount-sat="12345"`);
    await part(page, 'qr').waitFor();
    assert.equal(await page.locator('lightning-checkout .amount').textContent(), text, lang);
    await page.context().close();
  }
});

test('Arabic: dir="rtl" and the layout mirrored (screenshot in target/screenshots)', async () => {
  const positions = {};
  for (const lang of ['en', 'ar']) {
    const page = await open(`lang="${lang}" min-sat="100"`, { context: { viewport: { width: 800, height: 900 } } });
    await part(page, 'submit-button').waitFor();
    const box = async (name) => (await part(page, name).boundingBox());
    const form = {
      input: await box('amount-input'), submit: await box('submit-button'),
      label: await page.locator('lightning-checkout label').boundingBox(),
    };
    await part(page, 'amount-input').fill('2500');
    await part(page, 'submit-button').click();
    await part(page, 'qr').waitFor();
    positions[lang] = {
      ...form, copy: await box('copy-button'), wallet: await box('open-wallet'),
      dir: await part(page, 'container').getAttribute('dir'),
      direction: await part(page, 'container').evaluate((e) => getComputedStyle(e).direction),
      container: await box('container'),
    };
    if (lang === 'ar') {
      assert.equal(await part(page, 'copy-button').textContent(), 'نسخ');
      await page.locator('lightning-checkout').screenshot({ path: join(ROOT, 'target', 'screenshots', 'i18n-ar-rtl.png') });
    }
    await page.context().close();
  }
  const { en, ar } = positions;
  assert.equal(en.dir, 'ltr');
  assert.equal(ar.dir, 'rtl');
  assert.equal(ar.direction, 'rtl');
  // The content box: inside the container's 1px border and 1rem padding.
  const right = (b) => b.x + b.width;
  const near = (a, b) => Math.abs(a - b) < 2;
  const [enLeft, arRight] = [en.container.x + 17, right(ar.container) - 17];
  // English: label and button start at the left edge, Copy left of Open wallet. Arabic: the
  // mirror image.
  assert.ok(near(en.label.x, enLeft) && near(en.submit.x, enLeft), 'en: label and button at the left edge');
  assert.ok(near(right(ar.label), arRight), `ar: label at the right edge (${JSON.stringify(ar.label)})`);
  assert.ok(near(right(ar.submit), arRight) && ar.submit.x > enLeft + 20, 'ar: button at the right edge');
  assert.ok(right(en.copy) <= en.wallet.x, 'en: Copy, then Open wallet');
  assert.ok(right(ar.wallet) <= ar.copy.x, 'ar: Open wallet, then Copy, from the left');
  assert.ok(near(right(ar.copy), arRight), 'ar: Copy at the right edge');
});

test('lang changes at runtime: the same invoice, in the new language', async () => {
  const page = await open('lang="es" amount-sat="2500"');
  await waitForStatus(page, 'Esperando el pago…');
  const first = (await part(page, 'invoice').textContent()).trim();
  await page.locator('lightning-checkout').evaluate((e) => e.setAttribute('lang', 'fr'));
  await waitForStatus(page, 'En attente du paiement…');
  assert.equal(await part(page, 'copy-button').textContent(), 'Copier');
  assert.equal((await part(page, 'invoice').textContent()).trim(), first, 'the same invoice');
  await page.locator('lightning-checkout').evaluate((e) => e.setAttribute('lang', 'en'));
  await waitForStatus(page, 'Waiting for payment…');
  assert.deepEqual(localeRequests(page).map((u) => new URL(u).pathname), ['/pkg/locales/es.json', '/pkg/locales/fr.json']);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('a shop overrides one message (property and mount option); the rest stays', async () => {
  const page = await open('lang="de" min-sat="100"');
  await part(page, 'submit-button').waitFor();
  await page.locator('lightning-checkout').evaluate((e) => { e.messages = { submit: 'Jetzt zahlen' }; });
  await part(page, 'submit-button').filter({ hasText: 'Jetzt zahlen' }).waitFor();
  assert.equal(await page.locator('lightning-checkout label').textContent(), 'Betrag in Sats');
  // Through mount(), with a placeholder.
  await page.evaluate(async () => {
    const { mount } = await import('/pkg/lightning-checkout.js');
    const div = document.createElement('div');
    div.id = 'mounted';
    document.body.append(div);
    await mount(div, { endpoint: '/api', amountSat: 2500, network: 'regtest', lang: 'en', messages: { creating: 'One moment: {amount}…', waiting: 'Pay me' } });
  });
  await waitForStatus(page, 'Pay me', { host: '#mounted' });
  assert.equal(await page.locator('#mounted .amount').textContent(), '2,500 sat');
  await page.context().close();
});

test('messages set before the script defines the element are kept', async () => {
  const page = await newPage(browser, { origin: backend.url });
  const url = `${backend.url}/i18n-early.html`;
  await page.route(url, (route) => route.fulfill({ status: 200, contentType: 'text/html', body: `<!doctype html>
    <html lang="en"><head><meta charset="utf-8"></head><body>
    <lightning-checkout endpoint="/api" network="regtest" min-sat="1"></lightning-checkout>
    <script>document.querySelector('lightning-checkout').messages = { submit: 'Pay early' };</script>
    <script type="module" src="/pkg/lightning-checkout.js"></script></body></html>` }));
  await page.goto(url);
  await part(page, 'submit-button').filter({ hasText: 'Pay early' }).waitFor();
  await page.context().close();
});

test('no lang anywhere: navigator.languages (pt -> pt-BR, zh -> zh-CN)', async () => {
  for (const [locale, submit] of [['pt-PT', 'Pagar com Lightning'], ['zh-TW', '用闪电网络支付'], ['ko-KR', 'Pay with Lightning']]) {
    const page = await open('min-sat="100"', { pageLang: null, context: {} , before: async (p) => {
      await p.addInitScript((l) => Object.defineProperty(navigator, 'languages', { get: () => [l, 'en'] }), locale);
    } });
    await part(page, 'submit-button').waitFor();
    await part(page, 'submit-button').filter({ hasText: submit }).waitFor();
    await page.context().close();
  }
});

test('a locale file that does not load: English, and nothing alarming shown', async () => {
  const page = await open('lang="it" amount-sat="2500"', {
    before: (p) => p.route('**/locales/it.json', (route) => route.fulfill({ status: 404, body: 'missing' })),
  });
  await waitForStatus(page, 'Waiting for payment…');
  assert.equal(await part(page, 'error').isHidden(), true);
  assert.equal(await part(page, 'container').getAttribute('lang'), 'en');
  await page.context().close();
});

test("the demo shop's language switcher", async () => {
  const page = await newPage(browser, { origin: backend.url });
  await page.goto(`${backend.url}/`);
  await part(page, 'submit-button').waitFor();
  await page.selectOption('#language', 'ja');
  await part(page, 'submit-button').filter({ hasText: 'Lightningで支払う' }).waitFor();
  await page.selectOption('#language', 'ar');
  await part(page, 'submit-button').filter({ hasText: 'ادفع عبر Lightning' }).waitFor();
  assert.equal(await part(page, 'container').getAttribute('dir'), 'rtl');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});
