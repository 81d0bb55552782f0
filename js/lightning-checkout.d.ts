/** Options of mount(); the same as the element's attributes. */
export interface CheckoutOptions {
  /** Backend base URL, e.g. "/api" or "https://shop.example/api". Required. */
  endpoint: string;
  /** Fixed amount in sats: no form, the invoice is requested at once. */
  amountSat?: number | string;
  /** Smallest amount a payer may type (default 1). */
  minSat?: number | string;
  /** Largest amount a payer may type (default 4,500,000). */
  maxSat?: number | string;
  /** Invoice description (at most 639 bytes). */
  description?: string;
  /** The shop's order id; the backend answers one open invoice per order. */
  orderId?: string;
  /** Requested invoice lifetime in seconds. */
  expirySecs?: number | string;
  /** The shop's signed order (a JWT its server made): its order id, amount (or min/max range)
   *  and description replace those options; the backend checks the signature. */
  orderToken?: string;
  /** "bitcoin" (default), "testnet", "signet" or "regtest". */
  network?: 'bitcoin' | 'testnet' | 'signet' | 'regtest';
}

/** A mounted checkout. */
export interface CheckoutHandle {
  /** Removes every listener and timer and empties the widget. */
  destroy(): void;
}

/** Mounts a checkout into element's (open) shadow root. */
export function mount(element: HTMLElement, options: CheckoutOptions): Promise<CheckoutHandle>;

/** detail of lightning-checkout:invoice */
export interface InvoiceDetail { id: string; paymentRequest: string | null; paymentHash: string | null; payUrl?: string; amountSat: number; expiresAt: number; }
/** detail of lightning-checkout:paid */
export interface PaidDetail { id: string; paymentHash: string | null; preimage: string | null; }
/** detail of lightning-checkout:expired */
export interface ExpiredDetail { id: string; }
/** detail of lightning-checkout:error */
export interface ErrorDetail { code: string; message: string; }

declare global {
  interface HTMLElementEventMap {
    'lightning-checkout:invoice': CustomEvent<InvoiceDetail>;
    'lightning-checkout:paid': CustomEvent<PaidDetail>;
    'lightning-checkout:expired': CustomEvent<ExpiredDetail>;
    'lightning-checkout:error': CustomEvent<ErrorDetail>;
  }
  interface HTMLElementTagNameMap {
    'lightning-checkout': HTMLElement;
  }
}
