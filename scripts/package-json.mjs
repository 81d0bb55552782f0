// Prints pkg/package.json: the npm package a shop installs (or a script tag loads from a CDN).
import { readFileSync } from 'node:fs';

const cargo = readFileSync(new URL('../Cargo.toml', import.meta.url), 'utf8');
const field = (name) => cargo.match(new RegExp(`^${name} = "([^"]*)"`, 'm'))?.[1];

console.log(JSON.stringify({
  name: 'lightning-checkout',
  version: field('version'),
  description: field('description'),
  license: field('license'),
  type: 'module',
  module: 'lightning-checkout.js',
  main: 'lightning-checkout.js',
  types: 'lightning-checkout.d.ts',
  exports: {
    '.': { types: './lightning-checkout.d.ts', default: './lightning-checkout.js' },
    './lightning_checkout_bg.wasm': './lightning_checkout_bg.wasm',
  },
  files: [
    'lightning-checkout.js',
    'lightning-checkout.d.ts',
    'lightning_checkout_bg.wasm',
    'lightning_checkout_bg.wasm.d.ts',
    'README.md',
  ],
  sideEffects: ['./lightning-checkout.js'],
  keywords: ['lightning', 'bitcoin', 'bolt11', 'checkout', 'web-component', 'wasm'],
}, null, 2));
