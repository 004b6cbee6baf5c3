/**
 * The remotes the fuzz run drives: starting and ending a worker or process remote (hostile or
 * well-behaved) with the guard band outside its areas, the well-behaved remotes'
 * sequence-numbered echo traffic, and the probe (an echo through the hostile remote's endpoint).
 */
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { spawnProcessRemote, startWorkerRemote, type Channel, type Region, type RpmsgBus } from '../src/index.js';
import type { RpmsgLink } from '../src/rpmsg/link.js';
import { computeLayout, type MemoryLayout } from '../src/platform/layout.js';
import { resolveProcessMemory } from '../src/platform/process-options.js';
import type { VirtioRpmsgTransport } from '../src/rpmsg-virtio/virtio-transport.js';

export type Platform = 'worker' | 'process';

/** The hostile firmware's echo endpoint. */
const HOSTILE_ADDR = 0x400;
/** Bytes of shared memory a worker remote gets past its last area. */
const GUARD = 0x8000;

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
export const now = (): number => performance.timeOrigin + performance.now();

/** One remote as the fuzz drives it, on either platform. */
export interface Remote {
  readonly link: RpmsgLink | undefined;
  readonly transport: VirtioRpmsgTransport | undefined;
  readonly region: Region;
  /** [start, end) of the bytes outside every area. */
  readonly guard: [number, number];
  reset(): Promise<void>;
  end(): Promise<void>;
  on(ev: 'error', f: (e: Error) => void): void;
}

function guardOf(l: MemoryLayout, size: number): [number, number] {
  const end = Math.max(l.pool.offset + l.pool.length, l.control !== undefined ? l.control + 0x1000 : 0);
  return [end, size];
}

export async function startRemote(bus: RpmsgBus, platform: Platform, name: string, firmware: URL, options: Record<string, number | string>): Promise<Remote> {
  if (platform === 'worker') {
    const layout = computeLayout({ control: true });
    const rp = await startWorkerRemote(bus, { firmware, name, options, log: () => {}, layout: { size: guardOf(layout, 0)[0] + GUARD } });
    rp.on('crash', () => {});
    return {
      get link() {
        return rp.link;
      },
      get transport() {
        return rp.transport;
      },
      region: rp.region!,
      guard: guardOf(rp.layout!, rp.region!.size),
      reset: () => rp.reset(),
      end: () => rp.destroy(),
      on: (_ev, f) => void rp.on('error', f),
    };
  }
  const url = new URL(firmware);
  for (const [k, v] of Object.entries(options)) url.searchParams.set(k, String(v));
  const fw = Object.keys(options).length > 0 ? url.href : fileURLToPath(firmware);
  const { child, remote } = await spawnProcessRemote(bus, { firmware: fw, name, stdout: 'ignore' });
  const r = resolveProcessMemory({});
  return {
    get link() {
      return remote.link;
    },
    get transport() {
      return remote.transport;
    },
    region: remote.region,
    guard: guardOf(r.layout, remote.region.size),
    reset: () => remote.reset(),
    end: async () => endChild(child, () => remote.close()),
    on: (_ev, f) => void remote.on('error', f),
  };
}

async function endChild(child: ChildProcess, close: () => void): Promise<void> {
  const exited = child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : once(child, 'exit').then(() => undefined);
  close();
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}

/** Sequence-numbered echo traffic through a well-behaved remote's channel. */
export class GoodStream {
  ch: Channel | undefined;
  sent = 0;
  echoes = 0;
  constructor(
    readonly name: string,
    private readonly fail: (m: string) => void,
    private readonly progress: () => void,
  ) {}

  onEcho(data: Uint8Array): void {
    const seq = data.length >= 4 ? new DataView(data.buffer, data.byteOffset, data.length).getUint32(0, true) : -1;
    if (seq !== this.echoes || data.length !== 4 + (seq % 61)) this.fail(`${this.name}: echo ${this.echoes} expected, got seq ${seq} len ${data.length}`);
    this.echoes = seq + 1;
    this.progress();
  }

  async run(running: () => boolean): Promise<void> {
    while (running()) {
      if (this.sent - this.echoes > 32) {
        await sleep(1);
        continue;
      }
      const msg = new Uint8Array(4 + (this.sent % 61));
      new DataView(msg.buffer).setUint32(0, this.sent, true);
      await this.ch!.send(msg);
      this.sent++;
      // paced (at most 8 per millisecond): steady traffic that leaves the host's event loop room
      if (this.sent % 8 === 0) await sleep(1);
    }
  }
}

/**
 * Probe the hostile remote's current link: from a host endpoint to the remote's echo
 * endpoint at 0x400 (by address, so a link whose announcement was never seen is probed
 * too), again every 150 ms until an echo comes back or `ms` pass.
 */
export async function probe(rp: Remote, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  const bytes = new TextEncoder().encode('probe');
  while (Date.now() < end) {
    const link = rp.link;
    if (link === undefined || !link.up) {
      await sleep(5);
      continue;
    }
    let echoed = false;
    const ept = link.createEndpoint(() => void (echoed = true));
    try {
      await ept.sendTo(bytes, HOSTILE_ADDR, { timeout: 150 });
      const until = Date.now() + 150;
      while (!echoed && Date.now() < until) await sleep(2);
    } catch {
      await sleep(5);
    } finally {
      ept.destroy();
    }
    if (echoed) return true;
  }
  return false;
}
