/** Remote firmware: The remote of OpenAMP's flood ping: the echo service. (src/services/registry.ts) */
import { SERVICES, defineFirmware } from '../../src/index.js';

export default defineFirmware(SERVICES.flood.remote);
