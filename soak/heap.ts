/**
 * Heap sampling for the soak: heapUsed after a full GC, every `intervalMs`. The GC comes from
 * V8's --expose-gc set at run time (v8.setFlagsFromString; `gc` is then a global of any new
 * context), so neither the host nor a spawned remote needs a command-line flag.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let gcFn: (() => void) | undefined;

export function fullGc(): void {
  if (gcFn === undefined) {
    setFlagsFromString('--expose-gc');
    gcFn = runInNewContext('gc') as () => void;
  }
  gcFn();
}

export function heapAfterGc(): number {
  fullGc();
  return process.memoryUsage().heapUsed;
}

export interface HeapReport {
  /** heapUsed after GC at the start (before traffic). */
  start: number;
  /** The baseline growth is measured against: the first periodic sample (warmed up), else start. */
  baseline: number;
  max: number;
  end: number;
  samples: number;
}

export class HeapSampler {
  private readonly start = heapAfterGc();
  private first: number | undefined;
  private max = this.start;
  private n = 0;
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(intervalMs: number) {
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  private sample(): number {
    const h = heapAfterGc();
    this.first ??= h;
    this.max = Math.max(this.max, h);
    this.n++;
    return h;
  }

  /** Stop, with a last sample. */
  finish(): HeapReport {
    clearInterval(this.timer);
    const first = this.first;
    const end = this.sample();
    return { start: this.start, baseline: first ?? this.start, max: this.max, end, samples: this.n };
  }
}

/** Growth beyond the baseline (bytes): the larger of the end and the peak after the baseline. */
export function heapGrowth(r: HeapReport): number {
  return Math.max(r.end, r.max) - r.baseline;
}
