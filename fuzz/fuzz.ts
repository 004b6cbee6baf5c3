/**
 * The fuzz run: one host bus with two well-behaved remotes, a worker and a process
 * (sequence-numbered echo traffic on each, checked exactly once and in order), and, round
 * after round, a fresh hostile remote — a worker or a process, drawn from the seed — doing one
 * seeded attack (hostile-firmware.ts). A round:
 *
 * 1. boot the hostile remote; fill the guard band (the bytes of its shared memory outside
 *    every area: table, rings, pool, control page) with a canary;
 * 2. wait for the attack (its time is in the mailbox) and the host's first reaction for that
 *    link: a violation (code), the link down (code), an error (code) or a counted drop;
 * 3. no reaction within `graceMs`: probe the link (an echo through the hostile remote's
 *    endpoint). An echo that comes back means the attack had no effect ("no effect"); a
 *    reaction during the probe counts as reported ("… at probe"); neither is "silent", a
 *    failure: the corruption went unnoticed and the link no longer works;
 * 4. reset the device and probe again: "traffic after reset" yes or no;
 * 5. check the canary, and that every violation, drop and name-service rejection the host
 *    counted was also reported (diagnostics events) and the other way round.
 *
 * Failures: an uncaught exception or unhandled rejection in the host, no progress for
 * `stallMs` (the watchdog), a well-behaved echo lost, duplicated or out of order, a silent
 * round, a canary byte changed, an access outside the region that was not turned into a
 * reported error (every failed bounds check of the host's Region is counted), a count that
 * disagrees with the reports, heap growth above `heapBoundBytes` after GC.
 *
 * This file is the run: options, the plan of rounds, the well-behaved remotes, the watchdog and
 * the totals. One round is in fuzz-round.ts, the remotes and the probe in fuzz-remotes.ts, the
 * watching and the checks in fuzz-checks.ts, the outcome table in fuzz-report.ts.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { RpmsgBus } from '../src/index.js';
import { ATTACKS, type Attack } from './hostile-firmware.js';
import { prng } from './prng.js';
import { countOutOfBounds, ReactionWatch } from './fuzz-checks.js';
import { GoodStream, sleep, startRemote, type Platform, type Remote } from './fuzz-remotes.js';
import { OutcomeTable, type OutcomeRow } from './fuzz-report.js';
import { runRound } from './fuzz-round.js';

export type { Platform } from './fuzz-remotes.js';
export { formatRows, type OutcomeRow } from './fuzz-report.js';

export interface FuzzOptions {
  seconds: number;
  seed: number;
  /** Watchdog: fail when neither an echo nor a round completes for this long (default 20 s). */
  stallMs?: number;
  /** Wait for a reaction this long after the attack before probing (default 300 ms). */
  graceMs?: number;
  heapBoundBytes?: number;
  /** Platforms of the hostile remotes (default both). */
  platforms?: Platform[];
  /** Every attack on every platform once, in order (the seed still draws each attack's values); `seconds` is ignored. */
  every?: boolean;
  /** Only these attacks (default all). */
  only?: readonly Attack[];
  /** Exactly this many rounds, however long they take (`seconds` is then ignored). */
  rounds?: number;
}

export interface FuzzResult {
  rounds: number;
  /** What each round did, in order (planRounds(seed, n) for a run without `every`/`only`). */
  plan: Array<{ attack: Attack; platform: Platform; seed: number }>;
  /** Echoes from the well-behaved remotes, per remote. */
  echoes: Record<string, number>;
  rows: OutcomeRow[];
  failures: string[];
  /** Failed bounds checks of the host's Region (each one a typed error). */
  oobAttempts: number;
  heapStart: number;
  heapEnd: number;
}

const ECHO = 'rpmsg-openamp-demo-channel';
const echoFw = new URL('../samples/firmware/echo.js', import.meta.url);

/** The attacks the first `n` rounds of a run with `seed` do, and on which platform (the run draws them in this order). */
export function planRounds(seed: number, n: number, platforms: Platform[] = ['worker', 'process']): Array<{ attack: Attack; platform: Platform; seed: number }> {
  const rnd = prng(seed);
  const out: Array<{ attack: Attack; platform: Platform; seed: number }> = [];
  for (let i = 0; i < n; i++) out.push({ attack: rnd.pick(ATTACKS), platform: rnd.pick(platforms), seed: rnd.int(2 ** 31) });
  return out;
}

function gcFn(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

export async function runFuzz(o: FuzzOptions): Promise<FuzzResult> {
  const rnd = prng(o.seed);
  const platforms = o.platforms ?? ['worker', 'process'];
  const stallMs = o.stallMs ?? 20_000;
  const graceMs = o.graceMs ?? 300;
  const failures: string[] = [];
  const fail = (m: string): void => void failures.push(m);
  const onUncaught = (e: unknown): void => fail(`uncaught exception: ${String((e as Error)?.stack ?? e)}`);
  const onRejection = (e: unknown): void => fail(`unhandled rejection: ${String((e as Error)?.stack ?? e)}`);
  process.on('uncaughtException', onUncaught);
  process.on('unhandledRejection', onRejection);
  const gc = gcFn();
  const oob = countOutOfBounds();

  let lastProgress = Date.now();
  const progress = (): void => void (lastProgress = Date.now());
  const good = new Map<string, GoodStream>([
    ['good-worker', new GoodStream('good-worker', fail, progress)],
    ['good-process', new GoodStream('good-process', fail, progress)],
  ]);
  const bus = new RpmsgBus();
  const watch = new ReactionWatch(bus, (name) => good.has(name), fail);
  bus.registerDriver({
    name: 'fuzz-echo',
    idTable: [ECHO],
    probe: (ch) => {
      const g = good.get(ch.link.name);
      if (g !== undefined && ch.name === ECHO) g.ch = ch;
    },
    callback: (ch, data) => {
      const g = good.get(ch.link.name);
      if (g !== undefined && ch === g.ch) g.onEcho(data);
    },
  });
  const goods: Remote[] = [];
  goods.push(await startRemote(bus, 'worker', 'good-worker', echoFw, {}));
  goods.push(await startRemote(bus, 'process', 'good-process', echoFw, {}));
  for (const g of goods) g.on('error', (e) => fail(`well-behaved remote: ${String(e)}`));
  while ([...good.values()].some((g) => g.ch === undefined)) await sleep(5);

  let running = true;
  const senders = [...good.values()].map((g) =>
    g.run(() => running).catch((e: unknown) => {
      if (running) fail(`send to ${g.name} failed: ${String(e)}`);
    }),
  );
  const watchdog = setInterval(() => {
    if (Date.now() - lastProgress > stallMs) {
      fail(`watchdog: no progress for ${stallMs} ms`);
      running = false;
    }
  }, 500);

  gc();
  const heapStart = process.memoryUsage().heapUsed;
  const table = new OutcomeTable();
  const end = Date.now() + o.seconds * 1000;
  let rounds = 0;
  const attacks = o.only ?? ATTACKS;
  const every = o.every === true ? attacks.flatMap((attack) => platforms.map((platform) => ({ attack, platform }))) : undefined;
  const more = (): boolean => (every !== undefined ? rounds < every.length : o.rounds !== undefined ? rounds < o.rounds : Date.now() < end);
  const plan: FuzzResult['plan'] = [];
  const ctx = { bus, watch, oobCount: oob.count, graceMs, fail };
  while (running && more() && failures.length === 0) {
    const attack = every?.[rounds]?.attack ?? rnd.pick(attacks);
    const platform = every?.[rounds]?.platform ?? rnd.pick(platforms);
    const seed = rnd.int(2 ** 31);
    plan.push({ attack, platform, seed });
    const outcome = await runRound(ctx, rounds, attack, platform, seed);
    if (outcome === undefined) break;
    table.add(attack, platform, outcome);
    rounds++;
    lastProgress = Date.now();
  }

  running = false;
  await Promise.all(senders);
  const drainEnd = Date.now() + 10_000;
  while ([...good.values()].some((g) => g.echoes < g.sent) && Date.now() < drainEnd) await sleep(5);
  for (const g of good.values()) if (g.echoes !== g.sent) fail(`${g.name}: ${g.sent} sent, ${g.echoes} echoed`);
  clearInterval(watchdog);
  for (const g of goods) await g.end();
  watch.close();
  oob.restore();
  const rows = table.rows();
  gc();
  const heapEnd = process.memoryUsage().heapUsed;
  const bound = o.heapBoundBytes ?? 16 * 1024 * 1024;
  if (heapEnd - heapStart > bound) fail(`heap grew ${heapEnd - heapStart} bytes (bound ${bound})`);
  process.off('uncaughtException', onUncaught);
  process.off('unhandledRejection', onRejection);
  const echoes = Object.fromEntries([...good.values()].map((g) => [g.name, g.echoes]));
  return { rounds, plan, echoes, rows, failures, oobAttempts: oob.count(), heapStart, heapEnd };
}
