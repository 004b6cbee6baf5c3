/** A short fixed-seed fuzz run (fuzz/fuzz.ts): hostile worker and process remotes beside two well-behaved ones. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { formatRows, planRounds, runFuzz } from '../../fuzz/fuzz.js';

it('fixed-seed fuzz run: no host failure, no echo lost, every round classified, both platforms', async () => {
  const r = await runFuzz({ seconds: 12, seed: 20261201, stallMs: 25_000 });
  const table = formatRows(r.rows);
  assert.deepEqual(r.failures, [], table);
  assert.ok(r.rounds >= 4, `only ${r.rounds} rounds\n${table}`);
  for (const [name, n] of Object.entries(r.echoes)) assert.ok(n > 0, `no echo from ${name}`);
  assert.equal(r.rows.reduce((n, row) => n + row.count, 0), r.rounds);
  assert.ok(!r.rows.some((row) => row.outcome === 'attack not run' || row.outcome === 'silent'), table);
  // The rounds ran in the order the seed draws them (reproducible from the seed).
  const plan = planRounds(20261201, r.rounds);
  assert.deepEqual(
    [...new Set(plan.map((p) => `${p.attack} ${p.platform}`))].sort(),
    [...new Set(r.rows.map((row) => `${row.attack} ${row.platform}`))].sort(),
  );
});
