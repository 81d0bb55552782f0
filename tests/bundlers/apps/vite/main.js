// The README's Vite recipe: import the package; Vite finds and emits the wasm by itself.
import 'lightning-checkout';

// The test serves the backend on another origin and names it in the query.
document.querySelector('lightning-checkout').setAttribute('endpoint', new URLSearchParams(location.search).get('api'));
