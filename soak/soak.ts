/**
 * The soak (issue 9): `messages` sequenced messages each way between this host and a remote
 * (worker thread or child process) running soak-firmware.ts, over `slots` endpoint pairs that
 * are created and destroyed all along (endpoint churn). Each pair ("generation") carries a
 * random number of messages each way, in a random mix of the send family (protocol.ts); one in
 * five (killPercent) is destroyed by the remote in mid-traffic instead of closing after both
 * FINs.
 *
 * Checked: every accepted message arrives exactly once, in order, intact (protocol.ts Receiver),
 * on its own pair; a send that failed or a zero-copy buffer released unsent is never delivered;
 * on a pair closed normally both sides agree on the counts; on a killed pair every message the
 * remote accepted reached the host (they precede its NS destroy in the ring), and the host's
 * messages that found no endpoint are exactly the remote's rxDroppedNoEndpoint at the end; no
 * message anywhere is invalid or dropped otherwise; heapUsed after GC, on both sides, grows by
 * at most `heapBoundMb` over its warmed-up baseline.
 *
 * Addresses: the remote puts generation g of slot s at 0x1000 + s + 16·(g mod 64), so an
 * address comes back only after every message to its previous owner is gone. (rpmsg reuses
 * addresses like Linux's idr: a stale message for a destroyed endpoint reaches a new endpoint
 * created at the same address; the soak does not count that as a fault of the transport.)
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RpmsgBus, spawnProcessRemote, startWorkerRemote, type Channel, type RpmsgLink } from '../src/index.js';
import { heapGrowth, HeapSampler, type HeapReport } from './heap.js';
import { Receiver, SEQ_HELLO, Sender, addCounts, marker, mixSeed, prng, zeroCounts, type SenderCounts } from './protocol.js';

export interface SoakOptions {
  /** Data messages accepted each way (default 10M). */
  messages?: number;
  seed?: number;
  platform?: 'worker' | 'process';
  /** Endpoint pairs open at once (default 4, at most 16). */
  slots?: number;
  /** Most messages one way on one pair before it is closed (default 20000). */
  genMax?: number;
  /** Share of pairs destroyed in mid-traffic (percent, default 20). */
  killPercent?: number;
  /** Allowed heap growth after GC over the warmed-up baseline, each side (MB, default 8). */
  heapBoundMb?: number;
  /** Fail when nothing is delivered for this long (ms, default 30000). */
  stallMs?: number;
  /** Progress line every so often (ms, default 0: none). */
  progressMs?: number;
  log?: (line: string) => void;
}

export interface DirectionFigures {
  accepted: number;
  delivered: number;
  /** Accepted but sent to an endpoint destroyed under it (killed pairs), counted by the receiver's link. */
  dropped: number;
  bytes: number;
}

export interface SoakResult {
  failures: string[];
  h2r: DirectionFigures;
  r2h: DirectionFigures;
  pairs: number;
  killed: number;
  elapsedMs: number;
  host: { counts: SenderCounts; heap: HeapReport };
  remote: { counts: SenderCounts; heap: HeapReport };
}

interface Gen {
  gen: number;
  slot: number;
  addr: number;
  hc: number;
  rc: number;
  killAt: number | undefined;
  killSent: boolean;
  ch: Channel | undefined;
  rx: Receiver;
  tx: Sender | undefined;
  txDone: boolean;
  removed: boolean;
  report: { op: string; rx: number; tx: number } | undefined;
  resolve: () => void;
}

interface RemoteStats {
  open: number;
  rxDroppedNoEndpoint: number;
  rxInvalid: number;
  callbackErrors: number;
  counts: SenderCounts;
  heap: HeapReport;
}

const firmware = join(fileURLToPath(new URL('.', import.meta.url)), 'soak-firmware.js');
const MB = 1024 * 1024;

export async function runSoak(o: SoakOptions = {}): Promise<SoakResult> {
  const messages = o.messages ?? 10_000_000;
  const seed = o.seed ?? 1;
  const slots = Math.min(16, Math.max(1, o.slots ?? 4));
  const genMax = Math.max(1, o.genMax ?? 20_000);
  const killPercent = o.killPercent ?? 20;
  const stallMs = o.stallMs ?? 30_000;
  const log = o.log ?? (() => {});
  const failures: string[] = [];
  let abort: (e: Error) => void = () => {};
  const aborted = new Promise<never>((_, reject) => (abort = reject));
  aborted.catch(() => {});
  const fail = (why: string): void => {
    if (failures.length < 20) failures.push(why);
    abort(new Error(why));
  };

  const h2r: DirectionFigures = { accepted: 0, delivered: 0, dropped: 0, bytes: 0 };
  const r2h: DirectionFigures = { accepted: 0, delivered: 0, dropped: 0, bytes: 0 };
  const hostCounts = zeroCounts();
  const byAddr = new Map<number, Gen>();
  const byCh = new Map<Channel, Gen>();
  const enc = new TextEncoder();
  let budgetH = messages;
  let budgetR = messages;
  let nextGen = 0;
  let pairs = 0;
  let killed = 0;
  let finsDropped = 0;
  let ctl: Channel | undefined;
  let ctlReady!: () => void;
  const ctlUp = new Promise<void>((r) => (ctlReady = r));
  let statsReply: ((s: RemoteStats) => void) | undefined;

  const ctlSend = (m: Record<string, unknown>): void => {
    ctl!.send(enc.encode(JSON.stringify(m))).catch((e: unknown) => fail(`control send failed: ${String(e)}`));
  };

  const check = (g: Gen): void => {
    if (!g.txDone || !g.removed || g.report === undefined) return;
    const tx = g.tx!;
    byAddr.delete(g.addr);
    if (g.ch !== undefined) byCh.delete(g.ch);
    if (tx.outOfOrderAccepts !== 0) fail(`pair ${g.gen}: ${tx.outOfOrderAccepts} host sends accepted after one that failed`);
    const hostAccepted = tx.counts.accepted;
    addCounts(hostCounts, tx.counts);
    h2r.accepted += hostAccepted;
    r2h.accepted += g.report.tx;
    h2r.delivered += g.report.rx;
    r2h.delivered += g.rx.count;
    r2h.bytes += g.rx.bytes;
    if (g.rx.count !== g.report.tx) fail(`pair ${g.gen}: the remote accepted ${g.report.tx} messages, ${g.rx.count} arrived`);
    if (g.report.op === 'done') {
      if (g.killSent) fail(`pair ${g.gen}: closed normally although killed`);
      if (g.rx.fin === undefined) fail(`pair ${g.gen}: closed without the remote's FIN`);
      if (g.report.rx !== hostAccepted) fail(`pair ${g.gen}: the host accepted ${hostAccepted} messages, ${g.report.rx} arrived`);
    } else {
      killed++;
      if (g.report.rx > hostAccepted) fail(`pair ${g.gen}: ${g.report.rx} messages arrived, the host accepted only ${hostAccepted}`);
      h2r.dropped += hostAccepted - g.report.rx;
      // The host's FIN, when it went before the host saw the pair go, found no endpoint either
      // (the kill is ahead of it in the ring).
      if (tx.finSent) finsDropped++;
      // What was not sent goes back to the budget.
      budgetH += g.hc - hostAccepted;
      budgetR += g.rc - g.report.tx;
    }
    pairs++;
    g.resolve();
  };

  const bus = new RpmsgBus();
  bus.on('error', (e) => fail(`bus: ${e.message}`));
  bus.registerDriver({
    name: 'soak-ctl',
    idTable: ['soak-ctl'],
    probe: (ch) => {
      ctl = ch;
      ctlSend({ op: 'hello' });
      ctlReady();
    },
    callback: (_ch, data) => {
      const m = JSON.parse(new TextDecoder().decode(data)) as { op: string; gen: number; rx: number; tx: number; why?: string } & RemoteStats;
      if (m.op === 'fail') return fail(m.why ?? 'remote failed');
      if (m.op === 'stats') return statsReply?.(m);
      const g = [...byAddr.values()].find((x) => x.gen === m.gen);
      if (g === undefined) return fail(`report ${m.op} for pair ${m.gen}, which is not open`);
      if (g.report !== undefined) return fail(`pair ${m.gen}: second report`);
      g.report = m;
      check(g);
    },
    remove: () => {
      if (statsReply === undefined) fail('the control channel went away');
    },
  });
  bus.registerDriver({
    name: 'soak-data',
    idTable: ['soak-data'],
    probe: (ch) => {
      const g = byAddr.get(ch.dst);
      if (g === undefined || g.ch !== undefined) return fail(`a soak-data channel at 0x${ch.dst.toString(16)} that was not asked for`);
      g.ch = ch;
      byCh.set(ch, g);
      void (async () => {
        try {
          await ch.send(marker(SEQ_HELLO, g.gen, 0));
          const onSeq =
            g.killAt === undefined
              ? undefined
              : (seq: number) => {
                  if (seq === g.killAt && !g.killSent) {
                    g.killSent = true;
                    ctlSend({ op: 'kill', gen: g.gen });
                  }
                };
          g.tx = new Sender(ch, g.hc, g.gen, prng(mixSeed(seed, g.gen, 0)), fail, onSeq);
          await g.tx.run();
        } catch (e) {
          fail(`pair ${g.gen}: HELLO failed: ${String(e)}`);
        }
        g.txDone = true;
        check(g);
      })();
    },
    callback: (ch, data) => {
      const g = byCh.get(ch);
      if (g === undefined) return fail('data on a channel of no pair');
      g.rx.accept(data);
    },
    remove: (ch) => {
      const g = byCh.get(ch);
      if (g === undefined) return fail('removal of a channel of no pair');
      g.removed = true;
      check(g);
    },
  });

  const openGen = (slot: number, round: number): Promise<void> => {
    // Each pair's figures come from its own number, not from the order the slots ask in.
    const gen = nextGen++;
    const rnd = prng(mixSeed(seed, gen, 2));
    const hc = Math.min(budgetH, 1 + (rnd() % genMax));
    const rc = Math.min(budgetR, 1 + (rnd() % genMax));
    budgetH -= hc;
    budgetR -= rc;
    const killAt = hc > 0 && rnd() % 100 < killPercent ? rnd() % hc : undefined;
    const addr = 0x1000 + slot + 16 * (round % 64);
    return new Promise<void>((resolve) => {
      const g: Gen = { gen, slot, addr, hc, rc, killAt, killSent: false, ch: undefined, rx: new Receiver(gen, fail), tx: undefined, txDone: false, removed: false, report: undefined, resolve };
      byAddr.set(addr, g);
      ctlSend({ op: 'open', gen, addr, count: rc, seed });
    });
  };

  const runSlot = async (slot: number): Promise<void> => {
    for (let round = 0; budgetH > 0 || budgetR > 0; round++) await openGen(slot, round);
  };

  const hostHeap = new HeapSampler(1000);
  const t0 = performance.now();
  let link: () => RpmsgLink | undefined;
  let close: () => Promise<void>;
  if (o.platform === 'process') {
    const { child, remote } = await spawnProcessRemote(bus, { firmware, stdout: 'inherit' });
    remote.on('down', (e) => statsReply === undefined && fail(`link down: ${e.message}`));
    child.once('exit', (code, signal) => statsReply === undefined && fail(`remote process exited (${code ?? signal})`));
    link = () => remote.link;
    close = async () => {
      const exited = new Promise((r) => child.once('exit', r));
      remote.close();
      await exited;
    };
  } else {
    const rp = await startWorkerRemote(bus, { firmware, log: (l) => log(`[remote] ${l}`) });
    rp.on('down', (e) => statsReply === undefined && fail(`link down: ${e.message}`));
    link = () => rp.link;
    close = () => rp.close();
  }

  let lastDelivered = -1;
  let lastMove = Date.now();
  const watch = setInterval(() => {
    let d = h2r.delivered + r2h.delivered;
    for (const g of byAddr.values()) d += g.rx.count;
    if (d !== lastDelivered) {
      lastDelivered = d;
      lastMove = Date.now();
    } else if (Date.now() - lastMove > stallMs) {
      fail(`stalled: nothing delivered for ${stallMs} ms (${byAddr.size} pairs open)`);
    }
  }, 500);
  watch.unref();
  const progress =
    (o.progressMs ?? 0) > 0
      ? setInterval(() => {
          const s = (performance.now() - t0) / 1000;
          log(`${s.toFixed(0)} s: ${h2r.accepted} h2r, ${r2h.accepted} r2h accepted in ${pairs} closed pairs (${killed} killed), heap ${(process.memoryUsage().heapUsed / MB).toFixed(1)} MB`);
        }, o.progressMs)
      : undefined;

  let remoteStats: RemoteStats | undefined;
  try {
    await Promise.race([ctlUp, aborted]);
    await Promise.race([Promise.all(Array.from({ length: slots }, (_, s) => runSlot(s))), aborted]);
    const stats = new Promise<RemoteStats>((r) => (statsReply = r));
    ctlSend({ op: 'stats' });
    remoteStats = await Promise.race([stats, aborted]);
  } catch {
    // failures has it
  } finally {
    clearInterval(watch);
    clearInterval(progress);
  }
  const elapsedMs = performance.now() - t0;
  const hostHeapReport = hostHeap.finish();
  const l = link();
  if (remoteStats !== undefined && l !== undefined) {
    const s = l.stats;
    if (remoteStats.open !== 0) fail(`${remoteStats.open} pairs still open on the remote`);
    if (remoteStats.rxDroppedNoEndpoint !== h2r.dropped + finsDropped) {
      fail(`the remote dropped ${remoteStats.rxDroppedNoEndpoint} messages for no endpoint, the killed pairs account for ${h2r.dropped} and ${finsDropped} FINs`);
    }
    if (remoteStats.rxInvalid !== 0 || s.rxInvalid !== 0) fail(`invalid messages: ${s.rxInvalid} at the host, ${remoteStats.rxInvalid} at the remote`);
    if (s.rxDroppedNoEndpoint !== 0) fail(`the host dropped ${s.rxDroppedNoEndpoint} messages for no endpoint`);
    if (s.callbackErrors !== 0 || remoteStats.callbackErrors !== 0) fail(`rx callbacks threw: ${s.callbackErrors} at the host, ${remoteStats.callbackErrors} at the remote`);
    if (h2r.accepted !== messages || r2h.accepted !== messages) fail(`accepted ${h2r.accepted} h2r and ${r2h.accepted} r2h, ${messages} each way planned`);
    const bound = (o.heapBoundMb ?? 8) * MB;
    if (heapGrowth(hostHeapReport) > bound) fail(`host heap grew ${(heapGrowth(hostHeapReport) / MB).toFixed(1)} MB after GC (bound ${bound / MB} MB)`);
    if (heapGrowth(remoteStats.heap) > bound) fail(`remote heap grew ${(heapGrowth(remoteStats.heap) / MB).toFixed(1)} MB after GC (bound ${bound / MB} MB)`);
  }
  await close().catch((e: unknown) => fail(`closing the remote: ${String(e)}`));
  return {
    failures,
    h2r,
    r2h,
    pairs,
    killed,
    elapsedMs,
    host: { counts: hostCounts, heap: hostHeapReport },
    remote: { counts: remoteStats?.counts ?? zeroCounts(), heap: remoteStats?.heap ?? { start: 0, baseline: 0, max: 0, end: 0, samples: 0 } },
  };
}

/** The summary lines printed by `npm run soak`. */
export function formatSoak(r: SoakResult, o: { platform: string; seed: number }): string[] {
  const mb = (b: number): string => (b / MB).toFixed(1);
  const s = r.elapsedMs / 1000;
  const rate = (r.h2r.accepted + r.r2h.accepted) / s;
  const c = (x: SenderCounts): string =>
    `send ${x.send}, trySend ${x.trySend} (${x.trySendRetries} retries after ENOMEM), zero-copy ${x.nocopy} (+${x.nocopyReleased} released unsent), ${x.rejected} failed sends not delivered`;
  return [
    `soak ${o.platform}, seed ${o.seed}: ${r.failures.length === 0 ? 'PASS' : 'FAIL'} in ${s.toFixed(1)} s`,
    `  host→remote: ${r.h2r.accepted} accepted, ${r.h2r.delivered} delivered in order, ${r.h2r.dropped} dropped at destroyed endpoints (all accounted for)`,
    `  remote→host: ${r.r2h.accepted} accepted, ${r.r2h.delivered} delivered in order`,
    `  ${r.pairs} endpoint pairs created and destroyed (${r.killed} destroyed mid-traffic); ${Math.round(rate)} msg/s both ways`,
    `  host: ${c(r.host.counts)}`,
    `  remote: ${c(r.remote.counts)}`,
    `  heap after GC: host ${mb(r.host.heap.start)} MB start, ${mb(r.host.heap.baseline)} baseline, ${mb(r.host.heap.max)} max, ${mb(r.host.heap.end)} end (${r.host.heap.samples} samples); ` +
      `remote ${mb(r.remote.heap.start)} / ${mb(r.remote.heap.baseline)} / ${mb(r.remote.heap.max)} / ${mb(r.remote.heap.end)} MB (${r.remote.heap.samples} samples)`,
    ...r.failures.map((f) => `  FAILURE: ${f}`),
  ];
}
