/**
 * `rpmsg host`: the host role of OpenAMP's Linux-machine demos. Attaches to a remote over the
 * shared-memory file and socket and runs the host test of one service of the registry
 * (src/services/registry.ts); prints "<n> messages, <e> errors" and exits 0 only when it
 * passed. With --kernel the echo ping runs through the kernel's char devices instead.
 */
import { RpmsgError, describeError } from '../errors.js';
import { RpmsgBus } from '../rpmsg/bus.js';
import type { Channel } from '../rpmsg/channel.js';
import { attachProcessRemote } from '../platform/process-host.js';
import { resultLine } from '../services/host-test.js';
import { pingPayload } from '../services/payload.js';
import { SERVICES } from '../services/registry.js';
import { defineCommand, type CommandContext } from './command.js';
import { UsageError, flag, jsonFlag } from './flags.js';
import { ECHO_SERVICE, processFlags, processMemory } from './process-flags.js';
import { runKernelHost } from './kernel-commands.js';

interface HostResult {
  service: string;
  messages: number;
  errors: number;
  ok: boolean;
}

/** The ping driver of `--kernel` (a channel driver: the kernel binds by channel): 480 payloads, each awaited echo compared byte for byte. */
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
  summary: "host role: attaches to a remote and runs a service's test (pairs with OpenAMP's remotes)",
  description:
    'Attaches to the remote serving the socket (retrying until --timeout while it starts), waits for\n' +
    "the service and runs its test as OpenAMP's host app does: echo (msg-test-rpmsg-ping: 480\n" +
    'payloads of 17..496 bytes), sample (rpmsg-sample-ping: 100 messages, then the remote must\n' +
    'destroy its endpoint), matrix (matrix_multiply: 200 products), nocopy (rpmsg-nocopy-ping,\n' +
    'zero-copy), flood (msg-test-rpmsg-flood-ping: --count packets per size 1..480). Ends with\n' +
    '"<n> messages, <e> errors"; exit status 0 only when the test passed.',
  flags: {
    ...processFlags,
    count: flag.int({ help: "the test's count (echo, nocopy: payloads, 480; sample: 100; matrix: 200; flood: packets per size, 32)", min: 1, max: 0x100000 }),
    timeout: flag.int({ help: 'give up after this many milliseconds', metavar: 'MS', min: 1, max: 86_400_000, default: 30_000 }),
    kernel: flag.boolean({ help: "through the Linux kernel's rpmsg char devices (on a board), not shared memory" }),
    ctrl: flag.string({ help: 'with --kernel: the ctrl device', metavar: 'DEV', default: '/dev/rpmsg_ctrl0' }),
    json: jsonFlag,
  },
  async run(v, ctx) {
    const service = SERVICES[v.service];
    const test = 'host' in service ? service.host : undefined;
    if (test === undefined) throw new UsageError(`--service ${v.service} is a remote service (the kernel makes it /dev/ttyRPMSGN)`);
    if (v.kernel) {
      if (v.service !== 'echo') throw new UsageError('--kernel runs the echo ping only');
      return runKernelHost(v, ctx, pingDriver);
    }
    const bus = new RpmsgBus();
    const ac = new AbortController();
    const abort = (e: RpmsgError): void => {
      if (!ac.signal.aborted) ac.abort(e);
    };
    const timer = setTimeout(() => abort(new RpmsgError('ETIMEDOUT', `timed out after ${v.timeout} ms`)), v.timeout);
    const onSignal = (): void => abort(new RpmsgError('ABORT_ERR', 'interrupted'));
    ctx.signal.addEventListener('abort', onSignal, { once: true });
    let remote;
    try {
      remote = await attachProcessRemote(bus, { ...processMemory(v), connectTimeoutMs: v.timeout, signal: ac.signal });
    } catch (e) {
      clearTimeout(timer);
      ctx.signal.removeEventListener('abort', onSignal);
      throw e;
    }
    let closing = false;
    remote.on('down', (e) => {
      // The violation (code and values) is the cause: print it and fail.
      if (!closing) abort(new RpmsgError('ENODEV', `link down: ${describeError(e)}`, undefined, { cause: e }));
    });
    ctx.log(`rpmsg host: attached; running ${service.name} on "${service.channel}"`);
    let passed = false;
    try {
      const r = await test({ bus, link: remote.link, log: (l) => ctx.log(l), signal: ac.signal, count: v.count });
      ctx.log(resultLine(r));
      if (r.reason !== undefined) ctx.warn(`rpmsg host: ${r.reason}`);
      if (v.json) ctx.json({ service: service.channel, messages: r.messages, errors: r.errors, ok: r.passed, ...(r.reason !== undefined ? { reason: r.reason } : {}) });
      passed = r.passed;
    } catch (e) {
      const why = ac.signal.aborted ? (ac.signal.reason as Error) : e;
      ctx.warn(`rpmsg host: ${service.name} failed: ${why instanceof Error ? why.message : String(why)}`);
    } finally {
      clearTimeout(timer);
      ctx.signal.removeEventListener('abort', onSignal);
      await new Promise((r) => setTimeout(r, 20)); // let the last kick (the DESTROY) leave
      closing = true;
      remote.close();
    }
    return passed ? 0 : 1;
  },
});
