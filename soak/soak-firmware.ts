/**
 * The soak's remote side (a firmware: worker thread or child process). It announces
 * "soak-ctl" and obeys the host's JSON commands there:
 * - open {gen, addr, count, seed}: create endpoint "soak-data" at `addr` (announced); on the
 *   host's HELLO start sending `count` messages (protocol.ts Sender); when its own FIN has gone
 *   and the host's FIN has come (counts checked), report done {gen, rx} and destroy the endpoint;
 * - kill {gen}: destroy that endpoint at once, traffic in flight both ways; report killed
 *   {gen, rx, tx} (what had arrived, what had been accepted to go);
 * - stats: report the link's counters and this side's heap, then stop sampling.
 * A check that fails is reported as fail {why}.
 */
import { defineFirmware, type Endpoint } from '../src/index.js';
import { HeapSampler } from './heap.js';
import { Receiver, Sender, mixSeed, prng, type SenderCounts, zeroCounts, addCounts } from './protocol.js';

interface Pair {
  ept: Endpoint;
  rx: Receiver;
  tx: Sender | undefined;
  txDone: boolean;
  done: boolean;
}

export default defineFirmware((ctx) => {
  const heap = new HeapSampler(1000);
  const pairs = new Map<number, Pair>();
  const totals: SenderCounts = zeroCounts();
  const enc = new TextEncoder();
  let failed = false;
  let ctl: Endpoint | undefined;

  const report = (msg: Record<string, unknown>): void => {
    ctl!.send(enc.encode(JSON.stringify(msg))).catch((e: unknown) => ctx.log(`soak: control report failed: ${String(e)}`));
  };
  const fail = (why: string): void => {
    if (failed) return;
    failed = true;
    report({ op: 'fail', why: `remote: ${why}` });
  };

  const finish = (gen: number, p: Pair): void => {
    if (p.done || !p.txDone || p.rx.fin === undefined) return;
    p.done = true;
    pairs.delete(gen);
    addCounts(totals, p.tx!.counts);
    report({ op: 'done', gen, rx: p.rx.count, tx: p.tx!.counts.accepted });
    p.ept.destroy();
  };

  const open = (gen: number, addr: number, count: number, seed: number): void => {
    const p: Pair = { ept: undefined as unknown as Endpoint, rx: new Receiver(gen, fail), tx: undefined, txDone: false, done: false };
    p.ept = ctx.createEndpoint(
      (ep, data) => {
        const hadHello = p.rx.hello;
        p.rx.accept(data);
        if (!hadHello && p.rx.hello) {
          // The host's HELLO taught the endpoint its address: start this side's stream.
          p.tx = new Sender(ep, count, gen, prng(mixSeed(seed, gen, 1)), fail);
          void p.tx.run().then(() => {
            p.txDone = true;
            if (!p.tx!.gone) finish(gen, p);
          });
        } else if (p.rx.fin !== undefined) finish(gen, p);
      },
      { name: 'soak-data', addr },
    );
    pairs.set(gen, p);
  };

  const kill = (gen: number): void => {
    const p = pairs.get(gen);
    if (p === undefined) return fail(`kill of pair ${gen}, which is not open`);
    pairs.delete(gen);
    p.done = true;
    const rx = p.rx.count;
    p.ept.destroy(); // waiting sends fail at once; messages still in the ring are dropped
    // Sends already in the ring settle in microtasks: count them after a turn.
    setImmediate(() => {
      const tx = p.tx?.counts.accepted ?? 0;
      if (p.tx !== undefined) {
        addCounts(totals, p.tx.counts);
        if (p.tx.outOfOrderAccepts !== 0) fail(`pair ${gen}: ${p.tx.outOfOrderAccepts} sends accepted after one that failed`);
      }
      report({ op: 'killed', gen, rx, tx });
    });
  };

  ctl = ctx.createEndpoint(
    (_ep, data) => {
      let m: { op?: string; gen?: number; addr?: number; count?: number; seed?: number };
      try {
        m = JSON.parse(new TextDecoder().decode(data)) as typeof m;
      } catch {
        return fail('bad control message');
      }
      if (m.op === 'open') open(m.gen!, m.addr!, m.count!, m.seed!);
      else if (m.op === 'kill') kill(m.gen!);
      else if (m.op === 'stats') {
        const s = ctx.link.stats;
        report({ op: 'stats', open: pairs.size, rxDroppedNoEndpoint: s.rxDroppedNoEndpoint, rxInvalid: s.rxInvalid, callbackErrors: s.callbackErrors, counts: totals, heap: heap.finish() });
      } else if (m.op !== 'hello') fail(`unknown control op ${String(m.op)}`);
    },
    { name: 'soak-ctl' },
  );
  ctx.onStop(() => void heap.finish());
});
