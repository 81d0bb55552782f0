// The test serves the backend on another origin and names it in the query.
document.querySelector('lightning-checkout').setAttribute('endpoint', new URLSearchParams(location.search).get('api'));

// Once the page has loaded, the iife build's global and the element are there.
addEventListener('load', () => {
  if (typeof globalThis.LightningCheckout?.mount !== 'function' || !customElements.get('lightning-checkout')) {
    throw new Error('the iife build did not define LightningCheckout and the element');
  }
});
