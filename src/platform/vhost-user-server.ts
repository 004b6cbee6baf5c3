/**
 * The rpmsg remote as a vhost-user back-end (virtio device id 7): listens on a UNIX socket
 * and serves every front-end that connects (a Linux kernel under QEMU or User-Mode Linux's
 * virtio_uml) with a fresh bus and firmware instance, as a remote processor boots its
 * firmware again when the host restarts it. A connection that breaks the protocol is closed
 * with its error (`detached`); the server goes on serving the next.
 *
 * Offered: VIRTIO_F_VERSION_1, VIRTIO_RPMSG_F_NS, VHOST_USER_F_PROTOCOL_FEATURES; protocol
 * features REPLY_ACK and SLAVE_REQ (Linux's virtio_uml needs the back-end channel to set up
 * its interrupt; we never send on it).
 */
import { EventEmitter } from 'node:events';
import { lstatSync, unlinkSync } from 'node:fs';
import { RpmsgError } from '../errors.js';
import { FD_READABLE, loadNative, type FdWatch, type NativeAddon } from '../native/addon.js';
import type { FirmwareContext, FirmwareSourceOptions } from './firmware.js';
import { VhostUserConnection } from './vhost-user-connection.js';
import {
  VHOST_USER_F_PROTOCOL_FEATURES,
  VHOST_USER_PROTOCOL_F_REPLY_ACK,
  VHOST_USER_PROTOCOL_F_SLAVE_REQ,
  VIRTIO_F_VERSION_1,
} from './vhost-user-message.js';
import { VHOST_RPMSG_DEVICE_FEATURES, attachRpmsgRemote } from './vhost-user-remote.js';

export const VHOST_USER_RPMSG_FEATURES =
  (1n << BigInt(VIRTIO_F_VERSION_1)) | (1n << BigInt(VHOST_USER_F_PROTOCOL_FEATURES)) | BigInt(VHOST_RPMSG_DEVICE_FEATURES);
export const VHOST_USER_RPMSG_PROTOCOL_FEATURES =
  (1n << BigInt(VHOST_USER_PROTOCOL_F_REPLY_ACK)) | (1n << BigInt(VHOST_USER_PROTOCOL_F_SLAVE_REQ));

/** `firmware` runs for each guest; `name` defaults to "vhost-user". */
export interface VhostUserRemoteOptions extends FirmwareSourceOptions {
  /** UNIX socket to listen on. A stale socket file is replaced; a live one is refused (EADDRINUSE). */
  socketPath: string;
  /** Largest vring size a front-end may set (default 1024). */
  maxVringNum?: number;
  /**
   * Refuse guest memory the front-end could shrink under the mapping (SIGBUS here): only
   * memfds sealed against shrinking are accepted (default false: User-Mode Linux's memory file
   * cannot be sealed). See VhostUserDeviceOptions.requireSealedMemory.
   */
  requireSealedMemory?: boolean;
  /** Connections served at once; more are closed at accept (default 8). */
  maxConnections?: number;
}

export interface VhostUserRemoteEvents {
  /** A front-end connected. */
  connection: [connection: VhostUserConnection];
  /** The firmware runs for a guest. */
  attached: [ctx: FirmwareContext, connection: VhostUserConnection];
  /** A connection ended; `error` says why unless the front-end hung up cleanly. */
  detached: [error: Error | undefined, connection: VhostUserConnection];
  close: [];
}

export class VhostUserRemoteServer extends EventEmitter<VhostUserRemoteEvents> {
  readonly socketPath: string;
  readonly connections = new Set<VhostUserConnection>();
  /** Connections served, those closed for a protocol error, those refused (too many at once). */
  readonly stats = { connections: 0, errors: 0, refused: 0 };
  private readonly o: VhostUserRemoteOptions;
  private readonly native: NativeAddon;
  private readonly listenFd: number;
  private readonly watch: FdWatch;
  private closed = false;

  private constructor(o: VhostUserRemoteOptions) {
    super();
    if (o.firmware === undefined && o.setup === undefined) throw new RpmsgError('EINVAL', 'a firmware or a setup function is required');
    this.o = o;
    this.native = loadNative();
    this.socketPath = o.socketPath;
    claimSocketPath(this.native, o.socketPath);
    this.listenFd = this.native.listenUnix(o.socketPath, 8);
    this.watch = this.native.watch(this.listenFd, FD_READABLE, () => this.onAcceptable());
  }

  /** Listen on `socketPath` and serve front-ends until `close()`. */
  static start(options: VhostUserRemoteOptions): Promise<VhostUserRemoteServer> {
    return Promise.resolve().then(() => new VhostUserRemoteServer(options));
  }

  private onAcceptable(): void {
    for (;;) {
      const fd = this.native.acceptUnix(this.listenFd);
      if (fd < 0) return;
      if (this.connections.size >= (this.o.maxConnections ?? 8)) {
        this.stats.refused++;
        this.native.close(fd);
        continue;
      }
      this.serve(fd);
    }
  }

  private serve(fd: number): void {
    const log = this.o.log ?? (() => {});
    this.stats.connections++;
    const name = this.o.name ?? 'vhost-user';
    const conn: VhostUserConnection = new VhostUserConnection({
      native: this.native,
      fd,
      features: VHOST_USER_RPMSG_FEATURES,
      protocolFeatures: VHOST_USER_RPMSG_PROTOCOL_FEATURES,
      ...(this.o.maxVringNum !== undefined ? { maxVringNum: this.o.maxVringNum } : {}),
      ...(this.o.requireSealedMemory !== undefined ? { requireSealedMemory: this.o.requireSealedMemory } : {}),
      attach: (rings) =>
        attachRpmsgRemote(rings, {
          name,
          firmware: this.o.firmware,
          setup: this.o.setup,
          options: this.o.options,
          log,
          onAttached: (ctx) => this.emit('attached', ctx, conn),
          onFailure: (e) => conn.close(e),
        }),
      onClose: (error) => {
        this.connections.delete(conn);
        if (error !== undefined) {
          this.stats.errors++;
          log(`vhost-user: connection closed: ${error.message}`);
        }
        this.emit('detached', error, conn);
      },
    });
    this.connections.add(conn);
    this.emit('connection', conn);
  }

  /** Stop listening, close every connection, remove the socket file. Idempotent. */
  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.native.unwatch(this.watch);
      this.native.close(this.listenFd);
      for (const c of [...this.connections]) c.close();
      try {
        unlinkSync(this.socketPath);
      } catch {
        // already gone
      }
      this.emit('close');
    }
    return Promise.resolve();
  }
}

/** Serve the rpmsg remote as a vhost-user device on `options.socketPath`. */
export function startVhostUserRemote(options: VhostUserRemoteOptions): Promise<VhostUserRemoteServer> {
  return VhostUserRemoteServer.start(options);
}

/**
 * Make `path` free for bind(): nothing there, or a socket nobody listens on (left by a killed
 * back-end; removed). A live socket or any other file is refused, never taken over.
 */
function claimSocketPath(native: NativeAddon, path: string): void {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch {
    return; // nothing there
  }
  if (!isSocket) throw new RpmsgError('EADDRINUSE', `${path} exists and is not a socket`);
  let fd = -1;
  try {
    fd = native.connectUnix(path);
  } catch (e) {
    if ((e as { code?: string }).code !== 'ECONNREFUSED') throw e;
  }
  if (fd >= 0) {
    native.close(fd);
    throw new RpmsgError('EADDRINUSE', `a back-end is already listening on ${path}`);
  }
  unlinkSync(path);
}
