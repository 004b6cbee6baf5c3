/**
 * `rpmsg demo`: boots remote processors in worker threads running the client-sample firmware,
 * binds the seed's sample driver to each announced channel, prints its log and a summary.
 */
import { RpmsgBus } from '../rpmsg/bus.js';
import { startWorkerRemote, type WorkerRemoteProc } from '../platform/worker-remote.js';
import { createClientSampleDriver, type SampleResult } from '../../samples/rpmsg-client-sample.js';
import { defineCommand } from './command.js';
import { flag, jsonFlag } from './flags.js';
import { paceSampleTraffic } from './demo-ui.js';
import { startUi } from '../ui/server.js';

export interface DemoOptions {
  remotes: number;
  count: number;
  log: (line: string) => void;
  timeoutMs: number;
  /** Run on this bus (to trace or watch it); default a new one. */
  bus?: RpmsgBus;
  /** Called when every sample has finished, before the remotes stop. */
  beforeStop?: () => void | Promise<void>;
}

export async function runDemo(o: DemoOptions): Promise<SampleResult[]> {
  const bus = o.bus ?? new RpmsgBus();
  const results: SampleResult[] = [];
  let finish!: () => void;
  let crashed!: (e: Error) => void;
  const allDone = new Promise<void>((resolve, reject) => {
    finish = resolve;
    crashed = reject;
  });
  bus.registerDriver(
    createClientSampleDriver({
      log: o.log,
      count: o.count,
      onDone: (r) => {
        results.push(r);
        if (results.length === o.remotes) finish();
      },
    }),
  );
  const firmware = new URL('../../samples/firmware/client-sample.js', import.meta.url);
  const remotes: WorkerRemoteProc[] = [];
  const start = performance.now();
  try {
    for (let i = 0; i < o.remotes; i++) {
      const rp = await startWorkerRemote(bus, { firmware, name: `rproc${i}`, log: (l) => o.log(`[rproc${i}] ${l}`) });
      rp.on('crash', crashed); // a crashed remote ends the demo now, not at the timeout
      remotes.push(rp);
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`demo did not finish within ${o.timeoutMs} ms`)), o.timeoutMs);
    });
    await Promise.race([allDone, timeout]).finally(() => clearTimeout(timer));
    await o.beforeStop?.();
  } finally {
    await Promise.all(remotes.map((r) => r.close()));
  }
  const total = performance.now() - start;
  o.log('');
  o.log('summary:');
  o.log('  remote   channel                          messages   bytes   time (ms)');
  for (const r of results.sort((a, b) => a.channel.link.name.localeCompare(b.channel.link.name))) {
    o.log(
      `  ${r.channel.link.name.padEnd(8)} ${r.channel.toString().padEnd(32)} ${String(r.messages).padStart(8)} ${String(r.bytes).padStart(7)} ${r.elapsedMs.toFixed(1).padStart(11)}`,
    );
  }
  o.log(`  total: ${results.reduce((s, r) => s + r.messages, 0)} messages from ${results.length} remotes in ${total.toFixed(1)} ms`);
  return results;
}

export const demoCommand = defineCommand({
  name: 'demo',
  summary: 'boot remote processors (worker threads) running the client-sample firmware and run the sample driver',
  description:
    'Boots --remotes remote processors in worker threads; each runs the rpmsg-client-sample firmware\n' +
    'and the host binds the seed\'s sample driver (Linux samples/rpmsg) to each announced channel,\n' +
    'prints its log and a summary. Needs no native addon.',
  flags: {
    remotes: flag.int({ help: 'remote processors to boot', min: 1, max: 64, default: 2 }),
    count: flag.int({ help: 'messages per remote before goodbye', min: 1, max: 1_000_000, default: 100 }),
    timeout: flag.int({ help: 'give up after this many milliseconds', metavar: 'MS', min: 1, max: 3_600_000, default: 60_000 }),
    json: jsonFlag,
    ui: flag.boolean({ help: 'serve a live view on 127.0.0.1 and keep traffic flowing until Ctrl-C' }),
    'ui-port': flag.int({ help: 'port of the live view (0: any free port)', min: 0, max: 65535, default: 0 }),
    rate: flag.int({ help: 'with --ui: messages per second per channel after the sample', min: 1, max: 10_000, default: 50 }),
  },
  async run(v, ctx) {
    if (v.ui) {
      const bus = new RpmsgBus();
      const ui = await startUi({ bus, port: v['ui-port'], title: 'rpmsg demo' });
      ctx.log(`live view: ${ui.url} (Ctrl-C to stop)`);
      try {
        const beforeStop = (): Promise<void> => paceSampleTraffic(bus, v.rate, ctx.signal);
        await runDemo({ bus, remotes: v.remotes, count: v.count, log: (l) => ctx.log(l), timeoutMs: v.timeout, beforeStop });
      } finally {
        await ui.close();
      }
      return 0;
    }
    const results = await runDemo({ remotes: v.remotes, count: v.count, log: (l) => ctx.log(l), timeoutMs: v.timeout });
    const ok = results.length === v.remotes && results.every((r) => r.messages === v.count);
    if (v.json) {
      ctx.json({
        ok,
        remotes: results.map((r) => ({ remote: r.channel.link.name, channel: r.channel.toString(), messages: r.messages, bytes: r.bytes, elapsedMs: r.elapsedMs })),
      });
    }
    return ok ? 0 : 1;
  },
});
