/** Remote firmware: OpenAMP's rpmsg-echo: announces "rpmsg-openamp-demo-channel" and echoes every message. (src/services/registry.ts) */
import { SERVICES, defineFirmware } from '../../src/index.js';

export default defineFirmware(SERVICES.echo.remote);
