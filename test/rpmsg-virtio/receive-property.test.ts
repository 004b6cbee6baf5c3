/**
 * The host's receive path against an arbitrary message (fast-check): the remote returns an rx
 * buffer holding random header fields, payload and used length, behind its transport's back.
 * Whatever the bytes, the host does not throw, accounts for the message exactly once
 * (delivered, dropped for no endpoint, or dropped as invalid), gives the buffer back, and the
 * link stays up (a well-formed ring entry is no ring violation).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Loopback, vringLayout } from '../../src/index.js';

describe('host receive path (property)', () => {
  it('arbitrary header, payload and used length: counted once, buffer recycled, link up', () => {
    fc.assert(
      fc.property(
        fc.record({
          src: fc.oneof(fc.constant(0xffffffff), fc.constant(0x400), fc.integer({ min: 0, max: 0xffffffff })),
          dst: fc.oneof(fc.constant(0x400), fc.constant(53), fc.constant(0xffffffff), fc.integer({ min: 0, max: 0xffffffff })),
          reserved: fc.integer({ min: 0, max: 0xffffffff }),
          len: fc.oneof(fc.integer({ min: 0, max: 600 }), fc.integer({ min: 0, max: 0xffff })),
          flags: fc.integer({ min: 0, max: 0xffff }),
          payload: fc.uint8Array({ maxLength: 64 }),
          usedLen: fc.oneof(fc.integer({ min: 0, max: 600 }), fc.integer({ min: 0, max: 0xffffffff })),
        }),
        (m) => {
          const lb = new Loopback({ manual: true });
          lb.pump();
          const got: number[] = [];
          lb.host.link.createEndpoint((_e, d) => void got.push(d.length), { addr: 0x400 });
          lb.host.link.on('error', () => {}); // malformed announcements are reported here
          const r = lb.region;
          const v = lb.layout.vrings[0];
          const l = vringLayout(v.num, v.align);
          const usedIdx = r.loadU16(v.da + l.usedIdx);
          const availBefore = r.loadU16(v.da + l.availIdx);
          const id = r.getU16(v.da + l.availRing + 2 * (usedIdx % v.num));
          const addr = r.getU32(v.da + l.desc + 16 * id);
          r.setU32(addr, m.src);
          r.setU32(addr + 4, m.dst);
          r.setU32(addr + 8, m.reserved);
          r.setU16(addr + 12, m.len);
          r.setU16(addr + 14, m.flags);
          r.copyIn(addr + 16, m.payload);
          r.setU32(v.da + l.usedRing + 8 * (usedIdx % v.num), id);
          r.setU32(v.da + l.usedRing + 8 * (usedIdx % v.num) + 4, m.usedLen);
          r.storeU16(v.da + l.usedIdx, (usedIdx + 1) & 0xffff);
          const s = lb.host.link.stats;
          const before = s.rxMessages + s.rxDroppedNoEndpoint + s.rxInvalid;
          lb.host.transport.poll();
          assert.equal(s.rxMessages + s.rxDroppedNoEndpoint + s.rxInvalid - before, 1, JSON.stringify(s));
          assert.ok(lb.host.link.up, 'no violation for a well-formed ring entry');
          assert.equal(r.loadU16(v.da + l.availIdx), (availBefore + 1) & 0xffff, 'the buffer went back to the remote');
          if (got.length > 0) assert.ok(m.dst === 0x400 && got[0]! === m.len && m.len <= m.usedLen - 16);
        },
      ),
      { numRuns: 300 },
    );
  });
});
