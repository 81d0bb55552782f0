// The npm package as shop developers use it (issue 17): `npm pack` of pkg/ is installed into
// tiny apps, each built by a real bundler exactly as the README's "Bundlers and frameworks"
// recipe says (Vite, webpack, esbuild, React 19 + TSX type-checked by tsc), served from their
// own origin with the README's Content-Security-Policy, and run in Chromium through the whole
// flow against the real backend on another origin. The tarball itself is checked by publint and
// arethetypeswrong, and for its files, size and metadata.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync, cpSync, existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, extname, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startBackend, launchBrowser, newPage, part, readQr, recordEvents, waitForEvent, ROOT } from '../e2e/harness.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const APPS = join(HERE, 'apps');
const WORK = mkdtempSync(join(tmpdir(), 'lc-bundlers-'));
const API_PLACEHOLDER = 'https://api.your-shop.example';

let tarball;
let backend;
let browser;
let server;
let appOrigin;

/** The CSP of the README's "Content-Security-Policy" section (the block after its marker). */
function readmeCsp() {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const m = readme.match(/<!-- csp-tested-by tests\/bundlers -->\s*```\n([^\n]+)\n```/);
  assert.ok(m, 'README.md has the tested CSP block');
  return m[1].trim();
}

// One static server for every built app (/vite/, /webpack/, …), with the README's CSP (in
// which the backend's origin replaces the README's placeholder once the backend runs).
let csp = '';
function startAppServer() {
  const types = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.css': 'text/css', '.svg': 'image/svg+xml', '.json': 'application/json' };
  const www = join(WORK, 'www');
  const srv = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    if (path === '/favicon.ico') { res.writeHead(204); res.end(); return; } // the browser asks
    let file = join(www, path);
    if (file.startsWith(www) && existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
    if (!file.startsWith(www) || !existsSync(file)) { res.writeHead(404); res.end('not found'); return; }
    res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream', 'content-security-policy': csp });
    res.end(readFileSync(file));
  });
  return new Promise((resolve) => srv.listen(0, '127.0.0.1', () => resolve(srv)));
}

/** Copies app `name` into a fresh project dir whose node_modules are ours plus the package. */
function project(name) {
  const dir = join(WORK, name);
  if (existsSync(join(APPS, name))) cpSync(join(APPS, name), dir, { recursive: true });
  mkdirSync(join(dir, 'node_modules'), { recursive: true });
  // The packed package, unpacked as npm installs a package without dependencies.
  const pkgDir = join(dir, 'node_modules', 'lightning-checkout');
  mkdirSync(pkgDir, { recursive: true });
  execFileSync('tar', ['-xzf', tarball, '-C', pkgDir, '--strip-components=1']);
  return dir;
}

before(async () => {
  const packDir = join(WORK, 'pack');
  mkdirSync(packDir);
  const out = execFileSync('npm', ['pack', join(ROOT, 'pkg'), '--pack-destination', packDir, '--json', '--loglevel=error'], { encoding: 'utf8' });
  tarball = join(packDir, JSON.parse(out)[0].filename);
  // Our node_modules (the bundlers, react, typescript) are found from the apps' parent dir.
  execFileSync('ln', ['-s', join(HERE, 'node_modules'), join(WORK, 'node_modules')]);
  server = await startAppServer();
  appOrigin = `http://127.0.0.1:${server.address().port}`;
  backend = await startBackend({ env: { CORS_ORIGINS: appOrigin } });
  csp = readmeCsp().replaceAll(API_PLACEHOLDER, backend.url);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await backend?.stop();
  backend?.cleanup();
  server?.close();
  rmSync(WORK, { recursive: true, force: true });
});

/** Serves `dist` under /name/ and runs the checkout there: QR, pay, paid. */
async function runApp(name, dist, { paidText } = {}) {
  cpSync(dist, join(WORK, 'www', name), { recursive: true });
  const page = await newPage(browser);
  await recordEvents(page);
  const violations = [];
  page.on('console', (m) => { if (/Content.Security.Policy/i.test(m.text())) violations.push(m.text()); });
  const missing = [];
  page.on('response', (r) => { if (r.status() >= 400) missing.push(`${r.status()} ${r.url()}`); });
  await page.goto(`${appOrigin}/${name}/?api=${encodeURIComponent(`${backend.url}/api`)}`);
  assert.match(await readQr(page), /^lightning:LNBCRT21U1/, `${name}: the QR of a 2,100 sat invoice`);
  const invoice = await waitForEvent(page, 'invoice');
  const paid = await backend.api('POST', `/dev/invoices/${invoice.detail.id}/pay`);
  assert.equal(paid.status, 200);
  await part(page, 'status').filter({ hasText: 'Paid 2,100 sat' }).waitFor();
  await waitForEvent(page, 'paid');
  if (paidText) await page.getByText(paidText).waitFor();
  assert.deepEqual(violations, [], `${name}: no CSP violation with the README's policy`);
  assert.deepEqual(missing, [], `${name}: every file the app asks for is there`);
  assert.deepEqual(page.errors, [], `${name}: no error in the console`);
  await page.context().close();
}

test('npm pack: the files, the size and the metadata a registry needs', () => {
  const listing = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).trim().split('\n').sort();
  // Every language but English (built in) is one file in locales/, fetched on demand.
  const locales = readdirSync(join(ROOT, 'js', 'locales')).filter((f) => f.endsWith('.json'));
  assert.ok(locales.length >= 10, `${locales.length} locale files`);
  assert.deepEqual(listing, [
    'package/LICENSE-APACHE', 'package/LICENSE-MIT', 'package/README.md',
    'package/lightning-checkout.d.ts', 'package/lightning-checkout.iife.js', 'package/lightning-checkout.js',
    'package/lightning_checkout_bg.wasm', ...locales.map((f) => `package/locales/${f}`), 'package/package.json',
  ].sort());
  assert.ok(statSync(tarball).size < 150_000, `tarball ${statSync(tarball).size} bytes`);
  const dir = project('meta');
  const meta = JSON.parse(readFileSync(join(dir, 'node_modules/lightning-checkout/package.json'), 'utf8'));
  assert.equal(meta.license, 'MIT OR Apache-2.0');
  for (const key of ['repository', 'homepage', 'bugs']) assert.ok(meta[key], key);
  assert.equal(meta.exports['./package.json'], './package.json');
  const readme = readFileSync(join(dir, 'node_modules/lightning-checkout/README.md'), 'utf8');
  assert.doesNotMatch(readme, /\]\((?!https?:)[^)]*\)/, 'only absolute links in the package README');
  assert.doesNotMatch(readme, /build\.sh|not on the registry/);
});

test('publint (strict) finds nothing in the tarball', async () => {
  const { publint } = await import('publint');
  const { formatMessage } = await import('publint/utils');
  const buf = readFileSync(tarball);
  const tar = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
  const { messages, pkg } = await publint({ pack: { tarball: tar }, level: 'suggestion', strict: true });
  assert.deepEqual(messages.map((m) => formatMessage(m, pkg)), []);
});

test('arethetypeswrong finds nothing in the tarball', () => {
  // The package is ESM only (esm-only profile). ./lightning_checkout_bg.wasm, ./iife and
  // ./package.json are files to fetch or read, not modules with types.
  execFileSync(join(HERE, 'node_modules/.bin/attw'), [tarball, '--profile', 'esm-only', '--format', 'ascii',
    '--exclude-entrypoints', './lightning_checkout_bg.wasm', './iife', './package.json'], { stdio: 'pipe' });
});

test('Vite: import the package, build, no configuration', async () => {
  const dir = project('vite');
  const { build } = await import('vite');
  await build({ root: dir, base: './', logLevel: 'warn', build: { outDir: join(dir, 'dist') } });
  await runApp('vite', join(dir, 'dist'));
});

test('webpack 5: import the package, build, no configuration', async () => {
  const dir = project('webpack');
  const { default: webpack } = await import('webpack');
  const stats = await new Promise((resolve, reject) => webpack({
    mode: 'production', context: dir, entry: './main.js',
    output: { path: join(dir, 'dist'), filename: 'main.js', publicPath: 'auto' },
  }, (err, s) => (err ? reject(err) : resolve(s))));
  assert.ok(!stats.hasErrors(), stats.toString('errors-only'));
  cpSync(join(dir, 'index.html'), join(dir, 'dist', 'index.html'));
  await runApp('webpack', join(dir, 'dist'));
});

test('esbuild: the wasm as a file asset and init({ wasmUrl }), in the default iife format', async () => {
  const dir = project('esbuild');
  const esbuild = await import('esbuild');
  await esbuild.build({
    entryPoints: [join(dir, 'main.js')], bundle: true, outdir: join(dir, 'dist'), minify: true,
    loader: { '.wasm': 'file' }, logLevel: 'warning', absWorkingDir: dir,
  });
  cpSync(join(dir, 'index.html'), join(dir, 'dist', 'index.html'));
  await runApp('esbuild', join(dir, 'dist'));
});

test('React 19 + TSX: tsc type-checks the element and its events, Vite builds it', async () => {
  const dir = project('react');
  execFileSync(join(HERE, 'node_modules/.bin/tsc'), ['-p', dir], { stdio: 'pipe' });
  // A typo in an attribute or a wrong event detail is a type error: the types are real.
  writeFileSync(join(dir, 'src', 'Bad.tsx'), `import 'lightning-checkout';
export const Bad = () => <lightning-checkout endpont="/api" onlightning-checkout:paid={(e) => e.detail.nope} />;\n`);
  assert.throws(() => execFileSync(join(HERE, 'node_modules/.bin/tsc'), ['-p', dir], { stdio: 'pipe' }),
    (err) => /endpont/.test(err.stdout) && /nope/.test(err.stdout));
  rmSync(join(dir, 'src', 'Bad.tsx'));
  const { build } = await import('vite');
  await build({ root: dir, base: './', logLevel: 'warn', build: { outDir: join(dir, 'dist') } });
  await runApp('react', join(dir, 'dist'), { paidText: 'Thank you, paid' });
});

test('a classic <script src> (the iife build) defines the element and finds its wasm', async () => {
  const dir = project('classic');
  const dist = join(dir, 'dist');
  mkdirSync(join(dist, 'vendor'), { recursive: true });
  for (const f of ['lightning-checkout.iife.js', 'lightning_checkout_bg.wasm']) {
    cpSync(join(dir, 'node_modules/lightning-checkout', f), join(dist, 'vendor', f));
  }
  cpSync(join(dir, 'index.html'), join(dist, 'index.html'));
  cpSync(join(dir, 'main.js'), join(dist, 'main.js'));
  await runApp('classic', dist);
});
