/**
 * Shared by the sample firmwares: announce `name` and send every message back to its sender
 * (OpenAMP's rpmsg-echo). The echo goes out at once when a tx buffer is free; otherwise a copy
 * waits for one (the received view is only valid during the callback).
 */
import type { Endpoint, FirmwareContext } from '../../src/index.js';

export function serveEcho(ctx: FirmwareContext, name: string): Endpoint {
  return ctx.createEndpoint(
    (ep, data, src) => {
      if (ep.poll()) ep.trySendTo(data, src);
      else ep.sendTo(data.slice(), src).catch((e: unknown) => ctx.log(`echo failed: ${String(e)}`));
    },
    { name },
  );
}
