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
  /** A fiat price's ISO 4217 code, e.g. "EUR" (with fiatAmount, instead of amountSat). */
  currency?: string;
  /** A fiat price as decimal text, e.g. "4.50" (a number is refused): the backend converts it. */
  fiatAmount?: string;
  /** A unified BIP21 QR (bitcoin:ADDRESS?amount=…&lightning=INVOICE) where the backend gives
   *  an on-chain address; Copy then offers the address too. */
  unified?: boolean;
  /** The widget's language, e.g. "de" or "pt-BR" (else the element's closest [lang], else the
   *  browser's languages); English, es, pt-BR, de, fr, it, ja, zh-CN, ru, tr, ar. */
  lang?: string;
  /** The shop's own texts, by key, over the language's (placeholders such as {amount} kept). */
  messages?: Messages;
  /** How long a browser wallet (WebLN) may take to pay, in ms (default 60000). */
  weblnTimeoutMs?: number | string;
}

/** The key of every sentence the widget shows (README, Languages). */
export type MessageKey =
  | 'amount_label'
  | 'submit'
  | 'sat'
  | 'amount_empty'
  | 'amount_not_a_number'
  | 'amount_fractional'
  | 'amount_negative'
  | 'amount_bad_grouping'
  | 'amount_too_small'
  | 'amount_too_large'
  | 'amount_invalid_bounds'
  | 'invoice_region'
  | 'qr_label'
  | 'qr_label_link'
  | 'open_wallet'
  | 'pay_with_kraken'
  | 'copy'
  | 'copied'
  | 'copy_label'
  | 'copied_label'
  | 'copy_address'
  | 'address_copied'
  | 'copy_blocked'
  | 'no_wallet'
  | 'expires_in'
  | 'webln'
  | 'webln_sent'
  | 'webln_failed'
  | 'webln_timeout'
  | 'webln_bad_proof'
  | 'creating'
  | 'onchain_seen'
  | 'onchain_confirmations'
  | 'waiting'
  | 'waiting_unconfirmed'
  | 'waiting_flaky'
  | 'paid_amount'
  | 'paid'
  | 'expired'
  | 'new_invoice'
  | 'retry'
  | 'change_amount'
  | 'server_wrong_amount'
  | 'link_expired'
  | 'preimage_mismatch'
  | 'internal'
  | 'backend_timeout'
  | 'backend_unreachable'
  | 'response_too_large'
  | 'connection_broke'
  | 'backend_refused'
  | 'rate_limited'
  | 'backend_error'
  | 'bad_response'
  | 'no_invoice'
  | 'bad_pay_url'
  | 'invoice_empty'
  | 'invoice_too_long'
  | 'invoice_not_lightning'
  | 'invoice_invalid'
  | 'invoice_checksum'
  | 'invoice_unknown_network'
  | 'invoice_wrong_network'
  | 'invoice_no_amount'
  | 'invoice_wrong_amount'
  | 'invoice_hash_mismatch'
  | 'invoice_expired'
  | 'invoice_too_long_for_qr'
  | 'load_csp_blocked'
  | 'load_wasm_not_found'
  | 'load_network';

/** Texts by key: a shop's overrides of the widget's sentences. */
export type Messages = Partial<Record<MessageKey, string>>;

/** A mounted checkout. */
export interface CheckoutHandle {
  /** Removes every listener and timer and empties the widget. */
  destroy(): void;
}

/** Where the widget's WebAssembly is (see init()). */
export type InitOptions =
  | ({ /** URL of lightning_checkout_bg.wasm (a bundler's asset URL, a CDN). */ wasmUrl: string | URL; module?: never } & LocalesOption)
  | ({
      /** The wasm itself: compiled, its bytes, or a fetch() of it. */
      module: WebAssembly.Module | BufferSource | Response | Promise<Response>;
      wasmUrl?: never;
    } & LocalesOption)
  | ({ wasmUrl?: never; module?: never } & LocalesOption);

/** Where the locale files (de.json, …) are, when not in locales/ next to the script. */
export interface LocalesOption { localesUrl?: string | URL; }

/**
 * Says where the widget's .wasm is and loads it; call it before the first element connects or
 * mount() runs. Without it, the .wasm is fetched from next to the script. Rejects with a
 * LoadError when the widget cannot load.
 */
export function init(options?: InitOptions): Promise<void>;

/** Starts downloading and compiling the widget now; resolves once it is ready. */
export function preload(): Promise<void>;

/**
 * Mounts a checkout into element's (open) shadow root. Rejects with a TypeError on a missing
 * element or options, with an Error naming the attribute on a bad option, and with a LoadError
 * when the widget cannot load.
 */
export function mount(element: HTMLElement, options: CheckoutOptions): Promise<CheckoutHandle>;

/** Codes of load failures (the `lightning-checkout:error` event's detail.code, LoadError.code). */
export type LoadErrorCode = 'wasm_not_found' | 'csp_blocked' | 'network';

/** Why the widget could not load. */
export interface LoadError extends Error {
  name: 'LightningCheckoutLoadError';
  code: LoadErrorCode;
  /** The .wasm URL concerned, when there is one. */
  url?: string;
}

/** detail of lightning-checkout:invoice */
export interface InvoiceDetail { id: string; paymentRequest: string | null; paymentHash: string | null; payUrl?: string; amountSat: number; expiresAt: number; }
/** detail of lightning-checkout:paid */
export interface PaidDetail { id: string; paymentHash: string | null; preimage: string | null; }
/** detail of lightning-checkout:expired */
export interface ExpiredDetail { id: string; }
/** detail of lightning-checkout:error: a stable code (invalid_config, backend_unreachable,
 * invoice_expired, wasm_not_found, csp_blocked, network, …) and one sentence. */
export interface ErrorDetail { code: string; message: string; /** for load failures: the .wasm URL */ url?: string; }

/** The element's events. */
export interface LightningCheckoutEventMap {
  'lightning-checkout:invoice': CustomEvent<InvoiceDetail>;
  'lightning-checkout:paid': CustomEvent<PaidDetail>;
  'lightning-checkout:expired': CustomEvent<ExpiredDetail>;
  'lightning-checkout:error': CustomEvent<ErrorDetail>;
}

/** The attributes of <lightning-checkout>, as written in HTML (numbers as text). */
export interface LightningCheckoutAttributes {
  endpoint: string;
  'amount-sat'?: number | string;
  'min-sat'?: number | string;
  'max-sat'?: number | string;
  description?: string;
  'order-id'?: string;
  'expiry-secs'?: number | string;
  network?: 'bitcoin' | 'testnet' | 'signet' | 'regtest';
  currency?: string;
  'fiat-amount'?: string;
  unified?: boolean | '';
  /** The widget's language (see CheckoutOptions.lang). */
  lang?: string;
  'webln-timeout-ms'?: number | string;
}

/** <lightning-checkout>: configured by its attributes, restarted when one changes. */
export interface LightningCheckoutElement extends HTMLElement {
  /** The shop's own texts, by key, over the language's; setting it restarts the widget. */
  messages: Messages | undefined;
  addEventListener<K extends keyof LightningCheckoutEventMap>(type: K, listener: (this: LightningCheckoutElement, ev: LightningCheckoutEventMap[K]) => unknown, options?: boolean | AddEventListenerOptions): void;
  addEventListener<K extends keyof HTMLElementEventMap>(type: K, listener: (this: LightningCheckoutElement, ev: HTMLElementEventMap[K]) => unknown, options?: boolean | AddEventListenerOptions): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject, options?: boolean | AddEventListenerOptions): void;
  removeEventListener<K extends keyof LightningCheckoutEventMap>(type: K, listener: (this: LightningCheckoutElement, ev: LightningCheckoutEventMap[K]) => unknown, options?: boolean | EventListenerOptions): void;
  removeEventListener<K extends keyof HTMLElementEventMap>(type: K, listener: (this: LightningCheckoutElement, ev: HTMLElementEventMap[K]) => unknown, options?: boolean | EventListenerOptions): void;
  removeEventListener(type: string, listener: EventListenerOrEventListenerObject, options?: boolean | EventListenerOptions): void;
}

/** Props of <lightning-checkout> in JSX (React 19 passes on* props of custom elements as
 * event listeners). */
export interface LightningCheckoutJsxProps extends LightningCheckoutAttributes {
  id?: string;
  class?: string;
  className?: string;
  style?: Record<string, string | number>;
  slot?: string;
  hidden?: boolean;
  key?: string | number | bigint | null;
  ref?: unknown;
  children?: never;
  'onlightning-checkout:invoice'?: (event: CustomEvent<InvoiceDetail>) => void;
  'onlightning-checkout:paid'?: (event: CustomEvent<PaidDetail>) => void;
  'onlightning-checkout:expired'?: (event: CustomEvent<ExpiredDetail>) => void;
  'onlightning-checkout:error'?: (event: CustomEvent<ErrorDetail>) => void;
}

declare global {
  interface HTMLElementEventMap extends LightningCheckoutEventMap {}
  interface HTMLElementTagNameMap {
    'lightning-checkout': LightningCheckoutElement;
  }
  // The JSX namespace of React's types (react-jsx runtime and the global one).
  namespace JSX {
    interface IntrinsicElements {
      'lightning-checkout': LightningCheckoutJsxProps;
    }
  }
}

declare module 'react' {
  namespace JSX {
    interface IntrinsicElements {
      'lightning-checkout': LightningCheckoutJsxProps;
    }
  }
}
