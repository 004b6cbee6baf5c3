/**
 * `rpmsg trace`: print every message crossing a bus.
 *
 * Sources: `--shm PATH` — a process pair's shared-memory file, opened read-only and polled;
 * `--demo` — run the demo (worker remotes) in this process and trace its bus through the
 * diagnostics channels.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { RpmsgBus } from '../rpmsg/bus.js';
import { traceBus } from '../trace/bus-tracer.js';
import { dyndbgSink, jsonSink } from '../trace/format.js';
import { PcapngWriter } from '../trace/pcapng.js';
import type { TraceRecord, TraceSink } from '../trace/record.js';
import { ShmTracer } from '../trace/shm-tracer.js';
import { defineCommand } from './command.js';
import { runDemo } from './demo.js';
import type { RpmsgError } from '../errors.js';
import { busSource, busSourceArgs, busSourceFlags } from './bus-source.js';
import { connectFrom, type ConnectionValues } from './daemon-flags.js';
import { UsageError, flag } from './flags.js';

export type TraceFormat = 'dyndbg' | 'json' | 'pcapng';

export interface TraceCommandOptions {
  shm?: string;
  /** A running daemon's bus (a TRACE subscription). */
  daemon?: ConnectionValues;
  /** Diagnostics (records the daemon dropped); default: dropped. */
  warn?: (line: string) => void;
  demo?: { remotes: number; count: number };
  format: TraceFormat;
  /** File to write (pcapng needs one, or "-" for stdout). */
  output?: string;
  intervalMs: number;
  /** Stop after this long (shm; default: until SIGINT). */
  durationMs?: number;
  /** Stop after this many records. */
  count?: number;
  snaplen?: number;
  log: (line: string) => void;
  /** Ends the trace (SIGINT). */
  signal?: AbortSignal;
}

function openSink(o: TraceCommandOptions): { sink: TraceSink; done: () => void } {
  const fd = o.output === undefined || o.output === '-' ? 1 : openSync(o.output, 'w');
  const done = (): void => {
    if (fd !== 1) closeSync(fd);
  };
  if (o.format === 'pcapng') return { sink: new PcapngWriter((c) => writeSync(fd, c)), done };
  const line = fd === 1 ? o.log : (l: string): void => void writeSync(fd, `${l}\n`);
  return { sink: o.format === 'json' ? jsonSink(line) : dyndbgSink(line), done };
}

/** Stop on the caller's signal (SIGINT), on the duration, or (see runTrace) on the count. */
function stopper(o: TraceCommandOptions): AbortController {
  const ac = new AbortController();
  o.signal?.addEventListener('abort', () => ac.abort(), { once: true });
  if (o.signal?.aborted) ac.abort();
  if (o.durationMs !== undefined) setTimeout(() => ac.abort(), o.durationMs).unref();
  return ac;
}

export async function runTrace(o: TraceCommandOptions): Promise<number> {
  const { sink, done } = openSink(o);
  const ac = stopper(o);
  let written = 0;
  const counted: TraceSink = {
    write(r) {
      if (ac.signal.aborted) return;
      sink.write(r);
      if (o.count !== undefined && ++written >= o.count) ac.abort();
    },
  };
  try {
    if (o.shm !== undefined) {
      const t = new ShmTracer(o.shm, o.snaplen !== undefined ? { snaplen: o.snaplen } : {});
      try {
        while (!ac.signal.aborted) {
          for (const r of t.poll()) counted.write(r);
          await sleep(o.intervalMs);
        }
      } finally {
        t.close();
      }
      return 0;
    }
    if (o.daemon !== undefined) return await traceDaemon(o.daemon, counted, ac.signal, o);
    const bus = new RpmsgBus();
    const trace = traceBus(bus, counted, o.snaplen !== undefined ? { snaplen: o.snaplen } : {});
    try {
      await runDemo({ bus, remotes: o.demo?.remotes ?? 1, count: o.demo?.count ?? 3, log: () => {}, timeoutMs: 60_000 });
    } finally {
      await trace.close();
    }
    return 0;
  } finally {
    await sink.close?.();
    done();
  }
}

/** Records from the daemon until stopped; 1 when the daemon goes away first. */
async function traceDaemon(conn: ConnectionValues, sink: TraceSink, stop: AbortSignal, o: TraceCommandOptions): Promise<number> {
  const client = await connectFrom(conn, o.signal);
  try {
    const t = await client.trace(o.snaplen !== undefined ? { snaplen: o.snaplen } : {});
    t.on('record', (r: TraceRecord) => sink.write(r));
    t.on('drop', (n: number) => o.warn?.(`rpmsg trace: the daemon dropped ${n} records (this reader was too slow)`));
    const ended = new Promise<RpmsgError>((resolve) => t.once('end', resolve));
    const stopped = new Promise<undefined>((resolve) => {
      if (stop.aborted) resolve(undefined);
      stop.addEventListener('abort', () => resolve(undefined), { once: true });
    });
    const gone = await Promise.race([ended, stopped]);
    if (gone !== undefined) {
      o.warn?.(`rpmsg trace: ${gone.message} [${gone.code}]`);
      return 1;
    }
    const totals = await t.stop().catch(() => undefined);
    if (totals !== undefined && totals.dropped > 0) o.warn?.(`rpmsg trace: ${totals.dropped} records dropped in all`);
    return 0;
  } finally {
    client.close();
  }
}

export const traceCommand = defineCommand({
  name: 'trace',
  summary: 'print every message on a bus: kernel dynamic-debug lines, JSON lines, or pcapng for Wireshark',
  description:
    'Sources: --shm PATH watches a process pair\'s shared-memory file (opened read-only, vrings polled;\n' +
    'a sampler: see the README); --demo runs the demo in this process and traces its bus;\n' +
    '--daemon [SOCKET] subscribes to a running daemon\'s records (the policy rule\'s channels only).\n' +
    'pcapng: link type USER0 (147), one interface per link; open it with\n' +
    '  wireshark -X lua_script:contrib/wireshark/rpmsg.lua FILE',
  args: busSourceArgs,
  flags: {
    ...busSourceFlags,
    remotes: flag.int({ help: 'demo: remote processors', min: 1, max: 64, default: 1 }),
    messages: flag.int({ help: 'demo: messages per remote', min: 1, max: 1_000_000, default: 3 }),
    format: flag.choice(['dyndbg', 'json', 'pcapng'] as const, { help: 'output format', default: 'dyndbg' }),
    output: flag.string({ help: 'write to this file (- for stdout)', short: 'o', metavar: 'FILE' }),
    duration: flag.int({ help: 'stop after this many milliseconds', metavar: 'MS', min: 1, max: 86_400_000 }),
    count: flag.int({ help: 'stop after this many messages', min: 1, max: 1e12 }),
    interval: flag.int({ help: '--shm: milliseconds between polls', metavar: 'MS', min: 0, max: 10_000, default: 1 }),
    snaplen: flag.int({ help: 'bytes kept per message, header included', min: 16, max: 65551 }),
  },
  async run(v, ctx, args) {
    const source = busSource(v, args);
    if (v.format === 'pcapng' && v.output === undefined && process.stdout.isTTY) throw new UsageError('pcapng is binary: give -o FILE (or -o - to pipe it)');
    return runTrace({
      format: v.format,
      intervalMs: v.interval,
      log: (l) => ctx.log(l),
      warn: (l) => ctx.warn(l),
      signal: ctx.signal,
      ...(source.kind === 'shm' ? { shm: source.path } : source.kind === 'daemon' ? { daemon: source.connection } : { demo: { remotes: v.remotes, count: v.messages } }),
      ...(v.output !== undefined ? { output: v.output } : {}),
      ...(v.duration !== undefined ? { durationMs: v.duration } : {}),
      ...(v.count !== undefined ? { count: v.count } : {}),
      ...(v.snaplen !== undefined ? { snaplen: v.snaplen } : {}),
    });
  },
});
