/**
 * Remote firmware for `rpmsg demo`: announces "rpmsg-client-sample" and echoes every message,
 * for as long as the host sends (the live view keeps traffic going after the sample). OpenAMP's
 * rpmsg-sample-echo, which stops after 100, is samples/firmware/sample.ts.
 */
import { SAMPLE_SERVICE, defineFirmware, serveEcho } from '../../src/index.js';

export default defineFirmware((ctx) => {
  serveEcho(ctx, SAMPLE_SERVICE, { shutdown: false });
});
