// Section 7 of ./build.sh bench: the live status stream (issue 11) against polling.
//
//   node bench/stream.mjs [--runs N] [--streams N] [--quick]   (this section alone)
//   ./build.sh bench --only stream                              (the same, through run.mjs)
//
// 1. Backend "paid" → the widget shows paid, in Chromium: the payment is made (demo pay route)
//    at a random moment of the poll cycle; the time from sending it to the widget's `paid` event
//    (both on this machine's clock). Stream: the default backend; polling: MAX_EVENT_STREAMS=0
//    (the stream is refused, the widget polls every 2 s as before).
// 2. Requests to the backend and calls to the provider per paid checkout: the LND fake as the
//    provider (its invoice subscription on), the payer paying 10 s after the QR is shown.
// 3. Idle streams held: N event streams opened over raw TCP on 100 invoices; the backend's
//    memory before, with them all open, and 5 s later (heartbeats only); then one payment and the
//    time until all of that invoice's streams heard it.
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startProcess, launchBrowser, newPage, ROOT } from '../tests/e2e/harness.mjs';

const TARGET = process.env.CARGO_TARGET_DIR || join(ROOT, 'target');
const BACKEND_BIN = join(TARGET, 'release', 'lightning-checkout-backend');
const FAKE_BIN = join(TARGET, 'release', 'testkit-fake');
const OUT = join(dirname(fileURLToPath(import.meta.url)), 'out');
const PKG = join(ROOT, 'pkg');

const log = (...a) => console.error('bench:', ...a);
const quantile = (xs, q) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)] : null;
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function rssKb(pid) {
  const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+) kB/m);
  return m ? Number(m[1]) : null;
}

async function backend(env = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'lc-bench-stream-'));
  const p = await startProcess(BACKEND_BIN, [], {
    env: {
      HOST: '127.0.0.1', PORT: '0', DATA_DIR: dataDir, RUST_LOG: 'warn', PKG_DIR: PKG,
      WWW_DIR: join(ROOT, 'www'), CREATE_RATE_PER_MIN: '0', ...env,
    },
    ready: /Lightning checkout demo: (http:\/\/[^\s]+?)\/?\s/,
  });
  return {
    url: p.match[1].replace(/\/$/, ''),
    pid: p.proc.pid,
    async stop() { await p.stop(); rmSync(dataDir, { recursive: true, force: true }); },
  };
}

async function json(url, method = 'GET', body) {
  const r = await fetch(url, {
    method, headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!r.ok) throw new Error(`${method} ${url}: ${r.status}`);
  return r.json();
}

/** A page holding one fixed-amount checkout; resolves once its invoice is shown. */
async function checkoutPage(browser, base, amount) {
  const page = await newPage(browser);
  const requests = { creates: 0, polls: 0, streams: 0 };
  page.on('request', (req) => {
    const u = new URL(req.url());
    if (u.pathname === '/api/invoices' && req.method() === 'POST') requests.creates += 1;
    else if (/^\/api\/invoices\/inv_[a-z2-7]+$/.test(u.pathname)) requests.polls += 1;
    else if (/^\/api\/invoices\/inv_[a-z2-7]+\/events$/.test(u.pathname)) requests.streams += 1;
  });
  await page.addInitScript(() => {
    window.__paidAt = null;
    window.__invoice = null;
    document.addEventListener('lightning-checkout:invoice', (e) => { window.__invoice = e.detail; });
    document.addEventListener('lightning-checkout:paid', () => { window.__paidAt = Date.now(); });
  });
  const html = `<!doctype html><script type="module" src="/pkg/lightning-checkout.js"></script>
    <lightning-checkout endpoint="/api" amount-sat="${amount}" network="regtest"></lightning-checkout>`;
  await page.route(`${base}/bench-stream`, (r) => r.fulfill({ contentType: 'text/html', body: html }));
  await page.goto(`${base}/bench-stream`);
  const invoice = await (await page.waitForFunction(() => window.__invoice, null, { timeout: 15_000 })).jsonValue();
  return { page, invoice, requests };
}

async function paidLatency(browser, mode, runs) {
  const be = await backend(mode === 'polling' ? { MAX_EVENT_STREAMS: '0' } : {});
  const times = [];
  try {
    for (let i = 0; i < runs; i++) {
      const { page, invoice } = await checkoutPage(browser, be.url, 1000 + i);
      // A payment lands anywhere in the 2 s poll cycle.
      await sleep(300 + Math.random() * 2000);
      const sent = Date.now();
      await json(`${be.url}/api/dev/invoices/${invoice.id}/pay`, 'POST');
      const at = await (await page.waitForFunction(() => window.__paidAt, null, { timeout: 15_000 })).jsonValue();
      times.push(at - sent);
      await page.context().close();
    }
  } finally { await be.stop(); }
  return { runs, median_ms: quantile(times, 0.5), p99_ms: quantile(times, 0.99), max_ms: Math.max(...times), raw_ms: times };
}

async function perCheckout(browser, mode, payAfterMs) {
  const fake = await startProcess(FAKE_BIN, ['--provider', 'lnd'], { ready: /READY (http:\/\/\S+)/ });
  let be;
  try {
    const fakeUrl = fake.match[1];
    const env = await json(`${fakeUrl}/_test/env`);
    be = await backend({ ...env, ...(mode === 'polling' ? { MAX_EVENT_STREAMS: '0' } : {}) });
    await sleep(300); // the subscription connects
    const before = await json(`${fakeUrl}/_test/state`);
    const { page, invoice, requests } = await checkoutPage(browser, be.url, 2100);
    await sleep(payAfterMs);
    await json(`${fakeUrl}/_test/settle`, 'POST', { id: invoice.paymentHash });
    await page.waitForFunction(() => window.__paidAt, null, { timeout: 15_000 });
    await sleep(500);
    const after = await json(`${fakeUrl}/_test/state`);
    await page.context().close();
    return {
      pay_after_ms: payAfterMs,
      backend_requests: requests.creates + requests.polls + requests.streams,
      ...requests,
      provider_creates: after.create_calls - before.create_calls,
      provider_lookups: after.lookup_calls - before.lookup_calls,
      provider_subscriptions_open: 1,
    };
  } finally {
    if (be) await be.stop();
    await fake.stop();
  }
}

/** Opens `n` event streams over raw TCP; resolves once each has its first status. */
function openStreams(url, ids, n) {
  const { hostname, port } = new URL(url);
  const socks = [];
  let ready = 0;
  return new Promise((resolve, reject) => {
    let i = 0;
    const openOne = () => {
      if (i >= n) return;
      const id = ids[i % ids.length];
      const s = net.connect({ host: hostname, port: Number(port) });
      const rec = { id, s, buf: '', paidAt: null, ok: false };
      s.setEncoding('utf8');
      s.on('connect', () => s.write(`GET /api/invoices/${id}/events HTTP/1.1\r\nHost: ${hostname}\r\nAccept: text/event-stream\r\n\r\n`));
      s.on('data', (d) => {
        rec.buf += d;
        if (!rec.ok && rec.buf.includes('\r\n') && !rec.buf.startsWith('HTTP/1.1 200')) {
          return reject(new Error(`stream ${i}: ${rec.buf.slice(0, 80)}`));
        }
        if (!rec.ok && rec.buf.includes('event: status')) {
          rec.ok = rec.buf.startsWith('HTTP/1.1 200');
          if (!rec.ok) return reject(new Error(`stream ${i}: ${rec.buf.slice(0, 80)}`));
          ready += 1;
          if (ready === n) resolve(socks);
        }
        if (rec.paidAt == null && rec.buf.includes('"status":"paid"')) rec.paidAt = Date.now();
        if (rec.buf.length > 4096) rec.buf = rec.buf.slice(-1024);
      });
      s.on('error', reject);
      socks.push(rec);
      i += 1;
    };
    // In batches, so that the listen backlog never overflows.
    const batch = () => { for (let k = 0; k < 200 && i < n; k++) openOne(); if (i < n) setTimeout(batch, 20); };
    batch();
  });
}

async function idleStreams(n) {
  const be = await backend({
    MAX_EVENT_STREAMS: String(n), MAX_CONNECTIONS: String(n + 256),
  });
  try {
    const invoices = Math.min(100, n);
    const ids = [];
    for (let i = 0; i < invoices; i++) ids.push((await json(`${be.url}/api/invoices`, 'POST', { amount_sat: 100 + i })).id);
    await sleep(500);
    const before = rssKb(be.pid);
    const t0 = Date.now();
    const socks = await openStreams(be.url, ids, n);
    const openSecs = (Date.now() - t0) / 1000;
    await sleep(1000);
    const open = rssKb(be.pid);
    await sleep(5000);
    const later = rssKb(be.pid);
    const sent = Date.now();
    await json(`${be.url}/api/dev/invoices/${ids[0]}/pay`, 'POST');
    const mine = socks.filter((r) => r.id === ids[0]);
    while (mine.some((r) => r.paidAt == null) && Date.now() - sent < 10_000) await sleep(5);
    const fan = mine.map((r) => (r.paidAt ?? Infinity) - sent);
    for (const r of socks) r.s.destroy();
    return {
      streams: n,
      invoices,
      open_secs: openSecs,
      rss_before_kb: before,
      rss_open_kb: open,
      rss_5s_later_kb: later,
      bytes_per_stream: Math.round(((open - before) * 1024) / n),
      fanout_streams: mine.length,
      fanout_all_told_ms: Math.max(...fan),
    };
  } finally { await be.stop(); }
}

export async function streamBench(opts = {}) {
  const runs = opts.streamRuns ?? (opts.quick ? 5 : 15);
  // The target: 10,000 idle streams (they need `ulimit -n` above that; `--streams N`).
  const n = opts.streams ?? (opts.quick ? 1000 : 10_000);
  const browser = await launchBrowser();
  const out = {};
  try {
    log(`live status: paid → shown, ${runs} runs each, stream then polling`);
    out.latency = { stream: await paidLatency(browser, 'stream', runs), polling: await paidLatency(browser, 'polling', runs) };
    log('live status: requests and provider calls per paid checkout (LND fake, paid after 10 s)');
    out.per_checkout = { stream: await perCheckout(browser, 'stream', 10_000), polling: await perCheckout(browser, 'polling', 10_000) };
  } finally { await browser.close().catch(() => {}); }
  log(`live status: ${n} idle streams`);
  out.idle = await idleStreams(n);
  return out;
}

export function streamTable(s) {
  const mib = (kb) => `${(kb / 1024).toFixed(1)} MiB`;
  const l = s.latency; const c = s.per_checkout; const i = s.idle;
  const lines = [];
  lines.push('### 8. Live status (issue 11): the event stream against polling, release backend, Chromium, loopback', '');
  lines.push('| | stream | polling (2 s) |', '| --- | --- | --- |');
  lines.push(`| backend "paid" → widget shows paid, median / p99 (${l.stream.runs} runs) | ${l.stream.median_ms} / ${l.stream.p99_ms} ms | ${l.polling.median_ms} / ${l.polling.p99_ms} ms |`);
  lines.push(`| requests to the backend per paid checkout (paid 10 s after the QR) | ${c.stream.backend_requests} (create ${c.stream.creates}, stream ${c.stream.streams}, polls ${c.stream.polls}) | ${c.polling.backend_requests} (create ${c.polling.creates}, stream ${c.polling.streams} refused, polls ${c.polling.polls}) |`);
  lines.push(`| provider calls per paid checkout (LND fake) | ${c.stream.provider_creates} create, ${c.stream.provider_lookups} lookups (+ the one subscription the backend holds for all) | ${c.polling.provider_creates} create, ${c.polling.provider_lookups} lookups |`);
  lines.push('');
  lines.push(`Idle streams: **${i.streams.toLocaleString('en-US')}** held on ${i.invoices} invoices (opened in ${i.open_secs.toFixed(1)} s); backend memory ${mib(i.rss_before_kb)} before, ${mib(i.rss_open_kb)} with them open, ${mib(i.rss_5s_later_kb)} 5 s later (heartbeats only): **${(i.bytes_per_stream / 1024).toFixed(1)} KiB per stream**. One payment reached all ${i.fanout_streams} streams of its invoice in ${i.fanout_all_told_ms} ms (one store read).`);
  return lines.join('\n');
}

async function cli() {
  const argv = process.argv.slice(2);
  const opts = {};
  for (let k = 0; k < argv.length; k++) {
    if (argv[k] === '--quick') opts.quick = true;
    else if (argv[k] === '--runs') opts.streamRuns = Number(argv[++k]);
    else if (argv[k] === '--streams') opts.streams = Number(argv[++k]);
    else throw new Error(`unknown option ${argv[k]}: use --runs N, --streams N or --quick`);
  }
  const r = await streamBench(opts);
  mkdirSync(OUT, { recursive: true });
  writeFileSync(join(OUT, 'stream.json'), `${JSON.stringify({ date: new Date().toISOString(), ...r }, null, 2)}\n`);
  console.log(streamTable(r));
  console.log('\nWrote bench/out/stream.json.');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  cli().catch((e) => { console.error(`bench: ${e.stack ?? e}`); process.exit(1); });
}
