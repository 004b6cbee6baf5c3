/**
 * The demo services' message layouts, byte by byte. The expected bytes are written out here
 * from OpenAMP's C definitions (LP64 Linux, little endian), never produced by the code under
 * test; the wire checks read the rings and buffers of a loopback run directly.
 *
 *   struct _payload { unsigned long num; unsigned long size; unsigned char data[]; };   // echo, nocopy, flood
 *   typedef struct _matrix { unsigned int size; unsigned int elements[6][6]; } matrix;  // matrix
 *   #define SHUTDOWN_MSG 0xEF56A55A  — sent as `int`                                  // all OpenAMP remotes
 *   #define HELLO_MSG "hello world!" / BYE_MSG "goodbye!" — sent with strlen()         // sample
 *   struct rpmsg_hdr { u32 src; u32 dst; u32 reserved; u16 len; u16 flags; };
 *   struct rpmsg_ns_msg { char name[32]; u32 addr; u32 flags; };
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  Loopback,
  MATRIX_BYTES,
  MATRIX_REQUEST_BYTES,
  SERVICES,
  VIRTIO_RPMSG_F_NS,
  decodeMatrix,
  encodeMatrix,
  featureBit,
  isShutdown,
  multiply,
  pingPayload,
  readPing,
  shutdownMessage,
  type Endpoint,
  type Region,
} from '../../src/index.js';
import { bytes } from '../helpers.js';
import { loopbackContext } from './context.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('message layouts from the C definitions', () => {
  it('ping payload: u64 num at 0, u64 size at 8, size bytes of 0xA5 from 16', () => {
    assert.equal(hex(pingPayload(0x0102, 3)), '0201000000000000' + '0300000000000000' + 'a5a5a5');
    assert.equal(pingPayload(479, 480).length, 496); // the largest with 512-byte buffers
    assert.deepEqual(readPing(bytes('ffffffffffffffff 0100000000000000')), { num: Infinity, size: 1 });
    assert.equal(readPing(new Uint8Array(15)), null);
  });

  it('shutdown message: int 0xEF56A55A, 4 bytes little endian', () => {
    assert.equal(hex(shutdownMessage()), '5aa556ef');
    assert.ok(isShutdown(bytes('5aa556ef 00')));
    assert.ok(!isShutdown(bytes('5aa556')));
    assert.ok(!isShutdown(bytes('efa556ef')));
  });

  it('matrix: u32 size, then elements[i][j] at 4 + 4·(6i + j); 148 bytes, a request 296', () => {
    assert.equal(MATRIX_BYTES, 148);
    assert.equal(MATRIX_REQUEST_BYTES, 296);
    const m = decodeMatrix(new Uint8Array(MATRIX_BYTES));
    m.size = 6;
    for (let i = 0; i < 6; i++) for (let j = 0; j < 6; j++) m.elements[6 * i + j] = 10 * i + j;
    const out = new Uint8Array(MATRIX_BYTES);
    encodeMatrix(m, out);
    assert.equal(hex(out.subarray(0, 32)), '06000000' + '00000000' + '01000000' + '02000000' + '03000000' + '04000000' + '05000000' + '0a000000');
    assert.equal(hex(out.subarray(144)), '37000000'); // elements[5][5] = 55
    assert.deepEqual(decodeMatrix(out), m);
  });

  it("matrix_multiplyd's product: r.size = a.size, loops bounded by the sizes, unsigned 32-bit", () => {
    const a = decodeMatrix(new Uint8Array(MATRIX_BYTES));
    const b = decodeMatrix(new Uint8Array(MATRIX_BYTES));
    a.size = 2;
    b.size = 2;
    a.elements.set([1, 2, 0, 0, 0, 0, 3, 4]); // [[1,2],[3,4]] in a 6-wide array
    b.elements.set([5, 6, 0, 0, 0, 0, 7, 8]);
    const r = multiply(a, b);
    assert.equal(r.size, 2);
    assert.deepEqual([r.elements[0], r.elements[1], r.elements[6], r.elements[7]], [19, 22, 43, 50]);
    assert.equal(r.elements.reduce((s, v) => s + v, 0), 19 + 22 + 43 + 50); // the rest stays 0
    a.size = 1;
    b.size = 1;
    a.elements[0] = 0xffffffff;
    b.elements[0] = 2;
    assert.equal(multiply(a, b).elements[0], 0xfffffffe);
  });
});

// ------------------------------------------------------------------ on the wire (loopback)

/** Every message the remote handed back on vring[0] (header + payload, by the header's len). */
function remoteToHost(region: Region): Uint8Array[] {
  const dv = region.dv;
  const out: Uint8Array[] = [];
  const usedIdx = dv.getUint16(0x6002, true);
  for (let i = 0; i < usedIdx; i++) {
    const id = dv.getUint32(0x6004 + 8 * (i % 256), true);
    const addr = Number(dv.getBigUint64(0x4000 + 16 * id, true));
    out.push(region.u8.slice(addr, addr + 16 + dv.getUint16(addr + 12, true)));
  }
  return out;
}

/** The last message the host posted on vring[1]. */
function lastHostToRemote(region: Region): Uint8Array {
  const dv = region.dv;
  const availIdx = dv.getUint16(0x9002, true);
  const id = dv.getUint16(0x9004 + 2 * ((availIdx - 1) % 256), true);
  const addr = Number(dv.getBigUint64(0x8000 + 16 * id, true));
  return region.u8.slice(addr, addr + 16 + dv.getUint16(addr + 12, true));
}

/** Record every payload delivered to endpoints created on `link` from now on. */
function tap(link: Loopback['host']['link']): Uint8Array[] {
  const seen: Uint8Array[] = [];
  const create = link.createEndpoint.bind(link);
  link.createEndpoint = (cb, o) =>
    create((e, d, s, p) => {
      seen.push(d.slice());
      cb(e, d, s, p);
    }, o);
  return seen;
}

const HDR_400_TO_400 = '00040000' + '00040000' + '00000000';
const lenFlags = (len: number): string => hex(new Uint8Array([len & 0xff, len >> 8, 0, 0]));

function nsBytes(name: string, addr: number, flags: number): string {
  const n = Buffer.alloc(32);
  n.write(name, 'latin1');
  const tail = Buffer.alloc(8);
  tail.writeUInt32LE(addr, 0);
  tail.writeUInt32LE(flags, 4);
  return '00040000' + '35000000' + '00000000' + '28000000' + n.toString('hex') + tail.toString('hex');
}

async function wireRun(name: 'echo' | 'sample' | 'matrix' | 'nocopy' | 'flood', count: number): Promise<Loopback> {
  const lb = new Loopback({ layout: { dfeatures: featureBit(VIRTIO_RPMSG_F_NS) } });
  await SERVICES[name].remote(loopbackContext(lb, { count }));
  const r = await SERVICES[name].host({ bus: lb.host.bus, link: lb.host.link, log: () => {}, signal: AbortSignal.timeout(20_000), count });
  assert.equal(r.passed, true, JSON.stringify(r));
  await new Promise((res) => setTimeout(res, 10)); // the host's DESTROY goes out
  return lb;
}

describe('the services on the wire (rings read directly)', () => {
  for (const name of ['echo', 'nocopy'] as const) {
    it(`${name}: NS, one ping {num 0, size 1} and its echo (17 bytes each way), DESTROY both ways`, async () => {
      const lb = await wireRun(name, 1);
      const expected = HDR_400_TO_400 + '11000000' + '0000000000000000' + '0100000000000000' + 'a5';
      const r2h = remoteToHost(lb.region);
      assert.equal(hex(r2h[0]!), nsBytes('rpmsg-openamp-demo-channel', 0x400, 0));
      assert.equal(hex(r2h[1]!), expected);
      // The host's DESTROY ends the service, as in OpenAMP's echo remotes: the remote's follows.
      assert.equal(hex(r2h[2]!), nsBytes('rpmsg-openamp-demo-channel', 0x400, 1));
      assert.equal(r2h.length, 3);
      // The host's last message is its DESTROY; the ping went before it in the same buffer.
      assert.equal(hex(lastHostToRemote(lb.region)), nsBytes('rpmsg-openamp-demo-channel', 0x400, 1));
      lb.close();
    });
  }

  it('sample: "goodbye!" echoed, then the remote DESTROY right behind it', async () => {
    const lb = await wireRun('sample', 2);
    const r2h = remoteToHost(lb.region).map(hex);
    assert.deepEqual(r2h, [
      nsBytes('rpmsg-client-sample', 0x400, 0),
      HDR_400_TO_400 + lenFlags(12) + hex(bytes('68656c6c6f20776f726c6421')),
      HDR_400_TO_400 + lenFlags(8) + hex(bytes('676f6f6462796521')),
      nsBytes('rpmsg-client-sample', 0x400, 1),
    ]);
    lb.close();
  });

  it('matrix: each 296-byte request answered by the 148-byte product, computed here with the C loops', async () => {
    const lb = new Loopback({ layout: { dfeatures: featureBit(VIRTIO_RPMSG_F_NS) } });
    const requests = tap(lb.remote.link);
    const replies = tap(lb.host.link);
    await SERVICES.matrix.remote(loopbackContext(lb));
    const r = await SERVICES.matrix.host({ bus: lb.host.bus, link: lb.host.link, log: () => {}, signal: AbortSignal.timeout(20_000), count: 3 });
    assert.deepEqual(r, { messages: 3, errors: 0, passed: true });
    const data = requests.filter((m) => m.length !== 40); // not the host's NS messages
    assert.deepEqual(data.map((m) => m.length), [296, 296, 296]);
    assert.deepEqual(replies.map((m) => m.length), [148, 148, 148]);
    for (let n = 0; n < 3; n++) {
      const q = new DataView(data[n]!.buffer);
      const u = (off: number): number => q.getUint32(off, true);
      assert.equal(u(0), 6);
      assert.equal(u(148), 6);
      const want = Buffer.alloc(148);
      want.writeUInt32LE(6, 0);
      for (let i = 0; i < 6; i++) {
        for (let j = 0; j < 6; j++) {
          let sum = 0;
          for (let k = 0; k < 6; k++) {
            const a = u(4 + 4 * (6 * i + k));
            const b = u(148 + 4 + 4 * (6 * k + j));
            assert.ok(a <= 9 && b <= 9); // (rand() & 0x7F) % 10
            sum += a * b;
          }
          want.writeUInt32LE(sum, 4 + 4 * (6 * i + j));
        }
      }
      assert.equal(hex(replies[n]!), want.toString('hex'));
    }
    lb.close();
  });

  it('flood: the last message of one packet per size is {num 0, size 480}, 496 bytes', async () => {
    const lb = new Loopback({ layout: { dfeatures: featureBit(VIRTIO_RPMSG_F_NS) } });
    await SERVICES.flood.remote(loopbackContext(lb));
    // Keep the host's endpoint alive to read its last ping before the DESTROY.
    const link = lb.host.link;
    const seen: string[] = [];
    const origCreate = link.createEndpoint.bind(link);
    let ept: Endpoint | undefined;
    link.createEndpoint = (cb, o) => {
      ept = origCreate((e, d, s, p) => {
        if (d.length === 496) seen.push(hex(d));
        cb(e, d, s, p);
      }, o);
      return ept;
    };
    const r = await SERVICES.flood.host({ bus: lb.host.bus, link, log: () => {}, signal: AbortSignal.timeout(20_000), count: 1 });
    assert.deepEqual(r, { messages: 480, errors: 0, passed: true });
    assert.deepEqual(seen, ['0000000000000000' + 'e001000000000000' + 'a5'.repeat(480)]);
    assert.equal(ept?.destroyed, true); // destroyed at the end: the remote got a DESTROY
    lb.close();
  });
});
