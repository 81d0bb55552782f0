// The README's esbuild recipe: the wasm as a file asset (--loader:.wasm=file), its URL given to
// init() before the element loads it. Works in esbuild's default (iife) format.
import { init } from 'lightning-checkout';
import wasmUrl from 'lightning-checkout/lightning_checkout_bg.wasm';

init({ wasmUrl });

document.querySelector('lightning-checkout').setAttribute('endpoint', new URLSearchParams(location.search).get('api'));
