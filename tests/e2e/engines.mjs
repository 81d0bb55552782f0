// One small driver interface over three browser engines, so the same journey code runs in each:
// Chromium through playwright-core (Debian's chromium), Firefox (Debian's firefox-esr through
// geckodriver) and WebKit (WebKitGTK's MiniBrowser through WebKitWebDriver under Xvfb), the two
// last through selenium-webdriver pointed at the running driver (never downloading one).
// Everything a journey reads comes from the page itself (the recorder script the shop server
// injects), so no engine needs Playwright's or BiDi's event hooks.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { chromium } from 'playwright-core';
import { Builder, Key } from 'selenium-webdriver';
import { CHROMIUM } from './harness.mjs';

/** The engines to run (E2E_ENGINES=chromium,firefox,webkit narrows it). */
export const ENGINES = (process.env.E2E_ENGINES ?? 'chromium,firefox,webkit').split(',').map((s) => s.trim()).filter(Boolean);

const FIREFOX = process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr';
const MINIBROWSER = process.env.MINIBROWSER_PATH ?? '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';

/** A phone: the viewport, and the user agent of a current iPhone (Safari's WebKit). */
export const PHONE = {
  width: 390,
  height: 844,
  userAgent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 18_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.5 Mobile/15E148 Safari/604.1',
};
export const DESKTOP = { width: 800, height: 1000 };
/** The narrowest viewport each engine's window gets to (Firefox's and MiniBrowser's windows
 * have a minimum width). */
export const NARROWEST = { chromium: 390, firefox: 500, webkit: 447 };

/** `[part~="name"]` inside `host`'s shadow root. */
export const part = (name, host = 'lightning-checkout') => ({ host, inner: `[part~="${name}"]` });
/** Any selector inside `host`'s shadow root. */
export const inShadow = (inner, host = 'lightning-checkout') => ({ host, inner });

// The page-side helpers every engine runs (as a string, so WebDriver can send them too).
const FIND = `function find(t) {
  if (typeof t === 'string') return document.querySelector(t);
  const h = document.querySelector(t.host);
  return h && h.shadowRoot ? h.shadowRoot.querySelector(t.inner) : null;
}`;

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

/** Spawns a WebDriver server and waits until its /status answers. */
async function startDriver(name, cmd, args, port, env = {}) {
  const proc = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr = (stderr + d).slice(-4000); });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`[${name}] ${cmd} exited (${proc.exitCode}): ${stderr}`);
    try {
      const r = await fetch(`${url}/status`);
      if (r.ok) break;
    } catch { /* not up yet */ }
    if (Date.now() > deadline) { process.kill(-proc.pid, 'SIGKILL'); throw new Error(`[${name}] ${cmd} did not start: ${stderr}`); }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    stop: () => new Promise((resolve) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
      proc.once('exit', () => resolve());
      try { process.kill(-proc.pid, 'SIGTERM'); } catch { /* gone */ }
      setTimeout(() => { try { process.kill(-proc.pid, 'SIGKILL'); } catch { /* gone */ } }, 3000).unref();
    }),
  };
}

/** Rejects after `ms` with a message naming the engine (a session request can hang). */
function within(engine, what, ms, promise) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`[${engine}] ${what} took over ${ms} ms`)), ms); }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Launches an engine. `newPage({ phone, colorScheme })` opens a fresh page (Chromium: a new
 * context; Firefox and WebKit: a new WebDriver session, since color scheme, touch and user agent
 * are fixed when the browser starts). `close()` ends everything it started.
 */
export async function launchEngine(name) {
  if (name === 'chromium') return launchChromium();
  if (name === 'firefox' || name === 'webkit') return launchWebDriver(name);
  throw new Error(`unknown engine '${name}' in E2E_ENGINES (use chromium, firefox, webkit)`);
}

async function launchChromium() {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--disable-default-apps', '--disable-extensions',
    ],
  });
  return {
    name: 'chromium',
    async newPage({ phone = false, colorScheme = 'light', origin } = {}) {
      const vp = phone ? PHONE : DESKTOP;
      const context = await browser.newContext({
        colorScheme, viewport: { width: vp.width, height: vp.height }, deviceScaleFactor: 1,
        hasTouch: phone, isMobile: phone, userAgent: phone ? PHONE.userAgent : undefined,
      });
      if (origin) await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin });
      const page = await context.newPage();
      return new ChromiumPage(page);
    },
    close: () => browser.close(),
  };
}

class ChromiumPage {
  constructor(page) { this.page = page; this.engine = 'chromium'; }
  goto(url) { return this.page.goto(url); }
  reload() { return this.page.reload(); }
  eval(fn, arg) { return this.page.evaluate(`(() => { ${FIND}; return (${fn})(${JSON.stringify(arg ?? null)}); })()`); }
  loc(t) { return this.page.locator(typeof t === 'string' ? t : `${t.host} ${t.inner}`).first(); }
  click(t) { return this.loc(t).click(); }
  async fill(t, text) { await this.loc(t).fill(text); }
  async keys(...keys) {
    for (const k of keys) {
      if (k === TAB) await this.page.keyboard.press('Tab');
      else if (k === ENTER) await this.page.keyboard.press('Enter');
      else await this.page.keyboard.type(k);
    }
  }
  /** What the clipboard holds (the context was granted clipboard-read). */
  pasted() { return this.page.evaluate(() => navigator.clipboard.readText()); }
  async screenshotElement(t, path) { await this.loc(t).screenshot({ path }); }
  async screenshot(path) { await this.page.screenshot({ path, fullPage: true }); }
  close() { return this.page.context().close(); }
}

// Keys the journeys press, the same in every engine.
export const TAB = '\uE004';
export const ENTER = '\uE007';

async function launchWebDriver(name) {
  return {
    name,
    // One driver per page: geckodriver holds one session at a time.
    async newPage({ phone = false, colorScheme = 'light' } = {}) {
      const port = await freePort();
      let driver;
      let caps;
      if (name === 'firefox') {
        driver = await startDriver(name, process.env.GECKODRIVER ?? 'geckodriver', ['--port', String(port), '--host', '127.0.0.1'], port);
        caps = firefoxCaps({ phone, colorScheme });
      } else {
        // MiniBrowser has no headless mode: it gets a virtual display of its own.
        driver = await startDriver(name, 'xvfb-run', ['-a', '-s', '-screen 0 1280x1024x24', 'WebKitWebDriver', `--port=${port}`], port);
        caps = webkitCaps({ phone, colorScheme });
      }
      try {
        const session = await within(name, 'starting a WebDriver session', 60_000,
          new Builder().usingServer(driver.url).withCapabilities(caps).build());
        const page = new WebDriverPage(name, session, driver);
        await page.setViewport(phone ? PHONE : DESKTOP);
        return page;
      } catch (e) {
        await driver.stop();
        throw e;
      }
    },
    close: async () => {},
  };
}

function firefoxCaps({ phone, colorScheme }) {
  const prefs = {
    // 0 = dark, 1 = light: what prefers-color-scheme answers.
    'layout.css.prefers-color-scheme.content-override': colorScheme === 'dark' ? 0 : 1,
    'ui.systemUsesDarkTheme': colorScheme === 'dark' ? 1 : 0,
    'browser.shell.checkDefaultBrowser': false,
    'network.proxy.type': 0,
  };
  if (phone) {
    Object.assign(prefs, {
      'general.useragent.override': PHONE.userAgent,
      'dom.w3c_touch_events.enabled': 1,
      // 1 = coarse pointer, no hover: what (pointer: coarse) and (hover: none) answer.
      'ui.primaryPointerCapabilities': 1,
      'ui.allPointerCapabilities': 1,
    });
  }
  return {
    browserName: 'firefox',
    'moz:firefoxOptions': { binary: FIREFOX, args: ['-headless'], prefs },
  };
}

function webkitCaps({ phone, colorScheme }) {
  const args = ['--automation'];
  if (colorScheme === 'dark') args.push('--dark-mode');
  if (phone) args.push(`--user-agent=${PHONE.userAgent}`);
  return {
    browserName: 'MiniBrowser',
    'webkitgtk:browserOptions': { binary: MINIBROWSER, args },
  };
}

class WebDriverPage {
  constructor(engine, driver, server) { this.engine = engine; this.driver = driver; this.server = server; }
  goto(url) { return this.driver.get(url); }
  reload() { return this.driver.navigate().refresh(); }
  eval(fn, arg) {
    return this.driver.executeScript(`${FIND}; return (${fn})(arguments[0]);`, arg ?? null);
  }
  async el(t) {
    const e = await this.driver.executeScript(`${FIND}; return find(arguments[0]);`, t);
    if (!e) throw new Error(`[${this.engine}] no element ${JSON.stringify(t)}`);
    return e;
  }
  async click(t) { await (await this.el(t)).click(); }
  async fill(t, text) { const e = await this.el(t); await e.clear(); await e.sendKeys(text); }
  async keys(...keys) {
    const a = this.driver.actions({ async: true });
    for (const k of keys) {
      if (k === TAB || k === ENTER) a.keyDown(k).keyUp(k);
      else for (const c of k) a.keyDown(c).keyUp(c);
    }
    await a.perform();
  }
  /** What the clipboard holds: pasted with Ctrl+V into a text area the test adds, as a payer would. */
  async pasted() {
    const area = await this.driver.executeScript(`const t = document.createElement('textarea');
      t.id = '__paste'; document.body.append(t); t.focus(); return t;`);
    await this.driver.actions({ async: true }).keyDown(Key.CONTROL).keyDown('v').keyUp('v').keyUp(Key.CONTROL).perform();
    const value = await area.getAttribute('value');
    await this.driver.executeScript('arguments[0].remove()', area);
    return value;
  }
  /** Makes the viewport (innerWidth × innerHeight, CSS px) the given size, whatever the
   * window's chrome, or as near as the browser's smallest window allows. */
  async setViewport({ width, height }) {
    let rect = { width, height };
    for (let i = 0; i < 3; i += 1) {
      await this.driver.manage().window().setRect(rect);
      const [w, h] = await this.driver.executeScript('return [innerWidth, innerHeight]');
      if (w === width && h === height) return;
      rect = { width: Math.max(rect.width + width - w, 1), height: Math.max(rect.height + height - h, 1) };
    }
  }
  async screenshotElement(t, path) {
    const e = await this.el(t);
    if (this.engine === 'webkit') {
      // WebKitWebDriver's element screenshots come out all black under Xvfb: the viewport's,
      // with the element scrolled into it, holds the same pixels.
      await this.driver.executeScript("arguments[0].scrollIntoView({ block: 'center' })", e);
      return this.screenshot(path);
    }
    writeFileSync(path, Buffer.from(await e.takeScreenshot(), 'base64'));
  }
  async screenshot(path) {
    // After two animation frames the engine has painted what the DOM holds (WebKit's screenshot
    // otherwise can be a frame behind a change just made).
    await this.driver.executeAsyncScript('const done = arguments[0]; requestAnimationFrame(() => requestAnimationFrame(() => done()));');
    writeFileSync(path, Buffer.from(await this.driver.takeScreenshot(), 'base64'));
  }
  async close() {
    try { await within(this.engine, 'closing the session', 20_000, this.driver.quit()); } finally { await this.server.stop(); }
  }
}

