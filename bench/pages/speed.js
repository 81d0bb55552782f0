// The speed page: the widget's Rust code (a copy built with the `bench` feature, hooks in
// src/bench.rs) and the JavaScript libraries, timed in the same page, in alternating rounds.
// `?pkg=bench-pkg-names` loads the copy that keeps its function names, for the CPU profiles.
const pkg = new URLSearchParams(location.search).get('pkg') === 'bench-pkg-names' ? 'bench-pkg-names' : 'bench-pkg';
const { default: init, bench_decode_check, bench_qr_path } = await import(`/${pkg}/lightning_checkout.js`);
import { lightDecode, bolt11Decode, QRCode } from '/bench/libs.js';

const DEFAULT_EXPIRY = 3600; // BOLT 11: no `x` field means one hour

/** What the widget is told to expect, taken from the invoice itself (as src/bench.rs does). */
function expectedOf(invoice) {
  const d = bolt11Decode(invoice);
  return {
    net: d.network.bech32,
    amountMsat: d.millisatoshis,
    hash: d.tags.find((t) => t.tagName === 'payment_hash').data,
    now: d.timestamp, // "now" is the invoice's own timestamp: every check runs and passes
  };
}

// The same checks as the widget's check_invoice: amount to the millisatoshi, network, payment
// hash, payment secret and features present, not expired.
function checkLight(invoice, e) {
  const d = lightDecode(invoice);
  let net, amount, ts, hash, expiry = DEFAULT_EXPIRY, secret = false, features = false;
  for (const s of d.sections) {
    switch (s.name) {
      case 'coin_network': net = s.value?.bech32; break;
      case 'amount': amount = s.value; break;
      case 'timestamp': ts = s.value; break;
      case 'payment_hash': hash = s.value; break;
      case 'expiry': expiry = s.value; break;
      case 'payment_secret': secret = true; break;
      case 'feature_bits': features = true; break;
      default: break;
    }
  }
  return net === e.net && amount === e.amountMsat && hash === e.hash && secret && features
    && ts + expiry > e.now;
}

function checkBolt11(invoice, e) {
  const d = bolt11Decode(invoice);
  let hash, secret = false, features = false;
  for (const t of d.tags) {
    if (t.tagName === 'payment_hash') hash = t.data;
    else if (t.tagName === 'payment_secret') secret = true;
    else if (t.tagName === 'feature_bits') features = true;
  }
  const expires = d.timeExpireDate ?? d.timestamp + DEFAULT_EXPIRY;
  return d.network?.bech32 === e.net && d.millisatoshis === e.amountMsat && hash === e.hash
    && secret && features && expires > e.now;
}

const QR_OPTIONS = { type: 'svg', errorCorrectionLevel: 'M', margin: 4 };
/** npm qrcode: encode and build the SVG (its path). Synchronous with a callback. */
function qrcodeSvg(payload) {
  let out;
  QRCode.toString(payload, QR_OPTIONS, (err, svg) => { if (err) throw err; out = svg; });
  return out;
}

const pause = () => new Promise((r) => setTimeout(r, 0));
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };

/** Finds n so that run(n) takes about `ms`. */
function calibrate(run, ms) {
  let n = 1;
  for (;;) {
    const t0 = performance.now();
    run(n);
    const dt = performance.now() - t0;
    if (dt >= ms / 4 || n >= 1 << 24) return Math.max(1, Math.round(n * ms / Math.max(dt, 0.01)));
    n *= dt < ms / 64 ? 8 : 2;
  }
}

/** Times every contender once per round, rotating the order; medians of ops/s. */
async function compare(contenders, { rounds, ms }) {
  const ns = {};
  for (const [name, run] of Object.entries(contenders)) { ns[name] = calibrate(run, ms); await pause(); }
  const samples = Object.fromEntries(Object.keys(contenders).map((k) => [k, []]));
  const names = Object.keys(contenders);
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(i + r) % names.length];
      const t0 = performance.now();
      contenders[name](ns[name]);
      const dt = performance.now() - t0;
      samples[name].push(ns[name] / (dt / 1000));
      await pause();
    }
  }
  return Object.fromEntries(names.map((k) => [k, { ops_per_s: median(samples[k]), samples: samples[k] }]));
}

function loopChecked(check, invoice, e) {
  return (n) => {
    let ok = 0;
    for (let i = 0; i < n; i++) if (check(invoice, e)) ok++;
    if (ok !== n) throw new Error(`${check.name} refused the invoice`);
  };
}

window.benchDecode = async (invoice, opts) => {
  const e = expectedOf(invoice);
  if (!checkLight(invoice, e) || !checkBolt11(invoice, e) || bench_decode_check(invoice, 1) !== 1) {
    throw new Error(`a contender refuses ${invoice.slice(0, 20)}…`);
  }
  const results = await compare({
    ours: (n) => { if (bench_decode_check(invoice, n) !== n) throw new Error('ours refused the invoice'); },
    light_bolt11_decoder: loopChecked(checkLight, invoice, e),
    bolt11: loopChecked(checkBolt11, invoice, e),
  }, opts);
  return { invoice_chars: invoice.length, ...results };
};

window.benchQr = async (payload, opts) => {
  const ours = bench_qr_path(payload, 1);
  const theirs = qrcodeSvg(payload);
  const code = QRCode.create(payload, { errorCorrectionLevel: 'M' });
  const d = [...theirs.matchAll(/ d="([^"]*)"/g)].at(-1)?.[1] ?? ''; // the dark modules' path
  const results = await compare({
    ours: (n) => { if (!bench_qr_path(payload, n)) throw new Error('ours did not encode'); },
    qrcode: (n) => { for (let i = 0; i < n; i++) qrcodeSvg(payload); },
  }, opts);
  return {
    payload_chars: payload.length,
    version: code.version,
    modules: code.modules.size,
    ours_path_chars: ours,
    qrcode_path_chars: d.length,
    qrcode_svg_chars: theirs.length,
    ...results,
  };
};

await init();
// For the profiles (bench/profile.mjs): the hooks themselves, a loop of n calls inside wasm.
Object.assign(window, { bench_decode_check, bench_qr_path });
window.benchReady = true;
document.getElementById('state').textContent = 'ready';
