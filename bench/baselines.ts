/** The baselines rpmsg is measured against, driven from the main thread. */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { RingBuffer } from 'ringbuf.js';
import { BARE_RING_BYTES, BareRing, bareReceive, bareSend } from './bare-ring.js';
import { payloadOf } from './rpmsg-bench.js';

const baselineWorker = new URL('./baseline-worker.js', import.meta.url);

export class MessagePortBench {
  readonly worker = new Worker(baselineWorker, { workerData: { mode: 'mp' } });

  async oneWay(n: number, size: number): Promise<void> {
    this.worker.postMessage({ echo: false });
    const payload = payloadOf(size);
    let sent = 0;
    let acked = 0;
    await new Promise<void>((resolve) => {
      const pump = (): void => {
        while (sent < n && sent - acked < 256) {
          this.worker.postMessage(payload);
          sent++;
        }
      };
      const onMsg = (count: number): void => {
        acked = count;
        if (acked >= n - (n % 128)) {
          this.worker.off('message', onMsg);
          resolve();
        } else pump();
      };
      this.worker.on('message', onMsg);
      pump();
    });
  }

  async rtt(n: number, size: number, samples: Float64Array): Promise<void> {
    this.worker.postMessage({ echo: true });
    const payload = payloadOf(size);
    let i = 0;
    let t = 0;
    await new Promise<void>((resolve) => {
      const onMsg = (): void => {
        samples[i++] = performance.now() - t;
        if (i === n) {
          this.worker.off('message', onMsg);
          return resolve();
        }
        t = performance.now();
        this.worker.postMessage(payload);
      };
      this.worker.on('message', onMsg);
      t = performance.now();
      this.worker.postMessage(payload);
    });
  }
}

export class RingbufBench {
  readonly worker = new Worker(baselineWorker, { workerData: { mode: 'ringbuf' } });

  async oneWay(n: number, size: number): Promise<void> {
    const sab = RingBuffer.getStorageForCapacity(256 * size, Uint8Array);
    const rb = new RingBuffer(sab, Uint8Array);
    const done = once(this.worker, 'message');
    this.worker.postMessage({ sab, n, size });
    const payload = payloadOf(size);
    let sent = 0;
    while (sent < n) {
      if (rb.available_write() >= size) {
        rb.push(payload);
        sent++;
      }
    }
    await done;
  }
}

/**
 * The bare ring (bare-ring.ts) with the worker as the other side. The main thread spins
 * synchronously while it sends or receives, so it is the upper bound: no event loop turns.
 */
export class BareRingBench {
  private readonly sab = new SharedArrayBuffer(2 * BARE_RING_BYTES);
  private readonly h2r = new BareRing(this.sab, 0, 32);
  private readonly r2h = new BareRing(this.sab, BARE_RING_BYTES, 32);
  readonly worker = new Worker(baselineWorker, { workerData: { mode: 'bare', sab: this.sab } });

  private op(op: string, n: number, size = 0, wake?: SharedArrayBuffer): Promise<unknown> {
    const done = once(this.worker, 'message');
    this.worker.postMessage({ op, n, size, wake });
    return done;
  }

  async oneWay(n: number, size: number): Promise<void> {
    const done = this.op('sink', n);
    bareSend(this.h2r, payloadOf(size), n);
    await done;
  }

  async oneWayR2H(n: number, size: number): Promise<void> {
    const done = this.op('source', n, size);
    bareReceive(this.r2h, n);
    await done;
  }

  /** Ping-pong, each message published at once; both sides spin. */
  async rtt(n: number, size: number, samples: Float64Array): Promise<void> {
    const done = this.op('echo', n);
    const payload = payloadOf(size);
    const tx = this.h2r;
    const rx = this.r2h;
    const u8 = tx.u8;
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      let off: number;
      while ((off = tx.reserve()) < 0);
      if (size <= 16) for (let j = 0; j < size; j++) u8[off + j] = payload[j]!;
      else u8.set(payload, off);
      tx.commit(size);
      tx.publish();
      while (rx.peek() < 0);
      rx.release();
      samples[i] = performance.now() - t;
    }
    await done;
  }

  /**
   * The platform's wake-up cost: both threads parked in Atomics.waitAsync (as rpmsg's poll loop
   * parks), a ping after `gapMs` of quiet, the time until the pong wakes this thread.
   */
  async wake(k: number, gapMs: number): Promise<Float64Array> {
    const wake = new SharedArrayBuffer(8);
    const w32 = new Int32Array(wake);
    const done = this.op('wake', k, 0, wake);
    const out = new Float64Array(k);
    for (let i = 0; i < k; i++) {
      await new Promise((r) => setTimeout(r, gapMs));
      const t = performance.now();
      Atomics.add(w32, 0, 1);
      Atomics.notify(w32, 0);
      const r = Atomics.waitAsync(w32, 1, i);
      if (r.async) await r.value;
      out[i] = performance.now() - t;
    }
    await done;
    return out;
  }
}

/** Plain UNIX-socket ping-pong between the same two kinds of process. */
export class SocketBench {
  pid: number | undefined;
  private constructor(
    readonly rtt: (n: number, size: number, samples: Float64Array) => Promise<void>,
    readonly close: () => void,
  ) {}

  static async start(): Promise<SocketBench> {
    const path = `/tmp/rpmsg-bench-${process.pid}.sock`;
    const child = spawn(process.execPath, [fileURLToPath(new URL('./socket-echo.js', import.meta.url)), path], { stdio: ['ignore', 'pipe', 'inherit'] });
    await once(child.stdout!, 'data');
    const sock = connect(path);
    await once(sock, 'connect');
    sock.setNoDelay(true);
    let want = 0;
    let got = 0;
    let resolveOne: (() => void) | undefined;
    sock.on('data', (d: Buffer) => {
      got += d.length;
      if (got >= want) {
        got -= want;
        resolveOne?.();
      }
    });
    const b = new SocketBench(
      async (n, size, samples) => {
        const payload = Buffer.alloc(size, 7);
        want = size;
        for (let i = 0; i < n; i++) {
          const t = performance.now();
          const p = new Promise<void>((r) => (resolveOne = r));
          sock.write(payload);
          await p;
          samples[i] = performance.now() - t;
        }
      },
      () => {
        sock.destroy();
        child.kill();
      },
    );
    b.pid = child.pid;
    return b;
  }
}
