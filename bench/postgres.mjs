// The PostgreSQL section of ./build.sh bench: creates/s and polls/s with p50/p99 against the
// backend on PostgreSQL with one and with two instances (the load split between them), beside the
// default SQLite store, in one run. Also runnable alone, after
// `cargo build --release -p lightning-checkout-backend -p lightning-checkout-loadgen`:
//
//   node bench/postgres.mjs [--secs 5] [--warmup 1] [--clients 1,16,64]
//
// PostgreSQL is Debian's server (/usr/lib/postgresql/*/bin), started here in a temporary
// directory on a free loopback port, as the `postgres` user when run as root (it refuses root),
// and stopped at the end, also on failure. Prints a markdown table and writes
// bench/out/postgres.json.
import { execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startProcess } from '../tests/e2e/process.mjs';

const BENCH = dirname(fileURLToPath(import.meta.url));
const ROOT = join(BENCH, '..');
const TARGET = process.env.CARGO_TARGET_DIR || join(ROOT, 'target');
const BACKEND_BIN = join(TARGET, 'release', 'lightning-checkout-backend');
const LOADGEN_BIN = join(TARGET, 'release', 'lightning-checkout-loadgen');
const log = (...a) => console.error('bench:', ...a);

function pgBin() {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'postgres'))) : [];
  versions.sort((a, b) => Number(a) - Number(b));
  if (!versions.length) throw new Error('PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/postgres): apt-get install postgresql');
  return join(root, versions.at(-1), 'bin');
}

const freePort = () => new Promise((resolve, reject) => {
  const s = createServer();
  s.once('error', reject);
  s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
});

function userIds(name) {
  try {
    return { uid: Number(execFileSync('id', ['-u', name]).toString()), gid: Number(execFileSync('id', ['-g', name]).toString()) };
  } catch { return null; }
}

/** A PostgreSQL cluster in a temporary directory; `stop()` removes it. */
export async function startPostgres() {
  const bin = pgBin();
  const dir = mkdtempSync(join(tmpdir(), 'lc-bench-pg-'));
  const root = process.getuid?.() === 0;
  const user = root ? ['postgres', 'nobody'].find((u) => userIds(u)) : null;
  if (root && !user) throw new Error('running as root with no `postgres` or `nobody` user to run PostgreSQL as');
  if (root) { const { uid, gid } = userIds(user); chownSync(dir, uid, gid); }
  const run = (tool, args) => (root
    ? execFileSync('runuser', ['-u', user, '--', join(bin, tool), ...args], { stdio: ['ignore', 'ignore', 'pipe'] })
    : execFileSync(join(bin, tool), args, { stdio: ['ignore', 'ignore', 'pipe'] }));
  const data = join(dir, 'data');
  const port = await freePort();
  run('initdb', ['-U', 'checkout', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync', '-D', data]);
  // Durable settings as shipped (fsync on): the figures are what a shop would see on this disk.
  run('pg_ctl', ['-D', data, '-l', join(dir, 'log'), '-w', '-t', '60', '-o',
    `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c max_connections=200`, 'start']);
  let stopped = false;
  return {
    port,
    url: (db) => `postgres://checkout@127.0.0.1:${port}/${db}`,
    createDb(db) { execFileSync(join(bin, 'createdb'), ['-h', '127.0.0.1', '-p', String(port), '-U', 'checkout', db]); },
    stop() {
      if (stopped) return;
      stopped = true;
      try { run('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']); } catch { /* already down */ }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function startBackend(env) {
  const dataDir = mkdtempSync(join(tmpdir(), 'lc-bench-'));
  const p = await startProcess(BACKEND_BIN, [], {
    env: { HOST: '127.0.0.1', PORT: '0', DATA_DIR: dataDir, RUST_LOG: 'warn', CREATE_RATE_PER_MIN: '0', ...env },
    ready: /Lightning checkout demo: (http:\/\/[^\s]+?)\/?\s/,
  });
  return {
    url: p.match[1].replace(/\/$/, ''),
    async stop() { await p.stop(); rmSync(dataDir, { recursive: true, force: true }); },
  };
}

function loadgen(urls, opts) {
  const args = [...urls.flatMap((u) => ['--url', u]), '--clients', opts.clients, '--warmup-secs', String(opts.warmup), '--secs', String(opts.secs)];
  return new Promise((resolve, reject) => {
    const p = spawn(LOADGEN_BIN, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d) => { out += d; });
    p.on('error', reject);
    p.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out).runs) : reject(new Error(`loadgen exited with ${code}`))));
  });
}

/** The three set-ups, one after the other, on the same machine in the same run. */
export async function postgresBench(opts) {
  opts = { secs: 5, warmup: 1, clients: '1,16,64', ...opts };
  for (const f of [BACKEND_BIN, LOADGEN_BIN]) {
    if (!existsSync(f)) throw new Error(`${f} is missing: cargo build --release -p lightning-checkout-backend -p lightning-checkout-loadgen`);
  }
  const out = { options: opts, setups: [] };
  const measure = async (name, envs) => {
    const backends = [];
    try {
      for (const env of envs) backends.push(await startBackend(env));
      log(`${name}: ${opts.warmup} s warm-up + ${opts.secs} s per step, ${opts.clients} clients, create then poll`);
      out.setups.push({ name, instances: envs.length, runs: await loadgen(backends.map((b) => b.url), opts) });
    } finally {
      for (const b of backends) await b.stop();
    }
  };
  await measure('SQLite, 1 instance', [{}]);
  const pg = await startPostgres();
  try {
    pg.createDb('one');
    pg.createDb('two');
    const env = (db) => ({ DATABASE_URL: pg.url(db), DATABASE_POOL_SIZE: '16' });
    await measure('PostgreSQL, 1 instance', [env('one')]);
    await measure('PostgreSQL, 2 instances', [env('two'), env('two')]);
  } finally {
    pg.stop();
  }
  return out;
}

/** The markdown table of `postgresBench`'s result. */
export function postgresTable(r) {
  const cell = (run) => (run ? `${Math.round(run.rps).toLocaleString('en-US')} (p50 ${run.p50_ms.toFixed(1)} / p99 ${run.p99_ms.toFixed(1)} ms${run.errors ? `, ${run.errors} errors` : ''})` : '—');
  const clients = [...new Set(r.setups.flatMap((s) => s.runs.map((x) => x.clients)))];
  const lines = ['| store | clients | creates/s | polls/s |', '| --- | --- | --- | --- |'];
  for (const s of r.setups) {
    for (const c of clients) {
      const find = (sc) => s.runs.find((x) => x.scenario === sc && x.clients === c);
      lines.push(`| ${s.name} | ${c} | ${cell(find('create'))} | ${cell(find('poll'))} |`);
    }
  }
  return lines.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const opts = {};
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 2) {
    const [k, v] = [argv[i], argv[i + 1]];
    if (k === '--secs' || k === '--warmup') opts[k.slice(2)] = Number(v);
    else if (k === '--clients') opts.clients = v;
    else { console.error(`unknown option ${k}: use --secs S, --warmup S or --clients 1,16,64`); process.exit(2); }
  }
  try {
    const r = await postgresBench(opts);
    r.date = new Date().toISOString();
    mkdirSync(join(BENCH, 'out'), { recursive: true });
    writeFileSync(join(BENCH, 'out', 'postgres.json'), `${JSON.stringify(r, null, 2)}\n`);
    console.log(postgresTable(r));
  } catch (e) {
    console.error(`bench: ${e.stack ?? e}`);
    process.exit(1);
  }
}
