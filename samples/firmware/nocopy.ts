/** Remote firmware: OpenAMP's rpmsg-nocopy-echo: echoes with held rx buffers and zero-copy tx buffers. (src/services/registry.ts) */
import { SERVICES, defineFirmware } from '../../src/index.js';

export default defineFirmware(SERVICES.nocopy.remote);
