/** `struct rpmsg_hdr` as exact bytes (PROTOCOL.md §1). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Region, readHeader, writeHeader } from '../../src/index.js';
import { headerDst, headerPayloadLen, headerSrc } from '../../src/rpmsg-virtio/header.js';
import { bytes } from '../helpers.js';

describe('rpmsg header', () => {
  it('is written little-endian with reserved and flags zero', () => {
    const r = new Region(new ArrayBuffer(64));
    r.fill(0, 64, 0xee);
    writeHeader(r, 16, 0x400, 0x35, 0x28);
    assert.deepEqual(r.u8.slice(16, 32), bytes('00040000 35000000 00000000 2800 0000'));
    assert.deepEqual(readHeader(r, 16), { src: 0x400, dst: 0x35, reserved: 0, len: 0x28, flags: 0 });
    assert.equal(headerSrc(r.u32, 16), 0x400);
    assert.equal(headerDst(r.u32, 16), 0x35);
  });

  it('a received len is accepted only within the buffer (Linux rpmsg_recv_single)', () => {
    const r = new Region(new ArrayBuffer(64));
    r.u8.set(bytes('01000000 02000000 deadbeef 1000 ffff'), 0); // junk in reserved and flags is ignored
    assert.equal(headerPayloadLen(r.u16, 0, 32), 16);
    assert.equal(headerPayloadLen(r.u16, 0, 31), -1, 'len one past the buffer');
    assert.equal(headerPayloadLen(r.u16, 0, 15), -1, 'buffer shorter than a header');
  });
});
