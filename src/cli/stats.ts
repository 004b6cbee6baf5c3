/**
 * `rpmsg stats`: counters per link and endpoint, drops by reason, waits, violations and each
 * vring's occupancy, for a bus this command can reach.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { RpmsgBus } from '../rpmsg/bus.js';
import { ShmTracer } from '../trace/shm-tracer.js';
import { BusStats, type LinkStatsReport } from '../trace/stats.js';
import { defineCommand } from './command.js';
import { runDemo } from './demo.js';
import { busSource, busSourceArgs, busSourceFlags } from './bus-source.js';
import { connectFrom, type ConnectionValues } from './daemon-flags.js';
import { flag, jsonFlag } from './flags.js';

export interface StatsCommandOptions {
  shm?: string;
  /** A running daemon's bus (STATS). */
  daemon?: ConnectionValues;
  signal?: AbortSignal;
  demo?: { remotes: number; count: number };
  json: boolean;
  /** Prints the JSON document. */
  printJson: (v: unknown) => void;
  /** How long to watch a shared-memory file (default 1000 ms). */
  intervalMs: number;
  log: (line: string) => void;
}

const hex = (v: number): string => `0x${v.toString(16)}`;

export async function runStats(o: StatsCommandOptions): Promise<number> {
  if (o.daemon !== undefined) {
    const client = await connectFrom(o.daemon, o.signal);
    try {
      return printReport(await client.stats(), o);
    } finally {
      client.close();
    }
  }
  if (o.shm !== undefined) {
    const t = new ShmTracer(o.shm, { snaplen: 16 });
    try {
      const perAddr = new Map<string, { dir: string; src: number; dst: number; messages: number; bytes: number }>();
      const end = Date.now() + o.intervalMs;
      do {
        for (const r of t.poll()) {
          const k = `${r.dir} ${r.src} ${r.dst}`;
          const e = perAddr.get(k) ?? { dir: r.dir, src: r.src, dst: r.dst, messages: 0, bytes: 0 };
          e.messages++;
          e.bytes += r.len;
          perAddr.set(k, e);
        }
        await sleep(1);
      } while (Date.now() < end);
      const report = { file: o.shm, watchedMs: o.intervalMs, device: t.device(), ...t.stats, vrings: t.occupancy() ?? [], endpoints: [...perAddr.values()] };
      if (o.json) {
        o.printJson(report);
        return 0;
      }
      o.log(`${o.shm}: ${report.device === undefined ? 'no host attached' : `status 0x${report.device.status.toString(16)}, features 0x${report.device.gfeatures.toString(16)}`}`);
      o.log(`  watched ${o.intervalMs} ms: h2r ${t.stats.h2r} messages, r2h ${t.stats.r2h} messages, ${t.stats.bytes} bytes, missed ${t.stats.missed}, invalid ${t.stats.invalid}`);
      for (const v of report.vrings) o.log(`  ${v.name}: num ${v.num} avail.idx ${v.availIdx} used.idx ${v.usedIdx} in flight ${v.inFlight}`);
      for (const e of report.endpoints) o.log(`  ${e.dir} ${hex(e.src)} -> ${hex(e.dst)}: ${e.messages} messages, ${e.bytes} bytes`);
      return 0;
    } finally {
      t.close();
    }
  }
  const bus = new RpmsgBus();
  const stats = new BusStats(bus);
  let report: LinkStatsReport[] = [];
  try {
    await runDemo({
      bus,
      remotes: o.demo?.remotes ?? 2,
      count: o.demo?.count ?? 100,
      log: () => {},
      timeoutMs: 60_000,
      beforeStop: () => {
        report = stats.report();
      },
    });
  } finally {
    stats.close();
  }
  return printReport(report, o);
}

function printReport(report: LinkStatsReport[], o: StatsCommandOptions): number {
  if (o.json) o.printJson(report);
  else for (const l of report) printLink(l, o.log);
  return 0;
}

export function printLink(l: LinkStatsReport, log: (line: string) => void): void {
  log(`${l.name} (${l.role}, ${l.up ? 'up' : `down: ${l.downReason ?? ''}`}), mtu ${l.mtu ?? '?'}`);
  log(`  tx ${l.txMessages} messages ${l.txBytes} bytes, rx ${l.rxMessages} messages ${l.rxBytes} bytes`);
  log(`  drops: no endpoint ${l.rxDroppedNoEndpoint}, invalid ${l.rxInvalid}; waits ${l.waits}, waiting ${l.txWaiters}, callback errors ${l.callbackErrors}, violations ${l.violations.length}`);
  for (const v of l.vrings) log(`  ${v.name}: num ${v.num} avail.idx ${v.availIdx} used.idx ${v.usedIdx} in flight ${v.inFlight}`);
  for (const c of l.channels) log(`  channel ${c.name}: ${hex(c.src)} -> ${hex(c.dst)}${c.driver !== undefined ? ` (${c.driver})` : ''}`);
  for (const e of l.endpoints) {
    log(`  endpoint ${hex(e.addr)}${e.name !== '' ? ` ${e.name}` : ''}: tx ${e.txMessages}/${e.txBytes} B, rx ${e.rxMessages}/${e.rxBytes} B${e.destroyed ? ' (destroyed)' : ''}`);
  }
}

export const statsCommand = defineCommand({
  name: 'stats',
  summary: 'counters per link and endpoint, drops, waits, violations, vring occupancy',
  description:
    '--shm PATH watches a process pair\'s shared-memory file (read-only) for --interval ms and\n' +
    'prints what crossed it and each vring\'s indices; --demo runs the demo in this process and\n' +
    'prints the bus\'s counters per link and endpoint when it has finished; --daemon [SOCKET] asks a\n' +
    'running daemon for its bus\'s counters (the channels and endpoints of the policy rule\'s channels).',
  args: busSourceArgs,
  flags: {
    ...busSourceFlags,
    interval: flag.int({ help: '--shm: milliseconds to watch', metavar: 'MS', min: 1, max: 3_600_000, default: 1000 }),
    json: jsonFlag,
  },
  async run(v, ctx, args) {
    const source = busSource(v, args);
    return runStats({
      json: v.json,
      printJson: (j) => ctx.json(j),
      intervalMs: v.interval,
      log: (l) => ctx.log(l),
      signal: ctx.signal,
      ...(source.kind === 'shm' ? { shm: source.path } : source.kind === 'daemon' ? { daemon: source.connection } : {}),
    });
  },
});
