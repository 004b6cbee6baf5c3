import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  ResourceTableError,
  Region,
  buildResourceTable,
  parseResourceTable,
  rpmsgVdev,
  VdevHandle,
  findRpmsgVdev,
} from '../../src/index.js';
import { bytes } from '../helpers.js';

const vdev = rpmsgVdev({ vrings: [{ da: 0x4000, align: 0x1000, num: 256, notifyid: 1 }, { da: 0x8000, align: 0x1000, num: 256, notifyid: 2 }] });

function regionOf(table: Uint8Array, size = 0x100): Region {
  const r = new Region(new ArrayBuffer(size));
  r.copyIn(0, table);
  return r;
}

describe('resource table', () => {
  it('round-trips carveout, devmem, trace and vdev entries with config space', () => {
    const entries = [
      { type: 'carveout' as const, da: 0x1000, pa: 0x2000, len: 0x3000, flags: 1, reserved: 0, name: 'text' },
      { type: 'devmem' as const, da: 0x4000, pa: 0x5000, len: 0x100, flags: 0, reserved: 0, name: 'uart' },
      { type: 'trace' as const, da: 0x6000, len: 0x400, reserved: 0, name: 'trace0' },
      { ...vdev, config: bytes('01020304') },
    ];
    const built = buildResourceTable(entries);
    const parsed = parseResourceTable(regionOf(built, 0x400), 0, built.length);
    assert.equal(parsed.entries.length, 4);
    assert.deepEqual(
      parsed.entries.map(({ offset: _o, ...e }) => e),
      entries,
    );
  });

  it('skips vendor and unknown entries as Linux does', () => {
    const t = bytes('01000000 02000000 00000000 00000000 18000000 1c000000 80000000 09000000');
    const parsed = parseResourceTable(regionOf(t), 0, t.length);
    assert.deepEqual(parsed.entries, [
      { offset: 0x18, type: 'vendor', rscType: 128 },
      { offset: 0x1c, type: 'unknown', rscType: 9 },
    ]);
  });

  const malformed: Array<[string, string]> = [
    ['version 2', '02000000 00000000 00000000 00000000'],
    ['reserved not zero', '01000000 00000000 01000000 00000000'],
    ['offset array past the end', '01000000 04000000 00000000 00000000 14000000'],
    ['entry offset inside the header', '01000000 01000000 00000000 00000000 04000000 03000000'],
    ['entry offset past the end', '01000000 01000000 00000000 00000000 ff000000'],
    ['unaligned entry offset', '01000000 01000000 00000000 00000000 15000000 00 03000000'],
    ['vdev body truncated', '01000000 01000000 00000000 00000000 14000000 03000000 07000000'],
    ['too many entries', '01000000 00100000 00000000 00000000'],
  ];
  for (const [what, hex] of malformed) {
    it(`rejects: ${what}`, () => {
      const t = bytes(hex);
      assert.throws(() => parseResourceTable(regionOf(t), 0, t.length), (e: unknown) => e instanceof ResourceTableError && e.code === 'ERR_RSC_TABLE');
    });
  }

  it('rejects vrings and config space that run past the table', () => {
    const t = buildResourceTable([vdev]);
    assert.throws(() => parseResourceTable(regionOf(t), 0, t.length - 1), { code: 'ERR_RSC_TABLE' });
    const r = regionOf(t);
    r.setU32(0x14 + 20, 0x1000); // config_len
    assert.throws(() => parseResourceTable(r, 0, t.length), { code: 'ERR_RSC_TABLE' });
  });

  it('any byte flipped anywhere parses or fails with ERR_RSC_TABLE, never anything else (property)', () => {
    const t = buildResourceTable([vdev, { type: 'trace', da: 1, len: 2, reserved: 0, name: 'x' }]);
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(t.length - 1), fc.nat(255)), { maxLength: 8 }), (flips) => {
        const r = regionOf(t);
        for (const [o, v] of flips) r.u8[o] = v;
        try {
          parseResourceTable(r, 0, t.length);
        } catch (e) {
          assert.ok(e instanceof ResourceTableError, String(e));
        }
      }),
    );
  });

  it('vdev handle: host negotiation, status, DRIVER_OK', () => {
    const t = buildResourceTable([{ ...vdev, dfeatures: 0b101 }]);
    const r = regionOf(t);
    const h = new VdevHandle(r, 0, findRpmsgVdev(parseResourceTable(r, 0, t.length))!);
    assert.equal(h.driverOk(), false);
    assert.equal(h.hostNegotiate(0b110), 0b100);
    assert.equal(r.getU32(0x24), 0b100);
    assert.equal(h.negotiated(), 0b100);
    h.setStatus(4);
    assert.equal(h.driverOk(), true);
    h.setStatus(4 | 0x40);
    assert.equal(h.driverOk(), false, 'NEEDS_RESET');
  });
});
