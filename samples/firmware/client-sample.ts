/** Remote firmware: announces "rpmsg-client-sample" and echoes every message. */
import { defineFirmware } from '../../src/index.js';
import { serveEcho } from './echo-service.js';

export default defineFirmware((ctx) => {
  serveEcho(ctx, 'rpmsg-client-sample');
});
