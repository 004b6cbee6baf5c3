/**
 * `npm run bench`: rpmsg against a bare SharedArrayBuffer ring, ringbuf.js and MessagePort, all
 * in one run: cases interleaved, BENCH_REPS repetitions (default 3), medians (min–max), the
 * target ratios, and the CPUs each case's threads ran on. Each throughput or round-trip case
 * warms up on its own, then runs ≥ 1 s (harness.ts). Then heap checks over ≥ 2M messages on every
 * rpmsg path, wake-up latency after idle against the platform's own wake-up, and idle CPU.
 *
 * `-- --json`: one JSON object per case and repetition on stdout. `-- --smoke`: every case with a
 * few thousand messages, failing only if one crashes or loses a message (CI). `BENCH_ONLY=regex`
 * runs the cases whose "case transport" matches; `BENCH_SECONDS` shortens the ≥ 1 s runs.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Loopback, RpmsgBus } from '../src/index.js';
import { BareRingBench, MessagePortBench, RingbufBench, SocketBench } from './baselines.js';
import { JSON_OUT, REPS, SMOKE, log, measure, selected, sleep, type Case, type Result } from './harness.js';
import { report, type IdleResult, type WakeResult } from './report.js';
import { RpmsgBench, SINK, payloadOf, sendManyMulti } from './rpmsg-bench.js';
import { busyThreads, sampleThreads } from './threads.js';
import { withSubscriber, withTrace } from './trace-bench.js';

// Re-exec with the flags the measurements need: gc() between cases, and a fixed 128 MB young
// generation (min = max: V8 otherwise starts it at 1 MB and scavenges the garbage away), so a
// case's short-lived garbage is still on the heap when it ends. Worker remotes share the flags.
if (!process.execArgv.includes('--expose-gc')) {
  const r = spawnSync(process.execPath, ['--expose-gc', '--min-semi-space-size=128', '--max-semi-space-size=128', ...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
  });
  process.exit(r.status ?? 1);
}

// A lost message leaves a case waiting forever: bound the whole run.
setTimeout(() => {
  console.error('bench: a case did not complete (lost message or hang)');
  process.exit(1);
}, SMOKE ? 180_000 : 3_600_000).unref();

const SIZES = [16, 64, 256, 496];
const HEAP_COUNT = SMOKE ? 3000 : 2_000_000;
const IDLE_MS = SMOKE ? 300 : 5000;
const WAKES = SMOKE ? 3 : 20;
const WAKE_GAP_MS = 50;

const results: Result[] = [];
async function run(c: Case, rep: number): Promise<void> {
  const r = await measure(c, rep);
  if (r !== undefined) results.push(r);
}

function emit(x: WakeResult | IdleResult): void {
  if (JSON_OUT) process.stdout.write(`${JSON.stringify(x)}\n`);
}

async function wakeCase(transport: string, rpmsg: RpmsgBench | undefined, fn: (k: number) => Promise<Float64Array>): Promise<WakeResult | undefined> {
  if (!selected('wake-up', transport)) return undefined;
  const s = await fn(WAKES);
  s.sort();
  const w: WakeResult = { case: 'wake-up', transport, samples: WAKES, gap_ms: WAKE_GAP_MS, p50_us: s[WAKES >> 1]! * 1000, max_us: s[WAKES - 1]! * 1000 };
  emit(w);
  log(`  wake-up ${transport.padEnd(20)} p50 ${w.p50_us.toFixed(0)} µs, max ${w.max_us.toFixed(0)} µs${rpmsg !== undefined ? '' : ' (platform)'}`);
  return w;
}

async function rpmsgWake(b: RpmsgBench, k: number): Promise<Float64Array> {
  const out = new Float64Array(k);
  for (let i = 0; i < k; i++) {
    await sleep(WAKE_GAP_MS);
    await b.rtt(1, 16, false, out.subarray(i, i + 1));
  }
  return out;
}

async function main(): Promise<void> {
  const bus = new RpmsgBus();
  const rp = await RpmsgBench.start(bus, 'bench0');
  const mp = new MessagePortBench();
  const rbuf = new RingbufBench();
  const bare = new BareRingBench();
  const lb = new Loopback({ manual: true });
  let lbCount = 0;
  lb.remote.link.createEndpoint(() => void lbCount++, { addr: SINK, announce: false });
  const lbSender = lb.host.link.createEndpoint(() => {}, { dst: SINK, announce: false });
  const loopback = async (n: number, size: number): Promise<void> => {
    const payload = payloadOf(size);
    lbCount = 0;
    for (let i = 0; i < n; ) {
      if (lbSender.poll()) {
        lbSender.trySend(payload);
        i++;
      } else lb.pump();
    }
    lb.pump();
    if (lbCount !== n) throw new Error(`loopback lost messages: ${lbCount}/${n}`);
  };
  await sleep(100);
  const heap = rp.remoteHeap;
  const w = 'rpmsg-worker';

  for (let rep = 1; rep <= REPS; rep++) {
    log(`repetition ${rep}/${REPS}`);
    for (const p of SIZES) {
      const c = (name: string, transport: string, fn: (n: number, s: Float64Array | null) => Promise<void>, extra: Partial<Case> = {}): Case => ({ name, transport, payload: p, run: fn, ...extra });
      await run(c('one-way h2r', w, (n) => rp.oneWayH2R(n, p, false), { remoteHeap: heap }), rep);
      await run(c('one-way h2r', 'bare-ring', (n) => bare.oneWay(n, p)), rep);
      await run(c('one-way h2r', 'ringbuf.js', (n) => rbuf.oneWay(n, p)), rep);
      await run(c('one-way h2r', 'messageport', (n) => mp.oneWay(n, p)), rep);
      await run(c('one-way h2r zero-copy', w, (n) => rp.oneWayH2R(n, p, true), { remoteHeap: heap }), rep);
      await run(c('one-way r2h', w, (n) => rp.oneWayR2H(n, p, false), { remoteHeap: heap }), rep);
      await run(c('one-way r2h', 'bare-ring', (n) => bare.oneWayR2H(n, p)), rep);
      await run(c('one-way r2h zero-copy', w, (n) => rp.oneWayR2H(n, p, true), { remoteHeap: heap }), rep);
      await run(c('one-way h2r', 'rpmsg-loopback', (n) => loopback(n, p)), rep);
      await run(c('one-way h2r, diag subscriber', 'rpmsg-loopback', (n) => withSubscriber(() => loopback(n, p))), rep);
      await run(c('one-way h2r, traceBus', 'rpmsg-loopback', (n) => withTrace(lb.host.bus, () => loopback(n, p))), rep);
      await run(c('round trip', w, (n, s) => rp.rtt(n, p, false, s!), { rtt: true, remoteHeap: heap }), rep);
      await run(c('round trip zero-copy', w, (n, s) => rp.rtt(n, p, true, s!), { rtt: true, remoteHeap: heap }), rep);
      await run(c('round trip', 'bare-ring', (n, s) => bare.rtt(n, p, s!), { rtt: true }), rep);
      await run(c('round trip', 'messageport', (n, s) => mp.rtt(n, p, s!), { rtt: true }), rep);
    }
    // Scale: endpoints open on the remote.
    for (const k of [1, 100, 10_000]) {
      if (!selected(`endpoints ${k}`, w)) continue;
      const targets = await rp.openSinks(k);
      await run({ name: `endpoints ${k}`, transport: w, payload: 16, run: (n) => rp.oneWayH2R(n, 16, false, targets) }, rep);
    }
  }

  // Remotes: 1, 2, 4 workers at once (fresh remotes, same run).
  const extra = [rp, await RpmsgBench.start(bus, 'bench1'), await RpmsgBench.start(bus, 'bench2'), await RpmsgBench.start(bus, 'bench3')];
  for (let rep = 1; rep <= REPS; rep++) {
    for (const r of [1, 2, 4]) {
      await run({ name: `remotes ${r}`, transport: w, payload: 16, run: (n) => sendManyMulti(extra.slice(0, r), n, 16) }, rep);
    }
  }
  for (const b of extra.slice(1)) await b.rp!.close();

  // Two processes: OpenAMP's protocol (socket kicks only), fast mode, and a plain socket.
  const fast = await RpmsgBench.startProcess(bus, true);
  const kicks = await RpmsgBench.startProcess(bus, false);
  const sock = await SocketBench.start();
  const procs: Array<[string, RpmsgBench]> = [
    ['rpmsg-process-fast', fast.bench],
    ['rpmsg-process-kicks', kicks.bench],
  ];
  for (let rep = 1; rep <= REPS; rep++) {
    for (const p of SIZES) {
      for (const [t, b] of procs) {
        await run({ name: 'one-way h2r', transport: t, payload: p, pids: [b.pid!], run: (n) => b.oneWayH2R(n, p, false) }, rep);
        await run({ name: 'round trip', transport: t, payload: p, pids: [b.pid!], rtt: true, run: (n, s) => b.rtt(n, p, false, s!) }, rep);
      }
      await run({ name: 'round trip', transport: 'unix-socket', payload: p, pids: [sock.pid!], rtt: true, run: (n, s) => sock.rtt(n, p, s!) }, rep);
    }
  }

  // Heap over ≥ 2M messages on every rpmsg path, both sides.
  log('heap checks');
  for (const p of [16, 496]) {
    const hc = (name: string, fn: (n: number, s: Float64Array | null) => Promise<void>, rtt = false): Case => ({ name: `heap ${name}`, transport: w, payload: p, count: HEAP_COUNT, maxSeconds: 20, remoteHeap: heap, rtt, run: fn });
    await run(hc('one-way h2r', (n) => rp.oneWayH2R(n, p, false)), 1);
    await run(hc('one-way h2r zero-copy', (n) => rp.oneWayH2R(n, p, true)), 1);
    await run(hc('one-way r2h', (n) => rp.oneWayR2H(n, p, false)), 1);
    await run(hc('one-way r2h zero-copy', (n) => rp.oneWayR2H(n, p, true)), 1);
    if (p === 16) {
      await run(hc('round trip', (n, s) => rp.rtt(n, p, false, s!), true), 1);
      await run(hc('round trip zero-copy', (n, s) => rp.rtt(n, p, true, s!), true), 1);
    }
  }

  // Wake-up after quiet: the first message's round trip with both sides parked, against the
  // platform's own wake-up (threads: Atomics.waitAsync both ways; processes: a UNIX socket).
  log('wake-up after idle');
  const wakes: WakeResult[] = [];
  const addWake = (x: WakeResult | undefined): void => void (x !== undefined && wakes.push(x));
  addWake(await wakeCase('bare-ring', undefined, (k) => bare.wake(k, WAKE_GAP_MS)));
  addWake(await wakeCase(w, rp, (k) => rpmsgWake(rp, k)));
  addWake(await wakeCase('unix-socket', undefined, async (k) => {
    const out = new Float64Array(k);
    for (let i = 0; i < k; i++) {
      await sleep(WAKE_GAP_MS);
      await sock.rtt(1, 16, out.subarray(i, i + 1));
    }
    return out;
  }));
  for (const [t, b] of procs) addWake(await wakeCase(t, b, (k) => rpmsgWake(b, k)));

  // Idle: the worker remote and both process remotes attached, no traffic, baselines gone.
  sock.close();
  await mp.worker.terminate();
  await rbuf.worker.terminate();
  await bare.worker.terminate();
  lb.close();
  const pids = [process.pid, fast.bench.pid!, kicks.bench.pid!];
  await sleep(200);
  const th0 = sampleThreads(pids);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await sleep(IDLE_MS);
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const th1 = sampleThreads(pids);
  const perPid = (pid: number): number => {
    let ms = 0;
    for (const [tid, a] of th1) if (a.pid === pid) ms += a.runMs - (th0.get(tid)?.runMs ?? 0);
    return (ms / wall) * 100;
  };
  const idle: IdleResult = {
    case: 'idle',
    transport: 'rpmsg-worker + rpmsg-process-fast + rpmsg-process-kicks',
    seconds: wall / 1000,
    host_cpu_percent_of_core: ((cpu.user + cpu.system) / 1000 / wall) * 100,
    process_remotes_cpu_percent_of_core: [perPid(fast.bench.pid!), perPid(kicks.bench.pid!)],
    threads: busyThreads(th0, th1, wall, 0.005),
  };
  emit(idle);

  await fast.close();
  await kicks.close();
  await rp.rp!.close();
  if (!JSON_OUT) report(results, wakes, idle);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error('bench failed:', e);
    process.exit(1);
  },
);
