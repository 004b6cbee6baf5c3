/**
 * Remote firmware: a virtual UART for the kernel's rpmsg_tty. It announces "rpmsg-tty" (Linux
 * makes it /dev/ttyRPMSGN) and sends every byte it receives back, as vendors' tty examples do:
 * raw bytes, no framing, each message at most the MTU either way.
 */
import { defineFirmware } from '../../src/index.js';
import { serveEcho } from './echo-service.js';

export const TTY_SERVICE = 'rpmsg-tty';

export default defineFirmware((ctx) => {
  serveEcho(ctx, TTY_SERVICE);
});
