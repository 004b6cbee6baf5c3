/**
 * OpenAMP's zero-copy echo on "rpmsg-openamp-demo-channel" (apps/examples/nocopy_echo,
 * tests/msg/rpmsg-nocopy-echo.c and rpmsg-nocopy-ping.c), zero-copy on both sides.
 *
 * Remote: at start it takes 10 tx buffers and gives 9 back unsent, keeping one (OpenAMP's test
 * of the buffer reclaimer: that buffer must never come back). Each message is held in its rx
 * buffer past the callback, then copied straight from that buffer into a tx buffer taken with
 * getTxPayloadBuffer, sent with sendNocopy to its sender, and the rx buffer released; every
 * 13th echo it also takes a tx buffer and releases it unsent, and checks it is not the kept
 * one. SHUTDOWN_MSG or the host's DESTROY end the service.
 *
 * Host (rpmsg-nocopy-ping): announce, wait until bound; for i = 0 .. maxSize-1 fill a tx
 * payload buffer in place with the ping payload {num i, size i+1, 0xA5 × (i+1)}, sendNocopy,
 * hold the echo's rx buffer, check it (num = i, size ≠ 0, data 0xA5: one error per bad echo),
 * release it. Then destroy the endpoint.
 */
import type { FirmwareContext } from '../platform/firmware.js';
import type { Endpoint } from '../rpmsg/endpoint.js';
import type { RxBufferHold, TxBuffer } from '../rpmsg/ops.js';
import { endOnShutdown, OPENAMP_DEMO_SERVICE } from './echo.js';
import { Waker, openServiceEndpoint, type HostTestContext, type HostTestResult } from './host-test.js';
import { pingCount, pingDataIntact, readPing, writePing } from './payload.js';

/** MAX_NB_TX_BUFF of rpmsg-nocopy-echo.c. */
const RECLAIM_BUFFERS = 10;

/** The zero-copy echo remote. */
export function serveNocopyEcho(ctx: FirmwareContext, name = OPENAMP_DEMO_SERVICE): Endpoint {
  const queue: { hold: RxBufferHold; src: number }[] = [];
  let draining = false;
  let sent = 0;
  let kept: TxBuffer | undefined;

  const drain = async (): Promise<void> => {
    draining = true;
    try {
      while (queue.length > 0 && !ept.destroyed) {
        const { hold, src } = queue[0]!;
        const tx = await ept.getTxPayloadBuffer();
        tx.data.set(hold.data);
        ept.sendNocopyTo(tx, hold.data.length, src);
        queue.shift();
        ept.releaseRxBuffer(hold);
        if (sent++ % 13 === 0) {
          const spare = await ept.getTxPayloadBuffer();
          if (spare === kept) ctx.log('nocopy: error: got the kept tx buffer back');
          ept.releaseTxBuffer(spare);
        }
      }
    } catch (e) {
      if (!ept.destroyed) ctx.log(`nocopy echo failed: ${String(e)}`);
    } finally {
      draining = false;
    }
  };

  const ept: Endpoint = ctx.createEndpoint(
    (owner, data, src) => {
      if (endOnShutdown(data, ept, ctx.log)) return;
      queue.push({ hold: (owner as Endpoint).holdRxBuffer(data), src });
      if (!draining) void drain();
    },
    { name, onUnbind: () => ept.destroy() },
  );

  // The reclaimer test: take 10 buffers (as many as are free), give all but the last back.
  const taken: TxBuffer[] = [];
  for (let i = 0; i < RECLAIM_BUFFERS; i++) {
    try {
      taken.push(ept.tryGetTxPayloadBuffer());
    } catch {
      break; // fewer free buffers than 10: test with those
    }
  }
  kept = taken.pop();
  for (const b of taken) ept.releaseTxBuffer(b);
  return ept;
}

/** Errors in one held echo of ping `num` (0 or 1), as rpmsg_check_rcv_msg checks it. */
export function nocopyEchoErrors(data: Uint8Array, num: number): number {
  const h = readPing(data);
  if (h === null || h.num !== num || h.size === 0 || !pingDataIntact(data, h.size)) return 1;
  return 0;
}

/** The zero-copy ping host test (`count` payloads, default all sizes up to the MTU). */
export async function runNocopyPing(ctx: HostTestContext): Promise<HostTestResult> {
  const waker = new Waker();
  let held: RxBufferHold | undefined;
  const ept = await openServiceEndpoint(
    ctx,
    OPENAMP_DEMO_SERVICE,
    (owner, data) => {
      const e = owner as Endpoint;
      if (held !== undefined) return; // one echo in flight: anything else is not ours to keep
      held = e.holdRxBuffer(data);
      waker.notify();
    },
    { onUnbind: waker.end },
  );
  const total = pingCount(ept.getMtu(), ctx.count);
  let messages = 0;
  let errors = 0;
  try {
    for (let i = 0; i < total && !waker.ended; i++) {
      const tx = await ept.getTxPayloadBuffer({ signal: ctx.signal });
      const len = writePing(tx.data, i, i + 1);
      ept.sendNocopy(tx, len);
      await waker.until(() => held !== undefined || waker.ended, ctx.signal);
      const h = held;
      if (h === undefined) break;
      held = undefined;
      messages++;
      errors += nocopyEchoErrors(h.data, i);
      ept.releaseRxBuffer(h);
    }
  } finally {
    if (held !== undefined) ept.releaseRxBuffer(held);
    ept.destroy();
  }
  if (waker.ended && messages < total) return { messages, errors, passed: false, reason: 'the remote destroyed its endpoint' };
  return { messages, errors, passed: errors === 0 && messages === total };
}
