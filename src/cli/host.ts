/**
 * `rpmsg host`: the host role of OpenAMP's Linux-machine demos. Attaches to a remote over the
 * shared-memory file and socket and runs OpenAMP's ping test against the echo service
 * (payloads 17..496 bytes, ends with "<n> messages, <e> errors"), or the seed's sample driver.
 */
import { RpmsgBus } from '../rpmsg/bus.js';
import type { Channel } from '../rpmsg/channel.js';
import { attachProcessRemote } from '../platform/process-host.js';
import { createClientSampleDriver, SAMPLE_SERVICE } from '../../samples/rpmsg-client-sample.js';
import { defineCommand, type CommandContext } from './command.js';
import { UsageError, flag, jsonFlag } from './flags.js';
import { ECHO_SERVICE, processFlags, processMemory } from './process-flags.js';
import { runKernelHost } from './kernel-commands.js';

/** OpenAMP's ping payload: u64 num, u64 size, then `size` bytes of 0xA5. */
export function pingPayload(num: number, size: number): Uint8Array {
  const b = new Uint8Array(16 + size).fill(0xa5);
  const dv = new DataView(b.buffer);
  dv.setBigUint64(0, BigInt(num), true);
  dv.setBigUint64(8, BigInt(size), true);
  return b;
}

interface HostResult {
  service: string;
  messages: number;
  errors: number;
  ok: boolean;
}

/** The ping driver: 480 payloads, each awaited echo compared byte for byte. */
export function pingDriver(ctx: CommandContext, finish: (r: HostResult) => void): Parameters<RpmsgBus['registerDriver']>[0] {
  let pending: ((data: Uint8Array) => void) | undefined;
  return {
    name: 'rpmsg-ping',
    idTable: [ECHO_SERVICE],
    probe: (ch: Channel) => {
      ctx.log(`rpmsg host: channel ${ch.toString()}`);
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
        ch.link.announceDestroy(ECHO_SERVICE, ch.src);
        ctx.log(`${n} messages, ${errors} errors`);
        finish({ service: ECHO_SERVICE, messages: n, errors, ok: errors === 0 });
      })().catch((e: unknown) => {
        ctx.warn(`rpmsg host: ping failed: ${String(e)}`);
        finish({ service: ECHO_SERVICE, messages: 0, errors: 1, ok: false });
      });
    },
    callback: (_ch, data) => {
      const p = pending;
      pending = undefined;
      p?.(data.slice());
    },
  };
}

export const hostCommand = defineCommand({
  name: 'host',
  summary: "host role: attaches to a remote and runs OpenAMP's ping test (pairs with OpenAMP's rpmsg-echo)",
  description:
    'Attaches to the remote serving the socket (retrying until --timeout while it starts), waits for\n' +
    'the service and runs the ping test: 480 payloads of 17..496 bytes, each echo compared byte for\n' +
    'byte; exit status 0 only with "480 messages, 0 errors". --service sample runs the seed\'s sample\n' +
    'driver instead (--count messages, then goodbye).',
  flags: {
    ...processFlags,
    count: flag.int({ help: 'sample: messages before goodbye', min: 1, max: 1_000_000, default: 100 }),
    timeout: flag.int({ help: 'give up after this many milliseconds', metavar: 'MS', min: 1, max: 86_400_000, default: 30_000 }),
    kernel: flag.boolean({ help: "through the Linux kernel's rpmsg char devices (on a board), not shared memory" }),
    ctrl: flag.string({ help: 'with --kernel: the ctrl device', metavar: 'DEV', default: '/dev/rpmsg_ctrl0' }),
    json: jsonFlag,
  },
  async run(v, ctx) {
    if (v.service === 'tty') throw new UsageError('--service tty is a remote service (the kernel makes it /dev/ttyRPMSGN)');
    if (v.kernel) return runKernelHost(v, ctx, pingDriver);
    const bus = new RpmsgBus();
    const service = v.service === 'sample' ? SAMPLE_SERVICE : ECHO_SERVICE;
    let finish!: (r: HostResult) => void;
    const done = new Promise<HostResult>((r) => (finish = r));
    if (v.service === 'sample') {
      bus.registerDriver(
        createClientSampleDriver({
          log: (l) => ctx.log(l),
          count: v.count,
          onDone: (r) => finish({ service, messages: r.messages, errors: 0, ok: r.messages === v.count }),
        }),
      );
    } else {
      bus.registerDriver(pingDriver(ctx, finish));
    }
    const failed = (why: string): void => {
      ctx.warn(`rpmsg host: ${why}`);
      finish({ service, messages: 0, errors: 0, ok: false });
    };
    const remote = await attachProcessRemote(bus, { ...processMemory(v), connectTimeoutMs: v.timeout });
    ctx.log(`rpmsg host: attached; waiting for "${service}"`);
    let closing = false;
    remote.on('down', () => {
      if (!closing) failed('remote gone');
    });
    const timer = setTimeout(() => failed(`timed out after ${v.timeout} ms`), v.timeout);
    const onAbort = (): void => failed('interrupted');
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    const result = await done;
    clearTimeout(timer);
    ctx.signal.removeEventListener('abort', onAbort);
    await new Promise((r) => setTimeout(r, 20)); // let the last kick leave
    closing = true;
    remote.close();
    if (v.json) ctx.json(result);
    return result.ok ? 0 : 1;
  },
});
