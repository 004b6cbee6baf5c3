/** The human-readable end of `npm run bench`: one table of medians, the ratios, the targets. */
import { SMOKE, fmtRate, type Result } from './harness.js';
import { fmtCpus, type BusyThread } from './threads.js';

export interface WakeResult {
  case: 'wake-up';
  transport: string;
  samples: number;
  gap_ms: number;
  p50_us: number;
  max_us: number;
}

export interface IdleResult {
  case: 'idle';
  transport: string;
  seconds: number;
  /** The bench process: host side of every link plus the worker remote. */
  host_cpu_percent_of_core: number;
  process_remotes_cpu_percent_of_core: number[];
  threads: BusyThread[];
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.floor(s.length / 2)]!;
}

const range = (xs: number[], f: (v: number) => string): string => `${f(median(xs))} (${f(Math.min(...xs))}–${f(Math.max(...xs))})`;
const x2 = (v: number): string => (Number.isFinite(v) ? `${v.toFixed(2)}×` : 'n/a');

export function report(results: readonly Result[], wakes: readonly WakeResult[], idle: IdleResult): void {
  const groups = new Map<string, Result[]>();
  for (const r of results) {
    const key = `${r.case}|${r.transport}|${r.payload}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const med = (c: string, t: string, p: number, f: (r: Result) => number): number => median((groups.get(`${c}|${t}|${p}`) ?? []).map(f));
  const rate = (c: string, t: string, p: number): number => med(c, t, p, (r) => r.msgs_per_s);
  const p50 = (c: string, t: string, p: number): number => med(c, t, p, (r) => r.rtt_p50_us!);
  const out: string[] = [];
  out.push('| case | transport | B | msgs/s median (min–max) | MB/s | RTT p50 µs (min–max) | p99 µs | CPU µs/msg | heap B/msg host / remote | CPUs per rep |');
  out.push('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
  for (const rs of groups.values()) {
    const r0 = rs[0]!;
    const rtt = r0.rtt_p50_us !== null;
    const remote = rs.every((r) => r.remote_heap_bytes_per_msg !== null) ? median(rs.map((r) => r.remote_heap_bytes_per_msg!)).toFixed(3) : '–';
    const gcs = rs.some((r) => r.gcs > 0) ? ' (gc: lower bound)' : '';
    const cpus = rs.map((r) => r.threads.slice(0, 2).map(fmtCpus).join(' + ')).join('; ');
    out.push(
      `| ${r0.case} | ${r0.transport} | ${r0.payload} | ${range(rs.map((r) => r.msgs_per_s), fmtRate)} | ${median(rs.map((r) => r.mb_per_s)).toFixed(1)} | ${
        rtt ? range(rs.map((r) => r.rtt_p50_us!), (v) => v.toFixed(2)) : ''
      } | ${rtt ? median(rs.map((r) => r.rtt_p99_us!)).toFixed(1) : ''} | ${median(rs.map((r) => r.cpu_us_per_msg)).toFixed(3)} | ${median(rs.map((r) => r.heap_bytes_per_msg)).toFixed(3)} / ${remote}${gcs} | ${cpus} |`,
    );
  }
  out.push('');
  for (const w of wakes) out.push(`wake-up after ${w.gap_ms} ms idle, ${w.transport}: p50 ${w.p50_us.toFixed(0)} µs, max ${w.max_us.toFixed(0)} µs (${w.samples} samples)`);
  out.push(
    `idle (${idle.transport}, ${idle.seconds.toFixed(0)} s): host process ${idle.host_cpu_percent_of_core.toFixed(3)}% of a core, process remotes ${idle.process_remotes_cpu_percent_of_core.map((v) => `${v.toFixed(3)}%`).join(', ')}`,
  );
  out.push('');
  out.push('ratios (medians of this run; msgs/s for one-way, p50 for round trips):');
  const w = 'rpmsg-worker';
  for (const p of [16, 64, 256, 496]) {
    const h = rate('one-way h2r', w, p);
    out.push(
      `  one-way h2r ${String(p).padStart(3)} B: rpmsg/bare-ring ${x2(h / rate('one-way h2r', 'bare-ring', p))}, /ringbuf.js ${x2(h / rate('one-way h2r', 'ringbuf.js', p))}, /MessagePort ${x2(h / rate('one-way h2r', 'messageport', p))}; zero-copy/bare-ring ${x2(rate('one-way h2r zero-copy', w, p) / rate('one-way h2r', 'bare-ring', p))}`,
    );
    const b = rate('one-way r2h', 'bare-ring', p);
    out.push(`  one-way r2h ${String(p).padStart(3)} B: rpmsg/bare-ring ${x2(rate('one-way r2h', w, p) / b)}, zero-copy/bare-ring ${x2(rate('one-way r2h zero-copy', w, p) / b)}`);
    const rb = p50('round trip', 'bare-ring', p);
    out.push(
      `  round trip ${String(p).padStart(3)} B p50: rpmsg/bare-ring ${x2(p50('round trip', w, p) / rb)}, zero-copy/bare-ring ${x2(p50('round trip zero-copy', w, p) / rb)}, rpmsg/MessagePort ${x2(p50('round trip', w, p) / p50('round trip', 'messageport', p))}`,
    );
  }
  for (const p of [16, 496]) {
    out.push(
      `  processes ${String(p).padStart(3)} B round trip p50: fast ${p50('round trip', 'rpmsg-process-fast', p).toFixed(1)} µs, socket kicks ${p50('round trip', 'rpmsg-process-kicks', p).toFixed(1)} µs, plain UNIX socket ${p50('round trip', 'unix-socket', p).toFixed(1)} µs`,
    );
  }
  for (const p of [16, 496]) {
    const base = rate('one-way h2r', 'rpmsg-loopback', p);
    out.push(`  tracing, loopback one-way ${String(p).padStart(3)} B: diag subscriber/none ${x2(rate('one-way h2r, diag subscriber', 'rpmsg-loopback', p) / base)}, traceBus/none ${x2(rate('one-way h2r, traceBus', 'rpmsg-loopback', p) / base)}`);
  }
  out.push(`  endpoints 10000/1: ${x2(rate('endpoints 10000', w, 16) / rate('endpoints 1', w, 16))}; remotes 4/1: ${x2(rate('remotes 4', w, 16) / rate('remotes 1', w, 16))}`);
  out.push('');
  out.push(SMOKE ? 'targets (a smoke run: too short to judge them):' : 'targets:');
  const check = (what: string, v: number, ok: boolean): void => void out.push(`  ${ok ? 'met   ' : 'MISSED'} ${what}: ${Number.isFinite(v) ? v.toFixed(3) : 'n/a'}`);
  check('one-way 16 B rpmsg/ringbuf.js ≥ 1.5', rate('one-way h2r', w, 16) / rate('one-way h2r', 'ringbuf.js', 16), rate('one-way h2r', w, 16) >= 1.5 * rate('one-way h2r', 'ringbuf.js', 16));
  for (const [c, base] of [
    ['one-way h2r', 'one-way h2r'],
    ['one-way h2r zero-copy', 'one-way h2r'],
    ['one-way r2h', 'one-way r2h'],
    ['one-way r2h zero-copy', 'one-way r2h'],
  ] as const) {
    for (const [p, min] of [
      [16, 0.8],
      [496, 0.9],
    ] as const) {
      const v = rate(c, w, p) / rate(base, 'bare-ring', p);
      check(`${c} ${p} B rpmsg/bare-ring ≥ ${min}`, v, v >= min);
    }
  }
  for (const c of ['round trip', 'round trip zero-copy']) {
    const v = p50(c, w, 16) / p50('round trip', 'bare-ring', 16);
    check(`${c} 16 B p50 rpmsg/bare-ring ≤ 3`, v, v <= 3);
  }
  for (const r of results.filter((x) => x.case.startsWith('heap '))) {
    const v = Math.max(r.heap_bytes_per_msg, r.remote_heap_bytes_per_msg ?? 0);
    check(`${r.case} ${r.payload} B heap B/msg (worst side, ${(r.msgs / 1e6).toFixed(1)}M msgs${r.gcs > 0 ? ', gc ran: lower bound' : ''}) < 0.05`, v, v < 0.05 && r.gcs === 0);
  }
  const idleAll = idle.host_cpu_percent_of_core + idle.process_remotes_cpu_percent_of_core.reduce((a, b) => a + b, 0);
  check('idle, all remotes attached, % of a core < 0.1', idleAll, idleAll < 0.1);
  const pw = wakes.find((x) => x.transport === 'bare-ring');
  const rw = wakes.find((x) => x.transport === w);
  if (pw !== undefined && rw !== undefined) check(`wake-up p50 rpmsg-worker/platform (${rw.p50_us.toFixed(0)} vs ${pw.p50_us.toFixed(0)} µs) ≤ 1.5`, rw.p50_us / pw.p50_us, rw.p50_us <= 1.5 * pw.p50_us);
  process.stdout.write(`${out.join('\n')}\n`);
}
