/** Remote firmware: OpenAMP's rpmsg-sample-echo: "rpmsg-client-sample", echoes 100 messages (ctx.options.count), then destroys its endpoint. (src/services/registry.ts) */
import { SERVICES, defineFirmware } from '../../src/index.js';

export default defineFirmware(SERVICES.sample.remote);
