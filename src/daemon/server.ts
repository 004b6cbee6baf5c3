/**
 * `rpmsg serve`: a daemon that owns an rpmsg bus and serves it to local programs over a UNIX
 * socket, each program limited to what its policy rule allows (Linux does this with
 * rpmsg_char/rpmsg_ctrl device nodes and their file permissions; we do it with a socket, peer
 * credentials and a policy file). Any bus will do: worker remotes, process remotes, a
 * vhost-user device or the kernel transport all put their channels on an RpmsgBus.
 *
 * The socket file is created with mode 0600 (or the policy's `socketMode`) under a umask that
 * keeps it private from the first instant; a live daemon's socket is never taken over, a stale
 * one (nobody listening) is replaced, and a path that is not a socket is left alone.
 */
import { EventEmitter } from 'node:events';
import { chmodSync, lstatSync, unlinkSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { RpmsgError } from '../errors.js';
import { loadNative } from '../native/addon.js';
import type { Channel } from '../rpmsg/channel.js';
import type { RpmsgBus } from '../rpmsg/bus.js';
import type { RpmsgLink } from '../rpmsg/link.js';
import { BusObserver } from './bus-observer.js';
import { ownerOnlyPolicy, type Policy } from './policy.js';
import { DEFAULT_MAX_FRAME } from './protocol.js';
import type { DaemonContext, DaemonCounters, DaemonLimits } from './context.js';
import { DaemonSession } from './session.js';
import { defaultSocketPath } from './socket-path.js';

export type { DaemonContext, DaemonCounters, DaemonLimits } from './context.js';

export interface DaemonOptions {
  bus: RpmsgBus;
  /** Default: $RPMSG_SOCKET, $XDG_RUNTIME_DIR/rpmsg.sock or /tmp/rpmsg-$UID.sock. */
  socketPath?: string;
  /** Default: owner only (every client that can open the 0600 socket gets everything). */
  policy?: Policy;
  /** Largest frame a client may send, bytes (default 65536). */
  maxFrame?: number;
  /** Clients connected at once (default 256); more are refused with EMFILE. */
  maxClients?: number;
  /** Sends per client waiting for a tx buffer before the daemon stops reading it (default 64). */
  maxInflight?: number;
  /** Bytes of received messages queued to one client before drops (default 1 MiB). */
  maxQueuedBytes?: number;
  /** Wait for a tx buffer per send, ms (default 15000, the seed's 15 s). */
  sendTimeoutMs?: number;
  /** A client must say HELLO within this, ms (default 10000). */
  helloTimeoutMs?: number;
  log?: (line: string) => void;
}

type PeerCred = { pid: number | undefined; uid: number | undefined; gid: number | undefined };

export class RpmsgDaemon extends EventEmitter implements DaemonContext {
  readonly bus: RpmsgBus;
  readonly socketPath: string;
  readonly policy: Policy;
  readonly limits: DaemonLimits;
  readonly counters: DaemonCounters = { connections: 0, malformed: 0, refused: 0, rateLimited: 0, rxDropped: 0, opened: 0, traceDropped: 0 };
  readonly observer: BusObserver;
  readonly staticChannels = new Set<Channel>();
  private readonly maxClients: number;
  private readonly logFn: (line: string) => void;
  private readonly sessions = new Set<DaemonSession>();
  /** Links with the daemon's one 'down' listener (not one per session: no listener pile-up). */
  private readonly watchedLinks = new Map<RpmsgLink, () => void>();
  private readonly onChannelRemoved = (ch: Channel): void => {
    for (const s of this.sessions) s.channelGone(ch);
  };
  private server: Server | undefined;
  private nextId = 1;
  private credWarned = false;

  private constructor(o: DaemonOptions) {
    super();
    this.bus = o.bus;
    this.socketPath = o.socketPath ?? defaultSocketPath();
    this.policy = o.policy ?? ownerOnlyPolicy();
    this.observer = new BusObserver(o.bus);
    this.limits = {
      maxFrame: o.maxFrame ?? DEFAULT_MAX_FRAME,
      maxInflight: o.maxInflight ?? 64,
      maxQueuedBytes: o.maxQueuedBytes ?? 1 << 20,
      sendTimeoutMs: o.sendTimeoutMs ?? 15_000,
      helloTimeoutMs: o.helloTimeoutMs ?? 10_000,
    };
    this.maxClients = o.maxClients ?? 256;
    this.logFn = o.log ?? (() => {});
  }

  /** Listen on the socket; EBUSY when a live daemon (or a non-socket file) holds the path. */
  static async start(o: DaemonOptions): Promise<RpmsgDaemon> {
    const d = new RpmsgDaemon(o);
    let server: Server;
    try {
      await claimSocketPath(d.socketPath);
      server = createServer((s) => d.accept(s));
      const old = process.umask(0o177); // the socket is born 0600: no window for others to connect
      try {
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen(d.socketPath, () => {
            server.off('error', reject);
            resolve();
          });
        });
      } finally {
        process.umask(old);
      }
    } catch (e) {
      d.observer.close(); // its collector is subscribed to the diagnostics channels
      throw e;
    }
    chmodSync(d.socketPath, d.policy.socketMode);
    server.on('error', (e) => d.log(`socket error: ${e.message}`));
    d.bus.on('channel-removed', d.onChannelRemoved);
    d.server = server;
    return d;
  }

  get clientCount(): number {
    return this.sessions.size;
  }

  log(line: string): void {
    this.logFn(line);
  }

  /** @internal */
  watchLink(link: RpmsgLink): void {
    if (this.watchedLinks.has(link)) return;
    const onDown = (): void => {
      this.watchedLinks.delete(link);
      for (const s of this.sessions) s.linkDown();
    };
    this.watchedLinks.set(link, onDown);
    link.once('down', onDown);
  }

  /** @internal */
  sessionClosed(s: DaemonSession): void {
    if (this.sessions.delete(s)) this.emit('client-closed', s.id);
  }

  private accept(socket: Socket): void {
    this.counters.connections++;
    const id = this.nextId++;
    const who = this.peerCred(socket);
    const session = new DaemonSession(this, socket, id, who);
    if (this.sessions.size >= this.maxClients) {
      session.close('EMFILE', `the daemon serves at most ${this.maxClients} clients`);
      return;
    }
    this.sessions.add(session);
    this.emit('client', id);
  }

  /** SO_PEERCRED through the native addon; without it, uid/gid rules cannot match (tokens still do). */
  private peerCred(socket: Socket): PeerCred {
    const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
    try {
      if (typeof fd !== 'number' || fd < 0) throw new RpmsgError('ENXIO', 'socket has no file descriptor');
      return loadNative().peercred(fd);
    } catch (e) {
      if (!this.credWarned) {
        this.credWarned = true;
        this.log(`peer credentials unavailable (${(e as Error).message}): uid/gid rules match nobody`);
      }
      return { pid: undefined, uid: undefined, gid: undefined };
    }
  }

  /** Close every client (their endpoints are destroyed), stop listening, remove the socket file. */
  async close(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    this.server = undefined;
    this.bus.off('channel-removed', this.onChannelRemoved);
    for (const [link, onDown] of this.watchedLinks) link.off('down', onDown);
    this.watchedLinks.clear();
    for (const s of [...this.sessions]) s.close();
    this.observer.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/**
 * Never take over a live socket: connect to it first. ECONNREFUSED means stale (remove it);
 * a successful connection means a daemon is running (EBUSY); a non-socket is not ours.
 */
async function claimSocketPath(path: string): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch {
    return; // nothing there
  }
  if (!isSocket) throw new RpmsgError('EBUSY', `${path} exists and is not a socket; not touching it`);
  const live = await new Promise<boolean>((resolve) => {
    const s = connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
  if (live) throw new RpmsgError('EBUSY', `a daemon is already listening on ${path}`);
  unlinkSync(path);
}
