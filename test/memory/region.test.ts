import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { MemoryBoundsError, Region } from '../../src/index.js';

describe('Region', () => {
  it('reads and writes little-endian fields', () => {
    const r = new Region(new ArrayBuffer(32));
    r.setU32(0, 0x11223344);
    assert.deepEqual([...r.u8.subarray(0, 4)], [0x44, 0x33, 0x22, 0x11]);
    r.setU16(5, 0xbeef);
    assert.equal(r.getU16(5), 0xbeef, 'unaligned is fine for plain accessors');
    r.setU64(8, 0x1_0000_0002);
    assert.equal(r.getU64(8), 0x1_0000_0002);
    assert.deepEqual([...r.u8.subarray(8, 16)], [2, 0, 0, 0, 1, 0, 0, 0]);
    r.storeU32(16, 7);
    assert.equal(r.loadU32(16), 7);
    r.storeU16(20, 9);
    assert.equal(r.loadU16(20), 9);
  });

  it('rejects every access that does not fit, with EFAULT and the values', () => {
    const r = new Region(new SharedArrayBuffer(16));
    const bad: Array<() => unknown> = [
      () => r.getU8(16),
      () => r.getU8(-1),
      () => r.getU16(15),
      () => r.getU32(13),
      () => r.getU64(9),
      () => r.setU32(14, 0),
      () => r.copyIn(10, new Uint8Array(7)),
      () => r.copyOut(0, 17),
      () => r.view(8, 9),
      () => r.fill(15, 2),
      () => r.getU8(1.5),
      () => r.loadU32(2),
      () => r.storeU16(1, 0),
      () => r.sub(8, 9),
    ];
    for (const f of bad) {
      assert.throws(f, (e: unknown) => e instanceof MemoryBoundsError && e.code === 'EFAULT' && e.details !== undefined);
    }
    assert.deepEqual([...r.u8], new Array(16).fill(0), 'nothing was written');
  });

  it('translates bus addresses and rejects ranges outside', () => {
    const r = new Region(new ArrayBuffer(0x100), { busBase: 0x8000_0000 });
    assert.equal(r.busToOffset(0x8000_0010, 0x10), 0x10);
    assert.equal(r.offsetToBus(0x20), 0x8000_0020);
    for (const [a, l] of [[0x7fff_ffff, 1], [0x8000_00f8, 9], [0, 1], [0x8000_0100, 1]] as const) {
      assert.throws(() => r.busToOffset(a, l), { code: 'EFAULT' });
    }
    const s = r.sub(0x40, 0x40);
    assert.equal(s.busBase, 0x8000_0040);
    s.setU8(0, 5);
    assert.equal(r.getU8(0x40), 5, 'sub-regions share bytes');
  });

  it('a window that does not fit its buffer is refused', () => {
    assert.throws(() => new Region(new ArrayBuffer(16), { byteOffset: 8, byteLength: 16 }), { code: 'EFAULT' });
    assert.throws(() => new Region(new ArrayBuffer(16), { byteOffset: 3 }), { code: 'EINVAL' });
  });

  it('never touches bytes outside the window (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: -40, max: 80 }), fc.integer({ min: -4, max: 40 }), (off, len) => {
        const buf = new Uint8Array(64);
        const r = new Region(buf.buffer, { byteOffset: 16, byteLength: 32 });
        try {
          r.fill(off, len, 0xff);
        } catch (e) {
          assert.ok(e instanceof MemoryBoundsError);
        }
        assert.ok(buf.subarray(0, 16).every((b) => b === 0) && buf.subarray(48).every((b) => b === 0));
      }),
    );
  });
});
