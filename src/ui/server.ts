/**
 * A live view of a bus in the browser: an HTTP server on loopback only (127.0.0.1) with one
 * self-contained page (inline CSS, JS and SVG; nothing fetched from elsewhere) and a
 * server-sent-events stream that pushes the bus's statistics and the recent messages every
 * `intervalMs`.
 *
 *   GET /         the page
 *   GET /events   text/event-stream: "state" events, one JSON document each
 *   GET /state    the same document once (scripts, tests)
 *
 * Recent messages are sampled: at most `recent` per interval are kept for the sequence diagram
 * (the counters count everything), so a busy bus costs the view a bounded amount per interval.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RPMSG_NS_ADDR } from '../rpmsg/constants.js';
import type { RpmsgBus } from '../rpmsg/bus.js';
import { RPMSG_CHANNELS, type DiagLink, type DropEvent, type MessageEvent } from '../rpmsg/diagnostics.js';
import { BusStats, type LinkStatsReport } from '../trace/stats.js';
import { PAGE } from './page.js';

export interface UiOptions {
  bus: RpmsgBus;
  /** TCP port on 127.0.0.1 (default 0: any free port). */
  port?: number;
  /** Milliseconds between updates (default 250). */
  intervalMs?: number;
  /** Messages kept per update for the sequence diagram (default 24). */
  recent?: number;
  /** Page title (default "rpmsg"). */
  title?: string;
}

export interface UiMessage {
  t: number;
  link: string;
  dir: 'h2r' | 'r2h';
  src: number;
  dst: number;
  len: number;
  ns: boolean;
  drop?: string;
}

export interface UiState {
  title: string;
  t: number;
  links: LinkStatsReport[];
  messages: UiMessage[];
  /** Messages seen since the last state that did not fit `recent`. */
  unsampled: number;
}

export interface UiServer {
  readonly url: string;
  readonly port: number;
  /** The current document (what /state returns). */
  state(): UiState;
  close(): Promise<void>;
}

export async function startUi(o: UiOptions): Promise<UiServer> {
  const intervalMs = o.intervalMs ?? 250;
  const keep = o.recent ?? 24;
  const title = o.title ?? 'rpmsg';
  const stats = new BusStats(o.bus);
  let batch: UiMessage[] = [];
  let unsampled = 0;
  const mine = (l: DiagLink): boolean => l.bus === o.bus;
  const sample = (e: MessageEvent | DropEvent, sent: boolean, drop?: string): void => {
    if (!mine(e.link)) return;
    if (batch.length >= keep) {
      unsampled++;
      return;
    }
    const dir = (e.link.role === 'host') === sent ? 'h2r' : 'r2h';
    batch.push({ t: Date.now(), link: e.link.name, dir, src: e.src >>> 0, dst: e.dst >>> 0, len: Math.max(0, e.len), ns: e.dst === RPMSG_NS_ADDR, ...(drop !== undefined ? { drop } : {}) });
  };
  const onSend = (m: unknown): void => sample(m as MessageEvent, true);
  const onReceive = (m: unknown): void => sample(m as MessageEvent, false);
  const onDrop = (m: unknown): void => sample(m as DropEvent, false, (m as DropEvent).reason);
  subscribe(RPMSG_CHANNELS.send, onSend);
  subscribe(RPMSG_CHANNELS.receive, onReceive);
  subscribe(RPMSG_CHANNELS.drop, onDrop);

  let last: UiState = { title, t: Date.now(), links: [], messages: [], unsampled: 0 };
  const clients = new Set<ServerResponse>();
  const tick = (): void => {
    stats.pruneDown();
    last = { title, t: Date.now(), links: stats.report(), messages: batch, unsampled };
    batch = [];
    unsampled = 0;
    const frame = `event: state\ndata: ${JSON.stringify(last)}\n\n`;
    for (const c of clients) c.write(frame);
  };
  const timer = setInterval(tick, intervalMs);
  timer.unref();

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') {
      res.writeHead(405, { allow: 'GET' }).end();
    } else if (path === '/') {
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-store',
        // The page is self-contained: forbid anything from elsewhere.
        'content-security-policy': "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:",
      });
      res.end(PAGE.replaceAll('__TITLE__', escapeHtml(title)));
    } else if (path === '/events') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
      res.write(`retry: 1000\nevent: state\ndata: ${JSON.stringify(last)}\n\n`);
      clients.add(res);
      req.on('close', () => clients.delete(res));
    } else if (path === '/state') {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(last));
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    }
  };
  const server: Server = createServer(handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  tick();
  let closed = false;
  return {
    url: `http://127.0.0.1:${port}/`,
    port,
    state: () => last,
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      unsubscribe(RPMSG_CHANNELS.send, onSend);
      unsubscribe(RPMSG_CHANNELS.receive, onReceive);
      unsubscribe(RPMSG_CHANNELS.drop, onDrop);
      stats.close();
      for (const c of clients) c.end();
      clients.clear();
      const done = new Promise<void>((r) => server.close(() => r()));
      server.closeAllConnections(); // keep-alive sockets would hold close() open
      await done;
    },
  };
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
