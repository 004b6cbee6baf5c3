/**
 * A small soak (soak/soak.ts) on both platforms, so `npm test` covers it: a few thousand
 * sequenced messages each way over endpoint pairs created and destroyed all along, some in
 * mid-traffic, in the whole mix of the send family; every accepted message arrives once, in
 * order, and the drops at destroyed endpoints are exactly accounted for. The soak's checks
 * are its own (it reports failures); this test asserts there were none and that the run did
 * exercise what it claims (churn, kills, every kind of send, failed sends).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HDR, Receiver, SEQ_FIN, fillMessage, marker, prng } from '../../soak/protocol.js';
import { formatSoak, runSoak } from '../../soak/soak.js';

/** Messages 0..n-1 of pair `tag`, of lengths `lens`. */
function stream(tag: number, lens: number[]): Uint8Array[] {
  const rnd = prng(99);
  return lens.map((len, seq) => {
    const b = new Uint8Array(len);
    fillMessage(b, len, seq, tag, rnd);
    return b;
  });
}

function verdict(tag: number, msgs: Uint8Array[]): string | undefined {
  let why: string | undefined;
  const rx = new Receiver(tag, (w) => (why ??= w));
  for (const m of msgs) rx.accept(m);
  return why;
}

describe('soak receiver checks', () => {
  const lens = [0, 3, 11, HDR, 13, 100, 496, 7, 40];
  it('accepts a whole stream in order, short messages included, then its FIN', () => {
    const msgs = stream(5, lens);
    assert.equal(verdict(5, [...msgs, marker(SEQ_FIN, 5, msgs.length)]), undefined);
  });
  it('catches a lost, repeated, reordered, corrupted or misdelivered message, and a wrong FIN', () => {
    const m = stream(5, lens);
    assert.match(verdict(5, [m[0]!, m[1]!, m[2]!, m[4]!])!, /seq 4 where 3/);
    assert.match(verdict(5, [m[0]!, m[1]!, m[2]!, m[3]!, m[3]!])!, /seq 3 where 4/);
    assert.match(verdict(5, [m[0]!, m[2]!])!, /short message/);
    const bad = m[5]!.slice();
    bad[50]! ^= 1;
    assert.match(verdict(5, [...m.slice(0, 5), bad])!, /checksum/);
    assert.match(verdict(6, m.slice(3))!, /seq 3 where 0/);
    assert.match(verdict(6, stream(5, [20]))!, /message of pair 5/);
    assert.match(verdict(5, [...m, marker(SEQ_FIN, 5, m.length + 1)])!, /FIN says/);
    assert.match(verdict(5, [marker(SEQ_FIN, 5, 0), m[0]!])!, /data after FIN/);
  });
});

for (const platform of ['worker', 'process'] as const) {
  describe(`soak, ${platform} remote`, () => {
    it('every accepted message arrives exactly once and in order, through endpoint churn', async () => {
      const r = await runSoak({ platform, messages: 12_000, seed: 7, genMax: 1500, killPercent: 40, slots: 3 });
      const lines = formatSoak(r, { platform, seed: 7 });
      console.log(lines.join('\n'));
      assert.deepEqual(r.failures, []);
      assert.equal(r.h2r.accepted, 12_000);
      assert.equal(r.r2h.accepted, 12_000);
      assert.equal(r.h2r.delivered + r.h2r.dropped, r.h2r.accepted);
      assert.equal(r.r2h.delivered, r.r2h.accepted);
      assert.ok(r.pairs >= 8, `${r.pairs} pairs`);
      assert.ok(r.killed >= 1, `${r.killed} pairs killed`);
      for (const c of [r.host.counts, r.remote.counts]) {
        assert.ok(c.send > 0 && c.trySend > 0 && c.nocopy > 0, JSON.stringify(c));
        assert.ok(c.rejected + c.nocopyReleased > 0, JSON.stringify(c));
      }
    });
  });
}
