/**
 * `rpmsg remote` and `rpmsg host`: either side of OpenAMP's Linux-machine demos. With no flags
 * they use OpenAMP's defaults, so `rpmsg remote` pairs with OpenAMP's `rpmsg-ping` host and
 * `rpmsg host` with OpenAMP's `rpmsg-echo` remote.
 */
import { RpmsgBus } from '../rpmsg/bus.js';
import type { Channel } from '../rpmsg/channel.js';
import type { Endpoint } from '../rpmsg/endpoint.js';
import { ProcessRemoteServer, attachProcessRemote, type ProcessMemoryOptions } from '../platform/process-remote.js';
import { createClientSampleDriver, SAMPLE_SERVICE } from '../../samples/rpmsg-client-sample.js';

export const ECHO_SERVICE = 'rpmsg-openamp-demo-channel';

export interface ProcessCommandOptions extends ProcessMemoryOptions {
  service: 'echo' | 'sample';
  firmware?: string;
  once: boolean;
  log: (line: string) => void;
  /** Sample: messages before goodbye. */
  count: number;
  timeoutMs: number;
}

/** Remote role: serve the echo or sample service (or a firmware module) to one host after another. */
export async function runRemote(o: ProcessCommandOptions): Promise<number> {
  const name = o.service === 'sample' ? SAMPLE_SERVICE : ECHO_SERVICE;
  const server = await ProcessRemoteServer.start({
    ...o,
    ...(o.firmware !== undefined
      ? { firmware: o.firmware }
      : {
          setup: (ctx) => {
            ctx.createEndpoint(
              (owner, data, src) => {
                const ep = owner as Endpoint;
                if (ep.poll()) ep.trySendTo(data, src);
                else ep.sendTo(data.slice(), src).catch((e: unknown) => o.log(`echo failed: ${String(e)}`));
              },
              { name },
            );
          },
        }),
    log: o.log,
    once: o.once,
  });
  o.log(`rpmsg remote: serving ${o.firmware ?? name} on ${o.socketPath ?? '/tmp/openamp.event.0'}`);
  server.on('attached', () => o.log('rpmsg remote: host attached'));
  server.on('detached', () => o.log('rpmsg remote: host detached'));
  await new Promise<void>((resolve) => {
    server.once('close', resolve);
    const stop = (): void => void server.close();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return 0;
}

/** OpenAMP's ping payload: u64 num, u64 size, then `size` bytes of 0xA5. */
export function pingPayload(num: number, size: number): Uint8Array {
  const b = new Uint8Array(16 + size).fill(0xa5);
  const dv = new DataView(b.buffer);
  dv.setBigUint64(0, BigInt(num), true);
  dv.setBigUint64(8, BigInt(size), true);
  return b;
}

/** Host role: run the ping test against the echo service, or the client sample. */
export async function runHost(o: ProcessCommandOptions): Promise<number> {
  const bus = new RpmsgBus();
  const service = o.service === 'sample' ? SAMPLE_SERVICE : ECHO_SERVICE;
  let finish!: (code: number) => void;
  const done = new Promise<number>((r) => (finish = r));
  if (o.service === 'sample') {
    bus.registerDriver(createClientSampleDriver({ log: o.log, count: o.count, onDone: () => finish(0) }));
  } else {
    let pending: ((data: Uint8Array) => void) | undefined;
    bus.registerDriver({
      name: 'rpmsg-ping',
      idTable: [ECHO_SERVICE],
      probe: (ch: Channel) => {
        o.log(`rpmsg host: channel ${ch.toString()}`);
        void (async () => {
          let errors = 0;
          let n = 0;
          for (let i = 0; i < 480; i++) {
            const sent = pingPayload(i, i + 1);
            const echo = new Promise<Uint8Array>((r) => (pending = r));
            await ch.send(sent);
            const got = await echo;
            n++;
            if (got.length !== sent.length || got.some((b, j) => b !== sent[j])) errors++;
          }
          // Like OpenAMP's ping host, say goodbye with an NS destroy (its echo remote exits on it).
          ch.link.announcer?.(ECHO_SERVICE, ch.src, true);
          o.log(`${n} messages, ${errors} errors`);
          finish(errors === 0 ? 0 : 1);
        })().catch((e: unknown) => {
          o.log(`rpmsg host: ping failed: ${String(e)}`);
          finish(1);
        });
      },
      callback: (_ch, data) => {
        const p = pending;
        pending = undefined;
        p?.(data.slice());
      },
    });
  }
  const remote = await attachProcessRemote(bus, { ...o, connectTimeoutMs: o.timeoutMs });
  o.log(`rpmsg host: attached; waiting for "${service}"`);
  let closing = false;
  remote.on('down', () => {
    if (closing) return;
    o.log('rpmsg host: remote gone');
    finish(1);
  });
  const timer = setTimeout(() => {
    o.log(`rpmsg host: timed out after ${o.timeoutMs} ms`);
    finish(1);
  }, o.timeoutMs);
  const code = await done;
  clearTimeout(timer);
  await new Promise((r) => setTimeout(r, 20)); // let the last kick leave
  closing = true;
  remote.close();
  return code;
}
