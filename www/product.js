// Demo page only: stands in for the shop's server, which would render the signed order into the
// page (<lightning-checkout order-token="…">). Here the backend's demo-only POST /api/dev/orders
// signs it (that route exists only with the embedded demo provider).
// The order is the slot's data-order (JSON), else the sticker pack.
const slot = document.getElementById('product-checkout');
const order = slot.dataset.order ? JSON.parse(slot.dataset.order) : { amount_sat: 4200, description: 'Sticker pack (demo)' };
const r = await fetch('/api/dev/orders', {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(order),
}).catch(() => null);
if (r?.ok) {
  const { order_token: token } = await r.json();
  const checkout = document.createElement('lightning-checkout');
  checkout.setAttribute('endpoint', '/api');
  checkout.setAttribute('network', 'regtest');
  checkout.setAttribute('order-token', token);
  // data-unified: a unified QR (on-chain address beside the invoice).
  if (slot.dataset.unified !== undefined) checkout.setAttribute('unified', '');
  slot.replaceChildren(checkout);
} else {
  slot.textContent = 'The demo order could not be signed (is the backend running its demo provider?).';
}
