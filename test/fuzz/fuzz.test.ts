/** A short fixed-seed fuzz run (fuzz/fuzz.ts): hostile worker remotes beside a well-behaved one. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { formatRows, runFuzz } from '../../fuzz/fuzz.js';

it('fixed-seed fuzz run: no host failure, no echo lost, every round classified', async () => {
  const r = await runFuzz({ seconds: 12, seed: 20261201, stallMs: 20_000 });
  const table = formatRows(r.rows);
  assert.deepEqual(r.failures, [], table);
  assert.ok(r.rounds >= 2, `only ${r.rounds} rounds\n${table}`);
  assert.ok(r.echoes > 0);
  assert.equal(r.rows.reduce((n, row) => n + row.count, 0), r.rounds);
  assert.ok(!r.rows.some((row) => row.outcome === 'attack not run'), table);
});
