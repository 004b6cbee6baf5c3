/**
 * The host role over a process remote: connect to the remote's socket (retrying while it
 * starts), map its file, read its resource table (vrings from the table, never assumed), set
 * up the rings and DRIVER_OK. Channels appear on the bus as the remote announces them.
 */
import { EventEmitter } from 'node:events';
import { connect, type Socket } from 'node:net';
import { RpmsgError } from '../errors.js';
import type { Region } from '../memory/region.js';
import type { NameService } from '../ns/name-service.js';
import type { RpmsgBus } from '../rpmsg/bus.js';
import type { RpmsgLink } from '../rpmsg/link.js';
import type { LinkLimits } from '../rpmsg/types.js';
import type { VirtioRpmsgTransport } from '../rpmsg-virtio/virtio-transport.js';
import { startHostSide, type HostBufferOptions } from './start-side.js';
import { readRpmsgMemory } from './layout.js';
import { PollLoop } from './poll-loop.js';
import { resolveProcessMemory, type ProcessMemoryOptions } from './process-options.js';
import { mapShmFile } from './shm-file.js';
import { SocketDoorbell } from './socket-doorbell.js';

export interface HostAttachOptions extends ProcessMemoryOptions {
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
  /** The link went down (remote gone, protocol violation, close); the error says why. */
  down: [error: RpmsgError];
}

/** A host's attachment to a process remote. */
export class ProcessRemoteLink extends EventEmitter<ProcessRemoteLinkEvents> {
  /** @internal created by attachProcessRemote */
  constructor(
    readonly link: RpmsgLink,
    readonly transport: VirtioRpmsgTransport,
    readonly region: Region,
    readonly socket: Socket,
    loop: PollLoop,
  ) {
    super();
    link.once('down', (e) => {
      loop.stop();
      this.emit('down', e);
    });
  }

  get ns(): NameService | undefined {
    return this.transport.ns;
  }

  get up(): boolean {
    return this.link.up;
  }

  /** Graceful detach: channels are released (announcing), queued kicks leave, the socket ends. */
  close(): void {
    this.transport.close();
    this.socket.end();
  }

  /** Abortive detach: the link goes down with `reason`, the socket is dropped. */
  destroy(reason?: Error): void {
    this.transport.destroy(reason ?? new RpmsgError('ENODEV', 'detached'));
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
  socket.on('error', () => {}); // 'close' follows and says it all
  try {
    const region = mapShmFile(r.shmPath, r.size);
    const mem = readRpmsgMemory(region, r.layout.rscOffset, r.layout.rscSize);
    const bell = new SocketDoorbell(socket);
    const { link, transport } = startHostSide({
      name: options.name ?? r.socketPath,
      bus,
      region,
      mem,
      pool: options.pool ?? r.layout.pool,
      notify: () => bell.kick(),
      host: options.host,
      limits: options.limits,
    });
    const loop = new PollLoop(transport, bell, options.poll);
    const pl = new ProcessRemoteLink(link, transport, region, socket, loop);
    socket.once('close', () => transport.destroy(new RpmsgError('ENODEV', `remote on ${r.socketPath} is gone`)));
    loop.start();
    return pl;
  } catch (e) {
    socket.destroy();
    throw e;
  }
}
