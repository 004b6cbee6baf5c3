/** Daemon frames: exact bytes in, a frame or the error code out. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FrameDecoder, Op, encodeFrame, type Frame } from '../../src/daemon/protocol.js';
import { RpmsgError } from '../../src/errors.js';

function decodeAll(bytes: Buffer, chunk = bytes.length, max?: number): Frame[] {
  const d = new FrameDecoder(max);
  const out: Frame[] = [];
  for (let i = 0; i < bytes.length; i += chunk) d.push(bytes.subarray(i, i + chunk), (f) => out.push(f));
  return out;
}

function raw(op: number, json: string, payload: number[] = [], version = 1, id = 7): Buffer {
  const j = Buffer.from(json);
  const b = Buffer.alloc(12 + j.length + payload.length);
  b.writeUInt32LE(8 + j.length + payload.length, 0);
  b[4] = version;
  b[5] = op;
  b.writeUInt16LE(j.length, 6);
  b.writeUInt32LE(id, 8);
  j.copy(b, 12);
  Buffer.from(payload).copy(b, 12 + j.length);
  return b;
}

function code(fn: () => void): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof RpmsgError);
    return e.code;
  }
  return 'none';
}

describe('daemon protocol', () => {
  it('encodes the documented layout', () => {
    const f = encodeFrame(Op.SEND, 0x01020304, { ept: 3 }, new Uint8Array([0xaa, 0xbb]));
    assert.equal(f.toString('hex'), '13000000' + '01' + '06' + '0900' + '04030201' + Buffer.from('{"ept":3}').toString('hex') + 'aabb');
  });

  it('round-trips frames split at every byte boundary', () => {
    const a = encodeFrame(Op.SEND, 1, { ept: 9, dst: 1024 }, new Uint8Array([1, 2, 3]));
    const b = encodeFrame(Op.LIST, 2, {});
    const both = Buffer.concat([a, b]);
    for (const chunk of [1, 2, 5, 13, both.length]) {
      const frames = decodeAll(both, chunk);
      assert.equal(frames.length, 2);
      assert.deepEqual(frames[0]!.fields, { ept: 9, dst: 1024 });
      assert.deepEqual([...frames[0]!.payload], [1, 2, 3]);
      assert.equal(frames[1]!.op, Op.LIST);
      assert.equal(frames[1]!.id, 2);
    }
  });

  it('rejects every malformed frame with EPROTO, an oversize one with EMSGSIZE', () => {
    const cases: Array<[string, Buffer]> = [
      ['version', raw(Op.LIST, '', [], 2)],
      ['unknown op', raw(0x42, '')],
      ['json not an object', raw(Op.LIST, '[1]')],
      ['bad json', raw(Op.LIST, '{"a":')],
      ['unknown field', raw(Op.LIST, '{"x":1}')],
      ['proto pollution', raw(Op.OPEN, '{"channel":"a","__proto__":{}}')],
      ['missing field', raw(Op.OPEN, '{}')],
      ['bad type', raw(Op.SEND, '{"ept":"1"}')],
      ['negative', raw(Op.SEND, '{"ept":-1}')],
      ['fraction', raw(Op.SEND, '{"ept":1.5}')],
      ['name too long', raw(Op.OPEN, JSON.stringify({ channel: 'x'.repeat(32) }))],
      ['name with space', raw(Op.OPEN, '{"channel":"a b"}')],
      ['payload where none', raw(Op.LIST, '', [1])],
      ['invalid utf-8', Buffer.concat([raw(Op.LIST, '').subarray(0, 12)])],
    ];
    // jsonLen beyond the frame
    const beyond = raw(Op.LIST, '{}');
    beyond.writeUInt16LE(200, 6);
    cases.push(['json beyond frame', beyond]);
    const shortHdr = Buffer.from([3, 0, 0, 0, 1, 2, 0]);
    cases.push(['shorter than header', shortHdr]);
    const badUtf = raw(Op.OPEN, '{"channel":"ab"}');
    badUtf[12 + 13] = 0xff;
    cases.push(['bad utf-8', badUtf]);
    for (const [what, bytes] of cases) {
      if (what === 'invalid utf-8') continue;
      assert.equal(code(() => decodeAll(bytes)), 'EPROTO', what);
    }
    const big = Buffer.alloc(4);
    big.writeUInt32LE(70000, 0);
    assert.equal(code(() => decodeAll(big)), 'EMSGSIZE');
    assert.equal(code(() => decodeAll(encodeFrame(Op.SEND, 1, { ept: 1 }, new Uint8Array(600)), undefined, 512)), 'EMSGSIZE');
  });

  it('holds an incomplete frame without deciding', () => {
    const f = encodeFrame(Op.SEND, 1, { ept: 1 }, new Uint8Array(10));
    const d = new FrameDecoder();
    let n = 0;
    d.push(f.subarray(0, f.length - 1), () => n++);
    assert.equal(n, 0);
    assert.equal(d.pending, f.length - 1);
    d.push(f.subarray(f.length - 1), () => n++);
    assert.equal(n, 1);
  });
});
