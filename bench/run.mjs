// ./build.sh bench: size, time to QR, decode and QR speed and backend throughput of the widget,
// side by side with the JavaScript alternatives, in one run. Prints a markdown table, writes
// bench/out/results.json and rewrites BENCH.md.
//
//   node bench/run.mjs [--runs 25] [--rounds 7] [--secs 5] [--quick] [--only payload,start,speed,backend,hostile,postgres,stream]
//
// --only runs the named sections alone (while working on one part): it prints their figures and
// writes bench/out/results-partial.json; BENCH.md is rewritten only by a full run.
//
// Expects what ./build.sh bench builds first: pkg/ (the widget as shipped), bench/out/pkg-bench/
// (the same crate with the `bench` feature), the release backend and load generator, the npm
// packages of bench/ and tests/e2e/ (its harness is reused here).
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { startProcess, launchBrowser, newPage, part, ROOT } from '../tests/e2e/harness.mjs';
import { streamBench, streamTable } from './stream.mjs';
import { postgresBench, postgresTable } from './postgres.mjs';
import { tracedLoad, boundaryCalls, summariseTraces, traceTable } from './trace.mjs';
import { profileHook, describeProfile } from './profile.mjs';

const BENCH = dirname(fileURLToPath(import.meta.url));
const OUT = join(BENCH, 'out');
const PAGES = join(BENCH, 'pages');
const TARGET = process.env.CARGO_TARGET_DIR || join(ROOT, 'target');
const BACKEND_BIN = join(TARGET, 'release', 'lightning-checkout-backend');
const LOADGEN_BIN = join(TARGET, 'release', 'lightning-checkout-loadgen');
const FAKE_BIN = join(TARGET, 'release', 'testkit-fake');
const PKG = join(ROOT, 'pkg');
const PKG_BENCH = join(OUT, 'pkg-bench');
// The same build through the same wasm-opt pass with its function names kept (-g), for the CPU
// profiles of §3 and §4 (./build.sh bench makes it).
const PKG_BENCH_NAMES = join(OUT, 'pkg-bench-names');

// The BOLT 11 spec invoice ("please send $3 for a cup of coffee ... within one minute").
const SPEC_INVOICE = 'lnbc2500u1pvjluezsp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygspp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdq5xysxxatsyp3k7enxv4jsxqzpu9qrsgquk0rl77nj30yxdy8j9vdx85fkpmdla2087ne0xh8nhedh8w27kyke0lp53ut353s06fv3qfegext0eh0ymjpf39tuven09sam30g4vgpfna3rh';
// The spec's "on mainnet, with fallback address and extra routing info" example (two route-hint
// hops, a P2PKH fallback, a description hash), as in lightning-invoice 0.34.1's tests/ser_de.rs.
const ROUTE_HINTS_INVOICE = 'lnbc20m1pvjluezsp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygspp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqhp58yjmdan79s6qqdhdzgynm4zwqd5d7xmw5fk98klysy043l2ahrqsfpp3qjmp7lwpagxun9pygexvgpjdc4jdj85fr9yq20q82gphp2nflc7jtzrcazrra7wwgzxqc8u7754cdlpfrmccae92qgzqvzq2ps8pqqqqqqpqqqqq9qqqvpeuqafqxu92d8lr6fvg0r5gv0heeeqgcrqlnm6jhphu9y00rrhy4grqszsvpcgpy9qqqqqqgqqqqq7qqzq9qrsgqdfjcdk6w3ak5pca9hwfwfh63zrrz06wwfya0ydlzpgzxkn5xagsqz7x9j4jwe7yj7vaf2k9lqsdk45kts2fd0fkr28am0u4w95tt2nsq76cqw0';
// What the widget puts in its QR: `lightning:` + the invoice in upper case.
const QR_PAYLOAD = `lightning:${SPEC_INVOICE.toUpperCase()}`;

// ---------------------------------------------------------------------------------------------
// Options

const SECTIONS = ['payload', 'start', 'speed', 'backend', 'hostile', 'postgres', 'stream'];

function parseArgs(argv) {
  const o = { runs: 25, rounds: 7, secs: 5, warmup: 1, ms: 250, only: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const num = () => {
      const v = Number(argv[++i]);
      if (!Number.isFinite(v) || v <= 0) throw new Error(`${a} needs a positive number`);
      return v;
    };
    if (a === '--runs') o.runs = Math.round(num());
    else if (a === '--rounds') o.rounds = Math.round(num());
    else if (a === '--secs') o.secs = num();
    else if (a === '--quick') Object.assign(o, { runs: 5, rounds: 3, secs: 1, warmup: 0.5, ms: 100, quick: true });
    else if (a === '--only') {
      o.only = new Set(String(argv[++i] ?? '').split(',').filter(Boolean));
      const bad = [...o.only].filter((s) => !SECTIONS.includes(s));
      if (!o.only.size || bad.length) throw new Error(`--only needs a comma list of ${SECTIONS.join(', ')}`);
    } else throw new Error(`unknown option ${a}: use --runs N, --rounds N, --secs S, --quick or --only SECTIONS`);
  }
  return o;
}

const log = (...a) => console.error('bench:', ...a);
const median = (xs) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!s.length) return null;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const quantile = (xs, q) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)] : null;
};
const round = (x, d = 1) => (x == null ? null : Math.round(x * 10 ** d) / 10 ** d);

// ---------------------------------------------------------------------------------------------
// 1. Payload

function sizes(files) {
  const one = (f) => ({
    file: relative(ROOT, f),
    raw: readFileSync(f).length,
    gzip: execFileSync('gzip', ['-9', '-c', f], { maxBuffer: 1 << 28 }).length,
    brotli: execFileSync('brotli', ['-q', '11', '-c', f], { maxBuffer: 1 << 28 }).length,
  });
  const each = files.map(one);
  const sum = (k) => each.reduce((n, f) => n + f[k], 0);
  return { raw: sum('raw'), gzip: sum('gzip'), brotli: sum('brotli'), files: each };
}

const BUNDLE_OPTIONS = {
  bundle: true, minify: true, format: 'esm', platform: 'browser', target: 'es2022',
  legalComments: 'none', logLevel: 'error', metafile: true, absWorkingDir: BENCH,
};

/** Bundles `entry` as a page would load it; answers the files of the first load and the rest. */
async function bundleForPage(entry, outdir, extra = {}) {
  rmSync(outdir, { recursive: true, force: true });
  const { metafile } = await esbuild.build({ ...BUNDLE_OPTIONS, entryPoints: [entry], outdir, ...extra });
  const outputs = metafile.outputs;
  const start = Object.keys(outputs).find((k) => outputs[k].entryPoint);
  // The first load: the entry and what it imports statically; dynamic imports load later, if ever.
  const initial = new Set();
  const visit = (k) => {
    if (initial.has(k)) return;
    initial.add(k);
    for (const imp of outputs[k].imports ?? []) {
      if (imp.kind === 'import-statement' && !imp.external && outputs[imp.path]) visit(imp.path);
    }
  };
  visit(start);
  const all = Object.keys(outputs).filter((k) => !k.endsWith('.map'));
  const abs = (k) => join(BENCH, k);
  return {
    initial: sizes([...initial].map(abs)),
    lazy: sizes(all.filter((k) => !initial.has(k)).map(abs)),
  };
}

async function payload() {
  log('payload: bundling Bitcoin Connect and the decode + QR bundle with esbuild');
  const dir = join(OUT, 'payload');
  const ours = sizes([join(PKG, 'lightning-checkout.js'), join(PKG, 'lightning_checkout_bg.wasm')]);
  // Code splitting on: the modal's first load leaves out what it imports dynamically (its LNC
  // connector). `crypto` is a Node-only dynamic import of @getalby/lightning-tools (webhook
  // verification), left external as a browser bundler would.
  const bc = await bundleForPage(join(PAGES, 'bitcoin-connect.entry.mjs'), join(dir, 'bitcoin-connect'),
    { splitting: true, external: ['crypto'] });
  const bcOne = await bundleForPage(join(PAGES, 'bitcoin-connect.entry.mjs'), join(dir, 'bitcoin-connect-one-file'),
    { external: ['crypto'] });
  const min = await bundleForPage(join(PAGES, 'decode-qr.entry.mjs'), join(dir, 'decode-qr'));
  const ratio = (a, b) => ({ raw: a.raw / b.raw, gzip: a.gzip / b.gzip, brotli: a.brotli / b.brotli });
  const named = join(OUT, 'widget-with-names.wasm');
  // A page in another language downloads one locale file more, on demand (English is built in).
  const locales = readdirSync(join(ROOT, 'js', 'locales')).filter((f) => f.endsWith('.json')).sort();
  const localeSizes = locales.map((f) => ({ lang: f.replace(/\.json$/, ''), ...sizes([join(ROOT, 'js', 'locales', f)]) }));
  const largest = localeSizes.reduce((a, b) => (b.gzip > a.gzip ? b : a));
  const german = localeSizes.find((l) => l.lang === 'de') ?? largest;
  return {
    ours,
    locales: { each: localeSizes, de: german, largest, with_de_gzip: ours.gzip + german.gzip, with_largest_gzip: ours.gzip + largest.gzip },
    wasm_breakdown: existsSync(named) ? wasmBreakdown(named) : null,
    bitcoin_connect: { ...bc.initial, lazy: bc.lazy, one_file: bcOne.initial },
    decode_qr_js: min.initial,
    ratio_bitcoin_connect: ratio(ours, bc.initial),
    ratio_decode_qr_js: ratio(ours, min.initial),
  };
}

/** Code bytes of a wasm module by crate, from its name section (before wasm-opt). */
function wasmBreakdown(file) {
  const buf = readFileSync(file);
  let pos = 8;
  const leb = () => { let r = 0, shift = 0, b; do { b = buf[pos++]; r += (b & 0x7f) * 2 ** shift; shift += 7; } while (b & 0x80); return r; };
  const str = () => { const n = leb(); const t = buf.toString('utf8', pos, pos + n); pos += n; return t; };
  const limits = () => { const flag = buf[pos++]; leb(); if (flag & 1) leb(); };
  let imported = 0;
  const bodies = [];
  const names = new Map();
  let data = 0;
  while (pos < buf.length) {
    const id = buf[pos++];
    const size = leb();
    const end = pos + size;
    if (id === 2) { // imports: function indices start after the imported functions
      for (let n = leb(); n > 0; n--) {
        str(); str();
        const kind = buf[pos++];
        if (kind === 0) { leb(); imported++; } else if (kind === 1) { pos++; limits(); } else if (kind === 2) limits();
        else if (kind === 3) pos += 2; else if (kind === 4) { pos++; leb(); }
      }
    } else if (id === 10) {
      for (let n = leb(), i = 0; i < n; i++) { const len = leb(); bodies.push(len); pos += len; }
    } else if (id === 11) {
      data = size;
    } else if (id === 0 && str() === 'name') {
      while (pos < end) {
        const sub = buf[pos++];
        const subLen = leb();
        const subEnd = pos + subLen;
        if (sub === 1) for (let n = leb(); n > 0; n--) { const idx = leb(); names.set(idx, str()); }
        pos = subEnd;
      }
    }
    pos = end;
  }
  const crateOf = (name) => {
    if (!name) return '(unnamed)';
    if (/^rustsecp256k1_/.test(name)) return 'secp256k1 C library';
    if (/^(__wbg|__wbindgen|wasm_bindgen)/.test(name)) return 'wasm_bindgen';
    const m = name.replace(/^[<&*]+/, '').replace(/^(dyn |mut |const )+/, '').match(/^([A-Za-z_][A-Za-z0-9_]*)(\[[0-9a-f]+\])?::/);
    const c = m ? m[1] : 'other';
    return ['core', 'alloc', 'std', 'compiler_builtins'].includes(c) ? 'Rust core/alloc (generic code of every crate)' : c;
  };
  const byCrate = new Map();
  const total = bodies.reduce((a, b) => a + b, 0);
  bodies.forEach((len, i) => { const c = crateOf(names.get(imported + i)); byCrate.set(c, (byCrate.get(c) ?? 0) + len); });
  const crates = [...byCrate.entries()].sort((a, b) => b[1] - a[1]).map(([crate, bytes]) => ({ crate, bytes, share: bytes / total }));
  // The widget's own code by module, and what Rust's formatting machinery (core::fmt) weighs.
  const byModule = new Map();
  let fmt = 0;
  bodies.forEach((len, i) => {
    const name = names.get(imported + i) ?? '';
    if (/core(\[[0-9a-f]+\])?::fmt::/.test(name)) fmt += len; // std names read core[hash]::fmt::
    const m = name.replace(/^[<&*]+/, '').match(/^lightning_checkout(\[[0-9a-f]+\])?::([a-z0-9_]+)::/);
    if (m) byModule.set(m[2], (byModule.get(m[2]) ?? 0) + len);
  });
  const modules = [...byModule.entries()].sort((a, b) => b[1] - a[1]).map(([module, bytes]) => ({ module, bytes }));
  return { file: relative(ROOT, file), code_bytes: total, data_bytes: data, functions: bodies.length, crates, modules, fmt_bytes: fmt };
}

// ---------------------------------------------------------------------------------------------
// Pages served by the backend (WWW_DIR = bench/out/www: the demo shop plus the bench pages)

async function buildWww() {
  const www = join(OUT, 'www');
  rmSync(www, { recursive: true, force: true });
  cpSync(join(ROOT, 'www'), www, { recursive: true });
  mkdirSync(join(www, 'bench'));
  for (const f of ['load.html', 'load-preload.html', 'speed.html', 'speed.js', 'probe.js']) cpSync(join(PAGES, f), join(www, 'bench', f));
  if (!existsSync(join(PKG_BENCH, 'lightning_checkout_bg.wasm'))) {
    throw new Error('bench/out/pkg-bench is missing: run ./build.sh bench (it builds the widget with the bench feature)');
  }
  cpSync(PKG_BENCH, join(www, 'bench-pkg'), { recursive: true });
  if (existsSync(PKG_BENCH_NAMES)) cpSync(PKG_BENCH_NAMES, join(www, 'bench-pkg-names'), { recursive: true });
  // bolt11 is written for Node: give it the stand-ins a page's bundler would (Buffer, process,
  // stream, events).
  await esbuild.build({
    ...BUNDLE_OPTIONS, metafile: false,
    entryPoints: [join(PAGES, 'libs.entry.mjs')], outfile: join(www, 'bench', 'libs.js'),
    inject: [join(PAGES, 'node-shims.mjs')], define: { global: 'globalThis' },
    alias: { stream: 'stream-browserify' },
  });
  return www;
}

async function startBackend(env = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'lc-bench-'));
  const p = await startProcess(BACKEND_BIN, [], {
    env: { HOST: '127.0.0.1', PORT: '0', DATA_DIR: dataDir, RUST_LOG: 'warn', PKG_DIR: PKG, ...env },
    ready: /Lightning checkout demo: (http:\/\/[^\s]+?)\/?\s/,
  });
  return {
    url: p.match[1].replace(/\/$/, ''),
    pid: p.proc.pid,
    async stop() { await p.stop(); rmSync(dataDir, { recursive: true, force: true }); },
  };
}

// ---------------------------------------------------------------------------------------------
// 2. Start and response

const PROBE = readFileSync(join(PAGES, 'probe.js'), 'utf8');

async function openLoadPage(browser, url, file = 'load.html') {
  const page = await newPage(browser);
  await page.addInitScript(PROBE);
  await page.goto(`${url}/bench/${file}`);
  await page.waitForFunction(() => window.__bench.roots.at(-1)?.interactive !== undefined, null, { timeout: 20_000 });
  return page;
}

async function loadRun(browser, url, file) {
  const page = await openLoadPage(browser, url, file);
  try {
    const m = await page.evaluate(() => {
      const b = window.__bench;
      const res = performance.getEntriesByType('resource');
      const find = (path) => res.find((e) => new URL(e.name).pathname === path);
      const js = find('/pkg/lightning-checkout.js');
      const wasm = find('/pkg/lightning_checkout_bg.wasm');
      const nav = performance.getEntriesByType('navigation')[0];
      const inst = b.wasm.find((w) => w.name.startsWith('instantiate'));
      return {
        interactive: b.roots[0].interactive,
        html: nav.responseEnd,
        dom_content_loaded: nav.domContentLoadedEventEnd,
        js_end: js?.responseEnd,
        js_start: js?.startTime,
        js_request_start: js?.requestStart,
        wasm_start: wasm?.startTime,
        wasm_fetch: wasm ? wasm.responseEnd - wasm.startTime : null,
        wasm_api: inst?.name,
        // 1 when the widget's fetch reused the preload (2: the preload was wasted).
        wasm_requests: res.filter((e) => new URL(e.name).pathname === '/pkg/lightning_checkout_bg.wasm').length,
        wasm_call: inst?.start,
        wasm_ready: inst?.end,
      };
    });
    if (page.errors.length) throw new Error(`the page logged errors: ${page.errors.join('; ')}`);
    return {
      interactive: m.interactive,
      html: m.html,
      js_loaded: m.js_end,
      // Resource timing of the JS: from its fetch to the request going out (queued in the
      // browser's network stack), then the request to the last byte (server and loopback).
      js_queued: m.js_request_start - m.js_start,
      js_request_to_end: m.js_end - m.js_request_start,
      wasm_fetch_compile_instantiate: m.wasm_ready - m.wasm_start,
      wasm_fetch: m.wasm_fetch,
      init_and_mount: m.interactive - m.wasm_ready,
      wasm_requests: m.wasm_requests,
      wasm_api: m.wasm_api,
    };
  } finally {
    await page.context().close();
  }
}

async function clickRuns(browser, url, runs) {
  const page = await openLoadPage(browser, url);
  const out = [];
  try {
    for (let i = 0; i < runs + 2; i++) { // the first two warm up (not counted)
      // A fresh element, nothing remembered: the form again.
      await page.evaluate(() => {
        performance.clearResourceTimings();
        sessionStorage.clear();
        window.__bench.clickAt = undefined;
        window.__bench.invoice = undefined;
        const old = document.querySelector('lightning-checkout');
        old.replaceWith(old.cloneNode(false));
      });
      await page.waitForFunction(() => window.__bench.roots.at(-1)?.interactive !== undefined, null, { timeout: 10_000 });
      await part(page, 'amount-input').fill(String(1000 + i)); // a new amount each run
      await part(page, 'submit-button').click();
      await page.waitForFunction(() => window.__bench.roots.at(-1)?.qrPainted !== undefined, null, { timeout: 10_000 });
      const m = await page.evaluate(() => {
        const b = window.__bench;
        const r = b.roots.at(-1);
        const posts = performance.getEntriesByType('resource')
          .filter((e) => new URL(e.name).pathname === '/api/invoices' && e.startTime >= b.clickAt);
        const e = posts[0];
        return {
          posts: posts.length, click: b.clickAt, qrDom: r.qrDom, qrPainted: r.qrPainted, amount: b.invoice?.amountSat,
          start: e?.startTime, requestStart: e?.requestStart, responseEnd: e?.responseEnd, duration: e?.duration,
        };
      });
      if (m.posts !== 1) throw new Error(`expected one POST /api/invoices per click, saw ${m.posts}`);
      if (m.click === undefined) throw new Error('the click on the submit button was not seen');
      if (m.amount !== 1000 + i) throw new Error(`the QR shown is not for the amount typed (${m.amount} ≠ ${1000 + i})`);
      if (i < 2) continue;
      const total = m.qrPainted - m.click;
      out.push({
        total,
        backend: m.duration,
        backend_server: m.responseEnd - m.requestStart,
        widget: total - m.duration,
        widget_to_dom: m.qrDom - m.click - m.duration,
        before_request: m.start - m.click,
        response_to_dom: m.qrDom - m.responseEnd,
        dom_to_painted: m.qrPainted - m.qrDom,
      });
    }
    if (page.errors.length) throw new Error(`the page logged errors: ${page.errors.join('; ')}`);
  } finally {
    await page.context().close();
  }
  return out;
}

const summary = (runs) => Object.fromEntries(Object.keys(runs[0]).filter((k) => typeof runs[0][k] === 'number')
  .map((k) => [k, { median: median(runs.map((r) => r[k])), p90: quantile(runs.map((r) => r[k]), 0.9) }]));

// ---------------------------------------------------------------------------------------------
// 3 and 4. Decode + check, QR: the speed page

async function speed(browser, url, opts) {
  const page = await newPage(browser);
  try {
    await page.goto(`${url}/bench/speed.html`);
    await page.waitForFunction(() => window.benchReady === true, null, { timeout: 20_000 });
    const o = { rounds: opts.rounds, ms: opts.ms };
    log('decode + check: the spec invoice');
    const spec = await page.evaluate(([inv, x]) => window.benchDecode(inv, x), [SPEC_INVOICE, o]);
    log('decode + check: the invoice with route hints');
    const hints = await page.evaluate(([inv, x]) => window.benchDecode(inv, x), [ROUTE_HINTS_INVOICE, o]);
    log('QR encode + path');
    const qr = await page.evaluate(([p, x]) => window.benchQr(p, x), [QR_PAYLOAD, o]);
    if (page.errors.length) throw new Error(`the speed page logged errors: ${page.errors.join('; ')}`);
    const withRatios = (d) => ({
      ...d,
      ratio_light_bolt11_decoder: d.ours.ops_per_s / d.light_bolt11_decoder.ops_per_s,
      ratio_bolt11: d.ours.ops_per_s / d.bolt11.ops_per_s,
    });
    return {
      decode: { spec: withRatios(spec), route_hints: withRatios(hints) },
      qr: { ...qr, ratio_qrcode: qr.ours.ops_per_s / qr.qrcode.ops_per_s },
      profile: await speedProfiles(browser, url, opts),
    };
  } finally {
    await page.context().close();
  }
}

/**
 * Where the time of ours goes: a CPU profile of each hook (bench/profile.mjs), after the timed
 * rounds, in a page of its own that loads the named copy of the bench build. `null` when
 * bench/out/pkg-bench-names is missing (the figures above do not depend on it).
 */
async function speedProfiles(browser, url, opts) {
  if (!existsSync(PKG_BENCH_NAMES)) {
    log('no bench/out/pkg-bench-names (./build.sh bench makes it): no CPU profiles');
    return null;
  }
  const page = await newPage(browser);
  try {
    await page.goto(`${url}/bench/speed.html?pkg=bench-pkg-names`);
    await page.waitForFunction(() => window.benchReady === true, null, { timeout: 20_000 });
    const ms = opts.quick ? 500 : 1500;
    const out = {};
    for (const [key, expr] of [
      ['qr', `bench_qr_path(${JSON.stringify(QR_PAYLOAD)}, 10)`],
      ['decode_spec', `bench_decode_check(${JSON.stringify(SPEC_INVOICE)}, 100)`],
      ['decode_route_hints', `bench_decode_check(${JSON.stringify(ROUTE_HINTS_INVOICE)}, 100)`],
    ]) {
      log(`CPU profile: ${key}`);
      out[key] = await profileHook(page, expr, { ms });
    }
    if (page.errors.length) throw new Error(`the profile page logged errors: ${page.errors.join('; ')}`);
    return out;
  } finally {
    await page.context().close();
  }
}

/** One line for BENCH.md: the top functions by self time of one profile. */
const profileLine = (p, what) => (p ? `Where the time goes (${what}; CPU profile, ${p.samples} samples, self time): ${describeProfile(p)}.` : '');

// ---------------------------------------------------------------------------------------------
// 5. Backend under load

function procStatus(pid, key) {
  const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm'));
  return m ? Number(m[1]) : null;
}

async function backendLoad(opts) {
  // Throughput from one address: without the per-IP create limit (the hostile run has it).
  const be = await startBackend({ WWW_DIR: join(ROOT, 'www'), CREATE_RATE_PER_MIN: '0' });
  try {
    const idle = procStatus(be.pid, 'VmRSS');
    log(`backend load: ${opts.warmup} s warm-up + ${opts.secs} s per step, 1/16/64 clients, create then poll`);
    const stdout = await new Promise((resolve, reject) => {
      const p = spawn(LOADGEN_BIN, ['--url', be.url, '--clients', '1,16,64', '--warmup-secs', String(opts.warmup), '--secs', String(opts.secs)],
        { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      p.stdout.on('data', (d) => { out += d; });
      p.on('error', reject);
      p.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`loadgen exited with ${code}`))));
    });
    const { runs } = JSON.parse(stdout);
    return { runs, rss_idle_kb: idle, vm_hwm_kb: procStatus(be.pid, 'VmHWM') };
  } finally {
    await be.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// 6. Hostile clients: a create flood from one IP, slowloris connections, a polling storm
// against a slow provider (the LND fake answering status lookups after 5 s). Loopback only.

const HOSTILE_PROVIDER_DELAY_MS = 5000;

async function fakeControl(url, what, body) {
  const res = await fetch(`${url}/_test/${what}`, body === undefined ? {} : {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`testkit-fake ${what}: ${res.status}`);
  return res.json();
}

async function hostile(opts) {
  const fake = await startProcess(FAKE_BIN, ['--provider', 'lnd'], { ready: /READY (http:\/\/\S+)/ });
  let be;
  try {
    const fakeUrl = fake.match[1];
    const env = await fakeControl(fakeUrl, 'env');
    await fakeControl(fakeUrl, 'config', { lookup_delay_ms: HOSTILE_PROVIDER_DELAY_MS });
    // The defaults, except a short header timeout so that the slowloris phase stays short.
    be = await startBackend({ ...env, WWW_DIR: join(ROOT, 'www'), HEADER_READ_TIMEOUT_SECS: '2' });
    const rssBefore = procStatus(be.pid, 'VmRSS');
    const callsBefore = (await fakeControl(fakeUrl, 'state')).lookup_calls;
    const slowloris = opts.quick ? 100 : 300;
    log(`hostile clients: create flood, ${slowloris} slowloris connections, 64 clients polling one invoice against a provider answering in ${HOSTILE_PROVIDER_DELAY_MS / 1000} s`);
    const stdout = await new Promise((resolve, reject) => {
      const p = spawn(LOADGEN_BIN, ['--hostile', '--url', be.url, '--secs', String(Math.max(3, opts.secs)), '--slowloris', String(slowloris)],
        { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      p.stdout.on('data', (d) => { out += d; });
      p.on('error', reject);
      p.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`loadgen --hostile exited with ${code}`))));
    });
    const runs = JSON.parse(stdout);
    const state = await fakeControl(fakeUrl, 'state');
    return {
      ...runs,
      provider_delay_ms: HOSTILE_PROVIDER_DELAY_MS,
      provider_lookups: state.lookup_calls - callsBefore,
      provider_creates: state.create_calls,
      rss_before_kb: rssBefore,
      rss_after_kb: procStatus(be.pid, 'VmRSS'),
      vm_hwm_kb: procStatus(be.pid, 'VmHWM'),
    };
  } finally {
    if (be) await be.stop();
    await fake.stop();
  }
}

function hostileTable(h) {
  if (h.error) {
    return `### 6. Hostile clients\n\nNot measured in this run: ${h.error} (the load generator's create flood sends an order id without an order token, which the backend now refuses with a real provider: \`bench/loadgen\` must sign its orders).`;
  }
  const f = h.flood; const s = h.slowloris; const st = h.storm;
  const mib = (kb) => `${(kb / 1024).toFixed(1)} MiB`;
  const lines = [];
  lines.push('### 6. Hostile clients: reference backend (release) with its default limits, LND fake provider answering status lookups in 5 s, loopback', '');
  lines.push('| attack | what it sent | refused | still served |', '| --- | --- | --- | --- |');
  lines.push(`| create flood, one IP | ${ops(f.requests)} creates in ${f.secs} s on ${f.connections} connections | ${ops(f.refused_429)} × \`429 rate_limited\` (${f.other} other) | ${f.created} created (the bucket's burst + refill) |`);
  lines.push(`| slowloris | ${s.connections} connections sending a header line a second | ${s.closed_by_server} closed by the server (the last after ${s.max_secs_to_close.toFixed(1)} s), ${s.open} left open | \`/api/health\` meanwhile: ${s.good_ok} answered, ${s.good_failed} failed, p99 ${s.good_p99_ms.toFixed(1)} ms |`);
  lines.push(`| polling storm, one pending invoice | ${st.clients} clients, closed loop, ${st.secs} s | – | ${ops(st.ok)} polls answered (${st.other} not), p50 ${st.p50_ms.toFixed(0)} ms, p99 ${st.p99_ms.toFixed(0)} ms, max ${st.max_ms.toFixed(0)} ms; **${h.provider_lookups} provider lookups** |`);
  lines.push('');
  lines.push(`Backend memory: ${mib(h.rss_before_kb)} before the attacks, ${mib(h.rss_after_kb)} after (peak ${mib(h.vm_hwm_kb)}). Polls wait at most \`POLL_WAIT_MS\` (3 s) for the provider and then answer from the store; the lookup goes on and one is in flight per invoice at a time, reused for \`LOOKUP_CACHE_MS\` (2 s).`);
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Machine, table, BENCH.md

function machine(browserVersion) {
  const cpu = readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.*)$/m)?.[1]?.trim() ?? 'unknown';
  const memKb = Number(readFileSync('/proc/meminfo', 'utf8').match(/^MemTotal:\s+(\d+)/m)?.[1] ?? 0);
  return {
    nproc: Number(execFileSync('nproc', { encoding: 'utf8' }).trim()),
    cpu,
    memory_gib: round(memKb / 1024 / 1024, 1),
    kernel: execFileSync('uname', ['-sr'], { encoding: 'utf8' }).trim(),
    chromium: browserVersion,
    node: process.version,
    // Other work on the machine while measuring (1, 5, 15 minutes), read at the end of the run.
    load_average: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(', '),
  };
}

const kb = (b) => `${(b / 1000).toFixed(1)} KB`;
const x = (r) => `${r.toFixed(2)}×`;
const ms = (v) => (v == null ? '–' : `${v.toFixed(1)} ms`);
const ops = (v) => Math.round(v).toLocaleString('en-US');

function tables(r) {
  const p = r.payload;
  const s = r.start;
  const L = s.load;
  const C = s.click;
  const d = r.speed.decode;
  const q = r.speed.qr;
  const lines = [];
  lines.push('### 1. Payload: what a page downloads to show the widget', '');
  lines.push('| | raw | gzip -9 | brotli -q 11 | ours / this (gzip) | ours / this (brotli) |', '| --- | ---: | ---: | ---: | ---: | ---: |');
  lines.push(`| **ours**: \`pkg/lightning-checkout.js\` + \`pkg/lightning_checkout_bg.wasm\` | ${kb(p.ours.raw)} | ${kb(p.ours.gzip)} | ${kb(p.ours.brotli)} | | |`);
  if (p.locales) {
    lines.push(`| ours in German: the same + \`locales/de.json\`, fetched on demand | ${kb(p.ours.raw + p.locales.de.raw)} | ${kb(p.locales.with_de_gzip)} | ${kb(p.ours.brotli + p.locales.de.brotli)} | | |`);
    lines.push(`| ours in the largest locale (${p.locales.largest.lang}) | ${kb(p.ours.raw + p.locales.largest.raw)} | ${kb(p.locales.with_largest_gzip)} | ${kb(p.ours.brotli + p.locales.largest.brotli)} | | |`);
  }
  lines.push(`| Bitcoin Connect \`launchPaymentModal\` (first load) | ${kb(p.bitcoin_connect.raw)} | ${kb(p.bitcoin_connect.gzip)} | ${kb(p.bitcoin_connect.brotli)} | ${x(p.ratio_bitcoin_connect.gzip)} | ${x(p.ratio_bitcoin_connect.brotli)} |`);
  lines.push(`| JS decode + QR: \`light-bolt11-decoder\` + \`qrcode\` | ${kb(p.decode_qr_js.raw)} | ${kb(p.decode_qr_js.gzip)} | ${kb(p.decode_qr_js.brotli)} | ${x(p.ratio_decode_qr_js.gzip)} | ${x(p.ratio_decode_qr_js.brotli)} |`);
  lines.push('');
  if (p.locales) {
    lines.push(`An English page downloads no locale file; another language adds one, fetched on demand (gzip): ${p.locales.each.map((l) => `${l.lang} ${kb(l.gzip)}`).join(', ')}.`, '');
  }
  const wb = p.wasm_breakdown;
  if (wb) {
    lines.push(`What the wasm holds (share of its ${kb(wb.code_bytes)} of code before wasm-opt, by crate, from the name section of the bench build; generic code is counted under the crate that defines it, mostly core/alloc): ${wb.crates.slice(0, 8).map((c) => `${c.crate} ${Math.round(c.share * 100)}%`).join(', ')}; data ${kb(wb.data_bytes)}.`, '');
    if (wb.modules?.length) {
      lines.push(`| crate (code before wasm-opt) | bytes | share |`, '| --- | ---: | ---: |');
      for (const c of wb.crates.slice(0, 10)) lines.push(`| ${c.crate} | ${ops(c.bytes)} | ${(c.share * 100).toFixed(1)}% |`);
      lines.push('');
      lines.push(`The widget's own code (lightning_checkout) by module: ${wb.modules.slice(0, 10).map((m) => `${m.module} ${kb(m.bytes)}`).join(', ')}. Rust's formatting machinery (functions named core::fmt::…, reached by format!, Display and panic messages) is ${kb(wb.fmt_bytes)} of the code.`, '');
    }
  }
  lines.push(`Ours: JS ${kb(p.ours.files[0].gzip)} + wasm ${kb(p.ours.files[1].gzip)} gzip. Bitcoin Connect: esbuild \`--bundle --minify --format=esm\`, browser, code splitting; its lazily imported chunks (${kb(p.bitcoin_connect.lazy.gzip)} gzip more) are not counted; as one file it is ${kb(p.bitcoin_connect.one_file.gzip)} gzip. Each file compressed on its own, as served.`);
  lines.push('');
  lines.push(`### 2. Start and response: headless Chromium, reference backend (release, demo provider) on loopback, median of ${s.runs} runs`, '');
  lines.push('| | median | p90 |', '| --- | ---: | ---: |');
  const row = (label, v) => lines.push(`| ${label} | ${ms(v?.median)} | ${ms(v?.p90)} |`);
  row('**page load → widget interactive** (navigation start → amount input enabled; fresh context each run)', L.interactive);
  row('&nbsp;&nbsp;HTML received', L.html);
  row('&nbsp;&nbsp;widget JS received', L.js_loaded);
  row('&nbsp;&nbsp;&nbsp;&nbsp;its request queued in the browser (resource timing: fetch start → request start)', L.js_queued);
  row('&nbsp;&nbsp;&nbsp;&nbsp;its request sent → last byte (server, loopback)', L.js_request_to_end);
  row(`&nbsp;&nbsp;wasm fetch + compile + instantiate (wasm request → \`WebAssembly.${L.wasm_api}\` resolved)`, L.wasm_fetch_compile_instantiate);
  row('&nbsp;&nbsp;&nbsp;&nbsp;of which the wasm fetch (resource timing)', L.wasm_fetch);
  row('&nbsp;&nbsp;wasm-bindgen start + mount + first render', L.init_and_mount);
  const LP = s.load_preload;
  if (LP) {
    row('**the same page with the two `<head>` lines of the README** (`modulepreload` of the JS, `preload` of the wasm; runs alternate with the page without them)', LP.interactive);
    row('&nbsp;&nbsp;widget JS received', LP.js_loaded);
    row('&nbsp;&nbsp;wasm request (the preload) → instantiated', LP.wasm_fetch_compile_instantiate);
    row('&nbsp;&nbsp;wasm-bindgen start + mount + first render', LP.init_and_mount);
  }
  row('**click on submit → QR painted** (a new amount each run)', C.total);
  row('&nbsp;&nbsp;backend: `POST /api/invoices` (resource timing duration)', C.backend);
  row('&nbsp;&nbsp;&nbsp;&nbsp;of which request sent → response end', C.backend_server);
  row('&nbsp;&nbsp;**widget**: the rest', C.widget);
  row('&nbsp;&nbsp;&nbsp;&nbsp;click → request started', C.before_request);
  row('&nbsp;&nbsp;&nbsp;&nbsp;response → QR in the DOM (decode, check, QR, render)', C.response_to_dom);
  row('&nbsp;&nbsp;&nbsp;&nbsp;QR in the DOM → painted (next frame, then its paint)', C.dom_to_painted);
  row('&nbsp;&nbsp;&nbsp;&nbsp;widget up to QR in the DOM (without the frame wait)', C.widget_to_dom);
  lines.push('');
  lines.push('Each line is its own median (they need not add up). Painted = the first task after the next `requestAnimationFrame` once the QR is in the DOM.');
  lines.push('');
  if (s.trace) {
    lines.push('Where page load → interactive goes, from a Chromium trace (`bench/trace.mjs`: the trace with V8\'s CPU sampler, in runs apart from the timed ones above, since tracing slows the page a little). Milestones in ms from navigation start; each row is a step between two milestones, with the CPU time the renderer\'s main thread spent in it and on what (the rest of the step it waited: for the network, the browser process, other threads, or a core of this shared machine).');
    lines.push(traceTable(s.trace), '');
  }
  lines.push(`### 3. Decode + check per second, same page, median of ${r.options.rounds} alternating rounds`, '');
  lines.push('| invoice | ours (Rust/wasm) | light-bolt11-decoder | bolt11 | ours / light-bolt11-decoder | ours / bolt11 |', '| --- | ---: | ---: | ---: | ---: | ---: |');
  for (const [label, v] of [['BOLT 11 spec (`lnbc2500u1pvjluez…`)', d.spec], ['with route hints (`lnbc20m1pvjluez…`, 2 hops, fallback)', d.route_hints]]) {
    lines.push(`| ${label}, ${v.invoice_chars} chars | ${ops(v.ours.ops_per_s)} | ${ops(v.light_bolt11_decoder.ops_per_s)} | ${ops(v.bolt11.ops_per_s)} | ${x(v.ratio_light_bolt11_decoder)} | ${x(v.ratio_bolt11)} |`);
  }
  lines.push('');
  lines.push('Every contender decodes and checks amount (to the msat), network, payment hash, payment secret and features present, expiry (against the invoice\'s own timestamp), and must pass. Ours: `bench_decode_check(invoice, n)`, one call for n invoices (the widget\'s `check_invoice`). `bolt11` also verifies the signature (secp256k1 public-key recovery, elliptic) on every decode; `light-bolt11-decoder` and ours do not.');
  const P = r.speed.profile;
  if (P) {
    lines.push('', profileLine(P.decode_spec, '`bench_decode_check`, the spec invoice'), '', profileLine(P.decode_route_hints, '`bench_decode_check`, the invoice with route hints'));
    lines.push('', 'The profiled copy (`bench/out/pkg-bench-names`) is the timed build through the same wasm-opt pass with its function names kept, and with the few functions named here (`bech32_values`: the bech32 checksum and the 5-bit values; `parse_fields`: the tagged fields; `best_mask`: the masks applied; `penalty`: their scoring) kept out of line so that each has its own entry; `decode` is the rest of the decoder (case check, lower-case copy, human-readable part, signature encoding) and the check.');
  }
  lines.push('');
  lines.push(`### 4. QR encode + path per second, same page, median of ${r.options.rounds} alternating rounds`, '');
  lines.push('| payload | ours (Rust/wasm) | npm qrcode | ours / qrcode |', '| --- | ---: | ---: | ---: |');
  lines.push(`| \`lightning:\` + the spec invoice in upper case, ${q.payload_chars} chars, EC level M (version ${q.version}, ${q.modules}×${q.modules}) | ${ops(q.ours.ops_per_s)} | ${ops(q.qrcode.ops_per_s)} | ${x(q.ratio_qrcode)} |`);
  lines.push('');
  lines.push(`Encode + SVG path string only; the DOM is left out on both sides (drawing is one \`setAttribute('d', …)\` either way, and the widget's real drawing cost is inside §2). Ours: \`bench_qr_path(payload, n)\`, filled: one subpath per row, each run of dark modules a left edge down and a right edge up, joined along the row's own lines (path of ${q.ours_path_chars} chars, built and kept in wasm; the same pixels as a rectangle per run). qrcode: \`QRCode.toString(payload, {type: 'svg', errorCorrectionLevel: 'M', margin: 4}, cb)\`, synchronous, a stroked line per run with relative moves (path of ${q.qrcode_path_chars} chars, in an SVG string of ${q.qrcode_svg_chars}), so ours also gives the browser ${x(q.ours_path_chars / q.qrcode_path_chars)} more path text to parse.`);
  if (r.speed.profile) lines.push('', profileLine(r.speed.profile.qr, '`bench_qr_path`'));
  lines.push('');
  lines.push(`### 5. Backend with the demo provider (release), loopback, HTTP/1.1 keep-alive, ${r.options.warmup} s warm-up + ${r.options.secs} s each`, '');
  lines.push('| | clients | requests/s | p50 | p99 | errors |', '| --- | ---: | ---: | ---: | ---: | ---: |');
  for (const b of r.backend.runs) {
    const label = b.scenario === 'create' ? 'invoice creation `POST /api/invoices`' : 'status poll `GET /api/invoices/{id}`';
    lines.push(`| ${label} | ${b.clients} | ${ops(b.rps)} | ${b.p50_ms.toFixed(2)} ms | ${b.p99_ms.toFixed(2)} ms | ${b.errors} |`);
  }
  lines.push('');
  lines.push(`Peak memory of the backend (VmHWM after the run): ${(r.backend.vm_hwm_kb / 1024).toFixed(1)} MiB (${(r.backend.rss_idle_kb / 1024).toFixed(1)} MiB at start). The load generator (\`bench/loadgen\`, one tokio worker, one keep-alive connection per client, closed loop) runs on the same ${r.machine.nproc} cores. Creations go through the store's single SQLite writer with \`synchronous=FULL\` (so that a 201 or a "paid" survives a power cut), by group commit: every write waiting shares one transaction and one fsync.`);
  if (r.hostile) lines.push('', hostileTable(r.hostile));
  if (r.postgres) {
    lines.push('', `### 7. The store: SQLite beside PostgreSQL with one and two instances (demo provider, release, loopback, ${r.postgres.options.warmup} s warm-up + ${r.postgres.options.secs} s each)`, '');
    lines.push(postgresTable(r.postgres), '');
    lines.push('Requests per second with p50 / p99 latency. PostgreSQL 15 from Debian, started by the bench in a temporary directory with its default (durable) settings, on the same cores as the backends and the load generator; `DATABASE_POOL_SIZE=16`. With two instances the load generator\'s clients alternate between them (`--url` twice). On one machine a second instance shares the same two cores, so it shows the cost of the shared database rather than added capacity (`node bench/postgres.mjs` runs this part alone).');
  }
  if (r.stream) lines.push('', streamTable(r.stream));
  return lines.join('\n');
}

// The targets of issue 15 ("Performance, round 2"), each beside its figure from this run.
function targets(r) {
  const p = r.payload;
  const C = r.start.click;
  const L = r.start.load;
  const LP = r.start.load_preload;
  const d = r.speed.decode;
  const q = r.speed.qr;
  const widgetDom = C.widget_to_dom.median;
  const us = (opsPerS) => `${(1e6 / opsPerS).toFixed(1)} µs`;
  const crates = p.wasm_breakdown
    ? ` Its code by crate (before wasm-opt): ${p.wasm_breakdown.crates.slice(0, 7).map((c) => `${c.crate} ${Math.round(c.share * 100)}%`).join(', ')}; its data section (messages, CSS, tables) ${kb(p.wasm_breakdown.data_bytes)} raw.`
    : '';
  const create64 = r.backend.runs.find((b) => b.scenario === 'create' && b.clients === 64);
  return [
    {
      target: 'What the page downloads (gzip -9): at most 64 KB, on the way to 50 KB',
      figure: `${kb(p.ours.gzip)} (JS ${kb(p.ours.files[0].gzip)} + wasm ${kb(p.ours.files[1].gzip)}); Bitcoin Connect ${kb(p.bitcoin_connect.gzip)}`,
      met: p.ours.gzip <= 64000,
      held_back: `The widget itself: its own code (state machine, view, amount form, config and order tokens, polling, countdown, sessionStorage, languages, WebLN, fiat, unified QR, live status), about half of all code, by module in §1; then the qrcode crate (built at opt-level 3 for speed, its tables in the data section), the wasm-bindgen closure shims and web-sys glue, and Rust's formatting and panic code (${p.wasm_breakdown ? kb(p.wasm_breakdown.fmt_bytes) : '?'} of core::fmt that the standard library's panic handler keeps without nightly build-std). Already gone this round (−10.8 KB): lightning-invoice, rust-bitcoin and secp256k1 (our own decoder), Unicode tables (no str slicing that can panic), gloo-net, the long import names (shortened in wasm and glue together), the unminified stylesheet.${crates}`,
    },
    {
      target: 'Decode + check at least 20× light-bolt11-decoder on the spec invoice, 5× with route hints',
      figure: `spec ${x(d.spec.ratio_light_bolt11_decoder)} (${us(d.spec.ours.ops_per_s)} vs ${us(d.spec.light_bolt11_decoder.ops_per_s)}), route hints ${x(d.route_hints.ratio_light_bolt11_decoder)} (${us(d.route_hints.ours.ops_per_s)} vs ${us(d.route_hints.light_bolt11_decoder.ops_per_s)})`,
      met: d.spec.ratio_light_bolt11_decoder >= 20 && d.route_hints.ratio_light_bolt11_decoder >= 5,
      held_back: `Ours is one pass (checksum by table, then the fields) with three allocations per call (the lower-case copy, the 5-bit values, the description). ${profileLine(r.speed.profile?.decode_spec, 'the spec invoice')} Time figures move with the machine's load (load average ${r.machine.load_average} in this run), the JavaScript contender's most.`,
    },
    {
      target: 'QR encode + path at least 3× npm qrcode, same page',
      figure: `${x(q.ratio_qrcode)} (${ops(q.ours.ops_per_s)}/s vs ${ops(q.qrcode.ops_per_s)}/s)`,
      met: q.ratio_qrcode >= 3,
      held_back: `The qrcode crate segments, error-corrects and places the data; src/qr.rs applies and scores the 8 masks a row and a column at a time (192-bit lines) and draws the path. ${profileLine(r.speed.profile?.qr, '`bench_qr_path`')} Time figures move with the machine's load (load average ${r.machine.load_average} in this run).`,
    },
    {
      target: 'Page load → widget interactive at most 60 ms (loopback)',
      figure: `${ms(LP.interactive.median)} with the two \`<head>\` lines of the README, ${ms(L.interactive.median)} without`,
      met: LP.interactive.median <= 60,
      held_back: startHeldBack(r),
    },
    {
      target: 'Backend creates at 64 clients at least 5,000/s, p99 at most 20 ms, with synchronous=FULL',
      figure: create64 ? `${ops(create64.rps)}/s, p99 ${create64.p99_ms.toFixed(1)} ms` : '–',
      met: !!create64 && create64.rps >= 5000 && create64.p99_ms <= 20,
      held_back: `CPU, on 2 cores shared with the load generator (and other builds: load average ${r.machine.load_average}). A create now pays one fsync (the reservation is committed unsynced and synced by the completion) and no thread hand-off to the blocking pool; profiled (perf, 64 clients) it costs the backend 250–300 µs of CPU (360–400 µs before, with 10 context switches per create, now 2): the SQLite writer thread (statements 26%, WAL page writes 7%, fsync 4%) 37%, the check of the provider's answer (lightning-invoice decodes it again and verifies its signature) 20%, the demo's signing 16%, HTTP writes 7%, scheduling 8%; the load generator about 20 µs per request. Both processes need about 300 µs of the 2 cores per create: about 6,500/s on an idle machine at best.`,
    },
    {
      target: 'The widget\'s own share of click-to-QR within one frame (16 ms)',
      figure: `${ms(widgetDom)} of widget work, click to the QR in the DOM (median); ${ms(C.widget.median)} to painted, with the browser's wait for its next frame`,
      met: widgetDom <= 16,
      held_back: `Of the ${ms(C.response_to_dom.median)} from the response to the QR in the DOM: the QR encode + path ${(1000 / q.ours.ops_per_s).toFixed(2)} ms, decode + check ${us(d.spec.ours.ops_per_s)}, and DOM work.`,
    },
    ...(r.stream ? streamTargets(r.stream) : []),
  ];
}

function streamTargets(s) {
  const l = s.latency; const i = s.idle;
  return [
    {
      target: 'Backend "paid" → widget shows paid under 100 ms on loopback (stream; polling every 2 s: about 1 s median)',
      figure: `stream ${l.stream.median_ms} ms median, ${l.stream.p99_ms} ms p99; polling ${l.polling.median_ms} ms median`,
      met: l.stream.p99_ms != null && l.stream.p99_ms < 100,
      held_back: 'Chromium dispatches the event as soon as its bytes arrive; the rest is the backend (commit, then one store read for all streams of the invoice).',
    },
    {
      target: '10,000 idle streams held at a flat memory',
      figure: `${i.streams.toLocaleString('en-US')} streams, ${(i.bytes_per_stream / 1024).toFixed(1)} KiB each; ${(i.rss_open_kb / 1024).toFixed(1)} MiB open, ${(i.rss_5s_later_kb / 1024).toFixed(1)} MiB 5 s later`,
      met: i.streams >= 10_000 && i.rss_5s_later_kb <= i.rss_open_kb * 1.05,
      held_back: 'Each stream holds a connection (hyper\'s buffers) and a broadcast receiver; no task, no timer beyond its heartbeat.',
    },
  ];
}

function benchMd(r, table, tgts) {
  return `# Benchmark: the widget against the JavaScript alternatives

\`./build.sh bench\` measures it all in one run (${r.elapsed_s} s of measuring here, after the builds) and rewrites this file;
the raw figures are in \`bench/out/results.json\`. The JavaScript packages are those of
\`bench/package-lock.json\`: ${Object.entries(r.versions).map(([k, v]) => `\`${k}\` ${v}`).join(', ')}.

**Last run:** ${r.date}, ${r.machine.nproc} × ${r.machine.cpu}, ${r.machine.memory_gib} GiB, ${r.machine.kernel},
Chromium ${r.machine.chromium}, Node ${r.machine.node}; load average ${r.machine.load_average} (1, 5, 15 min) at the end of the run: the
machine was shared with other builds, so time figures are noisier and lower than on an idle machine.

## Where we want to be

| target | figure | met? | what holds it back |
| --- | --- | --- | --- |
${tgts.map((t) => `| ${t.target} | ${t.figure} | ${t.met ? 'met' : '**missed**'} | ${t.met ? '' : t.held_back} |`).join('\n')}

## Figures

${table}
`;
}

/** What holds page load → interactive back, from the trace of the page with the two lines. */
function startHeldBack(r) {
  const L = r.start.load;
  const LP = r.start.load_preload;
  const t = r.start.trace?.load_preload;
  const base = `Without the lines the wasm is requested only once the module has run (JS received at ${ms(L.js_loaded.median)}); with them both downloads start while the HTML parses.`;
  if (!t) return `${base} What remains is compile + instantiate and the first render (${ms(LP.init_and_mount.median)}).`;
  const m = t.milestones;
  const seg = (to) => t.segments.find((x) => x.to === to);
  const commit = seg('parser started');
  const mount = seg('interactive');
  const b = mount?.busy ?? {};
  const calls = r.start.trace.boundary_calls;
  return `${base} The trace of that page (§2, medians of ${t.runs}): Chromium has the HTML at ${ms(m['HTML received'])} but starts parsing it only at ${ms(m['parser started'])} (committing the new document: ${ms(commit?.busy?.commit)} of its main thread's CPU, the browser's own work); the JS is in at ${ms(m['JS received'])} (its request waits ${ms(LP.js_queued.median)} in Chromium's network stack before it is sent, then ${ms(LP.js_request_to_end.median)} to its last byte; the renderer meanwhile lays out the empty page), the shim has run by ${ms(m['shim module ran'])}, the wasm is instantiated at ${ms(m.instantiated)} and the widget interactive at ${ms(m.interactive)}. The mount (${ms(mount?.ms)}) is the widget's own: ${ms(b.wasm_compile)} compiling wasm functions on their first call (V8 compiles lazily), ${ms(b.js)} of JS (the glue and the DOM it drives: ${calls ? `${calls.total} calls from the wasm into JS, ${calls.calls.setAttribute ?? 0} of them setAttribute` : ''}), ${ms(b.js_compile)} compiling the glue's functions on first call. Figures from a machine shared with other builds (load average ${r.machine.load_average}).`;
}

// ---------------------------------------------------------------------------------------------

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const t0 = Date.now();
  const needsBackend = !opts.only || [...opts.only].some((s) => s !== 'payload');
  // What each section runs: only those of the sections asked for must be built.
  const needs = (...s) => !opts.only || s.some((x) => opts.only.has(x));
  for (const [f, how, wanted] of [
    [BACKEND_BIN, 'cargo build --release -p lightning-checkout-backend', needsBackend],
    [LOADGEN_BIN, 'cargo build --release -p lightning-checkout-loadgen', needs('backend', 'hostile', 'postgres')],
    [FAKE_BIN, 'cargo build --release -p testkit', needs('hostile', 'stream')],
    [join(PKG, 'lightning_checkout_bg.wasm'), './build.sh build', true],
  ]) {
    if (wanted && !existsSync(f)) throw new Error(`${relative(ROOT, f)} is missing: ${how} (./build.sh bench does it all)`);
  }
  mkdirSync(OUT, { recursive: true });
  const versions = Object.fromEntries(['@getalby/bitcoin-connect', 'light-bolt11-decoder', 'bolt11', 'qrcode', 'esbuild', 'playwright-core']
    .map((n) => [n, JSON.parse(readFileSync(join(BENCH, 'node_modules', n, 'package.json'), 'utf8')).version]));

  const want = (s) => !opts.only || opts.only.has(s);
  const payloadResult = want('payload') ? await payload() : null;

  let start = null, speedResult = null, browserVersion = null;
  if (want('start') || want('speed')) {
    const www = await buildWww();
    const backend = await startBackend({ WWW_DIR: www });
    const browser = await launchBrowser();
    browserVersion = browser.version();
    try {
      if (want('start')) {
        log(`page load → widget interactive: ${opts.runs} runs, a fresh context each`);
        await loadRun(browser, backend.url); // warm-up (not counted)
        await loadRun(browser, backend.url, 'load-preload.html');
        // Alternating: the page as before, and with the two <head> lines of the README.
        const loads = [], preloads = [];
        for (let i = 0; i < opts.runs; i++) {
          loads.push(await loadRun(browser, backend.url));
          preloads.push(await loadRun(browser, backend.url, 'load-preload.html'));
        }
        log(`click → QR painted: ${opts.runs} runs`);
        const clicks = await clickRuns(browser, backend.url, opts.runs);
        const traceRuns = opts.quick ? 2 : 7;
        log(`where page load → interactive goes: ${traceRuns} traced loads of each page, one with call counts`);
        const traced = { load: [], load_preload: [] };
        for (let i = 0; i < traceRuns; i++) {
          traced.load.push(await tracedLoad(browser, backend.url, 'load.html', PROBE));
          traced.load_preload.push(await tracedLoad(browser, backend.url, 'load-preload.html', PROBE));
        }
        start = { runs: opts.runs, load: { ...summary(loads), wasm_api: loads[0].wasm_api },
          load_preload: { ...summary(preloads), wasm_api: preloads[0].wasm_api }, click: summary(clicks),
          trace: {
            load: summariseTraces(traced.load), load_preload: summariseTraces(traced.load_preload),
            boundary_calls: await boundaryCalls(browser, backend.url, 'load.html', PROBE),
          },
          raw: { loads, preloads, clicks, traced } };
      }
      if (want('speed')) speedResult = await speed(browser, backend.url, opts);
    } finally {
      await browser.close().catch(() => {});
      await backend.stop();
    }
  }
  const backendResult = want('backend') ? await backendLoad(opts) : null;
  // A failed hostile run is said in BENCH.md instead of losing every other figure of the run.
  const hostileResult = want('hostile')
    ? await hostile(opts).catch((e) => { log(`hostile run failed: ${e.message}`); return { error: e.message }; })
    : null;
  const postgresResult = want('postgres') ? await postgresBench({ secs: opts.secs, warmup: opts.warmup }) : null;
  const streamResult = want('stream') ? await streamBench(opts) : null;
  if (opts.only) {
    const partial = { date: new Date().toISOString(), load_average: readFileSync('/proc/loadavg', 'utf8').trim(),
      sections: [...opts.only], payload: payloadResult, start, speed: speedResult, backend: backendResult, hostile: hostileResult, postgres: postgresResult, stream: streamResult };
    writeFileSync(join(OUT, 'results-partial.json'), `${JSON.stringify(partial, (k, v) => (k === 'raw' || k === 'samples' ? undefined : v), 2)}\n`);
    if (speedResult) {
      const d = speedResult.decode;
      console.log(`decode + check, ours / light-bolt11-decoder: spec ${d.spec.ratio_light_bolt11_decoder.toFixed(2)}× (${Math.round(d.spec.ours.ops_per_s)}/s), route hints ${d.route_hints.ratio_light_bolt11_decoder.toFixed(2)}× (${Math.round(d.route_hints.ours.ops_per_s)}/s)`);
      console.log(`QR encode + path, ours / npm qrcode: ${speedResult.qr.ratio_qrcode.toFixed(2)}× (${Math.round(speedResult.qr.ours.ops_per_s)}/s vs ${Math.round(speedResult.qr.qrcode.ops_per_s)}/s); path ${speedResult.qr.ours_path_chars} chars vs ${speedResult.qr.qrcode_path_chars}`);
      const P = speedResult.profile;
      if (P) {
        console.log(profileLine(P.decode_spec, 'decode + check, spec invoice'));
        console.log(profileLine(P.decode_route_hints, 'decode + check, route hints'));
        console.log(profileLine(P.qr, 'QR encode + path'));
      }
    }
    if (start) {
      for (const [k, v] of [['as before', start.load], ['with the two <head> lines', start.load_preload]]) {
        console.log(`page load → interactive, ${k}: ${v.interactive.median.toFixed(1)} ms median (p90 ${v.interactive.p90.toFixed(1)}); JS received ${v.js_loaded.median.toFixed(1)} ms (queued ${v.js_queued.median.toFixed(1)}, request → end ${v.js_request_to_end.median.toFixed(1)}), wasm fetch+compile+instantiate ${v.wasm_fetch_compile_instantiate.median.toFixed(1)} ms, start + mount + first render ${v.init_and_mount.median.toFixed(1)} ms; wasm requests ${v.wasm_requests.median}`);
      }
      const c = start.click;
      console.log(`click → QR painted: ${c.total.median.toFixed(1)} ms median (p90 ${c.total.p90.toFixed(1)}); widget up to the QR in the DOM ${c.widget_to_dom.median.toFixed(1)} ms`);
      console.log(traceTable(start.trace));
      console.log(`\nWhat holds it back (BENCH.md's text): ${startHeldBack({ start, machine: { load_average: partial.load_average } })}`);
    }
    if (streamResult) console.log(streamTable(streamResult));
    console.log(`Wrote bench/out/results-partial.json (sections ${[...opts.only].join(', ')}; load average ${partial.load_average}).`);
    return;
  }

  const result = {
    date: new Date().toISOString(),
    machine: machine(browserVersion),
    versions,
    options: opts,
    payload: payloadResult,
    start,
    speed: speedResult,
    backend: backendResult,
    hostile: hostileResult,
    stream: streamResult,
    postgres: postgresResult,
  };
  result.elapsed_s = Math.round((Date.now() - t0) / 1000);
  const table = tables(result);
  const tgts = targets(result);
  result.targets = tgts;
  writeFileSync(join(OUT, 'results.json'), `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(join(ROOT, 'BENCH.md'), benchMd(result, table, tgts));
  console.log(`## Lightning checkout bench: ${result.date}, ${result.machine.nproc} × ${result.machine.cpu}, ${result.machine.memory_gib} GiB\n`);
  console.log(table);
  console.log('\n### Where we want to be\n');
  for (const t of tgts) console.log(`- ${t.met ? 'met' : 'MISSED'}: ${t.target}: ${t.figure}`);
  console.log(`\nWrote bench/out/results.json and BENCH.md (${result.elapsed_s} s).`);
}

main().catch((e) => { console.error(`bench: ${e.stack ?? e}`); process.exit(1); });
