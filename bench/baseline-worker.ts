/** Worker side of the baselines: MessagePort sink/echo and a ringbuf.js consumer. */
import { parentPort, workerData } from 'node:worker_threads';
import { RingBuffer } from 'ringbuf.js';

const port = parentPort!;
const mode = (workerData as { mode: string }).mode;

if (mode === 'mp') {
  // Sink: ack every 128 messages (the sender keeps ≤ 256 in flight). Echo: send each back.
  let count = 0;
  port.on('message', (m: Uint8Array | { echo: boolean; reset?: boolean }) => {
    if (m instanceof Uint8Array) {
      if (echo) port.postMessage(m);
      else if (++count % 128 === 0) port.postMessage(count);
      return;
    }
    echo = m.echo;
    count = 0;
  });
  let echo = false;
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
}
