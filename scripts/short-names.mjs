// Shortens the names that tie the wasm to its wasm-bindgen glue (build.sh, after wasm-opt):
// every import (`__wbg_append_5a6f3c0e9b21d4f7`, 112 of them) and every export the glue reads as
// `wasm.NAME` becomes `$0`, `$1`, …, and the import module `./lightning_checkout_bg.js` becomes
// `w`. The long names are hashes that gzip cannot shrink, stored twice (wasm and JS): about
// 2.5 KB of every page's download. Only these exact names change, in both files together.
//
//   node scripts/short-names.mjs DIR/NAME_bg.wasm DIR/NAME.js [MAP.json]
//
// MAP.json (optional) gets each import's short name and the long one it replaced, for tools that
// name the glue's functions (the bench's count of calls from the wasm into JS).
import { readFileSync, writeFileSync } from 'node:fs';

const [wasmPath, jsPath, mapPath] = process.argv.slice(2);
const importNames = {};
if (!wasmPath || !jsPath) {
  console.error('usage: node scripts/short-names.mjs module_bg.wasm glue.js');
  process.exit(2);
}
const fail = (why) => {
  console.error(`short-names: ${why}`);
  process.exit(1);
};

const wasm = readFileSync(wasmPath);
let js = readFileSync(jsPath, 'utf8');

// LEB128 reading and writing (unsigned).
function readU(buf, pos) {
  let result = 0;
  let shift = 0;
  for (;;) {
    const b = buf[pos++];
    result += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if (b < 0x80) return [result, pos];
  }
}
function writeU(n) {
  const out = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return Buffer.from(out);
}
const str = (s) => {
  const b = Buffer.from(s, 'utf8');
  return Buffer.concat([writeU(b.length), b]);
};
function readStr(buf, pos) {
  const [len, p] = readU(buf, pos);
  return [buf.toString('utf8', p, p + len), p + len];
}
// Skips a limits record (tables, memories): flags, min, and max when flag bit 0 is set.
function skipLimits(buf, pos) {
  const flags = buf[pos++];
  [, pos] = readU(buf, pos);
  if (flags & 1) [, pos] = readU(buf, pos);
  return pos;
}

if (wasm.readUInt32LE(0) !== 0x6d736100) fail(`${wasmPath} is not a wasm module`);
let counter = 0;
const nextName = () => `$${(counter++).toString(36)}`;
const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
// Replaces each whole-word occurrence of `pattern` in the glue, which must occur at least once.
function rewrite(regex, replacement, what) {
  let n = 0;
  js = js.replace(regex, () => {
    n++;
    return replacement;
  });
  if (n === 0) fail(`${what} is not in ${jsPath}`);
}

const sections = [];
let pos = 8;
let moduleName = null;
while (pos < wasm.length) {
  const id = wasm[pos];
  const [size, start] = readU(wasm, pos + 1);
  const end = start + size;
  let body = wasm.subarray(start, end);
  if (id === 2) {
    // Imports: module, name, descriptor.
    let [count, p] = readU(body, 0);
    const parts = [writeU(count)];
    for (let i = 0; i < count; i++) {
      let mod, name;
      [mod, p] = readStr(body, p);
      [name, p] = readStr(body, p);
      const descStart = p;
      const kind = body[p++];
      if (kind === 0) [, p] = readU(body, p);
      else if (kind === 1) p = skipLimits(body, p + 1);
      else if (kind === 2) p = skipLimits(body, p);
      else if (kind === 3) p += 2;
      else if (kind === 4) [, p] = readU(body, p + 1);
      else fail(`unknown import kind ${kind}`);
      if (moduleName === null) moduleName = mod;
      if (mod !== moduleName) fail(`imports from two modules (${moduleName}, ${mod})`);
      const short = nextName();
      // Each import is one key of the glue's import object: `NAME: function(…)`.
      const key = new RegExp(`(?<![\\w$])${escape(name)}(?=\\s*:)`, 'g');
      if ((js.match(key) ?? []).length !== 1) fail(`import ${name} is not exactly one key in ${jsPath}`);
      rewrite(key, short, `import ${name}`);
      importNames[short] = name;
      parts.push(str('w'), str(short), body.subarray(descStart, p));
    }
    body = Buffer.concat(parts);
  } else if (id === 7) {
    // Exports: those the glue reads as `wasm.NAME` get short names; others keep theirs.
    let [count, p] = readU(body, 0);
    const parts = [writeU(count)];
    for (let i = 0; i < count; i++) {
      let name;
      [name, p] = readStr(body, p);
      const kind = body[p++];
      let index;
      [index, p] = readU(body, p);
      const use = new RegExp(`(?<![\\w$])wasm\\.${escape(name)}(?![\\w$])`, 'g');
      let out = name;
      if (name.length > 3 && use.test(js)) {
        out = nextName();
        rewrite(use, `wasm.${out}`, `export ${name}`);
      }
      parts.push(str(out), Buffer.from([kind]), writeU(index));
    }
    body = Buffer.concat(parts);
  }
  sections.push(Buffer.from([id]), writeU(body.length), body);
  pos = end;
}
if (moduleName !== null) {
  const literal = new RegExp(`(['"])${escape(moduleName)}\\1(?=\\s*:)`, 'g');
  if ((js.match(literal) ?? []).length !== 1) fail(`the import module ${moduleName} is not one key in ${jsPath}`);
  rewrite(literal, '"w"', `module ${moduleName}`);
}
// A long name left in the glue would be a name this script missed: the glue would not link.
const left = js.match(/\b__wbg_[A-Za-z0-9_]*_[0-9a-f]{16}\b/);
if (left) fail(`${left[0]} is still in ${jsPath}`);

writeFileSync(wasmPath, Buffer.concat([wasm.subarray(0, 8), ...sections]));
writeFileSync(jsPath, js);
if (mapPath) writeFileSync(mapPath, `${JSON.stringify(importNames, null, 1)}\n`);
console.error(`short-names: ${counter} names shortened`);
