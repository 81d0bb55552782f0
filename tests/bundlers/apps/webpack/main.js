// The README's webpack 5 recipe: import the package; webpack emits the wasm as an asset.
import 'lightning-checkout';

document.querySelector('lightning-checkout').setAttribute('endpoint', new URLSearchParams(location.search).get('api'));
