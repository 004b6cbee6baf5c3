/** Remote firmware: OpenAMP's matrix_multiplyd: multiplies the two 6×6 matrices of each request. (src/services/registry.ts) */
import { SERVICES, defineFirmware } from '../../src/index.js';

export default defineFirmware(SERVICES.matrix.remote);
