/**
 * OpenAMP's echo demo on "rpmsg-openamp-demo-channel".
 *
 * Remote (apps/examples/echo/rpmsg-echo.c): every message goes back to its sender unchanged;
 * a message whose first u32 is SHUTDOWN_MSG, or the host destroying its endpoint, ends the
 * service (the endpoint is destroyed, which announces DESTROY).
 *
 * Host (tests/msg/rpmsg-ping.c, "msg-test-rpmsg-ping"): announce, wait until bound, then for
 * i = 0 .. maxSize-1 send the ping payload {num i, size i+1, 0xA5 × (i+1)} (17..496 bytes with
 * 512-byte buffers: maxSize = MTU − 16 = 480) and wait for its echo; then destroy the endpoint.
 * An echo is an error when its size field is 0 or its data is not 0xA5 (OpenAMP's checks) or
 * when it differs from what was sent in any byte (ours).
 */
import type { FirmwareContext } from '../platform/firmware.js';
import type { Endpoint } from '../rpmsg/endpoint.js';
import { openMailbox, type HostTestContext, type HostTestResult } from './host-test.js';
import { isShutdown, pingCount, pingDataIntact, pingPayload, readPing } from './payload.js';

export const OPENAMP_DEMO_SERVICE = 'rpmsg-openamp-demo-channel';

/**
 * OpenAMP's remotes on SHUTDOWN_MSG: log it and destroy the endpoint (which announces DESTROY).
 * True when `data` was the shutdown message.
 */
export function endOnShutdown(data: Uint8Array, ept: { destroy(): void }, log: (line: string) => void): boolean {
  if (!isShutdown(data)) return false;
  log('shutdown message is received');
  ept.destroy();
  return true;
}

/**
 * Send `data` back to `dst`: at once when a tx buffer is free, else a copy waits for one (the
 * received view is only valid during the callback). Resolves when it has left.
 */
export function echoTo(ept: Endpoint, data: Uint8Array, dst: number, log: (line: string) => void): Promise<void> {
  if (ept.poll()) {
    ept.trySendTo(data, dst);
    return Promise.resolve();
  }
  return ept.sendTo(data.slice(), dst).catch((e: unknown) => log(`echo failed: ${String(e)}`));
}

/**
 * The echo remote. Returns its endpoint. `shutdown: false` echoes everything, SHUTDOWN_MSG
 * included, and outlives the host's DESTROY (a raw byte service such as rpmsg-tty).
 */
export function serveEcho(ctx: FirmwareContext, name = OPENAMP_DEMO_SERVICE, options: { shutdown?: boolean } = {}): Endpoint {
  const openamp = options.shutdown ?? true;
  const ept: Endpoint = ctx.createEndpoint(
    (_owner, data, src) => {
      if (openamp && endOnShutdown(data, ept, ctx.log)) return;
      void echoTo(ept, data, src, ctx.log);
    },
    openamp ? { name, onUnbind: () => ept.destroy() } : { name },
  );
  return ept;
}

/** Errors in one echo of `sent`, as OpenAMP counts them plus a byte comparison (0 or 1). */
export function pingEchoErrors(got: Uint8Array, sent: Uint8Array): number {
  const h = readPing(got);
  if (h === null || h.size === 0 || !pingDataIntact(got, h.size)) return 1;
  if (got.length !== sent.length) return 1;
  for (let i = 0; i < got.length; i++) if (got[i] !== sent[i]) return 1;
  return 0;
}

/** The echo ping host test. `count` limits the number of payloads (default: all sizes up to the MTU). */
export async function runEchoPing(ctx: HostTestContext, name = OPENAMP_DEMO_SERVICE): Promise<HostTestResult> {
  const { ept, box } = await openMailbox(ctx, name);
  const total = pingCount(ept.getMtu(), ctx.count);
  let messages = 0;
  let errors = 0;
  try {
    for (let i = 0; i < total && !box.ended; i++) {
      const sent = pingPayload(i, i + 1);
      await ept.send(sent, { signal: ctx.signal });
      const got = await box.next(ctx.signal);
      if (got === null) break;
      messages++;
      errors += pingEchoErrors(got, sent);
    }
  } finally {
    ept.destroy(); // NS DESTROY: OpenAMP's echo remote ends on it
  }
  if (box.ended && messages < total) return { messages, errors, passed: false, reason: 'the remote destroyed its endpoint' };
  return { messages, errors, passed: errors === 0 && messages === total };
}
