/** Worker side of the baselines: MessagePort sink/echo, a ringbuf.js consumer, the bare ring. */
import { parentPort, workerData } from 'node:worker_threads';
import { RingBuffer } from 'ringbuf.js';
import { BARE_RING_BYTES, BareRing, bareReceive, bareSend } from './bare-ring.js';

const port = parentPort!;
const mode = (workerData as { mode: string }).mode;

if (mode === 'mp') {
  // Sink: ack every 128 messages (the sender keeps ≤ 256 in flight). Echo: send each back.
  let count = 0;
  let echo = false;
  port.on('message', (m: Uint8Array | { echo: boolean }) => {
    if (m instanceof Uint8Array) {
      if (echo) port.postMessage(m);
      else if (++count % 128 === 0) port.postMessage(count);
      return;
    }
    echo = m.echo;
    count = 0;
  });
} else if (mode === 'ringbuf') {
  port.on('message', (m: { sab: SharedArrayBuffer; n: number; size: number }) => {
    const rb = new RingBuffer(m.sab, Uint8Array);
    const dst = new Uint8Array(m.size);
    let count = 0;
    while (count < m.n) {
      if (rb.available_read() >= m.size) {
        rb.pop(dst);
        count++;
      }
    }
    port.postMessage(count);
  });
} else if (mode === 'bare') {
  // Rings: [0] main → worker, [1] worker → main; `wake` uses its own words (0: ping, 1: pong).
  const { sab } = workerData as { sab: SharedArrayBuffer };
  const h2r = new BareRing(sab, 0, 32);
  const r2h = new BareRing(sab, BARE_RING_BYTES, 32);
  port.on('message', (m: { op: string; n: number; size: number; wake?: SharedArrayBuffer }) => {
    if (m.op === 'sink') {
      port.postMessage(bareReceive(h2r, m.n));
    } else if (m.op === 'source') {
      bareSend(r2h, new Uint8Array(m.size).fill(7), m.n);
      port.postMessage(0);
    } else if (m.op === 'echo') {
      const u8 = h2r.u8;
      for (let i = 0; i < m.n; i++) {
        let src: number;
        while ((src = h2r.peek()) < 0);
        let dst: number;
        while ((dst = r2h.reserve()) < 0);
        const len = h2r.length(src);
        u8.copyWithin(dst, src, src + len);
        r2h.commit(len);
        r2h.publish();
        h2r.release();
      }
      port.postMessage(0);
    } else if (m.op === 'wake') {
      // Parked in Atomics.waitAsync (as rpmsg's poll loop parks), answer ping i with pong i.
      const w32 = new Int32Array(m.wake!);
      void (async () => {
        for (let i = 0; i < m.n; i++) {
          const r = Atomics.waitAsync(w32, 0, i);
          if (r.async) await r.value;
          Atomics.add(w32, 1, 1);
          Atomics.notify(w32, 1);
        }
        port.postMessage(0);
      })();
    }
  });
}
