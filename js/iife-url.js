// Injected into the classic-script build (lightning-checkout.iife.js) as `import.meta.url`:
// the URL of the <script> that is running, read while it runs, so the .wasm is found next to it.
export const scriptUrl = globalThis.document?.currentScript?.src;
