/**
 * Which CPUs the benchmark's threads ran on. Linux only: for every thread of the given
 * processes, /proc/<pid>/task/<tid>/stat field 39 (the CPU it last ran on) and
 * /proc/<pid>/task/<tid>/sched (run time, migrations, involuntary switches — the latter show
 * another load taking the CPU). A case reports the threads that were busy during it.
 */
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';

export interface ThreadSample {
  pid: number;
  tid: number;
  name: string;
  cpu: number;
  runMs: number;
  migrations: number;
  involuntary: number;
}

export interface BusyThread {
  /** `main` for the bench's main thread, else `<comm>:<tid>` (pid:tid for other processes). */
  thread: string;
  /** CPU it last ran on. */
  cpu: number;
  /** Where it ran while the case ran: CPU → share of the samples that found it running, percent. */
  on_cpus: Record<string, number>;
  /** Share of the case's wall time it ran, percent. */
  busy_pct: number;
  migrations: number;
  involuntary_switches: number;
}

function field(sched: string, name: string): number {
  const i = sched.indexOf(name);
  if (i < 0) return 0;
  const colon = sched.indexOf(':', i);
  return Number.parseFloat(sched.slice(colon + 1, sched.indexOf('\n', colon)));
}

export function sampleThreads(pids: readonly number[]): Map<number, ThreadSample> {
  const out = new Map<number, ThreadSample>();
  for (const pid of pids) {
    let tids: string[];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue; // not Linux, or the process is gone
    }
    for (const t of tids) {
      try {
        const stat = readFileSync(`/proc/${pid}/task/${t}/stat`, 'latin1');
        const close = stat.lastIndexOf(')');
        const name = stat.slice(stat.indexOf('(') + 1, close);
        // Fields after the comm: state is field 3, so field 39 is index 36 of the rest.
        const cpu = Number(stat.slice(close + 2).split(' ')[36]);
        const sched = readFileSync(`/proc/${pid}/task/${t}/sched`, 'latin1');
        out.set(Number(t), {
          pid,
          tid: Number(t),
          name,
          cpu,
          runMs: field(sched, 'se.sum_exec_runtime'),
          migrations: field(sched, 'se.nr_migrations'),
          involuntary: field(sched, 'nr_involuntary_switches'),
        });
      } catch {
        // thread exited between readdir and read
      }
    }
  }
  return out;
}

/** Threads that ran at least `minPct` of `wallMs` between two samples, busiest first. */
export function busyThreads(
  before: Map<number, ThreadSample>,
  after: Map<number, ThreadSample>,
  wallMs: number,
  minPct = 5,
  seen: Map<number, Array<[number, number]>> = new Map(),
): BusyThread[] {
  const busy: BusyThread[] = [];
  for (const [tid, a] of after) {
    const b = before.get(tid);
    const ran = a.runMs - (b?.runMs ?? 0);
    const pct = (ran / wallMs) * 100;
    if (pct < minPct) continue;
    busy.push({
      thread: tid === process.pid ? 'main' : a.pid === process.pid ? `${a.name}:${tid}` : `${a.pid}:${tid}`,
      cpu: a.cpu,
      on_cpus: share(seen.get(tid) ?? []),
      busy_pct: Math.round(pct * 100) / 100,
      migrations: a.migrations - (b?.migrations ?? 0),
      involuntary_switches: a.involuntary - (b?.involuntary ?? 0),
    });
  }
  return busy.sort((x, y) => y.busy_pct - x.busy_pct);
}

function share(counts: ReadonlyArray<[number, number]>): Record<string, number> {
  const total = counts.reduce((a, [, k]) => a + k, 0);
  const out: Record<string, number> = {};
  for (const [cpu, k] of [...counts].sort((x, y) => y[1] - x[1])) out[String(cpu)] = Math.round((k / total) * 100);
  return out;
}

/** Where a thread ran: "cpu1" or "cpu1 80%/cpu0 20%" from the sampler, else its last CPU. */
export function fmtCpus(t: BusyThread): string {
  const e = Object.entries(t.on_cpus);
  if (e.length === 0) return `cpu${t.cpu}?`;
  return e.length === 1 ? `cpu${e[0]![0]}` : e.map(([c, p]) => `cpu${c} ${p}%`).join('/');
}

/** Samples which CPU each running thread is on, in its own thread (cpu-sampler.ts). */
export class CpuSampler {
  private readonly worker = new Worker(new URL('./cpu-sampler.js', import.meta.url));
  private ctrl = new Int32Array(new SharedArrayBuffer(4));
  private result: Promise<unknown[]> | undefined;

  constructor() {
    this.worker.unref();
  }

  start(pids: readonly number[]): void {
    Atomics.store(this.ctrl, 0, 1);
    this.result = once(this.worker, 'message');
    this.worker.postMessage({ ctrl: this.ctrl.buffer, pids });
  }

  async stop(): Promise<Map<number, Array<[number, number]>>> {
    Atomics.store(this.ctrl, 0, 0);
    Atomics.notify(this.ctrl, 0);
    const [list] = (await this.result!) as [Array<[number, Array<[number, number]>]>];
    return new Map(list);
  }

  close(): Promise<number> {
    return this.worker.terminate();
  }
}

export function fmtThreads(ts: readonly BusyThread[]): string {
  return ts.map((t) => `${t.thread}@${fmtCpus(t)} ${t.busy_pct.toFixed(t.busy_pct < 10 ? 1 : 0)}%${t.migrations > 0 ? ` mig ${t.migrations}` : ''}${t.involuntary_switches > 0 ? ` inv ${t.involuntary_switches}` : ''}`).join(', ');
}
