/**
 * `rpmsg demo --ui`: after the sample has run, each sample channel keeps sending "hello world!"
 * at `rate` messages per second (the firmware echoes each one) so that the live view has
 * traffic to show, until the signal fires.
 */
import { once } from 'node:events';
import type { RpmsgBus } from '../rpmsg/bus.js';
import { SAMPLE_SERVICE } from '../../samples/rpmsg-client-sample.js';

const MSG = new TextEncoder().encode('hello world!');
const TICK_MS = 20;

export async function paceSampleTraffic(bus: RpmsgBus, rate: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return;
  let credit = 0;
  const timer = setInterval(() => {
    credit += (rate * TICK_MS) / 1000;
    for (; credit >= 1; credit--) {
      for (const ch of bus.channels) {
        if (ch.name !== SAMPLE_SERVICE || ch.ept === undefined || !ch.poll()) continue;
        ch.trySend(MSG); // poll() said a buffer is free
      }
    }
  }, TICK_MS);
  try {
    await once(signal, 'abort');
  } finally {
    clearInterval(timer);
  }
}
