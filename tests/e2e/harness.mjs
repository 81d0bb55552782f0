// End-to-end harness: starts the real backend (target/debug), Debian's Chromium through
// playwright-core, and reads QR codes back with zbarimg. Used by every *.test.mjs here.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startProcess } from './process.mjs';

export { startProcess };

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BACKEND_BIN = join(ROOT, 'target', 'debug', 'lightning-checkout-backend');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Starts the reference backend on a free port with its own data directory. */
export async function startBackend({ env = {}, dataDir } = {}) {
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), 'lc-e2e-'));
  const p = await startProcess(BACKEND_BIN, [], {
    env: {
      HOST: '127.0.0.1', PORT: '0', DATA_DIR: dir, RUST_LOG: 'warn',
      // Every test payer is 127.0.0.1: the per-IP create limit would count them as one client.
      CREATE_RATE_PER_MIN: '0',
      WWW_DIR: join(ROOT, 'www'), PKG_DIR: join(ROOT, 'pkg'), ...env,
    },
    ready: /Lightning checkout demo: (http:\/\/[^\s]+?)\/?\s/,
  });
  const url = p.match[1].replace(/\/$/, '');
  return {
    url,
    dataDir: dir,
    stop: p.stop,
    stderr: p.stderr,
    /** POST {url}/api/… with a JSON body; resolves to { status, body }. */
    async api(method, path, body) {
      const r = await fetch(`${url}/api${path}`, {
        method, headers: body ? { 'content-type': 'application/json' } : {},
        body: body ? JSON.stringify(body) : undefined,
      });
      const text = await r.text();
      let json = null;
      try { json = JSON.parse(text); } catch { /* not JSON */ }
      return { status: r.status, body: json, text };
    },
    cleanup() { rmSync(dir, { recursive: true, force: true }); },
  };
}

/** The reference backend and Chromium for the tests of one file (`before`); if Chromium does not
 * start, the backend is stopped again rather than left running. */
export async function startBackendAndBrowser(options) {
  const backend = await startBackend(options);
  try {
    return { backend, browser: await launchBrowser() };
  } catch (e) {
    await backend.stop();
    backend.cleanup();
    throw e;
  }
}

/** Stops what startBackendAndBrowser started (`after`). */
export async function stopBackendAndBrowser({ backend, browser }) {
  await browser?.close();
  await backend?.stop();
  backend?.cleanup();
}

/** Debian's Chromium, headless, as root on a machine without a network. */
export function launchBrowser() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--disable-default-apps', '--disable-extensions',
    ],
  });
}

/** A fresh page (own context: own sessionStorage, clipboard allowed). */
export async function newPage(browser, { colorScheme = 'light', viewport = { width: 800, height: 1000 }, hasTouch = false, origin } = {}) {
  const context = await browser.newContext({ colorScheme, viewport, hasTouch, deviceScaleFactor: 1 });
  if (origin) await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin });
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') page.errors.push(m.text()); });
  return page;
}

/** The widget's shadow-DOM parts (Playwright's CSS locators pierce open shadow roots). */
export const part = (page, name, host = 'lightning-checkout') => page.locator(`${host} [part="${name}"]`);

/** Waits until the status line contains `text`. */
export async function waitForStatus(page, text, { timeout = 15_000, host } = {}) {
  await part(page, 'status', host).filter({ hasText: text }).waitFor({ timeout });
}

/** Screenshot of the QR, decoded by zbarimg: the payload a phone's camera would read. */
export async function readQr(page, { host = 'lightning-checkout' } = {}) {
  const qr = part(page, 'qr', host);
  await qr.waitFor({ state: 'visible' });
  const dir = mkdtempSync(join(tmpdir(), 'lc-qr-'));
  const file = join(dir, 'qr.png');
  try {
    // Include the page around the code, as a camera would see it.
    await page.locator(`${host} .qr-box`).screenshot({ path: file });
    return execFileSync('zbarimg', ['--quiet', '--raw', '-Sdisable', '-Sqrcode.enable', file], { encoding: 'utf8' }).trim();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Writes `html` to a temp file-free route: serves it at `url` in this page's context. */
export async function serveHtml(page, url, html, headers = {}) {
  await page.route(url, (route) => route.fulfill({ status: 200, contentType: 'text/html', headers, body: html }));
}

/** Collects `lightning-checkout:*` events on the page into `page.checkoutEvents`. */
export async function recordEvents(page) {
  await page.addInitScript(() => {
    window.__checkoutEvents = [];
    for (const kind of ['invoice', 'paid', 'expired', 'error']) {
      document.addEventListener(`lightning-checkout:${kind}`, (e) => {
        window.__checkoutEvents.push({ kind, detail: e.detail, composed: e.composed, bubbles: e.bubbles });
      });
    }
  });
}

export const events = (page) => page.evaluate(() => window.__checkoutEvents ?? []);

/** Waits for an event of `kind`; resolves to its record. */
export async function waitForEvent(page, kind, { timeout = 15_000 } = {}) {
  const h = await page.waitForFunction((k) => (window.__checkoutEvents ?? []).find((e) => e.kind === k), kind, { timeout });
  return h.jsonValue();
}

export { writeFileSync };
