/** The rpmsg side of the benchmark: a host talking to bench-firmware over any link. */
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { RpmsgBus, spawnProcessRemote, startWorkerRemote, type Endpoint, type RpmsgLink, type WorkerRemoteProc } from '../src/index.js';

export const SINK = 0x500;
const CTL = 0x501;
const ECHO = 0x502;
const firmware = new URL('./bench-firmware.js', import.meta.url);

/** Firmware control commands (bench-firmware.ts). */
const CMD_EXPECT = 1;
const CMD_SEND = 2;
const CMD_SEND_ZC = 3;
const CMD_OPEN = 4;
const CMD_HEAP = 5;

const payloads = new Map<number, Uint8Array>();
/** One payload per size, made once, so a measured run allocates none. */
export function payloadOf(size: number): Uint8Array {
  let p = payloads.get(size);
  if (p === undefined) payloads.set(size, (p = new Uint8Array(size).fill(7)));
  return p;
}

export class RpmsgBench {
  private readonly replies: Array<(n: number) => void> = [];
  private ctl!: Endpoint;
  sink!: Endpoint;
  private echo!: Endpoint;
  private sinkCount = 0;
  private sinkTarget = -1;
  private sinkDone: (() => void) | undefined;
  private rttIndex = 0;
  private rttN = 0;
  private rttT = 0;
  private rttDone: (() => void) | undefined;
  private rttSamples: Float64Array = new Float64Array(0);
  private rttPayload: Uint8Array = new Uint8Array(16);
  private rttZc = false;
  private readonly cmd = new Uint8Array(16);
  /** Child process id for process remotes. */
  pid: number | undefined;

  /** A bench firmware in a child process over a mapped file and socket kicks (fast mode or not). */
  static async startProcess(bus: RpmsgBus, spin: boolean): Promise<{ bench: RpmsgBench; close: () => Promise<void> }> {
    const { child, remote } = await spawnProcessRemote(bus, {
      firmware: fileURLToPath(firmware),
      stdout: 'ignore',
      ...(spin ? {} : { poll: { spinWindowMs: 0 } }),
    });
    const b = new RpmsgBench(undefined);
    b.pid = child.pid;
    b.attach(remote.link);
    return {
      bench: b,
      close: async () => {
        const exited = once(child, 'exit');
        remote.close();
        await exited;
      },
    };
  }

  static async start(bus: RpmsgBus, name: string): Promise<RpmsgBench> {
    const rp = await startWorkerRemote(bus, { firmware, name, log: () => {} });
    const b = new RpmsgBench(rp);
    b.attach(rp.link!);
    return b;
  }

  constructor(readonly rp: WorkerRemoteProc | undefined) {}

  private attach(link: RpmsgLink): void {
    this.ctl = link.createEndpoint((_o, d) => this.replies.shift()?.(new DataView(d.buffer, d.byteOffset).getUint32(4, true)), {
      addr: 0x601,
      dst: CTL,
      announce: false,
    });
    this.sink = link.createEndpoint(
      () => {
        if (++this.sinkCount === this.sinkTarget) this.sinkDone?.();
      },
      { addr: 0x600, announce: false },
    );
    this.echo = link.createEndpoint(
      (ep) => {
        const now = performance.now();
        this.rttSamples[this.rttIndex++] = now - this.rttT;
        if (this.rttIndex === this.rttN) return this.rttDone?.();
        this.rttT = performance.now();
        if (this.rttZc) {
          const b = ep.tryGetTxPayloadBuffer();
          ep.sendNocopy(b, this.rttPayload.length);
        } else {
          ep.trySend(this.rttPayload);
        }
      },
      { addr: 0x602, dst: ECHO, announce: false },
    );
  }

  command(cmd: number, n: number, size = 0, dst = 0): Promise<number> {
    const dv = new DataView(this.cmd.buffer);
    dv.setUint32(0, cmd, true);
    dv.setUint32(4, n, true);
    dv.setUint32(8, size, true);
    dv.setUint32(12, dst, true);
    const p = new Promise<number>((r) => this.replies.push(r));
    void this.ctl.send(this.cmd);
    return p;
  }

  /** The remote's heap in use (after a GC there when `gc`). */
  remoteHeap = (gc: boolean): Promise<number> => this.command(CMD_HEAP, gc ? 1 : 0);

  /** Open sinks on the remote until `k` are open (the main sink included); their addresses. */
  async openSinks(k: number): Promise<number[]> {
    const open = (await this.command(CMD_OPEN, 0)) + 1;
    if (open < k) await this.command(CMD_OPEN, k - open);
    return k === 1 ? [SINK] : Array.from({ length: k }, (_, i) => (i === 0 ? SINK : 0x1000 + i - 1));
  }

  /** Host → remote: send n messages as fast as tx buffers allow. */
  async oneWayH2R(n: number, size: number, zc: boolean, targets: readonly number[] = [SINK]): Promise<void> {
    const done = this.command(CMD_EXPECT, n);
    await new Promise((r) => setImmediate(r));
    await sendMany(this.sink, n, size, zc, targets);
    await done;
  }

  /** Remote → host. */
  async oneWayR2H(n: number, size: number, zc: boolean): Promise<void> {
    this.sinkCount = 0;
    this.sinkTarget = n;
    const got = new Promise<void>((r) => (this.sinkDone = r));
    await this.command(zc ? CMD_SEND_ZC : CMD_SEND, n, size, 0x600);
    await got;
  }

  /** Ping-pong with the remote's echo endpoint, one sample per message. */
  async rtt(n: number, size: number, zc: boolean, samples: Float64Array): Promise<void> {
    this.rttPayload = payloadOf(size);
    this.rttSamples = samples;
    this.rttIndex = 0;
    this.rttN = n;
    this.rttZc = zc;
    const done = new Promise<void>((r) => (this.rttDone = r));
    this.rttT = performance.now();
    this.echo.trySend(this.rttPayload);
    await done;
  }
}

/** Send n messages round-robin to `targets`, waiting for buffers when none is free. */
export function sendMany(ep: Endpoint, n: number, size: number, zc: boolean, targets: readonly number[]): Promise<void> {
  const payload = payloadOf(size);
  const nt = targets.length;
  let sent = 0;
  return new Promise<void>((resolve, reject) => {
    const pump = (): void => {
      try {
        while (sent < n) {
          const dst = targets[sent % nt]!;
          if (zc) {
            const b = ep.tryGetTxPayloadBuffer();
            b.data[0] = 7;
            ep.sendNocopyTo(b, size, dst);
          } else {
            ep.trySendTo(payload, dst);
          }
          sent++;
        }
        resolve();
      } catch (e) {
        if ((e as { code?: string }).code !== 'ENOMEM') return reject(e);
        ep.waitWritable().then(pump, reject);
      }
    };
    pump();
  });
}

/** The same over several links: one sender loop per remote, interleaved by the event loop. */
export async function sendManyMulti(benches: readonly RpmsgBench[], n: number, size: number): Promise<void> {
  const per = Math.floor(n / benches.length);
  const dones = benches.map((b) => b.command(CMD_EXPECT, per));
  await new Promise((r) => setImmediate(r));
  await Promise.all(benches.map((b) => sendMany(b.sink, per, size, false, [SINK])));
  await Promise.all(dones);
}
