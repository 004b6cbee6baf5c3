/**
 * The fuzz run: one host bus, one well-behaved worker remote (sequence-numbered echo traffic,
 * checked exactly-once and in order) and, round after round, a fresh hostile worker remote
 * doing one seeded attack (hostile-firmware.ts). Each round ends with the host's first
 * reaction for that link (violation, link down, error, drop) or "silent" after a grace time;
 * then the hostile remote is destroyed. Failures: an uncaught exception or unhandled rejection
 * in the host, no progress for `stallMs` (the watchdog), an echo lost, duplicated or out of
 * order, heap growth above `heapBoundBytes`.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { RpmsgBus, startWorkerRemote, type Channel } from '../src/index.js';
import { RPMSG_CHANNELS, type DropEvent, type LinkDownEvent, type ViolationEvent } from '../src/rpmsg/diagnostics.js';
import { ATTACKS, type Attack } from './hostile-firmware.js';
import { prng } from './prng.js';

export interface FuzzOptions {
  seconds: number;
  seed: number;
  /** Watchdog: fail when neither an echo nor a round completes for this long (default 15 s). */
  stallMs?: number;
  /** A round with no reaction after this long counts as "silent" (default 1500 ms). */
  graceMs?: number;
  heapBoundBytes?: number;
}

export interface OutcomeRow {
  attack: Attack;
  outcome: string;
  count: number;
  medianMs: number;
}

export interface FuzzResult {
  rounds: number;
  echoes: number;
  rows: OutcomeRow[];
  failures: string[];
  heapStart: number;
  heapEnd: number;
}

const ECHO = 'rpmsg-openamp-demo-channel';
const hostileFw = new URL('./hostile-firmware.js', import.meta.url);
const echoFw = new URL('../samples/firmware/echo.js', import.meta.url);

function gcFn(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

export async function runFuzz(o: FuzzOptions): Promise<FuzzResult> {
  const rnd = prng(o.seed);
  const stallMs = o.stallMs ?? 15_000;
  const graceMs = o.graceMs ?? 1500;
  const failures: string[] = [];
  const fail = (m: string): void => void failures.push(m);
  const onUncaught = (e: unknown): void => fail(`uncaught exception: ${String((e as Error)?.stack ?? e)}`);
  const onRejection = (e: unknown): void => fail(`unhandled rejection: ${String((e as Error)?.stack ?? e)}`);
  process.on('uncaughtException', onUncaught);
  process.on('unhandledRejection', onRejection);
  const gc = gcFn();

  // Reactions per hostile link name, first one wins.
  let current: { name: string; react: (outcome: string) => void } | undefined;
  const onViolation = (m: unknown): void => {
    const e = m as ViolationEvent;
    if (e.link.name === current?.name) current.react(`violation ${e.error.code ?? '?'}`);
  };
  const onDrop = (m: unknown): void => {
    const e = m as DropEvent;
    if (e.link.name === current?.name) current.react(`drop ${e.reason}`);
  };
  const onDown = (m: unknown): void => {
    const e = m as LinkDownEvent;
    if (e.link.name === current?.name) current.react(`down ${(e.reason as Error & { code?: string }).code ?? '?'}`);
  };
  subscribe(RPMSG_CHANNELS.violation, onViolation);
  subscribe(RPMSG_CHANNELS.drop, onDrop);
  subscribe(RPMSG_CHANNELS.linkDown, onDown);

  const bus = new RpmsgBus();
  let good: Channel | undefined;
  let expected = 0;
  let echoes = 0;
  let lastProgress = Date.now();
  bus.registerDriver({
    name: 'fuzz-echo',
    idTable: [ECHO],
    probe: (ch) => {
      if (ch.link.name === 'good') good = ch;
    },
    callback: (ch, data) => {
      if (ch !== good) return;
      const seq = data.length >= 4 ? new DataView(data.buffer, data.byteOffset, data.length).getUint32(0, true) : -1;
      if (seq !== expected || data.length !== 4 + (seq % 61)) fail(`echo ${expected} expected, got seq ${seq} len ${data.length}`);
      expected = seq + 1;
      echoes++;
      lastProgress = Date.now();
    },
  });
  const goodRp = await startWorkerRemote(bus, { firmware: echoFw, name: 'good', log: () => {} });
  goodRp.on('crash', (e) => fail(`well-behaved remote crashed: ${String(e)}`));
  while (good === undefined) await new Promise((r) => setTimeout(r, 5));

  let running = true;
  let sent = 0;
  const sender = (async () => {
    while (running) {
      if (sent - echoes > 32) {
        await new Promise((r) => setTimeout(r, 1));
        continue;
      }
      const msg = new Uint8Array(4 + (sent % 61));
      new DataView(msg.buffer).setUint32(0, sent, true);
      await good!.send(msg);
      sent++;
      if (sent % 16 === 0) await new Promise((r) => setImmediate(r));
    }
  })().catch((e: unknown) => fail(`send to the well-behaved remote failed: ${String(e)}`));

  const watchdog = setInterval(() => {
    if (Date.now() - lastProgress > stallMs) {
      fail(`watchdog: no progress for ${stallMs} ms`);
      running = false;
    }
  }, 500);

  gc();
  const heapStart = process.memoryUsage().heapUsed;
  const stats = new Map<string, { attack: Attack; outcome: string; count: number; times: number[] }>();
  const end = Date.now() + o.seconds * 1000;
  let rounds = 0;
  while (running && Date.now() < end && failures.length === 0) {
    const attack = rnd.pick(ATTACKS);
    const name = `hostile${rounds}`;
    let attackAt = 0;
    let reaction: { outcome: string; at: number } | undefined;
    current = { name, react: (outcome) => void (reaction ??= { outcome, at: performance.timeOrigin + performance.now() }) };
    const rp = await startWorkerRemote(bus, {
      firmware: hostileFw,
      name,
      options: { attack, seed: rnd.int(2 ** 31) },
      log: (line) => {
        if (line.startsWith('attack ')) attackAt = Number(line.slice(7));
      },
    });
    rp.on('crash', () => {});
    rp.link?.on('error', (e: Error & { code?: string }) => current?.react(`error ${e.code ?? '?'}`));
    const deadline = Date.now() + graceMs + 2000;
    while (Date.now() < deadline && (attackAt === 0 || (reaction === undefined && Date.now() < attackAt + graceMs))) {
      await new Promise((r) => setTimeout(r, 2));
    }
    const outcome = reaction?.outcome ?? (attackAt === 0 ? 'attack not run' : 'silent');
    const key = `${attack}\0${outcome}`;
    const s = stats.get(key) ?? { attack, outcome, count: 0, times: [] };
    s.count++;
    if (reaction !== undefined && attackAt > 0) s.times.push(Math.max(0, reaction.at - attackAt));
    stats.set(key, s);
    current = undefined;
    await rp.destroy();
    rounds++;
    lastProgress = Date.now();
  }

  running = false;
  await sender;
  const drainEnd = Date.now() + 10_000;
  while (echoes < sent && Date.now() < drainEnd) await new Promise((r) => setTimeout(r, 5));
  if (echoes !== sent) fail(`well-behaved remote: ${sent} sent, ${echoes} echoed`);
  clearInterval(watchdog);
  await goodRp.close();
  unsubscribe(RPMSG_CHANNELS.violation, onViolation);
  unsubscribe(RPMSG_CHANNELS.drop, onDrop);
  unsubscribe(RPMSG_CHANNELS.linkDown, onDown);
  const rows = [...stats.values()]
    .map((s) => ({ attack: s.attack, outcome: s.outcome, count: s.count, medianMs: median(s.times) }))
    .sort((a, b) => (a.attack + a.outcome).localeCompare(b.attack + b.outcome));
  gc();
  const heapEnd = process.memoryUsage().heapUsed;
  const bound = o.heapBoundBytes ?? 16 * 1024 * 1024;
  if (heapEnd - heapStart > bound) fail(`heap grew ${heapEnd - heapStart} bytes (bound ${bound})`);
  process.off('uncaughtException', onUncaught);
  process.off('unhandledRejection', onRejection);
  return { rounds, echoes, rows, failures, heapStart, heapEnd };
}

function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

/** The table the script prints: attack → first host reaction → count → median ms to report. */
export function formatRows(rows: OutcomeRow[]): string {
  const lines = ['attack                 reaction                          count  median ms'];
  for (const r of rows) {
    lines.push(`${r.attack.padEnd(22)} ${r.outcome.padEnd(33)} ${String(r.count).padStart(5)}  ${Number.isNaN(r.medianMs) ? '-' : r.medianMs.toFixed(1)}`);
  }
  return lines.join('\n');
}
