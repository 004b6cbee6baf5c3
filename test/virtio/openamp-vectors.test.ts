/**
 * OpenAMP's reference shared-memory images (test/fixtures/openamp, vendored from OpenAMP's published set, README there), parsed by
 * this project's own code and asserted against the values that README gives.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  RPMSG_NS_ADDR,
  Region,
  RpmsgBus,
  RpmsgLink,
  VirtioRpmsgTransport,
  buildResourceTable,
  decodeNsMessage,
  findRpmsgVdev,
  inspectVring,
  parseResourceTable,
  readHeader,
  readRpmsgMemory,
  rpmsgVdev,
  computeLayout,
  layoutResourceTable,
  VIRTIO_RPMSG_F_NS,
  featureBit,
  type VringSnapshot,
} from '../../src/index.js';
import { firstDiff, loadImage, openampImage } from '../helpers.js';

const IMAGES = [
  '01_remote_table_written.bin',
  '02_host_vrings_initialized.bin',
  '03_remote_ns_announced.bin',
  '04_both_bound.bin',
  '05_three_text_echoes.bin',
  '06_after_480_ping_echoes.bin',
] as const;

const SHA256: Record<string, string> = {
  '01_remote_table_written.bin': '8fc8aaccb9861f93df85b82e7a79bdd02f6ba4cfc0e9ce3905459e7501ad3d2f',
  '02_host_vrings_initialized.bin': '0e28c417acf658288a02357c76fe4078a45b30ee7fba3a9abc8dabced365cc94',
  '03_remote_ns_announced.bin': '187c77b96f85b2a59a3b4b8256d0f6704f088d048641a5d1568d0bc7ec0e9b6c',
  '04_both_bound.bin': '4666c93e44d2164beaafec4cd7d98662f7dc677dfccf2b85a44718d1471621f1',
  '05_three_text_echoes.bin': 'b86571a3b51460af8e9c3c161720958309d4ee9bc7889dd28799ab965db0cce7',
  '06_after_480_ping_echoes.bin': '7c36861e3bf1e355c31e2020e775ad389894af233f551f45487bd0e2b84ce973',
};

const DEMO = 'rpmsg-openamp-demo-channel';

function image(name: string): { region: Region; vr0: VringSnapshot; vr1: VringSnapshot } {
  const region = new Region(loadImage(name));
  const mem = readRpmsgMemory(region, 0, 0x58);
  return {
    region,
    vr0: inspectVring(region, mem.vrings[0].offset, 256, 0x1000),
    vr1: inspectVring(region, mem.vrings[1].offset, 256, 0x1000),
  };
}

function ns(region: Region, offset: number): ReturnType<typeof decodeNsMessage> {
  const h = readHeader(region, offset);
  return decodeNsMessage(region.copyOut(offset + 16, h.len));
}

function text(region: Region, offset: number, len: number): string {
  return new TextDecoder().decode(region.copyOut(offset, len));
}

function assertHostRxPosted(vr0: VringSnapshot, availIdx: number): void {
  assert.equal(vr0.availFlags, 0);
  assert.equal(vr0.availIdx, availIdx);
  for (let i = 0; i < 256; i++) {
    assert.equal(vr0.desc[i]!.addr, 0x10000 + i * 0x200, `desc[${i}].addr`);
    assert.equal(vr0.desc[i]!.len, 512);
    assert.equal(vr0.desc[i]!.flags, 2, 'WRITE');
  }
}

describe('OpenAMP reference images', () => {
  it('are the published files', () => {
    for (const name of IMAGES) {
      const data = openampImage(name);
      assert.equal(data.length, 0x80000);
      assert.equal(createHash('sha256').update(data).digest('hex'), SHA256[name], name);
    }
  });

  it('every image carries the generic machine resource table', () => {
    for (const name of IMAGES) {
      const region = new Region(loadImage(name));
      const table = parseResourceTable(region, 0, 0x58);
      assert.equal(table.ver, 1);
      assert.equal(table.entries.length, 1);
      const vdev = findRpmsgVdev(table)!;
      assert.equal(vdev.offset, 0x14);
      assert.equal(vdev.id, 7);
      assert.equal(vdev.notifyid, 0);
      assert.equal(vdev.dfeatures, 1);
      assert.equal(vdev.gfeatures, name.startsWith('01') ? 0 : 1, `${name} gfeatures`);
      assert.equal(vdev.status, name.startsWith('01') ? 0 : 4, `${name} status`);
      assert.equal(vdev.config.length, 0);
      assert.deepEqual(vdev.vrings, [
        { da: 0x4000, align: 0x1000, num: 256, notifyid: 1, pa: 0 },
        { da: 0x8000, align: 0x1000, num: 256, notifyid: 2, pa: 0 },
      ]);
    }
  });

  it('01: only the table is written, everything else is zero', () => {
    const { region } = image(IMAGES[0]);
    for (let i = 0x58; i < region.size; i++) if (region.u8[i] !== 0) assert.fail(`non-zero byte at 0x${i.toString(16)}`);
  });

  it('our encoder reproduces image 01 first 0x58 bytes (OpenAMP linux machine table)', () => {
    const expected = new Uint8Array(loadImage(IMAGES[0])).subarray(0, 0x58);
    const built = buildResourceTable([
      rpmsgVdev({
        dfeatures: featureBit(VIRTIO_RPMSG_F_NS),
        vrings: [
          { da: 0x4000, align: 0x1000, num: 256, notifyid: 1 },
          { da: 0x8000, align: 0x1000, num: 256, notifyid: 2 },
        ],
      }),
    ]);
    assert.deepEqual(built, expected);
    assert.deepEqual(layoutResourceTable(computeLayout()), expected, 'default layout is OpenAMP’s');
  });

  it('02: host posted 256 rx buffers, disabled tx interrupts, linked the descriptors', () => {
    const { region, vr0, vr1 } = image(IMAGES[1]);
    assertHostRxPosted(vr0, 256);
    for (let i = 0; i < 256; i++) {
      assert.equal(vr0.desc[i]!.next, i < 255 ? i + 1 : 0x8000);
      assert.equal(vr0.availRing[i], i);
      assert.equal(vr1.desc[i]!.next, i < 255 ? i + 1 : 0x8000);
      assert.deepEqual([vr1.desc[i]!.addr, vr1.desc[i]!.len, vr1.desc[i]!.flags], [0, 0, 0]);
    }
    assert.deepEqual([vr0.usedFlags, vr0.usedIdx, vr0.usedEvent, vr0.availEvent], [0, 0, 0, 0]);
    assert.deepEqual([vr1.availFlags, vr1.availIdx, vr1.usedFlags, vr1.usedIdx], [1, 0, 0, 0]);
    assert.deepEqual([...region.u8.subarray(0x4000, 0x4010)], [0, 0, 1, 0, 0, 0, 0, 0, 0, 2, 0, 0, 2, 0, 1, 0]);
    assert.ok(region.u8.subarray(0x10000, 0x50000).every((b) => b === 0), 'pool is zero');
  });

  it('03: the remote announced its service in the first rx buffer', () => {
    const { region, vr0, vr1 } = image(IMAGES[2]);
    assert.deepEqual([vr0.usedFlags, vr0.usedIdx, vr0.availIdx], [1, 1, 256]);
    assert.deepEqual(vr0.usedRing[0], { id: 0, len: 512 });
    assert.deepEqual([vr1.availFlags, vr1.availIdx, vr1.usedFlags, vr1.usedIdx], [1, 0, 0, 0]);
    assert.deepEqual(readHeader(region, 0x10000), { src: 0x400, dst: RPMSG_NS_ADDR, reserved: 0, len: 40, flags: 0 });
    assert.deepEqual(ns(region, 0x10000), { name: DEMO, addr: 0x400, flags: 0 });
    assert.ok(region.u8.subarray(0x1002a, 0x10030).every((b) => b === 0), 'name padding is zero under gdb');
  });

  it('04: both sides bound; the host NS went out in 0x30000', () => {
    const { region, vr0, vr1 } = image(IMAGES[3]);
    assertHostRxPosted(vr0, 257);
    assert.deepEqual([vr0.usedIdx, vr0.usedFlags, vr0.availRing[0]], [1, 1, 0]);
    assert.equal(vr0.desc[0]!.next, 0x8000, 'freed descriptor relinked to the chain end');
    assert.deepEqual([vr1.availIdx, vr1.availRing[0], vr1.usedIdx, vr1.availFlags], [1, 0, 1, 1]);
    assert.deepEqual(vr1.desc[0], { addr: 0x30000, len: 512, flags: 0, next: 1 });
    assert.deepEqual(vr1.usedRing[0], { id: 0, len: 512 });
    assert.deepEqual(ns(region, 0x10000), { name: DEMO, addr: 0x400, flags: 0 }, 'stack junk after the NUL is ignored');
    assert.deepEqual([...region.u8.subarray(0x1002b, 0x1002e)], [0x5b, 0x41, 0x7f]);
    assert.deepEqual(readHeader(region, 0x30000), { src: 0x400, dst: 0x35, reserved: 0, len: 40, flags: 0 });
    assert.deepEqual(ns(region, 0x30000), { name: DEMO, addr: 0x400, flags: 0 });
  });

  it('05: three text echoes, receiver scratch in the reserved word', () => {
    const { region, vr0, vr1 } = image(IMAGES[4]);
    assertHostRxPosted(vr0, 260);
    assert.deepEqual([vr0.usedIdx, vr0.usedFlags], [4, 1]);
    for (let i = 0; i < 4; i++) assert.deepEqual(vr0.usedRing[i], { id: i, len: 512 });
    assert.deepEqual([vr1.availIdx, vr1.usedIdx], [4, 4]);
    assert.deepEqual(vr1.availRing.slice(0, 4), [0, 0, 0, 0]);
    for (let i = 0; i < 4; i++) assert.deepEqual(vr1.usedRing[i], { id: 0, len: 512 });
    assert.deepEqual(vr1.desc[0], { addr: 0x30000, len: 512, flags: 0, next: 1 });
    assert.deepEqual(ns(region, 0x10000), { name: DEMO, addr: 0x400, flags: 0 });
    for (let n = 0; n < 3; n++) {
      const off = 0x10200 + n * 0x200;
      assert.deepEqual(readHeader(region, off), { src: 0x400, dst: 0x400, reserved: n + 1, len: 38, flags: 0 });
      assert.equal(text(region, off + 16, 38), `anchor message #${n}: hello from the host`);
    }
    assert.deepEqual(readHeader(region, 0x30000), { src: 0x400, dst: 0x400, reserved: 0, len: 38, flags: 0 });
    assert.equal(text(region, 0x30010, 38), 'anchor message #2: hello from the host');
  });

  it('06: 480 ping echoes with wrapped ring slots', () => {
    const { region, vr0, vr1 } = image(IMAGES[5]);
    assertHostRxPosted(vr0, 737);
    assert.deepEqual([vr0.usedIdx, vr0.usedFlags], [481, 1]);
    for (let i = 0; i < 256; i++) {
      assert.equal(vr0.availRing[i], i);
      assert.deepEqual(vr0.usedRing[i], { id: i, len: 512 });
      assert.equal(vr1.availRing[i], 0);
      assert.equal(vr1.usedRing[i]!.id, 0);
    }
    assert.deepEqual([vr1.availIdx, vr1.usedIdx, vr1.availFlags], [481, 481, 1]);
    // Slot s holds the last echo written to it: echo e went to used slot (e + 1) mod 256.
    for (let s = 0; s < 256; s++) {
      const echo = s <= 224 ? s + 255 : s - 1;
      const off = 0x10000 + s * 0x200;
      const h = readHeader(region, off);
      assert.deepEqual([h.src, h.dst, h.len, h.flags], [0x400, 0x400, echo + 17, 0], `slot ${s}`);
      assert.equal(region.getU64(off + 16), echo, 'ping num');
      assert.equal(region.getU64(off + 24), echo + 1, 'ping size');
      assert.ok(region.u8.subarray(off + 32, off + 32 + echo + 1).every((b) => b === 0xa5), 'payload 0xA5');
    }
    assert.equal(readHeader(region, 0x10000).reserved, 0);
    assert.equal(readHeader(region, 0x2fe00).reserved, 0xff);
    assert.deepEqual(readHeader(region, 0x30000), { src: 0x400, dst: 0x400, reserved: 0, len: 496, flags: 0 });
    assert.equal(region.getU64(0x30010), 479);
  });
});

describe('our host and remote write what OpenAMP writes', () => {
  function hostOn(sab: SharedArrayBuffer): { region: Region; transport: VirtioRpmsgTransport } {
    const region = new Region(sab);
    const mem = readRpmsgMemory(region, 0, 0x58);
    const link = new RpmsgLink('host', 'host');
    const transport = new VirtioRpmsgTransport({
      role: 'host',
      bus: new RpmsgBus(),
      link,
      region,
      vdev: mem.vdev,
      vrings: mem.vrings,
      pool: { offset: 0x10000, length: 0x40000 },
      notify: () => {},
    });
    return { region, transport };
  }

  it('host start-up on image 01 yields image 02 byte for byte', () => {
    const sab = loadImage(IMAGES[0]);
    hostOn(sab);
    const expected = new Uint8Array(loadImage(IMAGES[1]));
    assert.equal(firstDiff(new Uint8Array(sab), expected), -1);
  });

  it('remote start-up on image 02 announces exactly as image 03 holds it', () => {
    const sab = loadImage(IMAGES[1]);
    const region = new Region(sab);
    const mem = readRpmsgMemory(region, 0, 0x58);
    const link = new RpmsgLink('remote', 'remote');
    const transport = new VirtioRpmsgTransport({
      role: 'remote',
      bus: new RpmsgBus(),
      link,
      region,
      vdev: mem.vdev,
      vrings: mem.vrings,
      notify: () => {},
      bufferWindow: { offset: 0x10000, length: 0x40000 },
    });
    link.createEndpoint(() => {}, { name: DEMO });
    transport.flush();
    const expected = new Uint8Array(loadImage(IMAGES[2]));
    assert.equal(firstDiff(new Uint8Array(sab), expected), -1);
  });
});
