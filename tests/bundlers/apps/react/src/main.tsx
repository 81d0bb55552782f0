// The README's React 19 + TypeScript recipe: importing the package brings the element's JSX
// types; `onlightning-checkout:*` props are event listeners (React 19 custom elements).
import { StrictMode, useState } from 'react';
import { createRoot } from 'react-dom/client';
import 'lightning-checkout';
import type { PaidDetail } from 'lightning-checkout';

const endpoint = new URLSearchParams(location.search).get('api') ?? '/api';

function Checkout() {
  const [paid, setPaid] = useState<PaidDetail | null>(null);
  return (
    <>
      <lightning-checkout
        endpoint={endpoint}
        amount-sat={2100}
        description="React shop"
        network="regtest"
        onlightning-checkout:paid={(e) => setPaid(e.detail)}
      />
      {paid && <p>Thank you, paid ({paid.id}).</p>}
    </>
  );
}

// The tag map types the element, and its events carry typed details.
document.querySelector('lightning-checkout')?.addEventListener('lightning-checkout:invoice', (e) => {
  const sats: number = e.detail.amountSat;
  console.info(`invoice for ${sats} sat`);
});
createRoot(document.getElementById('root')!).render(<StrictMode><Checkout /></StrictMode>);
