/**
 * The remote role as a process: owns the shared-memory file and the listening socket, serves
 * one host at a time. When the host goes away the memory is reset and the next host can
 * attach. Either side pairs with OpenAMP's stock programs; both sides pair with each other.
 * Fast mode (`poll.spinWindowMs` > 0, the default) spins briefly while traffic flows with ring
 * notifications off, so the socket is only written when the peer has gone to sleep; the
 * socket always stays open to detect peer loss.
 */
import { EventEmitter } from 'node:events';
import { unlinkSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { RpmsgError, reportError } from '../errors.js';
import type { Region } from '../memory/region.js';
import { publishReset } from '../rpmsg/diagnostics.js';
import type { FirmwareContext, FirmwareSourceOptions } from './firmware.js';
import { writeResourceTable, type MemoryLayout } from './layout.js';
import { resolveProcessMemory, type ProcessMemoryOptions } from './process-options.js';
import { isReset, runFirmware, serveRemote } from './remote-runtime.js';
import { mapShmFile } from './shm-file.js';
import { SocketDoorbell } from './socket-doorbell.js';

export interface RemoteServeOptions extends ProcessMemoryOptions, FirmwareSourceOptions {
  /** Serve one host, then close. */
  once?: boolean;
}

export interface ProcessRemoteServerEvents {
  attached: [ctx: FirmwareContext];
  /** The host went away; `reason` is why the link went down. */
  detached: [reason: RpmsgError | undefined];
  error: [error: Error];
  close: [];
}

export class ProcessRemoteServer extends EventEmitter<ProcessRemoteServerEvents> {
  readonly options: RemoteServeOptions;
  readonly region: Region;
  readonly layout: MemoryLayout;
  private readonly socketPath: string;
  private server: Server | undefined;
  private host: Socket | undefined;
  private closed: Promise<void> | undefined;
  ctx: FirmwareContext | undefined;

  private constructor(options: RemoteServeOptions) {
    super();
    const r = resolveProcessMemory(options);
    this.options = options;
    this.layout = r.layout;
    this.socketPath = r.socketPath;
    this.region = mapShmFile(r.shmPath, r.size, { create: true });
    this.resetMemory();
  }

  /** Create the file, write the table, listen for a host. */
  static async start(options: RemoteServeOptions = {}): Promise<ProcessRemoteServer> {
    // Probe before mapping: the constructor resets the file, which a live remote is using.
    const path = resolveProcessMemory(options).socketPath;
    if (await socketServed(path)) {
      throw new RpmsgError('EADDRINUSE', `${path} is served by another remote (a connection to it succeeded): stop it or choose another socket`, { path });
    }
    const s = new ProcessRemoteServer(options);
    await s.listen();
    return s;
  }

  /** Fresh memory: zeros, then the resource table (status 0, gfeatures 0), as OpenAMP's remote writes it. */
  private resetMemory(): void {
    publishReset(this.options.name ?? 'remote', 'memory reset for the next host');
    this.region.fill(0, this.region.size, 0);
    writeResourceTable(this.region, this.layout);
  }

  private async listen(): Promise<void> {
    unlinkQuietly(this.socketPath);
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
    if (this.host !== undefined || this.closed !== undefined) {
      socket.destroy();
      return;
    }
    this.host = socket;
    void this.serve(socket).catch((e: unknown) => {
      reportError(this, e);
      socket.destroy();
    });
  }

  private async serve(socket: Socket): Promise<void> {
    const o = this.options;
    const bell = new SocketDoorbell(socket);
    const gone = new AbortController();
    let attached = false;
    let lastDown: RpmsgError | undefined;
    socket.on('error', () => {}); // 'close' follows and says it all
    socket.once('close', () => gone.abort());
    try {
      await serveRemote({
        name: o.name ?? 'remote',
        region: this.region,
        layout: this.layout,
        bell,
        notify: () => bell.kick(),
        options: o.options ?? {},
        log: o.log ?? ((line) => console.log(line)),
        poll: o.poll,
        run: async (ctx) => {
          if (o.firmware !== undefined) await runFirmware(o.firmware, ctx);
          else if (o.setup !== undefined) await o.setup(ctx);
        },
        signal: gone.signal,
        stop: 'destroy',
        bootTimeoutMs: 24 * 3600_000,
        onBoot: () => (attached = true),
        onUp: (rt) => {
          this.ctx = rt.ctx;
          this.emit('attached', rt.ctx);
        },
        onDown: (reason) => {
          lastDown = reason;
          this.ctx = undefined;
          // A violation seen here is reported; the host is asked to reset (DEVICE_NEEDS_RESET).
          if (!gone.signal.aborted && !isReset(reason)) reportError(this, reason);
        },
      });
    } finally {
      socket.destroy();
      this.resetMemory();
      this.host = undefined;
      this.ctx = undefined;
      // A connection that left before DRIVER_OK (a probe, a host that died starting) was no host.
      if (attached) {
        this.emit('detached', lastDown);
        if (o.once === true) void this.close();
      }
    }
  }

  /** Graceful: stop listening; a host being served is let go. Idempotent. */
  close(): Promise<void> {
    this.closed ??= (async () => {
      const server = this.server;
      this.host?.end();
      if (server !== undefined) await new Promise<void>((r) => server.close(() => r()));
      unlinkQuietly(this.socketPath);
      this.emit('close');
    })();
    return this.closed;
  }

  /** Abortive: drop the host's connection at once, then close. Idempotent. */
  destroy(): Promise<void> {
    this.host?.destroy();
    return this.close();
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

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // not there
  }
}
