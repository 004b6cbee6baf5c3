/**
 * OpenAMP's flood ping (tests/msg/rpmsg-flood-ping.c, "msg-test-rpmsg-flood-ping") against
 * the echo remote on "rpmsg-openamp-demo-channel".
 *
 * Traffic: for each data size s = 1 .. maxSize (MTU − 16), send `count` ping payloads
 * {num i, size s, 0xA5 × s} for i = 0 .. count-1 back to back with trySend — when no tx buffer
 * is free, process the rx side until one is (OpenAMP polls) — and only then wait until the
 * echo of the last one (num count-1) has arrived. OpenAMP sends 0x100000 packets per size;
 * `count` (default 32) keeps a run short. An echo is an error when its size field is 0 or
 * above 496, or its data is not 0xA5; the test stops at the first error.
 */
import { RpmsgError } from '../errors.js';
import type { Endpoint } from '../rpmsg/endpoint.js';
import { OPENAMP_DEMO_SERVICE } from './echo.js';
import { Waker, openServiceEndpoint, type HostTestContext, type HostTestResult } from './host-test.js';
import { PING_FILL, PING_HDR_SIZE, pingDataIntact, readPing } from './payload.js';

/** OpenAMP's NUMS_PACKAGES. */
export const OPENAMP_FLOOD_PACKAGES = 0x100000;
export const FLOOD_DEFAULT_PACKAGES = 32;
/** The largest size field rpmsg-flood-ping accepts (512-byte buffers). */
const FLOOD_MAX_SIZE_FIELD = 496;

export async function runFloodPing(ctx: HostTestContext): Promise<HostTestResult> {
  const waker = new Waker();
  let rnum = 0;
  let messages = 0;
  let errors = 0;
  const ept: Endpoint = await openServiceEndpoint(
    ctx,
    OPENAMP_DEMO_SERVICE,
    (_owner, data) => {
      messages++;
      const h = readPing(data);
      if (h === null || h.size === 0 || h.size > FLOOD_MAX_SIZE_FIELD || !pingDataIntact(data, h.size)) errors++;
      else rnum = h.num + 1;
      waker.notify();
    },
    { onUnbind: waker.end },
  );
  const mtu = ept.getMtu();
  const maxSize = mtu - PING_HDR_SIZE;
  const packages = ctx.count ?? FLOOD_DEFAULT_PACKAGES;
  const payload = new Uint8Array(mtu).fill(PING_FILL);
  const dv = new DataView(payload.buffer);
  const signal = ctx.signal;
  try {
    sizes: for (let s = 1; s <= maxSize; s++) {
      dv.setBigUint64(8, BigInt(s), true);
      const msg = payload.subarray(0, PING_HDR_SIZE + s);
      rnum = 0;
      for (let i = 0; i < packages; i++) {
        dv.setBigUint64(0, BigInt(i), true);
        for (;;) {
          if (errors > 0 || waker.ended) break sizes;
          try {
            ept.trySend(msg);
            break;
          } catch (e) {
            if (!(e instanceof RpmsgError) || e.code !== 'ENOMEM') throw e;
            await ept.waitWritable({ signal });
          }
        }
      }
      await waker.until(() => rnum >= packages || errors > 0 || waker.ended, signal);
      if (errors > 0 || waker.ended) break;
    }
  } finally {
    ept.destroy();
  }
  const expected = maxSize * packages;
  if (waker.ended && errors === 0) return { messages, errors, passed: false, reason: 'the remote destroyed its endpoint' };
  return { messages, errors, passed: errors === 0 && messages === expected };
}
