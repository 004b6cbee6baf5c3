/**
 * Remote firmware: a virtual UART for the kernel's rpmsg_tty. It announces "rpmsg-tty" (Linux
 * makes it /dev/ttyRPMSGN) and sends every byte it receives back, as vendors' tty examples do:
 * raw bytes, no framing, each message at most the MTU either way (src/services/registry.ts).
 */
import { SERVICES, TTY_SERVICE, defineFirmware } from '../../src/index.js';

export { TTY_SERVICE };

export default defineFirmware(SERVICES.tty.remote);
