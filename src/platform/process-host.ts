/**
 * The host role over a process remote: connect to the remote's socket (retrying while it
 * starts), map its file, read its resource table (vrings from the table, never assumed), set
 * up the rings and DRIVER_OK. Channels appear on the bus as the remote announces them.
 */
import { connect, type Socket } from 'node:net';
import { RpmsgError } from '../errors.js';
import type { Region } from '../memory/region.js';
import type { RpmsgBus } from '../rpmsg/bus.js';
import type { RpmsgLink } from '../rpmsg/link.js';
import type { LinkLimits } from '../rpmsg/types.js';
import { HostDevice, SideHolder, type CurrentSide, type RecoveryOptions } from './host-device.js';
import type { HostBufferOptions } from './start-side.js';
import { resolveProcessMemory, type ProcessMemoryOptions } from './process-options.js';
import { mapShmFile } from './shm-file.js';
import { SocketDoorbell } from './socket-doorbell.js';

export interface HostAttachOptions extends ProcessMemoryOptions, RecoveryOptions {
  name?: string;
  host?: HostBufferOptions;
  limits?: LinkLimits;
  /** Buffer pool (default: the layout's, 0x40000 bytes at 0x10000). */
  pool?: { offset: number; length: number };
  /** How long to keep retrying the connection while the remote starts (ms, default 10000). */
  connectTimeoutMs?: number;
  signal?: AbortSignal;
}

export interface ProcessRemoteLinkEvents {
  /** A link came up (at attach and after each reset). */
  up: [link: RpmsgLink];
  /** The link went down (remote gone, protocol violation, watchdog, reset, close); the error says why. */
  down: [error: RpmsgError];
  error: [error: Error];
}

/** A host's attachment to a process remote; survives device resets (docs/lifecycle.md). */
export class ProcessRemoteLink extends SideHolder<ProcessRemoteLinkEvents> {
  /** @internal created by attachProcessRemote */
  constructor(
    private readonly device: HostDevice,
    readonly region: Region,
    readonly socket: Socket,
  ) {
    super();
    device.forwardTo(this);
  }

  protected get current(): CurrentSide {
    return this.device;
  }

  get up(): boolean {
    return this.link.up;
  }

  /** Virtio device reset: both sides start over on the same file and socket; channels come back. */
  reset(): Promise<void> {
    return this.device.reset();
  }

  /** Graceful detach: channels are released (announcing), queued kicks leave, the socket ends. */
  close(): void {
    this.device.close();
    this.socket.end();
  }

  /** Abortive detach: the link goes down with `reason`, the socket is dropped. */
  destroy(reason?: Error): void {
    this.device.destroy(reason ?? new RpmsgError('ENODEV', 'detached'));
    this.socket.destroy();
  }
}

async function connectWithRetry(path: string, timeoutMs: number, signal?: AbortSignal): Promise<Socket> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await new Promise<Socket>((resolve, reject) => {
        const s = connect(path);
        s.once('connect', () => {
          s.off('error', reject);
          resolve(s);
        });
        s.once('error', reject);
      });
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code !== 'ENOENT' && code !== 'ECONNREFUSED') throw e;
      if (signal?.aborted) throw new RpmsgError('ABORT_ERR', 'aborted while connecting');
      if (Date.now() > deadline) throw new RpmsgError('ETIMEDOUT', `no remote listening on ${path}`, { path });
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** Attach to the process remote listening on `options.socketPath` as its host. */
export async function attachProcessRemote(bus: RpmsgBus, options: HostAttachOptions = {}): Promise<ProcessRemoteLink> {
  const r = resolveProcessMemory(options);
  const socket = await connectWithRetry(r.socketPath, options.connectTimeoutMs ?? 10_000, options.signal);
  let socketError: Error | undefined;
  socket.on('error', (e) => (socketError ??= e)); // 'close' follows
  try {
    const region = mapShmFile(r.shmPath, r.size);
    const bell = new SocketDoorbell(socket);
    const name = options.name ?? r.socketPath;
    const device = HostDevice.create({ name, bus, region, bell }, { ...r.layout, pool: options.pool ?? r.layout.pool }, options);
    const pl = new ProcessRemoteLink(device, region, socket);
    // The doorbell socket closes the moment the remote process dies (the kernel closes its
    // end): the link goes down at once, the cause saying how it went.
    socket.once('close', () => {
      const closed = new RpmsgError('EPIPE', 'the doorbell socket closed: the remote process exited, was killed or dropped the connection', { path: r.socketPath }, socketError !== undefined ? { cause: socketError } : undefined);
      device.destroy(new RpmsgError('ENODEV', `remote on ${r.socketPath} is gone`, undefined, { cause: closed }));
    });
    return pl;
  } catch (e) {
    socket.destroy();
    throw e;
  }
}
