/** A short fixed-seed fuzz run (fuzz/fuzz.ts): hostile worker and process remotes beside two well-behaved ones. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { formatRows, planRounds, runFuzz } from '../../fuzz/fuzz.js';

const SEED = 20261201;
const ROUNDS = 5;

it('fixed-seed fuzz run: no host failure, no echo lost, every round classified, reproducible from the seed', async () => {
  const r = await runFuzz({ seconds: 0, rounds: ROUNDS, seed: SEED, stallMs: 25_000 });
  const table = formatRows(r.rows);
  assert.deepEqual(r.failures, [], table);
  assert.equal(r.rounds, ROUNDS, table);
  for (const [name, n] of Object.entries(r.echoes)) assert.ok(n > 0, `no echo from ${name}`);
  assert.equal(r.rows.reduce((n, row) => n + row.count, 0), r.rounds);
  assert.ok(!r.rows.some((row) => row.outcome === 'attack not run' || row.outcome === 'silent'), table);
  // The rounds are the ones the seed draws, in order, on both platforms.
  assert.deepEqual(r.plan, planRounds(SEED, ROUNDS));
  assert.ok(new Set(r.plan.map((p) => p.platform)).size === 2, JSON.stringify(r.plan));
});
