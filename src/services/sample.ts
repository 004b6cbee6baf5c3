/**
 * OpenAMP's rpmsg sample on "rpmsg-client-sample" (the Linux samples/rpmsg_client_sample
 * service name; apps/examples/rpmsg_sample_echo).
 *
 * Remote (rpmsg-sample-echo.c): echoes the first `limit` (MSG_LIMIT = 100) messages to their
 * sender; right after sending the last echo it destroys its endpoint, which announces DESTROY.
 * Later messages are ignored. The host destroying its endpoint ends it too.
 *
 * Host (rpmsg-sample-ping.c): announce, wait until bound, send "hello world!" (12 bytes,
 * no NUL) 99 times and "goodbye!" (8 bytes) the 100th time, each time waiting for the echo;
 * an echo that is not the message sent is an error. Then wait for the remote to destroy its
 * endpoint (rpmsg-sample-ping waits for that before it ends), then destroy its own.
 */
import type { FirmwareContext } from '../platform/firmware.js';
import type { Endpoint } from '../rpmsg/endpoint.js';
import { echoTo } from './echo.js';
import { openMailbox, type HostTestContext, type HostTestResult } from './host-test.js';

export const SAMPLE_SERVICE = 'rpmsg-client-sample';
export const SAMPLE_LIMIT = 100;
export const HELLO_MSG = new TextEncoder().encode('hello world!');
export const BYE_MSG = new TextEncoder().encode('goodbye!');
/** How long the host waits for the remote's DESTROY after the last echo. */
const DESTROY_WAIT_MS = 5000;

/** The sample remote; `ctx.options.count` overrides the limit of 100. */
export function serveSample(ctx: FirmwareContext, limit = sampleLimit(ctx.options.count)): Endpoint {
  let count = 0;
  const ept: Endpoint = ctx.createEndpoint(
    (_owner, data, src) => {
      if (++count > limit) return;
      if (count < limit) {
        void echoTo(ept, data, src, ctx.log);
        return;
      }
      // The last echo and the DESTROY go out in one batch (one kick) when a buffer is free:
      // OpenAMP's sample-ping only sees a DESTROY that it reads before it destroys its own
      // endpoint, i.e. in the same pass over its rx ring as the last echo.
      const done = (): void => {
        ctx.log(`sample: ${limit} messages echoed, destroying the endpoint`);
        ept.destroy();
      };
      if (ept.poll()) {
        ept.trySendTo(data, src);
        done();
      } else {
        void echoTo(ept, data, src, ctx.log).then(done);
      }
    },
    { name: SAMPLE_SERVICE, onUnbind: () => ept.destroy() },
  );
  return ept;
}

function sampleLimit(v: unknown): number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 1 ? v : SAMPLE_LIMIT;
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The sample ping host test (`count` messages, the last one "goodbye!"). */
export async function runSamplePing(ctx: HostTestContext): Promise<HostTestResult> {
  const { ept, box } = await openMailbox(ctx, SAMPLE_SERVICE);
  const total = sampleLimit(ctx.count);
  let messages = 0;
  let errors = 0;
  let reason: string | undefined;
  try {
    for (let i = 1; i <= total; i++) {
      const msg = i < total ? HELLO_MSG : BYE_MSG;
      if (!box.ended) await ept.send(msg, { signal: ctx.signal });
      const got = box.ended ? null : await box.next(ctx.signal);
      if (got === null) {
        reason = `the remote destroyed its endpoint after ${messages} messages`;
        break;
      }
      messages++;
      if (!same(got, msg)) errors++;
    }
    if (reason === undefined) {
      const t = AbortSignal.any([ctx.signal, AbortSignal.timeout(DESTROY_WAIT_MS)]);
      await box.waker.until(() => box.ended, t).catch(() => {
        reason = `the remote did not destroy its endpoint within ${DESTROY_WAIT_MS} ms`;
      });
      if (box.ended) ctx.log('rpmsg host: the remote destroyed its endpoint');
    }
  } finally {
    ept.destroy();
  }
  return { messages, errors, passed: reason === undefined && errors === 0 && messages === total, ...(reason ? { reason } : {}) };
}
