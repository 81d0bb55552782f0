// (b) The minimal JavaScript "decode + QR" bundle: the floor for the same work.
import { decode } from 'light-bolt11-decoder';
import QRCode from 'qrcode';
window.x = { decode, QRCode };
