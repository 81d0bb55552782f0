// Demo page only: the "Simulate the payment" control (POST /api/dev/invoices/{id}/pay, which
// exists only while the backend runs its embedded demo provider). Not part of the widget.
// Listens on the document: the widget's events bubble out of it (product.html adds its widget later).
const checkout = document;
const control = document.getElementById('demo-control');
const button = document.getElementById('simulate-payment');
const note = document.getElementById('demo-note');
let invoiceId = null;
// The control exists only while the backend runs its embedded demo provider.
const demo = fetch('/api/health').then((r) => r.json()).then((h) => h.demo_payments === true).catch(() => false);

checkout.addEventListener('lightning-checkout:invoice', async (e) => {
  invoiceId = e.detail.id;
  control.hidden = !(await demo);
  button.disabled = false;
  note.textContent = '';
});
for (const done of ['paid', 'expired']) {
  checkout.addEventListener(`lightning-checkout:${done}`, () => { button.disabled = true; });
}
// On-chain (pages with a unified QR): POST /api/dev/invoices/{id}/onchain {"confirmations": n}.
for (const [id, confirmations, said] of [
  ['simulate-mempool', 0, 'Seen in the mempool (demo); the checkout shows it is waiting for a confirmation.'],
  ['simulate-confirm', 1, 'Confirmed on-chain (demo); the checkout notices within two seconds.'],
]) {
  document.getElementById(id)?.addEventListener('click', async () => {
    if (!invoiceId) return;
    const r = await fetch(`/api/dev/invoices/${encodeURIComponent(invoiceId)}/onchain`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ confirmations }),
    }).catch(() => null);
    note.textContent = r?.ok ? said : 'The demo on-chain payment did not go through.';
  });
}
button.addEventListener('click', async () => {
  if (!invoiceId) return;
  button.disabled = true;
  const r = await fetch(`/api/dev/invoices/${encodeURIComponent(invoiceId)}/pay`, { method: 'POST' })
    .catch(() => null);
  note.textContent = r?.ok ? 'Paid by the demo provider; the checkout notices within two seconds.'
    : 'The demo payment did not go through (is the demo provider running?).';
  if (!r?.ok) button.disabled = false;
});

// The language switcher: the widget follows its `lang` attribute at once (the open invoice stays).
// "The browser's": lang="" makes the widget skip the page's lang="en" for navigator.languages.
const checkoutElement = document.getElementById('checkout');
document.getElementById('language')?.addEventListener('change', (e) => {
  checkoutElement.setAttribute('lang', e.target.value);
});
