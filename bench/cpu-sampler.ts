/**
 * A sampler thread: while a case runs, reads /proc/<pid>/task/<tid>/stat of the given processes
 * every 20 ms and counts, for each thread that is running (state R), the CPU it is on (field 39).
 * It sleeps in Atomics.wait between samples, so it costs well under 1% of a core.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';

const port = parentPort!;
port.on('message', (m: { ctrl: SharedArrayBuffer; pids: number[] }) => {
  const ctrl = new Int32Array(m.ctrl);
  const counts = new Map<number, Map<number, number>>();
  while (Atomics.load(ctrl, 0) === 1) {
    for (const pid of m.pids) {
      let tids: string[];
      try {
        tids = readdirSync(`/proc/${pid}/task`);
      } catch {
        continue;
      }
      for (const t of tids) {
        let stat: string;
        try {
          stat = readFileSync(`/proc/${pid}/task/${t}/stat`, 'latin1');
        } catch {
          continue;
        }
        const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        if (rest[0] !== 'R') continue;
        const cpu = Number(rest[36]);
        const tid = Number(t);
        let c = counts.get(tid);
        if (c === undefined) counts.set(tid, (c = new Map()));
        c.set(cpu, (c.get(cpu) ?? 0) + 1);
      }
    }
    Atomics.wait(ctrl, 0, 1, 20);
  }
  port.postMessage([...counts].map(([tid, c]) => [tid, [...c]]));
});
