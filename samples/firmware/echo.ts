/** Remote firmware: OpenAMP's echo service, "rpmsg-openamp-demo-channel". */
import { defineFirmware } from '../../src/index.js';
import { serveEcho } from './echo-service.js';

export const ECHO_SERVICE = 'rpmsg-openamp-demo-channel';

export default defineFirmware((ctx) => {
  serveEcho(ctx, ECHO_SERVICE);
});
