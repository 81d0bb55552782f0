// `bolt11` is written for Node: esbuild injects these browser stand-ins for its globals
// (what a page's bundler would do for it).
import process from 'process/browser.js';
import { Buffer } from 'buffer';

export { process, Buffer };
