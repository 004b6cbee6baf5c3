/** Trace records, the kernel-style text, JSON lines, and pcapng (structure, and Wireshark's view of it). */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { encodeNsMessage } from '../../src/index.js';
import { formatDyndbg, formatJson, hexDumpRow } from '../../src/trace/format.js';
import { LINKTYPE_USER0, PcapngWriter } from '../../src/trace/pcapng.js';
import { recordFromFields, recordFromWire, type TraceRecord } from '../../src/trace/record.js';
import { bytes, repoRoot } from '../helpers.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const T0 = 1_700_000_000_000_000;

function sampleRecords(): TraceRecord[] {
  const ns = recordFromFields('rproc0', 'r2h', 0x400, 0x35, 0, encodeNsMessage({ name: 'rpmsg-client-sample', addr: 0x400, flags: 0 }), undefined, T0);
  const hello = recordFromFields('rproc0', 'h2r', 0x400, 0x400, 0, enc('hello world!'), undefined, T0 + 1500);
  const other = recordFromFields('rproc1', 'r2h', 0x401, 0x402, 0, enc('x'.repeat(40)), 16 + 8, T0 + 2_000_000);
  const dropped = recordFromFields('rproc1', 'r2h', 0x401, 0x999, 0, enc('lost'), undefined, T0 + 2_000_001);
  dropped.drop = 'no-endpoint';
  return [ns, hello, other, dropped];
}

describe('trace formats', () => {
  it('prints the kernel virtio_rpmsg_bus dynamic-debug lines and hex dump', () => {
    const [ns, hello] = sampleRecords();
    assert.deepEqual(formatDyndbg(ns!, T0), [
      '[    0.000000] virtio_rpmsg_bus rproc0: From: 0x400, To: 0x35, Len: 40, Flags: 0, Reserved: 0',
      '[    0.000000] rpmsg_virtio RX: 00 04 00 00 35 00 00 00 00 00 00 00 28 00 00 00  ....5.......(...',
      '[    0.000000] rpmsg_virtio RX: 72 70 6d 73 67 2d 63 6c 69 65 6e 74 2d 73 61 6d  rpmsg-client-sam',
      '[    0.000000] rpmsg_virtio RX: 70 6c 65 00 00 00 00 00 00 00 00 00 00 00 00 00  ple.............',
      '[    0.000000] rpmsg_virtio RX: 00 04 00 00 00 00 00 00                          ........',
      '[    0.000000] virtio_rpmsg_bus rproc0: ns create: rpmsg-client-sample addr 0x400',
    ]);
    assert.deepEqual(formatDyndbg(hello!, T0), [
      '[    0.001500] virtio_rpmsg_bus rproc0: TX From 0x400, To 0x400, Len 12, Flags 0, Reserved 0',
      '[    0.001500] rpmsg_virtio TX: 00 04 00 00 00 04 00 00 00 00 00 00 0c 00 00 00  ................',
      '[    0.001500] rpmsg_virtio TX: 68 65 6c 6c 6f 20 77 6f 72 6c 64 21              hello world!',
    ]);
    assert.equal(hexDumpRow(bytes('7f 80 20 7e'), 0, 4), '7f 80 20 7e'.padEnd(49) + '.. ~');
  });

  it('decodes wire bytes read from untrusted memory, keeping reserved and flags as found', () => {
    const wire = bytes('01 04 00 00 35 00 00 00 ef be ad de 03 00 05 00 61 62 63');
    const r = recordFromWire('m', 'r2h', wire, 7);
    assert.deepEqual([r.src, r.dst, r.reserved, r.len, r.flags, r.ns], [0x401, 0x35, 0xdeadbeef, 3, 5, undefined]);
    // An NS-sized message to 53 with a bad name is not decoded as one.
    const bad = recordFromFields('m', 'r2h', 1, 0x35, 0, new Uint8Array(40));
    assert.equal(bad.ns, undefined);
  });

  it('prints JSON lines with the payload in hex, cut messages and drops marked', () => {
    const [ns, , cut, dropped] = sampleRecords();
    const j = JSON.parse(formatJson(ns!));
    assert.equal(j.ns.name, 'rpmsg-client-sample');
    assert.equal(j.payload.length, 80);
    assert.equal(j.dir, 'r2h');
    const c = JSON.parse(formatJson(cut!));
    assert.deepEqual([c.len, c.captured, c.payload], [40, 8, '7878787878787878']);
    assert.equal(JSON.parse(formatJson(dropped!)).drop, 'no-endpoint');
  });
});

/** A pcapng reader just strict enough to check our files (little-endian sections only). */
function parsePcapng(buf: Uint8Array): { blocks: Array<{ type: number; body: DataView }>; } {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const blocks: Array<{ type: number; body: DataView }> = [];
  let o = 0;
  while (o < buf.length) {
    const type = dv.getUint32(o, true);
    const len = dv.getUint32(o + 4, true);
    assert.ok(len >= 12 && len % 4 === 0 && o + len <= buf.length, `block length ${len} at ${o}`);
    assert.equal(dv.getUint32(o + len - 4, true), len, 'trailing length');
    blocks.push({ type, body: new DataView(buf.buffer, buf.byteOffset + o + 8, len - 12) });
    o += len;
  }
  return { blocks };
}

describe('pcapng capture', () => {
  const records = sampleRecords();
  const chunks: Uint8Array[] = [];
  const w = new PcapngWriter((c) => chunks.push(c));
  for (const r of records) w.write(r);
  w.close();
  const file = Buffer.concat(chunks);

  it('is a section header, one interface per link (LINKTYPE_USER0, named), one packet block per record', () => {
    const { blocks } = parsePcapng(file);
    assert.deepEqual(blocks.map((b) => b.type), [0x0a0d0d0a, 1, 6, 6, 1, 6, 6]);
    assert.equal(blocks[0]!.body.getUint32(0, true), 0x1a2b3c4d);
    for (const i of [1, 4]) {
      const idb = blocks[i]!.body;
      assert.equal(idb.getUint16(0, true), LINKTYPE_USER0);
      assert.equal(idb.getUint16(8, true), 2); // if_name
      const name = Buffer.from(idb.buffer, idb.byteOffset + 12, idb.getUint16(10, true)).toString();
      assert.equal(name, i === 1 ? 'rproc0' : 'rproc1');
    }
    const epbs = blocks.filter((b) => b.type === 6).map((b) => b.body);
    assert.deepEqual(epbs.map((e) => e.getUint32(0, true)), [0, 0, 1, 1]); // interface ids
    const ts = (e: DataView): number => e.getUint32(4, true) * 2 ** 32 + e.getUint32(8, true);
    assert.deepEqual(epbs.map(ts), records.map((r) => r.timeUs));
    // captured / original lengths: 4-byte capture header + wire bytes; the cut one keeps 8 of 40
    assert.deepEqual(epbs.map((e) => [e.getUint32(12, true), e.getUint32(16, true)]), [[60, 60], [32, 32], [28, 60], [24, 24]]);
    const first = epbs[0]!;
    assert.deepEqual([first.getUint8(20), first.getUint8(21), first.getUint8(22), first.getUint8(23)], [1, 1, 0, 0]);
    assert.deepEqual(new Uint8Array(first.buffer, first.byteOffset + 24, 56), records[0]!.wire);
    const drop = epbs[3]!;
    assert.deepEqual([drop.getUint8(21), drop.getUint8(22), drop.getUint8(23)], [1, 1, 1]);
  });

  it('opens in tshark and the shipped Lua dissector decodes header and name service', (t) => {
    const probe = spawnSync('tshark', ['--version'], { encoding: 'utf8' });
    if (probe.status !== 0) {
      if (process.env.CI) assert.fail('tshark is missing in CI (.ci/run installs it)');
      t.skip('tshark not installed (apt-get install tshark)');
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), 'rpmsg-pcap-'));
    try {
      const path = join(dir, 'c.pcapng');
      writeFileSync(path, file);
      const lua = join(repoRoot(), 'contrib', 'wireshark', 'rpmsg.lua');
      const fields = ['frame.interface_name', 'rpmsg.direction', 'rpmsg.src', 'rpmsg.dst', 'rpmsg.len', 'rpmsg_ns.name', 'rpmsg_ns.addr', 'rpmsg.event', 'rpmsg.drop_reason'];
      const r = spawnSync('tshark', ['-X', `lua_script:${lua}`, '-r', path, '-T', 'fields', ...fields.flatMap((f) => ['-e', f])], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.ok(!/Lua: Error/i.test(r.stderr), r.stderr);
      const rows = r.stdout.trim().split('\n').map((l) => l.split('\t'));
      assert.deepEqual(rows, [
        ['rproc0', '1', '0x00000400', '0x00000035', '40', 'rpmsg-client-sample', '0x00000400', '0', '0'],
        ['rproc0', '0', '0x00000400', '0x00000400', '12', '', '', '0', '0'],
        ['rproc1', '1', '0x00000401', '0x00000402', '40', '', '', '0', '0'],
        ['rproc1', '1', '0x00000401', '0x00000999', '4', '', '', '1', '1'],
      ]);
      const info = spawnSync('tshark', ['-X', `lua_script:${lua}`, '-r', path], { encoding: 'utf8' });
      assert.match(info.stdout, /RX NS create rpmsg-client-sample addr 0x400/);
      assert.match(info.stdout, /\[dropped: no endpoint\]/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
