/**
 * `npm run fuzz -- --seconds N --seed S`: hostile worker remotes against a host that also
 * serves a well-behaved one (fuzz.ts). Prints the table of attack → host reaction → count →
 * median time to report; exits 1 on any failure.
 */
import { parseArgs } from 'node:util';
import { formatRows, runFuzz } from './fuzz.js';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '30' }, seed: { type: 'string', default: '1' } } });
const seconds = Number(values.seconds);
const seed = Number(values.seed);
if (!(seconds > 0) || !Number.isInteger(seed)) {
  console.error('usage: npm run fuzz -- --seconds N --seed S');
  process.exit(2);
}
const r = await runFuzz({ seconds, seed });
console.log(formatRows(r.rows));
console.log(`seed ${seed}: ${r.rounds} rounds, ${r.echoes} echoes from the well-behaved remote, heap ${(r.heapStart / 1e6).toFixed(1)} → ${(r.heapEnd / 1e6).toFixed(1)} MB`);
for (const f of r.failures) console.error(`FAIL ${f}`);
process.exit(r.failures.length === 0 ? 0 : 1);
