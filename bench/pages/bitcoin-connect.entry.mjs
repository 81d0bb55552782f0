// (a) Bitcoin Connect's payment modal, as a page would load it.
import { launchPaymentModal } from '@getalby/bitcoin-connect';
window.x = launchPaymentModal;
