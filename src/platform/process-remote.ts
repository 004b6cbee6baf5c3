/**
 * Remote processors in separate OS processes, speaking OpenAMP's Linux-machine protocol
 * (PROTOCOL.md §8): a shared-memory file (default /dev/shm/openamp.shm, 0x80000 bytes, file
 * offset = bus address) and one-byte kicks on a UNIX stream socket (default
 * /tmp/openamp.event.0). The remote writes the resource table and listens; the host connects
 * (retrying while the remote starts), reads the table, sets up the rings and sets DRIVER_OK.
 *
 * Either side of this module pairs with OpenAMP's stock programs; both sides pair with each
 * other. Fast mode (`poll.spinWindowMs` > 0, on by default between our own processes) spins
 * briefly while traffic flows with ring notifications off, so the socket is only written when
 * the peer has gone to sleep; the socket always stays open to detect peer loss.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { unlinkSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { RpmsgError } from '../errors.js';
import type { Region } from '../memory/region.js';
import type { NameService } from '../ns/name-service.js';
import type { RpmsgBus } from '../rpmsg/bus.js';
import type { LinkLimits, RpmsgLink } from '../rpmsg/link.js';
import type { VirtioRpmsgTransport } from '../rpmsg-virtio/virtio-transport.js';
import type { Firmware, FirmwareContext } from './firmware.js';
import { computeLayout, readRpmsgMemory, writeResourceTable, type LayoutOptions, type MemoryLayout } from './layout.js';
import { PollLoop, type PollLoopOptions } from './poll-loop.js';
import { bootRemote, runFirmware, waitDriverOk } from './remote-runtime.js';
import { OPENAMP_SHM_PATH, OPENAMP_SHM_SIZE, mapShmFile } from './shm-file.js';
import { SocketDoorbell } from './socket-doorbell.js';
import { startHostSide, type HostBufferOptions } from './host-side.js';

export const OPENAMP_SOCKET_PATH = '/tmp/openamp.event.0';

export interface ProcessMemoryOptions {
  /** Shared-memory file (default /dev/shm/openamp.shm). */
  shmPath?: string;
  /** Its size in bytes (default 0x80000). */
  size?: number;
  /** Kick socket (default /tmp/openamp.event.0). */
  socketPath?: string;
  /** Layout (default OpenAMP's Linux machine). The host reads vrings from the table. */
  layout?: LayoutOptions;
  /** Spin/park tuning; `{ spinWindowMs: 0 }` never spins (pure socket kicks). */
  poll?: PollLoopOptions;
}

function resolved(o: ProcessMemoryOptions): { shmPath: string; size: number; socketPath: string; layout: MemoryLayout } {
  const size = o.size ?? OPENAMP_SHM_SIZE;
  return {
    shmPath: o.shmPath ?? OPENAMP_SHM_PATH,
    size,
    socketPath: o.socketPath ?? OPENAMP_SOCKET_PATH,
    layout: computeLayout({ size, ...o.layout }),
  };
}

// ---------------------------------------------------------------------------- remote role

export interface RemoteServeOptions extends ProcessMemoryOptions {
  /** Firmware module run for each host (its default export), or `setup`. */
  firmware?: string;
  setup?: Firmware;
  options?: Record<string, unknown>;
  name?: string;
  log?: (line: string) => void;
  /** Serve one host, then close. */
  once?: boolean;
}

/**
 * The remote role as a process: owns the file and the listening socket, serves one host at a
 * time. When the host goes away the memory is reset and the next host can attach.
 * Events: 'attached', 'detached' (reason), 'error'.
 */
export class ProcessRemoteServer extends EventEmitter {
  readonly options: RemoteServeOptions;
  readonly region: Region;
  readonly layout: MemoryLayout;
  private readonly socketPath: string;
  private server: Server | undefined;
  private busy = false;
  private closed = false;
  ctx: FirmwareContext | undefined;

  private constructor(options: RemoteServeOptions) {
    super();
    const r = resolved(options);
    this.options = options;
    this.layout = r.layout;
    this.socketPath = r.socketPath;
    this.region = mapShmFile(r.shmPath, r.size, { create: true });
    this.resetMemory();
  }

  /** Create the file, write the table, listen for a host. */
  static async start(options: RemoteServeOptions = {}): Promise<ProcessRemoteServer> {
    // Probe before mapping: the constructor resets the file, which a live remote is using.
    const path = resolved(options).socketPath;
    if (await socketServed(path)) {
      throw new RpmsgError('EADDRINUSE', `${path} is served by another remote (a connection to it succeeded): stop it or choose another socket`, { path });
    }
    const s = new ProcessRemoteServer(options);
    await s.listen();
    return s;
  }

  /** Fresh memory: zeros, then the resource table (status 0, gfeatures 0), as OpenAMP's remote writes it. */
  private resetMemory(): void {
    this.region.fill(0, this.region.size, 0);
    writeResourceTable(this.region, this.layout);
  }

  private async listen(): Promise<void> {
    try {
      unlinkSync(this.socketPath);
    } catch {
      // no stale socket
    }
    const server = createServer((socket) => this.onHost(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    });
  }

  private onHost(socket: Socket): void {
    if (this.busy || this.closed) {
      socket.destroy();
      return;
    }
    this.busy = true;
    void this.serve(socket).catch((e: unknown) => {
      this.report(e);
      socket.destroy();
    });
  }

  private async serve(socket: Socket): Promise<void> {
    const o = this.options;
    const bell = new SocketDoorbell(socket);
    const gone = new AbortController();
    let loop: PollLoop | undefined;
    let transport: VirtioRpmsgTransport | undefined;
    socket.on('error', () => {});
    let attached = false;
    socket.once('close', () => {
      gone.abort();
      loop?.stop();
      transport?.close(new RpmsgError('ENODEV', 'host disconnected'));
      this.resetMemory();
      this.busy = false;
      this.ctx = undefined;
      // A connection that left before DRIVER_OK (a probe, a host that died starting) was no host.
      if (!attached) return;
      this.emit('detached');
      if (o.once === true) void this.close();
    });
    try {
      await waitDriverOk(this.region, this.layout, 24 * 3600_000, gone.signal);
    } catch (e) {
      if (gone.signal.aborted) return;
      throw e;
    }
    attached = true;
    const rt = bootRemote({
      name: o.name ?? 'remote',
      region: this.region,
      layout: this.layout,
      notify: () => bell.kick(),
      options: o.options ?? {},
      log: o.log ?? ((line) => console.log(line)),
    });
    transport = rt.transport;
    this.ctx = rt.ctx;
    loop = new PollLoop(rt.transport, bell, o.poll);
    loop.start();
    if (o.firmware !== undefined) await runFirmware(o.firmware, rt.ctx);
    else if (o.setup !== undefined) await o.setup(rt.ctx);
    this.emit('attached', rt.ctx);
  }

  private report(e: unknown): void {
    if (this.listenerCount('error') > 0) this.emit('error', e);
    else console.error(`rpmsg remote: ${e instanceof Error ? e.message : String(e)}`);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const server = this.server;
    if (server !== undefined) await new Promise<void>((r) => server.close(() => r()));
    try {
      unlinkSync(this.socketPath);
    } catch {
      // already gone
    }
    this.emit('close');
  }
}

/** Whether a live server accepts connections on `path` (a stale socket file refuses them). */
function socketServed(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false)); // ENOENT, ECONNREFUSED: nobody listens
  });
}

// ---------------------------------------------------------------------------- host role

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

/** A host's attachment to a process remote. Events: 'down' (reason). */
export class ProcessRemoteLink extends EventEmitter {
  constructor(
    readonly link: RpmsgLink,
    readonly transport: VirtioRpmsgTransport,
    readonly ns: NameService | undefined,
    readonly region: Region,
    readonly socket: Socket,
    private readonly loop: PollLoop,
  ) {
    super();
  }

  get up(): boolean {
    return this.link.up;
  }

  /** Detach: the remote sees the socket close. */
  close(): void {
    this.loop.stop();
    this.transport.close(new RpmsgError('ENODEV', 'detached'));
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

/**
 * Host role: connect to a remote's socket, map its file, read its resource table (vrings from
 * the table, never assumed), set up the rings and DRIVER_OK. Channels appear on `bus` as the
 * remote announces them, exactly as with a worker remote.
 */
export async function attachProcessRemote(bus: RpmsgBus, options: HostAttachOptions = {}): Promise<ProcessRemoteLink> {
  const r = resolved(options);
  const socket = await connectWithRetry(r.socketPath, options.connectTimeoutMs ?? 10_000, options.signal);
  socket.on('error', () => {});
  try {
    const region = mapShmFile(r.shmPath, r.size);
    const mem = readRpmsgMemory(region, r.layout.rscOffset, r.layout.rscSize);
    const bell = new SocketDoorbell(socket);
    const { link, transport, ns } = startHostSide({
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
    const pl = new ProcessRemoteLink(link, transport, ns, region, socket, loop);
    socket.once('close', () => {
      loop.stop();
      transport.close(new RpmsgError('ENODEV', `remote on ${r.socketPath} is gone`));
      pl.emit('down', link.downError);
    });
    loop.start();
    return pl;
  } catch (e) {
    socket.destroy();
    throw e;
  }
}

// ---------------------------------------------------------------------------- spawn

export interface SpawnOptions extends Omit<HostAttachOptions, 'shmPath' | 'socketPath'> {
  /** Firmware module run in the child process. */
  firmware: string;
  /** The child's stdout: shown (default) or discarded. Its stderr is always shown. */
  stdout?: 'inherit' | 'ignore';
  shmPath?: string;
  socketPath?: string;
}

let spawned = 0;

/** Start a firmware module in a child process (remote role) and attach to it as host. */
export async function spawnProcessRemote(bus: RpmsgBus, options: SpawnOptions): Promise<{ child: ChildProcess; remote: ProcessRemoteLink }> {
  const id = `${process.pid}-${spawned++}`;
  const shmPath = options.shmPath ?? `/dev/shm/rpmsg-${id}.shm`;
  const socketPath = options.socketPath ?? `/tmp/rpmsg-${id}.sock`;
  const cli = fileURLToPath(new URL('../../../bin/rpmsg.js', import.meta.url));
  const noSpin = options.poll?.spinWindowMs === 0 ? ['--no-spin'] : [];
  const child = spawn(process.execPath, [cli, 'remote', '--once', ...noSpin, '--firmware', options.firmware, '--shm', shmPath, '--socket', socketPath], {
    stdio: ['ignore', options.stdout ?? 'inherit', 'inherit'],
  });
  const ac = new AbortController();
  child.once('exit', () => ac.abort());
  try {
    const remote = await attachProcessRemote(bus, { ...options, shmPath, socketPath, signal: ac.signal });
    return { child, remote };
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
}
