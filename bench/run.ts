/**
 * `npm run bench`: rpmsg against MessagePort and ringbuf.js, all cases in one run, interleaved,
 * several repetitions; prints medians (min–max) and the target ratios. `-- --json` prints one
 * JSON object per case and repetition; `-- --smoke` runs every case briefly and fails only if a
 * case crashes or loses a message (what CI runs).
 *
 * Measured per case: msgs/s and MB/s of payload, round-trip p50/p99 (µs), CPU of the whole
 * process (both threads) per message, and main-thread heap growth per message (the process is
 * started with a large young generation and a GC before each case, so short-lived garbage shows).
 */
import { spawn, spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { RingBuffer } from 'ringbuf.js';
import {
  Loopback,
  RpmsgBus,
  spawnProcessRemote,
  startWorkerRemote,
  type Endpoint,
  type RpmsgLink,
  type WorkerRemoteProc,
} from '../src/index.js';

interface Result {
  case: string;
  transport: string;
  payload: number;
  rep: number;
  msgs: number;
  msgs_per_s: number;
  mb_per_s: number;
  rtt_p50_us: number | null;
  rtt_p99_us: number | null;
  cpu_ms_per_msg: number;
  heap_bytes_per_msg: number;
}

const args = new Set(process.argv.slice(2));
const JSON_OUT = args.has('--json');
const SMOKE = args.has('--smoke');
/** BENCH_ONLY=regex runs only the cases whose "case transport" matches (for profiling). */
const ONLY = process.env.BENCH_ONLY !== undefined ? new RegExp(process.env.BENCH_ONLY) : undefined;

// Re-exec with the flags the measurements need.
if (!process.execArgv.includes('--expose-gc')) {
  const r = spawnSync(process.execPath, ['--expose-gc', '--max-semi-space-size=128', fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
  });
  process.exit(r.status ?? 1);
}

const gc = (globalThis as { gc?: () => void }).gc!;
// A lost message leaves a case waiting forever: bound the whole run.
setTimeout(() => {
  console.error('bench: a case did not complete (lost message or hang)');
  process.exit(1);
}, SMOKE ? 120_000 : 1_800_000).unref();
const N_TPUT = SMOKE ? 3000 : 200_000;
const N_RTT = SMOKE ? 1000 : 100_000;
const REPS = SMOKE ? 1 : Number(process.env.BENCH_REPS ?? 3);
const SIZES = [16, 64, 256, 496];
const IDLE_MS = SMOKE ? 200 : 5000;
const firmware = new URL('./bench-firmware.js', import.meta.url);
const baselineWorker = new URL('./baseline-worker.js', import.meta.url);

const SINK = 0x500;
const CTL = 0x501;
const ECHO = 0x502;

function log(line: string): void {
  if (!JSON_OUT) process.stderr.write(`${line}\n`);
}

async function measure(
  name: string,
  transport: string,
  payload: number,
  rep: number,
  msgs: number,
  body: () => Promise<Float64Array | null>,
): Promise<Result | undefined> {
  if (ONLY !== undefined && !ONLY.test(`${name} ${transport}`)) return undefined;
  gc();
  const heap0 = process.memoryUsage().heapUsed;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const rtts = await body();
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const heap = process.memoryUsage().heapUsed - heap0;
  let p50: number | null = null;
  let p99: number | null = null;
  if (rtts !== null) {
    rtts.sort();
    p50 = rtts[Math.floor(rtts.length * 0.5)]! * 1000;
    p99 = rtts[Math.floor(rtts.length * 0.99)]! * 1000;
  }
  const r: Result = {
    case: name,
    transport,
    payload,
    rep,
    msgs,
    msgs_per_s: msgs / elapsed,
    mb_per_s: (msgs * payload) / elapsed / 1e6,
    rtt_p50_us: p50,
    rtt_p99_us: p99,
    cpu_ms_per_msg: (cpu.user + cpu.system) / 1000 / msgs,
    heap_bytes_per_msg: Math.max(0, heap) / msgs,
  };
  if (JSON_OUT) process.stdout.write(`${JSON.stringify(r)}\n`);
  else log(`  ${name.padEnd(28)} ${String(payload).padStart(3)} B  ${fmtRate(r.msgs_per_s)}${p50 !== null ? `  p50 ${p50.toFixed(1)} µs` : ''}`);
  return r;
}

function fmtRate(v: number): string {
  return v >= 1e6 ? `${(v / 1e6).toFixed(2)}M/s` : `${(v / 1e3).toFixed(0)}k/s`;
}

// ------------------------------------------------------------------ rpmsg worker harness

class RpmsgBench {
  readonly replies: Array<(n: number) => void> = [];
  ctl!: Endpoint;
  sink!: Endpoint;
  echo!: Endpoint;
  sinkCount = 0;
  sinkTarget = -1;
  sinkDone: (() => void) | undefined;
  rttIndex = 0;
  rttDone: (() => void) | undefined;
  rttSamples = new Float64Array(N_RTT);
  rttT = 0;
  rttPayload = new Uint8Array(16);
  rttN = 0;
  rttZc = false;
  private readonly cmd = new Uint8Array(16);

  /** A bench firmware in a child process over a mapped file and socket kicks (fast mode or not). */
  static async startProcess(bus: RpmsgBus, spin: boolean): Promise<{ bench: RpmsgBench; close: () => Promise<void> }> {
    const { child, remote } = await spawnProcessRemote(bus, {
      firmware: fileURLToPath(firmware),
      stdout: 'ignore',
      ...(spin ? {} : { poll: { spinWindowMs: 0 } }),
    });
    const b = new RpmsgBench(undefined);
    b.attach(remote.link);
    return {
      bench: b,
      close: async () => {
        const exited = once(child, 'exit');
        remote.close();
        await exited;
      },
    };
  }

  static async start(bus: RpmsgBus, name: string): Promise<RpmsgBench> {
    const rp = await startWorkerRemote(bus, { firmware, name, log: () => {} });
    const b = new RpmsgBench(rp);
    b.attach(rp.link!);
    return b;
  }

  constructor(readonly rp: WorkerRemoteProc | undefined) {}

  attach(link: RpmsgLink): void {
    this.ctl = link.createEndpoint((_o, d) => this.replies.shift()?.(new DataView(d.buffer, d.byteOffset).getUint32(4, true)), {
      addr: 0x601,
      dst: CTL,
      announce: false,
    });
    this.sink = link.createEndpoint(
      () => {
        if (++this.sinkCount === this.sinkTarget) this.sinkDone?.();
      },
      { addr: 0x600, announce: false },
    );
    this.echo = link.createEndpoint(
      (o) => {
        const now = performance.now();
        this.rttSamples[this.rttIndex++] = now - this.rttT;
        if (this.rttIndex === this.rttN) return this.rttDone?.();
        this.rttT = performance.now();
        const ep = o as Endpoint;
        if (this.rttZc) {
          const b = ep.tryGetTxPayloadBuffer();
          ep.sendNocopy(b, this.rttPayload.length);
        } else {
          ep.trySend(this.rttPayload);
        }
      },
      { addr: 0x602, dst: ECHO, announce: false },
    );
  }

  command(cmd: number, n: number, size = 0, dst = 0): Promise<number> {
    const dv = new DataView(this.cmd.buffer);
    dv.setUint32(0, cmd, true);
    dv.setUint32(4, n, true);
    dv.setUint32(8, size, true);
    dv.setUint32(12, dst, true);
    const p = new Promise<number>((r) => this.replies.push(r));
    void this.ctl.send(this.cmd);
    return p;
  }

  /** Host → remote: send n messages as fast as tx buffers allow. */
  async oneWayH2R(n: number, size: number, zc: boolean, targets: number[] = [SINK]): Promise<void> {
    const done = this.command(1, n);
    await new Promise((r) => setImmediate(r));
    await sendMany(this.sink, n, size, zc, targets);
    await done;
  }

  /** Remote → host. */
  async oneWayR2H(n: number, size: number, zc: boolean): Promise<void> {
    this.sinkCount = 0;
    this.sinkTarget = n;
    const got = new Promise<void>((r) => (this.sinkDone = r));
    await this.command(zc ? 3 : 2, n, size, 0x600);
    await got;
  }

  async rtt(n: number, size: number, zc: boolean): Promise<Float64Array> {
    this.rttPayload = new Uint8Array(size).fill(1);
    this.rttIndex = 0;
    this.rttN = n;
    this.rttZc = zc;
    const done = new Promise<void>((r) => (this.rttDone = r));
    this.rttT = performance.now();
    this.echo.trySend(this.rttPayload);
    await done;
    return this.rttSamples.subarray(0, n);
  }
}

/** Send n messages round-robin to `targets`, waiting for buffers when none is free. */
function sendMany(ep: Endpoint, n: number, size: number, zc: boolean, targets: number[]): Promise<void> {
  const payload = new Uint8Array(size).fill(7);
  const nt = targets.length;
  let sent = 0;
  return new Promise<void>((resolve, reject) => {
    const pump = (): void => {
      try {
        while (sent < n) {
          const dst = targets[sent % nt]!;
          if (zc) {
            const b = ep.tryGetTxPayloadBuffer();
            b.data[0] = 7;
            ep.sendNocopyTo(b, size, dst);
          } else {
            ep.trySendTo(payload, dst);
          }
          sent++;
        }
        resolve();
      } catch (e) {
        if ((e as { code?: string }).code !== 'ENOMEM') return reject(e);
        ep.waitWritable().then(pump, reject);
      }
    };
    pump();
  });
}

/** Same over several links: one sender loop interleaving the remotes. */
async function sendManyMulti(benches: RpmsgBench[], n: number, size: number): Promise<void> {
  const per = Math.floor(n / benches.length);
  const dones = benches.map((b) => b.command(1, per));
  await new Promise((r) => setImmediate(r));
  await Promise.all(benches.map((b) => sendMany(b.sink, per, size, false, [SINK])));
  await Promise.all(dones);
}

// ------------------------------------------------------------------ baselines

class MessagePortBench {
  readonly worker = new Worker(baselineWorker, { workerData: { mode: 'mp' } });

  async oneWay(n: number, size: number): Promise<void> {
    this.worker.postMessage({ echo: false });
    const payload = new Uint8Array(size).fill(7);
    let sent = 0;
    let acked = 0;
    await new Promise<void>((resolve) => {
      const pump = (): void => {
        while (sent < n && sent - acked < 256) {
          this.worker.postMessage(payload);
          sent++;
        }
      };
      const onMsg = (count: number): void => {
        acked = count;
        if (acked >= n - (n % 128)) {
          this.worker.off('message', onMsg);
          resolve();
        } else pump();
      };
      this.worker.on('message', onMsg);
      pump();
    });
  }

  async rtt(n: number, size: number): Promise<Float64Array> {
    this.worker.postMessage({ echo: true });
    const payload = new Uint8Array(size).fill(7);
    const samples = new Float64Array(n);
    let i = 0;
    let t = 0;
    await new Promise<void>((resolve) => {
      const onMsg = (): void => {
        samples[i++] = performance.now() - t;
        if (i === n) {
          this.worker.off('message', onMsg);
          return resolve();
        }
        t = performance.now();
        this.worker.postMessage(payload);
      };
      this.worker.on('message', onMsg);
      t = performance.now();
      this.worker.postMessage(payload);
    });
    return samples;
  }
}

class RingbufBench {
  readonly worker = new Worker(baselineWorker, { workerData: { mode: 'ringbuf' } });

  async oneWay(n: number, size: number): Promise<void> {
    const sab = RingBuffer.getStorageForCapacity(256 * size, Uint8Array);
    const rb = new RingBuffer(sab, Uint8Array);
    const done = once(this.worker, 'message');
    this.worker.postMessage({ sab, n, size });
    const payload = new Uint8Array(size).fill(7);
    let sent = 0;
    while (sent < n) {
      if (rb.available_write() >= size) {
        rb.push(payload);
        sent++;
      }
    }
    await done;
  }
}

/** Plain UNIX-socket ping-pong between the same two kinds of process. */
class SocketBench {
  static async start(): Promise<{ rtt: (n: number, size: number) => Promise<Float64Array>; close: () => void }> {
    const path = `/tmp/rpmsg-bench-${process.pid}.sock`;
    const child = spawn(process.execPath, [fileURLToPath(new URL('./socket-echo.js', import.meta.url)), path], { stdio: ['ignore', 'pipe', 'inherit'] });
    await once(child.stdout!, 'data');
    const sock = connect(path);
    await once(sock, 'connect');
    sock.setNoDelay(true);
    let want = 0;
    let got = 0;
    let resolveOne: (() => void) | undefined;
    sock.on('data', (d: Buffer) => {
      got += d.length;
      if (got >= want) {
        got -= want;
        resolveOne?.();
      }
    });
    return {
      rtt: async (n, size) => {
        const payload = Buffer.alloc(size, 7);
        const samples = new Float64Array(n);
        want = size;
        for (let i = 0; i < n; i++) {
          const t = performance.now();
          const p = new Promise<void>((r) => (resolveOne = r));
          sock.write(payload);
          await p;
          samples[i] = performance.now() - t;
        }
        return samples;
      },
      close: () => {
        sock.destroy();
        child.kill();
      },
    };
  }
}

// ------------------------------------------------------------------ main

async function main(): Promise<void> {
  const results: Array<Result | undefined> = [];
  const bus = new RpmsgBus();
  const rp = await RpmsgBench.start(bus, 'bench0');
  const mp = new MessagePortBench();
  const rbuf = new RingbufBench();
  const lb = new Loopback({ manual: true });
  let lbCount = 0;
  lb.remote.link.createEndpoint(() => void lbCount++, { addr: SINK, announce: false });
  const lbSender = lb.host.link.createEndpoint(() => {}, { dst: SINK, announce: false });
  await new Promise((r) => setTimeout(r, 100));

  for (let rep = 1; rep <= REPS; rep++) {
    log(`repetition ${rep}/${REPS}`);
    for (const size of SIZES) {
      results.push(await measure('one-way h2r', 'rpmsg-worker', size, rep, N_TPUT, async () => (await rp.oneWayH2R(N_TPUT, size, false), null)));
      results.push(await measure('one-way h2r', 'messageport', size, rep, N_TPUT, async () => (await mp.oneWay(N_TPUT, size), null)));
      results.push(await measure('one-way h2r', 'ringbuf.js', size, rep, N_TPUT, async () => (await rbuf.oneWay(N_TPUT, size), null)));
      results.push(await measure('one-way h2r zero-copy', 'rpmsg-worker', size, rep, N_TPUT, async () => (await rp.oneWayH2R(N_TPUT, size, true), null)));
      results.push(await measure('one-way r2h', 'rpmsg-worker', size, rep, N_TPUT, async () => (await rp.oneWayR2H(N_TPUT, size, false), null)));
      results.push(await measure('one-way r2h zero-copy', 'rpmsg-worker', size, rep, N_TPUT, async () => (await rp.oneWayR2H(N_TPUT, size, true), null)));
      results.push(
        await measure('one-way h2r', 'rpmsg-loopback', size, rep, N_TPUT, async () => {
          const payload = new Uint8Array(size);
          lbCount = 0;
          for (let i = 0; i < N_TPUT; ) {
            if (lbSender.poll()) {
              lbSender.trySend(payload);
              i++;
            } else {
              lb.pump();
            }
          }
          lb.pump();
          if (lbCount !== N_TPUT) throw new Error(`loopback lost messages: ${lbCount}/${N_TPUT}`);
          return null;
        }),
      );
      results.push(await measure('round trip', 'rpmsg-worker', size, rep, N_RTT, () => rp.rtt(N_RTT, size, false)));
      results.push(await measure('round trip zero-copy', 'rpmsg-worker', size, rep, N_RTT, () => rp.rtt(N_RTT, size, true)));
      results.push(await measure('round trip', 'messageport', size, rep, N_RTT, () => mp.rtt(N_RTT, size)));
    }
    // Scale: endpoints open on the remote, remotes attached.
    for (const k of [1, 100, 10_000]) {
      const open = (await rp.command(4, 0)) + 1; // sinks opened so far, plus the main sink
      if (open < k) await rp.command(4, k - open);
      const targets = k === 1 ? [SINK] : Array.from({ length: k }, (_, i) => (i === 0 ? SINK : 0x1000 + i - 1));
      results.push(await measure(`endpoints ${k}`, 'rpmsg-worker', 16, rep, N_TPUT, async () => (await rp.oneWayH2R(N_TPUT, 16, false, targets), null)));
    }
  }
  // Remotes: 1, 2, 4 workers at once (fresh remotes, same run).
  const extra = [rp, await RpmsgBench.start(bus, 'bench1'), await RpmsgBench.start(bus, 'bench2'), await RpmsgBench.start(bus, 'bench3')];
  for (let rep = 1; rep <= REPS; rep++) {
    for (const r of [1, 2, 4]) {
      results.push(await measure(`remotes ${r}`, 'rpmsg-worker', 16, rep, N_TPUT, async () => (await sendManyMulti(extra.slice(0, r), N_TPUT, 16), null)));
    }
  }
  for (const b of extra.slice(1)) await b.rp!.stop();

  // Two processes: OpenAMP's protocol (socket kicks only), fast mode, and a plain socket.
  const procFast = await RpmsgBench.startProcess(bus, true);
  const procKick = await RpmsgBench.startProcess(bus, false);
  const sock = await SocketBench.start();
  const nProcRtt = SMOKE ? 500 : N_RTT;
  for (let rep = 1; rep <= REPS; rep++) {
    for (const size of SIZES) {
      results.push(await measure('one-way h2r', 'rpmsg-process-fast', size, rep, N_TPUT, async () => (await procFast.bench.oneWayH2R(N_TPUT, size, false), null)));
      results.push(await measure('one-way h2r', 'rpmsg-process-kicks', size, rep, N_TPUT, async () => (await procKick.bench.oneWayH2R(N_TPUT, size, false), null)));
      results.push(await measure('round trip', 'rpmsg-process-fast', size, rep, nProcRtt, () => procFast.bench.rtt(nProcRtt, size, false)));
      results.push(await measure('round trip', 'rpmsg-process-kicks', size, rep, nProcRtt, () => procKick.bench.rtt(nProcRtt, size, false)));
      results.push(await measure('round trip', 'unix-socket', size, rep, nProcRtt, () => sock.rtt(nProcRtt, size)));
    }
  }
  await procFast.close();
  await procKick.close();
  sock.close();

  // Idle: one remote attached, no traffic.
  await new Promise((r) => setTimeout(r, 200));
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, IDLE_MS));
  const cpu = process.cpuUsage(cpu0);
  const idlePct = ((cpu.user + cpu.system) / 1000 / (performance.now() - t0)) * 100;
  if (JSON_OUT) process.stdout.write(`${JSON.stringify({ case: 'idle', transport: 'rpmsg-worker', cpu_percent_of_core: idlePct, seconds: IDLE_MS / 1000 })}\n`);

  await rp.rp!.stop();
  await mp.worker.terminate();
  await rbuf.worker.terminate();
  lb.close();
  if (!JSON_OUT) report(results.filter((r): r is Result => r !== undefined), idlePct);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function report(results: Result[], idlePct: number): void {
  const groups = new Map<string, Result[]>();
  for (const r of results) {
    const key = `${r.case}|${r.transport}|${r.payload}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const med = (c: string, t: string, p: number, f: (r: Result) => number): number =>
    groups.has(`${c}|${t}|${p}`) ? median(groups.get(`${c}|${t}|${p}`)!.map(f)) : NaN;
  const lines: string[] = [];
  lines.push('| case | transport | payload | msgs/s median (min–max) | MB/s | RTT p50 / p99 µs | CPU µs/msg | heap B/msg |');
  lines.push('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const [, rs] of groups) {
    const r0 = rs[0]!;
    const rates = rs.map((r) => r.msgs_per_s);
    const rtt = r0.rtt_p50_us !== null ? `${median(rs.map((r) => r.rtt_p50_us!)).toFixed(1)} / ${median(rs.map((r) => r.rtt_p99_us!)).toFixed(1)}` : '';
    lines.push(
      `| ${r0.case} | ${r0.transport} | ${r0.payload} | ${fmtRate(median(rates))} (${fmtRate(Math.min(...rates))}–${fmtRate(Math.max(...rates))}) | ${median(rs.map((r) => r.mb_per_s)).toFixed(1)} | ${rtt} | ${(median(rs.map((r) => r.cpu_ms_per_msg)) * 1000).toFixed(2)} | ${median(rs.map((r) => r.heap_bytes_per_msg)).toFixed(1)} |`,
    );
  }
  lines.push('');
  lines.push(`idle: ${idlePct.toFixed(2)}% of one core (host + remote, ${IDLE_MS / 1000} s, one remote attached)`);
  lines.push('');
  lines.push('ratios (medians of this run):');
  const tp = (c: string, t: string, p: number): number => med(c, t, p, (r) => r.msgs_per_s);
  for (const p of SIZES) {
    lines.push(
      `  one-way ${String(p).padStart(3)} B: rpmsg/MessagePort ${(tp('one-way h2r', 'rpmsg-worker', p) / tp('one-way h2r', 'messageport', p)).toFixed(1)}x, rpmsg/ringbuf.js ${(tp('one-way h2r', 'rpmsg-worker', p) / tp('one-way h2r', 'ringbuf.js', p)).toFixed(2)}x, zero-copy/ringbuf.js ${(tp('one-way h2r zero-copy', 'rpmsg-worker', p) / tp('one-way h2r', 'ringbuf.js', p)).toFixed(2)}x`,
    );
  }
  for (const p of SIZES) {
    const a = med('round trip', 'rpmsg-worker', p, (r) => r.rtt_p50_us!);
    const b = med('round trip', 'messageport', p, (r) => r.rtt_p50_us!);
    lines.push(`  round trip p50 ${String(p).padStart(3)} B: rpmsg/MessagePort ${(a / b).toFixed(3)}x (${a.toFixed(1)} vs ${b.toFixed(1)} µs)`);
  }
  for (const p of SIZES) {
    const f = med('round trip', 'rpmsg-process-fast', p, (r) => r.rtt_p50_us!);
    const k = med('round trip', 'rpmsg-process-kicks', p, (r) => r.rtt_p50_us!);
    const u = med('round trip', 'unix-socket', p, (r) => r.rtt_p50_us!);
    lines.push(`  processes round trip p50 ${String(p).padStart(3)} B: fast ${f.toFixed(1)} µs, socket kicks ${k.toFixed(1)} µs, plain UNIX socket ${u.toFixed(1)} µs`);
  }
  lines.push(`  endpoints 10000/1: ${(tp('endpoints 10000', 'rpmsg-worker', 16) / tp('endpoints 1', 'rpmsg-worker', 16)).toFixed(2)}x`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error('bench failed:', e);
    process.exit(1);
  },
);
