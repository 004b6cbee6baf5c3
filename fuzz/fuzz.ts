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
 */
import type { ChildProcess } from 'node:child_process';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Region, RpmsgBus, spawnProcessRemote, startWorkerRemote, type Channel, type RpmsgError } from '../src/index.js';
import type { RpmsgLink } from '../src/rpmsg/link.js';
import { RPMSG_CHANNELS, type DropEvent, type LinkDownEvent, type LinkUpEvent, type ViolationEvent } from '../src/rpmsg/diagnostics.js';
import { computeLayout, type MemoryLayout } from '../src/platform/layout.js';
import { resolveProcessMemory } from '../src/platform/process-options.js';
import type { VirtioRpmsgTransport } from '../src/rpmsg-virtio/virtio-transport.js';
import { ATTACKS, MAILBOX_OFFSET, type Attack } from './hostile-firmware.js';
import { prng } from './prng.js';

export type Platform = 'worker' | 'process';

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

export interface OutcomeRow {
  attack: Attack;
  platform: Platform;
  outcome: string;
  count: number;
  /** Median ms from the write to the report (NaN: nothing reported). */
  medianMs: number;
  /** Rounds whose probe echoed after the reset. */
  resumed: number;
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
/** The hostile firmware's echo endpoint. */
const HOSTILE_ADDR = 0x400;
const CANARY = 0xa5;
const GUARD = 0x8000;
const hostileFw = new URL('./hostile-firmware.js', import.meta.url);
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

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const now = (): number => performance.timeOrigin + performance.now();

/** Count every failed bounds check of any Region in this process (the host side). */
function countOutOfBounds(): { count: () => number; restore: () => void } {
  let n = 0;
  const proto = Region.prototype;
  const { check, busToOffset } = proto;
  proto.check = function (this: Region, offset: number, length: number): void {
    if (!this.contains(offset, length)) n++;
    check.call(this, offset, length);
  };
  proto.busToOffset = function (this: Region, bus: number, length: number): number {
    if (!this.contains(bus - this.busBase, length)) n++;
    return busToOffset.call(this, bus, length);
  };
  return {
    count: () => n,
    restore: () => {
      proto.check = check;
      proto.busToOffset = busToOffset;
    },
  };
}

/** One remote as the fuzz drives it, on either platform. */
interface Remote {
  readonly link: RpmsgLink | undefined;
  readonly transport: VirtioRpmsgTransport | undefined;
  readonly region: Region;
  /** [start, end) of the bytes outside every area. */
  readonly guard: [number, number];
  reset(): Promise<void>;
  end(): Promise<void>;
  on(ev: 'error', f: (e: Error) => void): void;
}

function guardOf(l: MemoryLayout, size: number): [number, number] {
  const end = Math.max(l.pool.offset + l.pool.length, l.control !== undefined ? l.control + 0x1000 : 0);
  return [end, size];
}

async function startRemote(bus: RpmsgBus, platform: Platform, name: string, firmware: URL, options: Record<string, number | string>): Promise<Remote> {
  if (platform === 'worker') {
    const layout = computeLayout({ control: true });
    const rp = await startWorkerRemote(bus, { firmware, name, options, log: () => {}, layout: { size: guardOf(layout, 0)[0] + GUARD } });
    rp.on('crash', () => {});
    return {
      get link() {
        return rp.link;
      },
      get transport() {
        return rp.transport;
      },
      region: rp.region!,
      guard: guardOf(rp.layout!, rp.region!.size),
      reset: () => rp.reset(),
      end: () => rp.destroy(),
      on: (_ev, f) => void rp.on('error', f),
    };
  }
  const url = new URL(firmware);
  for (const [k, v] of Object.entries(options)) url.searchParams.set(k, String(v));
  const fw = Object.keys(options).length > 0 ? url.href : fileURLToPath(firmware);
  const { child, remote } = await spawnProcessRemote(bus, { firmware: fw, name, stdout: 'ignore' });
  const r = resolveProcessMemory({});
  return {
    get link() {
      return remote.link;
    },
    get transport() {
      return remote.transport;
    },
    region: remote.region,
    guard: guardOf(r.layout, remote.region.size),
    reset: () => remote.reset(),
    end: async () => endChild(child, () => remote.close()),
    on: (_ev, f) => void remote.on('error', f),
  };
}

async function endChild(child: ChildProcess, close: () => void): Promise<void> {
  const exited = child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : once(child, 'exit').then(() => undefined);
  close();
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}

/** Sequence-numbered echo traffic through a well-behaved remote's channel. */
class GoodStream {
  ch: Channel | undefined;
  sent = 0;
  echoes = 0;
  constructor(
    readonly name: string,
    private readonly fail: (m: string) => void,
    private readonly progress: () => void,
  ) {}

  onEcho(data: Uint8Array): void {
    const seq = data.length >= 4 ? new DataView(data.buffer, data.byteOffset, data.length).getUint32(0, true) : -1;
    if (seq !== this.echoes || data.length !== 4 + (seq % 61)) this.fail(`${this.name}: echo ${this.echoes} expected, got seq ${seq} len ${data.length}`);
    this.echoes = seq + 1;
    this.progress();
  }

  async run(running: () => boolean): Promise<void> {
    while (running()) {
      if (this.sent - this.echoes > 32) {
        await sleep(1);
        continue;
      }
      const msg = new Uint8Array(4 + (this.sent % 61));
      new DataView(msg.buffer).setUint32(0, this.sent, true);
      await this.ch!.send(msg);
      this.sent++;
      // paced (at most 8 per millisecond): steady traffic that leaves the host's event loop room
      if (this.sent % 8 === 0) await sleep(1);
    }
  }
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

  // Reactions and reports for the current hostile link, by its name.
  interface Round {
    name: string;
    reaction: { outcome: string; at: number } | undefined;
    violations: number;
    drops: number;
    nsErrors: number;
    watching: boolean;
  }
  let current: Round | undefined;
  const react = (outcome: string): void => {
    if (current !== undefined && current.watching) current.reaction ??= { outcome, at: now() };
  };
  const onViolation = (m: unknown): void => {
    const e = m as ViolationEvent;
    if (e.link.name !== current?.name || !current.watching) return;
    current.violations++;
    react(`violation ${e.error.code ?? '?'}`);
  };
  const onDrop = (m: unknown): void => {
    const e = m as DropEvent;
    if (e.link.name !== current?.name || !current.watching) return;
    current.drops++;
    react(`drop ${e.reason}`);
  };
  const onDown = (m: unknown): void => {
    const e = m as LinkDownEvent;
    if (e.link.name === current?.name) react(`down ${rootCode(e.reason)}`);
  };
  // Each link's errors, from the moment it exists (a fast attack comes before startRemote returns).
  const onLinkUp = (m: unknown): void => {
    const link = (m as LinkUpEvent).link as RpmsgLink;
    if (link.bus !== bus) return;
    link.on('error', (e: Error & { code?: string }) => {
      if (good.has(link.name)) return fail(`${link.name}: ${String(e)}`);
      if (link.name !== current?.name || !current.watching) return;
      if (e.code === 'EBADMSG') current.nsErrors++;
      react(`error ${e.code ?? '?'}`);
    });
  };
  subscribe(RPMSG_CHANNELS.linkUp, onLinkUp);
  subscribe(RPMSG_CHANNELS.violation, onViolation);
  subscribe(RPMSG_CHANNELS.drop, onDrop);
  subscribe(RPMSG_CHANNELS.linkDown, onDown);

  let lastProgress = Date.now();
  const progress = (): void => void (lastProgress = Date.now());
  const good = new Map<string, GoodStream>([
    ['good-worker', new GoodStream('good-worker', fail, progress)],
    ['good-process', new GoodStream('good-process', fail, progress)],
  ]);
  const bus = new RpmsgBus();
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

  /**
   * Probe the hostile remote's current link: from a host endpoint to the remote's echo
   * endpoint at 0x400 (by address, so a link whose announcement was never seen is probed
   * too), again every 150 ms until an echo comes back or `ms` pass.
   */
  const probe = async (rp: Remote, ms: number): Promise<boolean> => {
    const end = Date.now() + ms;
    const bytes = new TextEncoder().encode('probe');
    while (Date.now() < end) {
      const link = rp.link;
      if (link === undefined || !link.up) {
        await sleep(5);
        continue;
      }
      let echoed = false;
      const ept = link.createEndpoint(() => void (echoed = true));
      try {
        await ept.sendTo(bytes, HOSTILE_ADDR, { timeout: 150 });
        const until = Date.now() + 150;
        while (!echoed && Date.now() < until) await sleep(2);
      } catch {
        await sleep(5);
      } finally {
        ept.destroy();
      }
      if (echoed) return true;
    }
    return false;
  };

  gc();
  const heapStart = process.memoryUsage().heapUsed;
  const stats = new Map<string, { attack: Attack; platform: Platform; outcome: string; count: number; times: number[]; resumed: number }>();
  const end = Date.now() + o.seconds * 1000;
  let rounds = 0;
  const attacks = o.only ?? ATTACKS;
  const every = o.every === true ? attacks.flatMap((attack) => platforms.map((platform) => ({ attack, platform }))) : undefined;
  const more = (): boolean => (every !== undefined ? rounds < every.length : o.rounds !== undefined ? rounds < o.rounds : Date.now() < end);
  const plan: FuzzResult['plan'] = [];
  while (running && more() && failures.length === 0) {
    const attack = every?.[rounds]?.attack ?? rnd.pick(attacks);
    const platform = every?.[rounds]?.platform ?? rnd.pick(platforms);
    const seed = rnd.int(2 ** 31);
    plan.push({ attack, platform, seed });
    const name = `hostile${rounds}`;
    const r: Round = { name, reaction: undefined, violations: 0, drops: 0, nsErrors: 0, watching: true };
    current = r;
    const oobBefore = oob.count();
    const tRound = Date.now();
    let rp: Remote;
    try {
      rp = await startRemote(bus, platform, name, hostileFw, { attack, seed });
    } catch (e) {
      fail(`round ${rounds} (${platform} ${attack}): the hostile remote did not start: ${String(e)}`);
      break;
    }
    const tBoot = Date.now();
    rp.region.fill(rp.guard[0], rp.guard[1] - rp.guard[0], CANARY);
    const transport0 = rp.transport;
    rp.on('error', () => {});

    // 2. the attack and the first reaction
    let attackAt = 0;
    const attackDeadline = Date.now() + 5000;
    while ((attackAt = rp.region.dv.getFloat64(MAILBOX_OFFSET, true)) === 0 && Date.now() < attackDeadline) await sleep(2);
    let outcome: string;
    let reportedAt: number | undefined;
    if (attackAt === 0) {
      outcome = 'attack not run';
    } else {
      // (a function: the reaction arrives from listeners, which control-flow narrowing does not see)
      const reaction = (): Round['reaction'] => r.reaction;
      while (reaction() === undefined && now() < attackAt + graceMs) await sleep(2);
      const first = reaction();
      if (first !== undefined) {
        outcome = first.outcome;
        reportedAt = first.at;
      } else {
        // 3. nothing reported: the link must still work
        const echoed = await probe(rp, 3000);
        const late = reaction();
        if (late !== undefined) {
          outcome = `${late.outcome} at probe`;
          reportedAt = late.at;
        } else if (echoed) {
          outcome = 'no effect';
        } else {
          outcome = 'silent';
          fail(`round ${rounds} (${platform} ${attack}, seed ${seed}): nothing reported and the link does not echo`);
        }
      }
    }
    r.watching = false;

    // 5a. counts against reports, for the link the attack hit
    const oobRound = oob.count() - oobBefore;
    if (oobRound > 0 && r.reaction === undefined) fail(`round ${rounds} (${platform} ${attack}): ${oobRound} out-of-bounds accesses and nothing reported`);
    if (transport0 !== undefined) {
      const vqViolations = transport0.rxVq.violations + transport0.txVq.violations;
      if (vqViolations !== r.violations) fail(`round ${rounds} (${platform} ${attack}): ${vqViolations} violations counted, ${r.violations} reported`);
      const s = transport0.link.stats;
      if (s.rxDroppedNoEndpoint + s.rxInvalid !== r.drops) fail(`round ${rounds} (${platform} ${attack}): ${s.rxDroppedNoEndpoint + s.rxInvalid} drops counted, ${r.drops} reported`);
      const ns = transport0.ns;
      if (ns !== undefined) {
        const rej = ns.stats.rejected;
        const nsRejected = rej.length + rej.name + rej.addr;
        if (nsRejected !== r.nsErrors) fail(`round ${rounds} (${platform} ${attack}): ${nsRejected} announcements rejected, ${r.nsErrors} reported`);
      }
    }

    // 4. reset, and traffic after it
    let resumed = false;
    if (attackAt !== 0) {
      try {
        await rp.reset();
        resumed = await probe(rp, 5000);
      } catch {
        resumed = false;
      }
    }

    // 5b. the canary
    const g = rp.region.u8;
    for (let i = rp.guard[0]; i < rp.guard[1]; i++) {
      if (g[i] !== CANARY) {
        fail(`round ${rounds} (${platform} ${attack}): guard byte at 0x${i.toString(16)} changed to 0x${g[i]!.toString(16)}`);
        break;
      }
    }

    if (process.env['FUZZ_DEBUG'] !== undefined) console.error(`round ${rounds} ${platform} ${attack}: ${outcome}, resumed ${resumed}, t=${Date.now() - tRound} ms (boot ${tBoot - tRound}, attack ${attackAt === 0 ? '-' : Math.round(attackAt - tBoot - performance.timeOrigin + (performance.timeOrigin))})`);
    const key = `${attack}\0${platform}\0${outcome}`;
    const st = stats.get(key) ?? { attack, platform, outcome, count: 0, times: [], resumed: 0 };
    st.count++;
    if (reportedAt !== undefined) st.times.push(Math.max(0, reportedAt - attackAt));
    if (resumed) st.resumed++;
    stats.set(key, st);
    current = undefined;
    await rp.end();
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
  unsubscribe(RPMSG_CHANNELS.linkUp, onLinkUp);
  unsubscribe(RPMSG_CHANNELS.violation, onViolation);
  unsubscribe(RPMSG_CHANNELS.drop, onDrop);
  unsubscribe(RPMSG_CHANNELS.linkDown, onDown);
  oob.restore();
  const rows = [...stats.values()]
    .map((s) => ({ attack: s.attack, platform: s.platform, outcome: s.outcome, count: s.count, medianMs: median(s.times), resumed: s.resumed }))
    .sort((a, b) => (a.attack + a.platform + a.outcome).localeCompare(b.attack + b.platform + b.outcome));
  gc();
  const heapEnd = process.memoryUsage().heapUsed;
  const bound = o.heapBoundBytes ?? 16 * 1024 * 1024;
  if (heapEnd - heapStart > bound) fail(`heap grew ${heapEnd - heapStart} bytes (bound ${bound})`);
  process.off('uncaughtException', onUncaught);
  process.off('unhandledRejection', onRejection);
  const echoes = Object.fromEntries([...good.values()].map((g) => [g.name, g.echoes]));
  return { rounds, plan, echoes, rows, failures, oobAttempts: oob.count(), heapStart, heapEnd };
}

/** The code deepest in an error's cause chain (the link's ENODEV wraps the reason). */
function rootCode(e: unknown): string {
  let code = '?';
  for (let c: unknown = e, d = 0; c instanceof Error && d < 8; c = c.cause, d++) {
    const k = (c as RpmsgError).code;
    if (typeof k === 'string') code = k;
  }
  return code;
}

function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

/** The table the script prints: attack, platform, first host reaction, count, median ms to report, traffic after reset. */
export function formatRows(rows: OutcomeRow[]): string {
  const lines = ['attack               platform  reaction                              count  median ms  after reset'];
  for (const r of rows) {
    lines.push(
      `${r.attack.padEnd(20)} ${r.platform.padEnd(9)} ${r.outcome.padEnd(37)} ${String(r.count).padStart(5)}  ${(Number.isNaN(r.medianMs) ? '-' : r.medianMs.toFixed(1)).padStart(9)}  ${r.resumed}/${r.count}`,
    );
  }
  return lines.join('\n');
}
