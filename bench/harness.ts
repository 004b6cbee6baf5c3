/**
 * How one benchmark case is measured. A case is a function that moves `n` messages (and, for a
 * round trip, writes each sample's time into `samples`). Each case warms up on its own (runs of
 * growing size until ≥ 0.25 s went by), then runs a count that lasts ≥ 1 s at the warm-up's
 * rate (again, larger, if it came out shorter). Heap: a GC before, heap growth after, with the
 * process started with a large young generation (see run.ts) so short-lived garbage stays
 * visible; GCs that ran inside the case are counted, and a case with one reports a lower bound.
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { CpuSampler, busyThreads, fmtThreads, sampleThreads, type BusyThread } from './threads.js';

export interface Result {
  case: string;
  transport: string;
  payload: number;
  rep: number;
  msgs: number;
  seconds: number;
  msgs_per_s: number;
  mb_per_s: number;
  rtt_p50_us: number | null;
  rtt_p99_us: number | null;
  /** CPU of the whole bench process (all its threads) per message. */
  cpu_us_per_msg: number;
  /** Main-thread heap growth per message. */
  heap_bytes_per_msg: number;
  /** The remote's heap growth per message, where the remote can report it. */
  remote_heap_bytes_per_msg: number | null;
  /** GCs inside the measured run (heap figures are then lower bounds). */
  gcs: number;
  threads: BusyThread[];
}

export interface Case {
  name: string;
  transport: string;
  payload: number;
  rtt?: boolean;
  run: (n: number, samples: Float64Array | null) => Promise<void>;
  /** A fixed count instead of the ≥ 1 s calibration (heap checks)... */
  count?: number;
  /** ...unless at the warm-up's rate it would take longer than this (a loaded machine). */
  maxSeconds?: number;
  /** The remote's heap in use, after a GC when asked. */
  remoteHeap?: (gc: boolean) => Promise<number>;
  /** Other processes whose threads to report. */
  pids?: readonly number[];
}

const args = new Set(process.argv.slice(2));
export const JSON_OUT = args.has('--json');
export const SMOKE = args.has('--smoke');
/** BENCH_ONLY=regex runs only the cases whose "case transport" matches (for profiling). */
export const ONLY = process.env.BENCH_ONLY !== undefined ? new RegExp(process.env.BENCH_ONLY) : undefined;
export const REPS = SMOKE ? 1 : Number(process.env.BENCH_REPS ?? 3);
/** Seconds a measured run lasts at least (BENCH_SECONDS overrides, for quick looks). */
export const MIN_SECONDS = Number(process.env.BENCH_SECONDS ?? 1);
const WARM_SECONDS = MIN_SECONDS / 4;
const SMOKE_COUNT = 3000;

export function log(line: string): void {
  if (!JSON_OUT) process.stderr.write(`${line}\n`);
}

export function selected(name: string, transport: string): boolean {
  return ONLY === undefined || ONLY.test(`${name} ${transport}`);
}

export function fmtRate(v: number): string {
  return v >= 1e6 ? `${(v / 1e6).toFixed(2)}M/s` : `${(v / 1e3).toFixed(0)}k/s`;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

const gc = (globalThis as { gc?: () => void }).gc!;
// GC start times (ms, performance clock) in a ring, filled by the observer.
const gcTimes = new Float64Array(1024);
let gcCount = 0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcTimes[gcCount++ % gcTimes.length] = e.startTime;
}).observe({ entryTypes: ['gc'] });

function gcsBetween(t0: number, t1: number): number {
  let k = 0;
  for (let i = 0; i < Math.min(gcCount, gcTimes.length); i++) if (gcTimes[i]! >= t0 && gcTimes[i]! <= t1) k++;
  return k;
}

export const sampler = new CpuSampler();

let samplesBuf = new Float64Array(0);
function samplesFor(n: number): Float64Array {
  if (samplesBuf.length < n) samplesBuf = new Float64Array(n);
  return samplesBuf.subarray(0, n);
}

async function timed(c: Case, n: number): Promise<number> {
  const t0 = performance.now();
  await c.run(n, c.rtt === true ? samplesFor(n) : null);
  return (performance.now() - t0) / 1000;
}

/** Warm up, pick a count that lasts ≥ MIN_SECONDS, measure it. */
export async function measure(c: Case, rep: number): Promise<Result | undefined> {
  if (!selected(c.name, c.transport)) return undefined;
  let n = SMOKE ? Math.min(c.count ?? Infinity, c.rtt === true ? SMOKE_COUNT / 15 : SMOKE_COUNT) : c.rtt === true ? 200 : 2000;
  if (!SMOKE) {
    let warm = 0;
    let rate = 0;
    while (warm < WARM_SECONDS) {
      const s = await timed(c, n);
      warm += s;
      rate = n / s;
      n = Math.max(n, Math.ceil(Math.min(n * 8, rate * (WARM_SECONDS / 2))));
    }
    n = c.count !== undefined ? Math.min(c.count, Math.ceil(rate * (c.maxSeconds ?? Infinity))) : Math.ceil((rate * MIN_SECONDS * 1.2) / 100) * 100;
  }
  for (let attempt = 0; ; attempt++) {
    const r = await once(c, rep, n);
    if (SMOKE || c.count !== undefined || r.seconds >= MIN_SECONDS || attempt === 2) {
      if (JSON_OUT) process.stdout.write(`${JSON.stringify(r)}\n`);
      else {
        const rtt = r.rtt_p50_us !== null ? `  p50 ${r.rtt_p50_us.toFixed(2)} µs` : '';
        const heap = `heap ${r.heap_bytes_per_msg.toFixed(3)}${r.remote_heap_bytes_per_msg !== null ? `/${r.remote_heap_bytes_per_msg.toFixed(3)}` : ''} B${r.gcs > 0 ? ` (${r.gcs} gc)` : ''}`;
        log(`  ${c.name.padEnd(24)} ${c.transport.padEnd(20)} ${String(c.payload).padStart(3)} B  ${fmtRate(r.msgs_per_s).padStart(9)}${rtt}  ${r.seconds.toFixed(2)} s  ${heap}  ${fmtThreads(r.threads)}`);
      }
      return r;
    }
    n = Math.ceil((n * MIN_SECONDS * 1.25) / r.seconds / 100) * 100;
  }
}

async function once(c: Case, rep: number, n: number): Promise<Result> {
  const samples = c.rtt === true ? samplesFor(n) : null;
  const rheap0 = c.remoteHeap !== undefined ? await c.remoteHeap(true) : 0;
  const pids = [process.pid, ...(c.pids ?? [])];
  gc();
  const threads0 = sampleThreads(pids);
  const heap0 = process.memoryUsage().heapUsed;
  sampler.start(pids);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await c.run(n, samples);
  const t1 = performance.now();
  const heap = process.memoryUsage().heapUsed - heap0;
  const cpu = process.cpuUsage(cpu0);
  const threads = busyThreads(threads0, sampleThreads(pids), t1 - t0, 5, await sampler.stop());
  const rheap = c.remoteHeap !== undefined ? (await c.remoteHeap(false)) - rheap0 : null;
  await sleep(5); // GC entries arrive asynchronously
  const seconds = (t1 - t0) / 1000;
  let p50: number | null = null;
  let p99: number | null = null;
  if (samples !== null) {
    samples.sort();
    p50 = samples[Math.floor(n * 0.5)]! * 1000;
    p99 = samples[Math.floor(n * 0.99)]! * 1000;
  }
  return {
    case: c.name,
    transport: c.transport,
    payload: c.payload,
    rep,
    msgs: n,
    seconds,
    msgs_per_s: n / seconds,
    mb_per_s: (n * c.payload) / seconds / 1e6,
    rtt_p50_us: p50,
    rtt_p99_us: p99,
    cpu_us_per_msg: (cpu.user + cpu.system) / n,
    heap_bytes_per_msg: Math.max(0, heap) / n,
    remote_heap_bytes_per_msg: rheap !== null ? Math.max(0, rheap) / n : null,
    gcs: gcsBetween(t0, t1),
    threads,
  };
}
