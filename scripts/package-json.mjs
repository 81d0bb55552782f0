// Prints pkg/package.json: the npm package a shop installs (or a script tag loads from a CDN).
import { readFileSync } from 'node:fs';

const cargo = readFileSync(new URL('../Cargo.toml', import.meta.url), 'utf8');
const field = (name) => cargo.match(new RegExp(`^${name} = "([^"]*)"`, 'm'))?.[1];
const repository = field('repository').replace(/\/$/, '');

console.log(JSON.stringify({
  name: 'lightning-checkout',
  version: field('version'),
  description: field('description'),
  license: field('license'),
  repository: { type: 'git', url: `git+${repository}.git` },
  homepage: `${repository}#readme`,
  bugs: { url: `${repository}/issues` },
  type: 'module',
  module: './lightning-checkout.js',
  main: './lightning-checkout.js',
  types: './lightning-checkout.d.ts',
  // Classic <script src> from a CDN (unpkg and jsDelivr read these): the iife build.
  unpkg: './lightning-checkout.iife.js',
  jsdelivr: './lightning-checkout.iife.js',
  exports: {
    '.': { types: './lightning-checkout.d.ts', default: './lightning-checkout.js' },
    './iife': './lightning-checkout.iife.js',
    './lightning_checkout_bg.wasm': './lightning_checkout_bg.wasm',
    './locales/*': './locales/*',
    './package.json': './package.json',
  },
  files: [
    'lightning-checkout.js',
    'lightning-checkout.iife.js',
    'lightning-checkout.d.ts',
    'lightning_checkout_bg.wasm',
    'locales/',
    'README.md',
    'LICENSE-MIT',
    'LICENSE-APACHE',
  ],
  sideEffects: ['./lightning-checkout.js', './lightning-checkout.iife.js'],
  keywords: ['lightning', 'bitcoin', 'bolt11', 'checkout', 'web-component', 'custom-element', 'wasm'],
}, null, 2));
