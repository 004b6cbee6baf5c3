/**
 * `npm run soak -- [--messages N] [--seed S] [--platform worker|process] [--slots K]
 * [--gen-max M] [--kill-percent P] [--heap-bound-mb B]`: see soak.ts. Prints a summary; exits
 * 1 on any failure, 2 on bad arguments.
 */
import { formatSoak, runSoak, type SoakOptions } from './soak.js';

const args = process.argv.slice(2);
const o: SoakOptions = { progressMs: 10_000, log: (l) => console.log(l) };
const num = (v: string | undefined, name: string): number => {
  const n = Number(v);
  if (v === undefined || !Number.isInteger(n) || n < 0) {
    console.error(`soak: --${name} needs a non-negative integer`);
    process.exit(2);
  }
  return n;
};
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  const v = args[i + 1];
  i++;
  if (a === '--messages') o.messages = num(v, 'messages');
  else if (a === '--seed') o.seed = num(v, 'seed');
  else if (a === '--slots') o.slots = num(v, 'slots');
  else if (a === '--gen-max') o.genMax = num(v, 'gen-max');
  else if (a === '--kill-percent') o.killPercent = num(v, 'kill-percent');
  else if (a === '--heap-bound-mb') o.heapBoundMb = num(v, 'heap-bound-mb');
  else if (a === '--platform' && (v === 'worker' || v === 'process')) o.platform = v;
  else {
    console.error(`soak: unknown argument ${a}${a === '--platform' ? ' (worker or process)' : ''}`);
    process.exit(2);
  }
}
const platform = o.platform ?? 'worker';
const seed = o.seed ?? 1;
console.log(`soak ${platform}: ${o.messages ?? 10_000_000} messages each way, seed ${seed}`);
const r = await runSoak({ ...o, platform, seed });
for (const line of formatSoak(r, { platform, seed })) console.log(line);
process.exitCode = r.failures.length === 0 ? 0 : 1;
