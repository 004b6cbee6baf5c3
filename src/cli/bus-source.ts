/**
 * Where `rpmsg trace` and `rpmsg stats` find a bus: a process pair's shared-memory file
 * (`--shm PATH`, read-only) or the demo run in this process (`--demo`). Exactly one.
 */
import { flag, UsageError } from './flags.js';

export const busSourceFlags = {
  shm: flag.string({ help: 'shared-memory file of a running pair (opened read-only)', metavar: 'PATH' }),
  demo: flag.boolean({ help: 'run the demo (worker remotes) in this process and use its bus' }),
};

export type BusSource = { kind: 'shm'; path: string } | { kind: 'demo' };

/** The one source the flags name; UsageError for none or several. */
export function busSource(v: { shm: string | undefined; demo: boolean }): BusSource {
  const given = [v.shm !== undefined, v.demo].filter(Boolean).length;
  if (given !== 1) throw new UsageError('give exactly one of --shm PATH and --demo');
  return v.shm !== undefined ? { kind: 'shm', path: v.shm } : { kind: 'demo' };
}
