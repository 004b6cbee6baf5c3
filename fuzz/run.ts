/**
 * `npm run fuzz -- --seconds N --seed S`: hostile worker and process remotes against a host
 * that also serves two well-behaved ones (fuzz.ts). Prints the table of attack → host reaction → count →
 * median time to report; exits 1 on any failure.
 */
import { parseArgs } from 'node:util';
import { formatRows, runFuzz } from './fuzz.js';
import { ATTACKS, type Attack } from './hostile-firmware.js';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '30' }, seed: { type: 'string', default: '1' }, every: { type: 'boolean', default: false }, only: { type: 'string' } } });
const seconds = Number(values.seconds);
const seed = Number(values.seed);
if (!(seconds > 0) || !Number.isInteger(seed)) {
  console.error('usage: npm run fuzz -- --seconds N --seed S [--every]');
  process.exit(2);
}
// --every: each attack once on each platform (the README's table), however long it takes.
// --only a,b: just those attacks.
const only = values.only?.split(',') as Attack[] | undefined;
const unknown = only?.filter((a) => !(ATTACKS as readonly string[]).includes(a)) ?? [];
if (unknown.length > 0) {
  console.error(`unknown attacks: ${unknown.join(', ')} (known: ${ATTACKS.join(', ')})`);
  process.exit(2);
}
const r = await runFuzz({ seconds, seed, every: values.every, ...(only !== undefined ? { only } : {}) });
console.log(formatRows(r.rows));
const echoes = Object.entries(r.echoes).map(([k, v]) => `${v} from ${k}`).join(', ');
console.log(`seed ${seed}: ${r.rounds} rounds; echoes ${echoes}; ${r.oobAttempts} out-of-bounds accesses refused; heap ${(r.heapStart / 1e6).toFixed(1)} → ${(r.heapEnd / 1e6).toFixed(1)} MB`);
for (const f of r.failures) console.error(`FAIL ${f}`);
process.exit(r.failures.length === 0 ? 0 : 1);
