import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  Region,
  Virtqueue,
  VirtqueueViolation,
  vringLayout,
  vringNeedEvent,
  vringSize,
  type VirtqueueViolationCode,
} from '../../src/index.js';

describe('vring layout', () => {
  it('matches the PROTOCOL.md §5 vectors', () => {
    const cases: Array<[number, number, number, number]> = [
      [256, 4096, 10246, 8192],
      [16, 4096, 4230, 4096],
      [8, 4, 222, 152],
      [16, 4, 430, 296],
    ];
    for (const [num, align, size, used] of cases) {
      assert.equal(vringSize(num, align), size, `size(${num},${align})`);
      assert.equal(vringLayout(num, align).used, used, `used(${num},${align})`);
    }
  });

  it('rejects a num that is not a power of two and a bad alignment', () => {
    for (const [num, align] of [[0, 4], [3, 4], [65536, 4], [8, 3], [8, 0]] as const) {
      assert.throws(() => vringLayout(num, align), { code: 'EINVAL' });
    }
  });

  it('vring_need_event follows the u16 window rule', () => {
    assert.equal(vringNeedEvent(0, 1, 0), true);
    assert.equal(vringNeedEvent(5, 5, 4), false);
    assert.equal(vringNeedEvent(4, 5, 4), true);
    assert.equal(vringNeedEvent(0xffff, 0, 0xfffe), true, 'across the wrap');
    assert.equal(vringNeedEvent(10, 5, 0), false);
  });
});

const NUM = 8;
const BUF = 64;
const RING = 0;
const POOL = 0x1000;

function pair(num = NUM, eventIdx = false, init = true, onDriverViolation?: (v: VirtqueueViolation) => void) {
  const region = new Region(new SharedArrayBuffer(POOL + num * BUF));
  const violations: VirtqueueViolation[] = [];
  const common = { name: 'q', region, offset: RING, num, align: 16, eventIdx };
  const driver = new Virtqueue({ ...common, side: 'driver', init, ...(onDriverViolation ? { onViolation: onDriverViolation } : {}) });
  const device = new Virtqueue({
    ...common,
    side: 'device',
    bufferWindow: { offset: POOL, length: num * BUF },
    maxBufferLength: BUF,
    onViolation: (v) => violations.push(v),
  });
  return { region, driver, device, violations };
}

describe('split virtqueue: driver and device over one region', () => {
  it('hands every buffer out exactly once across index wrap-around (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('add', 'take', 'return', 'reclaim', 'publish'), { minLength: 50, maxLength: 400 }),
        fc.boolean(),
        (ops, eventIdx) => {
          const { driver, device, violations } = pair(NUM, eventIdx);
          const free: number[] = [];
          for (let i = 0; i < NUM; i++) free.push(i);
          const taken: number[] = []; // descriptor ids held by the device
          const tokenOfId = new Map<number, number>();
          const expectedOrder: number[] = []; // tokens in avail order (published or not)
          let published = 0;
          let seq = 0;
          const step = (op: string): void => {
            switch (op) {
              case 'add': {
                if (free.length === 0) {
                  assert.equal(driver.add(0, BUF, true, 0), -1);
                  return;
                }
                const token = free.shift()!;
                const id = driver.add(driver.region.busBase + POOL + token * BUF, BUF, true, token);
                assert.ok(id >= 0);
                tokenOfId.set(id, token);
                expectedOrder.push(token);
                return;
              }
              case 'publish':
                driver.publish();
                published = expectedOrder.length;
                device.publish();
                return;
              case 'take': {
                const id = device.getAvail();
                if (published === 0) {
                  assert.equal(id, -1);
                  return;
                }
                assert.ok(id >= 0, 'a published buffer is available');
                const token = expectedOrder.shift()!;
                published--;
                assert.equal(tokenOfId.get(id), token, 'FIFO order');
                assert.equal(device.bufOffset, POOL + token * BUF);
                assert.equal(device.bufLen, BUF);
                taken.push(id);
                return;
              }
              case 'return': {
                const id = taken.shift();
                if (id === undefined) return;
                device.putUsed(id, 8 + (seq++ % 8));
                return;
              }
              case 'reclaim': {
                const token = driver.getUsed();
                if (token >= 0) {
                  assert.ok(!free.includes(token), 'no token returned twice');
                  free.push(token);
                }
                return;
              }
            }
          };
          // Start both indices near the u16 wrap so every run crosses 65535 → 0.
          for (let i = 0; i < 65530; i++) {
            driver.add(POOL, BUF, true, 0);
            driver.publish();
            device.putUsed(device.getAvail(), 0);
            device.publish();
            driver.getUsed();
          }
          for (const op of ops) step(op);
          // Drain: everything added comes back exactly once.
          driver.publish();
          published = expectedOrder.length;
          while (published > 0) step('take');
          for (const id of taken.splice(0)) device.putUsed(id, 1);
          device.publish();
          for (let t = driver.getUsed(); t >= 0; t = driver.getUsed()) {
            assert.ok(!free.includes(t));
            free.push(t);
          }
          assert.deepEqual([...free].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7]);
          assert.equal(violations.length, 0);
          assert.equal(driver.outstanding, 0);
          assert.equal(device.outstanding, 0);
        },
      ),
      { numRuns: 30 },
    );
  });

  it('suppresses notifications with flags and with event indices', () => {
    for (const eventIdx of [false, true]) {
      const { driver, device } = pair(NUM, eventIdx);
      device.enableKicks();
      driver.add(POOL, BUF, false, 0);
      assert.equal(driver.publish(), true, 'device asked to be notified');
      device.disableKicks();
      driver.add(POOL + BUF, BUF, false, 1);
      assert.equal(driver.publish(), false, 'device asked not to be notified');
      assert.equal(driver.publish(), false, 'nothing new: no notify');
      assert.notEqual(device.getAvail(), -1);
      assert.notEqual(device.getAvail(), -1);
      assert.equal(device.enableKicks(), false, 'nothing pending');
      driver.add(POOL + 2 * BUF, BUF, false, 2);
      assert.equal(driver.publish(), true);

      driver.disableKicks();
      device.putUsed(device.getAvail(), 0);
      assert.equal(device.publish(), false, 'driver asked for no interrupt');
      assert.equal(driver.enableKicks(), true, 'a used buffer is pending');
      driver.getUsed();
      assert.equal(driver.enableKicks(), false);
      device.putUsed(0, 0);
      assert.equal(device.publish(), true, 'driver asked for an interrupt');
    }
  });
});

describe('virtqueue protocol violations (exact bytes)', () => {
  const L = vringLayout(NUM, 16);
  type Setup = (r: Region, v: { driver: Virtqueue; device: Virtqueue }) => void;
  const deviceCases: Array<[string, VirtqueueViolationCode, Setup]> = [
    ['avail.idx more than num ahead', 'ERR_VQ_AVAIL_IDX', (r) => r.setU16(L.availIdx, NUM + 1)],
    ['descriptor id ≥ num', 'ERR_VQ_DESC_ID', (r) => (r.setU16(L.availRing, NUM), r.setU16(L.availIdx, 1))],
    [
      'chained descriptor',
      'ERR_VQ_DESC_CHAIN',
      (r) => (r.setU64(0, POOL), r.setU32(8, BUF), r.setU16(12, 1), r.setU16(L.availIdx, 1)),
    ],
    [
      'indirect descriptor',
      'ERR_VQ_DESC_CHAIN',
      (r) => (r.setU64(0, POOL), r.setU32(8, BUF), r.setU16(12, 4), r.setU16(L.availIdx, 1)),
    ],
    ['address outside the pool', 'ERR_VQ_DESC_ADDR', (r) => (r.setU64(0, 0x10), r.setU32(8, BUF), r.setU16(L.availIdx, 1))],
    [
      'address beyond 4 GiB',
      'ERR_VQ_DESC_ADDR',
      (r) => (r.setU64(0, 0x1_0000_0000 + POOL), r.setU32(8, BUF), r.setU16(L.availIdx, 1)),
    ],
    [
      'buffer running past the pool end',
      'ERR_VQ_DESC_ADDR',
      (r) => (r.setU64(0, POOL + NUM * BUF - 8), r.setU32(8, 16), r.setU16(L.availIdx, 1)),
    ],
    ['zero length', 'ERR_VQ_DESC_LEN', (r) => (r.setU64(0, POOL), r.setU32(8, 0), r.setU16(L.availIdx, 1))],
    ['length beyond the limit', 'ERR_VQ_DESC_LEN', (r) => (r.setU64(0, POOL), r.setU32(8, BUF + 1), r.setU16(L.availIdx, 1))],
    [
      'descriptor made available twice while held',
      'ERR_VQ_DESC_REUSED',
      (r, v) => {
        r.setU64(0, POOL);
        r.setU32(8, BUF);
        r.setU16(L.availIdx, 1);
        assert.equal(v.device.getAvail(), 0);
        r.setU16(L.availRing + 2, 0);
        r.setU16(L.availIdx, 2);
      },
    ],
  ];
  for (const [what, code, setup] of deviceCases) {
    it(`device side: ${what} → ${code}, queue broken`, () => {
      const { region, driver, device, violations } = pair(NUM, false, false);
      setup(region, { driver, device });
      assert.equal(device.getAvail(), -1);
      assert.equal(violations.length, 1);
      assert.equal(violations[0]!.code, code);
      assert.ok(violations[0] instanceof VirtqueueViolation);
      assert.ok(Object.keys(violations[0]!.details ?? {}).length > 0, 'carries the offending values');
      assert.equal(device.broken, true);
      assert.equal(device.violations, 1);
      // Broken: nothing more happens, even with valid work published.
      region.setU64(16, POOL);
      region.setU32(24, BUF);
      assert.equal(device.getAvail(), -1);
      assert.equal(device.hasPending(), false);
      assert.equal(violations.length, 1);
    });
  }

  const driverCases: Array<[string, VirtqueueViolationCode, Setup]> = [
    ['used.idx ahead of buffers in flight', 'ERR_VQ_USED_IDX', (r) => r.setU16(L.usedIdx, 2)],
    ['used id ≥ num', 'ERR_VQ_DESC_ID', (r) => (r.setU32(L.usedRing, NUM), r.setU16(L.usedIdx, 1))],
    ['used id not in flight', 'ERR_VQ_DESC_REUSED', (r) => (r.setU32(L.usedRing, 5), r.setU16(L.usedIdx, 1))],
  ];
  for (const [what, code, setup] of driverCases) {
    it(`driver side: ${what} → ${code}, queue broken`, () => {
      const region = new Region(new SharedArrayBuffer(POOL + NUM * BUF));
      const seen: VirtqueueViolation[] = [];
      const driver = new Virtqueue({ name: 'd', region, offset: 0, num: NUM, align: 16, side: 'driver', onViolation: (v) => seen.push(v) });
      driver.add(POOL, BUF, true, 7);
      driver.publish();
      setup(region, { driver, device: driver });
      assert.equal(driver.getUsed(), -1);
      assert.deepEqual(seen.map((v) => v.code), [code]);
      assert.equal(driver.add(POOL, BUF, true, 1), -1, 'no further work');
    });
  }

  it('random corruption of every peer-written field only ever yields typed violations (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(vringLayout(NUM, 16).size - 1), fc.nat(255)), { minLength: 1, maxLength: 40 }),
        fc.array(fc.constantFrom('take', 'return', 'reclaim', 'add'), { maxLength: 60 }),
        (writes, ops) => {
          const driverViolations: VirtqueueViolation[] = [];
          const { region, driver, device, violations } = pair(NUM, false, true, (v) => driverViolations.push(v));
          for (let i = 0; i < 4; i++) driver.add(POOL + i * BUF, BUF, true, i);
          driver.publish();
          for (const [off, val] of writes) region.u8[off] = val; // the peer scribbles anywhere in the ring
          const held: number[] = [];
          for (const op of ops) {
            if (op === 'take') {
              const id = device.getAvail();
              if (id >= 0) {
                assert.ok(id < NUM);
                assert.ok(device.bufOffset >= POOL && device.bufOffset + device.bufLen <= POOL + NUM * BUF);
                held.push(id);
              }
            } else if (op === 'return' && held.length > 0) {
              device.putUsed(held.shift()!, 1);
              device.publish();
            } else if (op === 'reclaim') {
              const t = driver.getUsed();
              assert.ok(t === -1 || (t >= 0 && t < 4));
            } else if (op === 'add') {
              driver.add(POOL, BUF, true, 0);
              driver.publish();
            }
          }
          for (const v of [...violations, ...driverViolations]) {
            assert.ok(v instanceof VirtqueueViolation);
            assert.match(v.code, /^ERR_VQ_/);
          }
          assert.ok(violations.length <= 1 && driverViolations.length <= 1);
        },
      ),
      { numRuns: 300 },
    );
  });
});
