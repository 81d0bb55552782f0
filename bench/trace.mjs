// Where page load → widget interactive goes: a Chromium trace (Tracing, the same categories as
// DevTools' Performance panel, with V8's CPU sampler) of the bench's load page, taken in runs of
// their own (tracing slows the page down a little; the timed runs of §2 are not traced), and the
// widget's calls across the wasm boundary (V8 precise coverage: call counts of the wasm-bindgen
// imports) in another run.
//
// For each traced run, the page load is cut at its milestones (navigation start, HTML received,
// parser started, JS requested and received, the shim's module run, wasm requested and
// received, WebAssembly compile + instantiate called and resolved, widget interactive), in the
// order they happened, and each segment says what the renderer's main thread did in it: its CPU
// time by kind of work (the trace events' own time, scaled by their thread time: on a machine
// shared with other work a thread also waits for a core), the rest of the segment it waited. The mount itself (instantiated
// → interactive) is also split by the CPU samples: wasm code, the JS glue, browser built-ins
// (DOM, storage), garbage collection (compiling on first call is in the trace events).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { newPage, ROOT } from '../tests/e2e/harness.mjs';

const CATEGORIES = [
  'devtools.timeline', 'disabled-by-default-devtools.timeline', 'loading', 'v8', 'v8.wasm',
  'disabled-by-default-v8.compile', 'blink', 'blink.user_timing', 'toplevel', 'navigation',
  'v8.execute', 'disabled-by-default-v8.cpu_profiler',
];

const median = (xs) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!s.length) return null;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const JS_PATH = '/pkg/lightning-checkout.js';
const WASM_PATH = '/pkg/lightning_checkout_bg.wasm';
const path = (u) => { try { return new URL(u).pathname; } catch { return ''; } };

/** What a main-thread trace event's own time was spent on (null: look at its parent). */
function kind(name) {
  if (/^(RenderFrameImpl::CommitNavigation|FrameLoader::CommitNavigation|DocumentLoader::CommitNavigation|LocalWindowProxy::Initialize|CommitLoad)$/.test(name)) return 'commit';
  if (name === 'ParseHTML' || name.startsWith('HTMLDocumentParser')) return 'parse';
  if (/^(UpdateLayoutTree|Layout|PrePaint|Paint|Layerize|Commit|ProxyMain::BeginMainFrame|LocalFrameView::|Blink\.)/.test(name)) return 'style_layout_paint';
  if (/GC|Scavenge|MarkCompact|GarbageCollect/.test(name)) return 'gc';
  if (/^(v8\.wasm|wasm\.)/.test(name)) return 'wasm_compile';
  if (/^(v8\.compile|V8\.Compile|V8\.Parse|v8\.parse|V8\.Preparse|V8\.CollectSourcePositions)/i.test(name)) return 'js_compile';
  if (/^(v8\.|FunctionCall|EvaluateScript|RunMicrotasks|TimerFire|EventDispatch|FireIdleCallback|FireAnimationFrame)/.test(name)) return 'js';
  return null;
}

/** One traced page load: milestones and what the main thread did between them. */
export async function tracedLoad(browser, url, file, probe) {
  const page = await newPage(browser);
  try {
    await page.addInitScript(probe);
    await browser.startTracing(page, { categories: CATEGORIES });
    let trace;
    try {
      await page.goto(`${url}/bench/${file}`);
      await page.waitForFunction(() => window.__bench.roots.at(-1)?.interactive !== undefined, null, { timeout: 20_000 });
    } finally {
      trace = JSON.parse(String(await browser.stopTracing()));
    }
    const m = await page.evaluate(() => {
      const b = window.__bench;
      const inst = b.wasm.find((w) => w.name.startsWith('instantiate') || w.name.startsWith('compile'));
      return {
        html: performance.getEntriesByType('navigation')[0].responseEnd,
        call: inst?.start, ready: inst?.end, interactive: b.roots[0].interactive,
      };
    });
    return analyse(trace.traceEvents ?? trace, file, m);
  } finally {
    await page.context().close();
  }
}

function analyse(events, file, m) {
  const nav = events.filter((e) => e.name === 'navigationStart' && path(e.args?.data?.documentLoaderURL) === `/bench/${file}`).at(-1);
  if (!nav) throw new Error('the trace has no navigationStart for the page');
  const t0 = nav.ts;
  const at = (ts) => (ts - t0) / 1000;
  const main = events.filter((e) => e.pid === nav.pid && e.tid === nav.tid);
  const sends = new Map(); // requestId -> path
  const milestones = [['navigation start', 0], ['HTML received', m.html]];
  for (const e of main) {
    const d = e.args?.data;
    if (e.name === 'ResourceSendRequest' && [JS_PATH, WASM_PATH].includes(path(d?.url))) {
      sends.set(d.requestId, path(d.url));
      milestones.push([path(d.url) === JS_PATH ? 'JS requested' : 'wasm requested', at(e.ts)]);
    }
  }
  for (const e of main) {
    const p = sends.get(e.args?.data?.requestId);
    if (e.name === 'ResourceFinish' && p) milestones.push([p === JS_PATH ? 'JS received' : 'wasm received', at(e.ts)]);
  }
  const parse = main.find((e) => e.name === 'ParseHTML' && path(e.args?.beginData?.url) === `/bench/${file}` && e.ts >= t0);
  if (parse) milestones.push(['parser started', at(parse.ts)]);
  // The shim's module run: the task that evaluates the module (and its microtasks: the element's
  // connectedCallback, the wasm fetch and, before it was made lazy, the number formatter).
  const evalEv = main.find((e) => e.name === 'v8.evaluateModule' && e.ts >= t0);
  const tasks = main.filter((e) => e.ph === 'X' && e.name === 'RunTask' && e.ts >= t0 - 1000).sort((a, b) => a.ts - b.ts);
  if (evalEv) {
    const task = tasks.find((t) => t.ts <= evalEv.ts && t.ts + t.dur >= evalEv.ts + evalEv.dur);
    milestones.push(['shim module ran', at(task ? task.ts + task.dur : evalEv.ts + evalEv.dur)]);
  }
  milestones.push([`WebAssembly compile + instantiate called`, m.call], ['instantiated', m.ready], ['interactive', m.interactive]);
  const ordered = milestones.filter(([, t]) => Number.isFinite(t)).sort((a, b) => a[1] - b[1]);

  // The main thread's own time by kind: each complete event's duration less its children's.
  const xs = main.filter((e) => e.ph === 'X' && e.dur > 0).sort((a, b) => a.ts - b.ts || b.dur - a.dur);
  const spans = []; // [start, end, kind] of exclusive time, at the innermost known kind
  const stack = [];
  for (const e of xs) {
    while (stack.length && stack.at(-1).end <= e.ts) stack.pop();
    const inherited = stack.length ? stack.at(-1).kind : 'other';
    const k = kind(e.name) ?? inherited;
    stack.push({ end: e.ts + e.dur, kind: k });
    // The share of its wall time the thread ran (thread time): on a loaded machine the rest is
    // the thread waiting for a core, not work.
    const ran = e.tdur != null ? Math.min(1, e.tdur / e.dur) : 1;
    spans.push([e.ts, e.ts + e.dur, k, stack.length, ran]);
  }
  // Exclusive attribution: paint the timeline from outer to inner events.
  const busyIn = (from, to) => {
    const a = t0 + from * 1000, b = t0 + to * 1000;
    const cuts = []; // [start, end, kind, depth]
    for (const [s, e, k, d, ran] of spans) if (e > a && s < b) cuts.push([Math.max(s, a), Math.min(e, b), k, d, ran]);
    const points = [...new Set(cuts.flatMap(([s, e]) => [s, e]))].sort((x, y) => x - y);
    const out = {};
    for (let i = 0; i + 1 < points.length; i++) {
      const [s, e] = [points[i], points[i + 1]];
      let best = null;
      for (const c of cuts) if (c[0] <= s && c[1] >= e && (!best || c[3] > best[3])) best = c;
      if (best) out[best[2]] = (out[best[2]] ?? 0) + ((e - s) / 1000) * best[4];
    }
    return out;
  };
  const segments = [];
  for (let i = 0; i + 1 < ordered.length; i++) {
    const [from, a] = ordered[i];
    const [to, b] = ordered[i + 1];
    const busy = busyIn(a, b);
    const total = Object.values(busy).reduce((x, y) => x + y, 0);
    segments.push({ from, to, ms: b - a, busy_ms: total, busy });
  }
  return { milestones: Object.fromEntries(ordered), segments, mount: mountSamples(events, t0, m) };
}

/** The CPU samples of the mount (instantiated → interactive), by kind of code. */
function mountSamples(events, t0, m) {
  const profiles = new Map();
  for (const e of events) {
    if (e.name === 'Profile') profiles.set(`${e.pid}:${e.id}`, { start: e.args.data.startTime, nodes: new Map(), samples: [], deltas: [] });
    if (e.name === 'ProfileChunk') {
      const p = profiles.get(`${e.pid}:${e.id}`);
      const d = e.args?.data;
      if (!p || !d) continue;
      for (const n of d.cpuProfile?.nodes ?? []) p.nodes.set(n.id, n);
      p.samples.push(...(d.cpuProfile?.samples ?? []));
      p.deltas.push(...(d.timeDeltas ?? []));
    }
  }
  const p = [...profiles.values()].sort((a, b) => b.samples.length - a.samples.length)[0];
  if (!p) return null;
  const out = {};
  let ts = p.start;
  const from = t0 + m.ready * 1000, to = t0 + m.interactive * 1000;
  for (let i = 0; i < p.samples.length; i++) {
    ts += p.deltas[i];
    const next = ts + (p.deltas[i + 1] ?? 0);
    if (ts < from || ts >= to) continue;
    const n = p.nodes.get(p.samples[i]);
    const f = n?.callFrame ?? {};
    const fn = f.functionName ?? '';
    let k;
    if (fn === '(idle)') k = 'idle';
    else if (fn === '(garbage collector)') k = 'gc';
    else if (fn === '(program)') k = 'browser_native'; // incl. compiling wasm functions on first call
    else if (f.codeType === 'wasm' || fn.startsWith('wasm-function')) k = 'wasm';
    else if (fn === 'js-to-wasm' || fn === 'wasm-to-js') k = 'boundary';
    else if (f.url && /lightning-checkout/.test(f.url)) k = 'glue_js';
    else if (!f.url) k = 'builtins';
    else k = 'other_js';
    out[k] = (out[k] ?? 0) + Math.min(next, to) / 1000 - ts / 1000;
  }
  return out;
}

/**
 * The widget's calls across the wasm boundary up to interactive (one run of its own, with V8's
 * precise call counts): the wasm-bindgen imports the mount called, by name.
 */
export async function boundaryCalls(browser, url, file, probe) {
  const page = await newPage(browser);
  try {
    await page.addInitScript(probe);
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.startPreciseCoverage', { callCount: true, detailed: false });
    await page.goto(`${url}/bench/${file}`);
    await page.waitForFunction(() => window.__bench.roots.at(-1)?.interactive !== undefined, null, { timeout: 20_000 });
    const { result } = await cdp.send('Profiler.takePreciseCoverage');
    await cdp.send('Profiler.stopPreciseCoverage');
    const calls = {};
    // `./build.sh build` shortens the glue's import names (scripts/short-names.mjs) and writes
    // which was which to target/short-names.json.
    let short = {};
    try { short = JSON.parse(readFileSync(join(ROOT, 'target', 'short-names.json'), 'utf8')); } catch {}
    for (const s of result) {
      if (path(s.url) !== JS_PATH) continue;
      for (const f of s.functions) {
        const long = short[f.functionName] ?? f.functionName;
        const name = long.match(/^__wbg_(.+?)_[0-9a-f]{16}$/)?.[1];
        const count = f.ranges[0]?.count ?? 0;
        if (name && count) calls[name] = (calls[name] ?? 0) + count;
      }
    }
    const total = Object.values(calls).reduce((a, b) => a + b, 0);
    return { total, calls: Object.fromEntries(Object.entries(calls).sort((a, b) => b[1] - a[1])) };
  } finally {
    await page.context().close();
  }
}

/** The median of each milestone, segment and mount share over traced runs (of one page). */
export function summariseTraces(runs) {
  const names = [...new Set(runs.flatMap((r) => Object.keys(r.milestones)))];
  const milestones = Object.fromEntries(names.map((n) => [n, median(runs.map((r) => r.milestones[n]))]))
  const order = names.sort((a, b) => milestones[a] - milestones[b]);
  const segments = [];
  for (let i = 0; i + 1 < order.length; i++) {
    const [from, to] = [order[i], order[i + 1]];
    const same = runs.map((r) => r.segments.find((s) => s.from === from && s.to === to)).filter(Boolean);
    const kinds = [...new Set(same.flatMap((s) => Object.keys(s.busy)))];
    segments.push({
      from, to, runs: same.length,
      ms: milestones[to] - milestones[from],
      busy_ms: median(same.map((s) => s.busy_ms)),
      busy: Object.fromEntries(kinds.map((k) => [k, median(same.map((s) => s.busy[k] ?? 0))]).filter(([, v]) => v >= 0.05).sort((a, b) => b[1] - a[1])),
    });
  }
  const mk = [...new Set(runs.flatMap((r) => Object.keys(r.mount ?? {})))];
  const mount = Object.fromEntries(mk.map((k) => [k, median(runs.map((r) => r.mount?.[k] ?? 0))]).sort((a, b) => b[1] - a[1]));
  return { runs: runs.length, milestones, segments, mount };
}

const KINDS = {
  commit: 'committing the new document', parse: 'HTML parser', style_layout_paint: 'style, layout, paint',
  gc: 'GC', wasm_compile: 'wasm compile', js_compile: 'JS compile', js: 'JS', other: 'other',
};
const MOUNT_KINDS = {
  wasm: 'wasm code', glue_js: 'JS glue (wasm-bindgen imports, shim)', boundary: 'wasm↔JS transitions',
  builtins: 'browser built-ins (DOM, storage, Intl)', browser_native: 'other native code',
  gc: 'GC', idle: 'idle', other_js: 'other JS',
};
const f1 = (x) => (x == null ? '–' : `${x.toFixed(1)} ms`);

/** The traces as markdown: per page, its segments; the mount's samples; the boundary calls. */
export function traceTable(trace) {
  const lines = [];
  for (const [label, t] of [['the page as before', trace.load], ['with the two `<head>` lines', trace.load_preload]]) {
    if (!t) continue;
    lines.push('', `**${label}** (${t.runs} traced loads; medians)`, '');
    lines.push('| from → to | wall | main thread CPU | on what (main thread CPU, ms) |', '| --- | ---: | ---: | --- |');
    for (const s of t.segments) {
      const what = Object.entries(s.busy).map(([k, v]) => `${KINDS[k] ?? k} ${v.toFixed(1)}`).join(', ');
      lines.push(`| ${s.from} (${s.ms >= 0 ? f1(t.milestones[s.from]) : ''}) → ${s.to} | ${f1(s.ms)} | ${f1(s.busy_ms)} | ${what} |`);
    }
    // V8's sampler ticks in wall time: a thread waiting for a core keeps the stack it had, so
    // on a loaded machine the samples say where the time went in shares, not in CPU ms.
    const mount = Object.entries(t.mount ?? {}).filter(([, v]) => v >= 0.05);
    const all = mount.reduce((a, [, v]) => a + v, 0);
    if (all > 0) {
      lines.push('', `The mount (instantiated → interactive) by V8's samples (shares of its ${f1(all)} of samples): ${mount.map(([k, v]) => `${MOUNT_KINDS[k] ?? k} ${Math.round((100 * v) / all)}%`).join(', ')}.`);
    }
  }
  const b = trace.boundary_calls;
  if (b) {
    lines.push('', `Calls from the wasm into JS up to interactive (the page as before): ${b.total}: ${Object.entries(b.calls).slice(0, 12).map(([k, v]) => `${k} ${v}`).join(', ')}.`);
  }
  return lines.join('\n');
}
