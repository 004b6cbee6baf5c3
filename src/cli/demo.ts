/**
 * `rpmsg demo`: boots remote processors in worker threads running the client-sample firmware,
 * binds the seed's sample driver to each announced channel, prints its log and a summary.
 */
import { RpmsgBus } from '../rpmsg/bus.js';
import { startWorkerRemote, type WorkerRemoteProc } from '../platform/worker-remote.js';
import { createClientSampleDriver, type SampleResult } from '../../samples/rpmsg-client-sample.js';

export interface DemoOptions {
  remotes: number;
  count: number;
  log: (line: string) => void;
  timeoutMs: number;
}

export async function runDemo(o: DemoOptions): Promise<SampleResult[]> {
  const bus = new RpmsgBus();
  const results: SampleResult[] = [];
  let finish!: () => void;
  const allDone = new Promise<void>((r) => (finish = r));
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
      remotes.push(await startWorkerRemote(bus, { firmware, name: `rproc${i}`, log: (l) => o.log(`[rproc${i}] ${l}`) }));
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`demo did not finish within ${o.timeoutMs} ms`)), o.timeoutMs);
    });
    await Promise.race([allDone, timeout]).finally(() => clearTimeout(timer));
  } finally {
    await Promise.all(remotes.map((r) => r.stop()));
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
