/**
 * decodeNsMessage against arbitrary bytes (fast-check): it never throws, and whatever it
 * accepts is an announcement a conforming peer could have sent.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { RPMSG_ADDR_ANY, decodeNsMessage, encodeNsMessage } from '../../src/index.js';

const REASONS = ['length', 'name', 'addr'];

describe('name-service message decoding (property)', () => {
  it('arbitrary bytes: a reason, or a message whose name is 1..31 bytes ended by a NUL inside the 32', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 64 }), fc.uint8Array({ minLength: 40, maxLength: 40 })), (bytes) => {
        const m = decodeNsMessage(bytes);
        if (typeof m === 'string') {
          assert.ok(REASONS.includes(m), m);
          if (bytes.length !== 40) assert.equal(m, 'length');
          return;
        }
        assert.equal(bytes.length, 40);
        const nameBytes = new TextEncoder().encode(m.name);
        assert.ok(nameBytes.length >= 1 && nameBytes.length <= 31);
        assert.deepEqual([...bytes.subarray(0, nameBytes.length)], [...nameBytes]);
        assert.equal(bytes[nameBytes.length], 0, 'the name ends at a NUL');
        assert.notEqual(m.addr, RPMSG_ADDR_ANY);
        assert.ok(m.flags === 0 || m.flags === 1);
        // what was accepted re-encodes to the same name and address
        assert.deepEqual(decodeNsMessage(encodeNsMessage(m)), m);
      }),
      { numRuns: 2000 },
    );
  });

  it('32 name bytes without a NUL are always rejected as a bad name', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }).map((a) => a.map((b) => b || 1)), fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 0xffffffff }), (name, addr, flags) => {
        const b = new Uint8Array(40);
        b.set(name);
        new DataView(b.buffer).setUint32(32, addr, true);
        new DataView(b.buffer).setUint32(36, flags, true);
        assert.equal(decodeNsMessage(b), 'name');
      }),
      { numRuns: 500 },
    );
  });
});
