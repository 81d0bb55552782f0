// The JavaScript libraries timed by the speed page, bundled for the browser (bench/run.mjs).
import bolt11 from 'bolt11';
import QRCode from 'qrcode';

export { decode as lightDecode } from 'light-bolt11-decoder';
export const bolt11Decode = bolt11.decode;
export { QRCode };
