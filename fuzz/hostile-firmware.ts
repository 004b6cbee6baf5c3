/**
 * Fuzz firmware, for worker and process remotes alike: announces "fuzz-hostile" (an echo
 * endpoint at 0x400: the host probes the link with it), then, on its first boot only, does one attack
 * with a PRNG seeded from the options. Ring, buffer and table attacks write the shared memory
 * directly (ctx.region), bypassing this remote's own transport, as a buggy or malicious
 * firmware would; name-service attacks go through the endpoint API with malformed payloads.
 *
 * Options come from ctx.options (worker) or the module URL's query (process remotes:
 * `hostile-firmware.js?attack=…&seed=…`). Just before the write the firmware stores the time
 * (epoch ms, f64) in the mailbox at MAILBOX_OFFSET, the unused tail of the resource-table
 * area, so the host can time the report on either platform.
 */
import { defineFirmware } from '../src/index.js';
import { readRpmsgMemory } from '../src/platform/layout.js';
import { vringLayout } from '../src/virtio/vring-layout.js';
import { prng } from './prng.js';

export const ATTACKS = [
  // the host's rx ring (vring0's used ring, written by the remote)
  'rx-used-idx-ahead',
  'rx-used-idx-back',
  'rx-used-id-range',
  'rx-used-id-reused',
  'rx-used-len',
  // the host's own descriptors of its rx ring (the host never reads them back)
  'rx-desc-addr',
  'rx-desc-len',
  'rx-desc-random',
  // the host's tx ring (vring1's used ring), written while the host sends nothing
  'tx-used-idx-ahead',
  'tx-used-id-range',
  // rpmsg headers in a buffer the remote returns
  'hdr-len',
  'hdr-addr-any',
  // name-service announcements
  'ns-short',
  'ns-unterminated',
  'ns-garbage',
  // the resource table: the status byte, any other byte
  'rsc-status',
  'rsc-table',
  // random bytes anywhere in a used ring
  'random-used',
  // kicks with nothing behind them
  'spurious-kicks',
] as const;
export type Attack = (typeof ATTACKS)[number];

/** Region offset of the attack-time mailbox (f64, epoch ms): the tail of the 4 KiB table area. */
export const MAILBOX_OFFSET = 0xff8;
/** Bytes of the resource table the rsc-table attack may hit (the table is about 100 bytes). */
const RSC_BYTES = 0x60;
const NS_ADDR = 53;

let attacked = false;

export default defineFirmware((ctx) => {
  const query = new URL(import.meta.url).searchParams;
  const attack = (ctx.options['attack'] ?? query.get('attack')) as Attack;
  const seed = Number(ctx.options['seed'] ?? query.get('seed') ?? 1);
  const guard = Number(ctx.options['guard'] ?? query.get('guard') ?? 0);
  const rnd = prng(seed);
  const region = ctx.region!;
  const dv = region.dv;
  const mem = readRpmsgMemory(region, 0, 0x1000);
  const ep = ctx.createEndpoint((e, data, src) => e.trySendTo(data, src), { name: 'fuzz-hostile', addr: 0x400 });
  if (attacked) return; // after a reset: a well-behaved echo, so the host can see traffic resume
  attacked = true;

  const ring = (q: 0 | 1) => {
    const v = mem.vrings[q];
    return { base: v.offset, num: v.num, l: vringLayout(v.num, v.align) };
  };
  const usedIdx = (q: 0 | 1): number => {
    const r = ring(q);
    return dv.getUint16(r.base + r.l.usedIdx, true);
  };
  const setUsedIdx = (q: 0 | 1, v: number): void => {
    const r = ring(q);
    dv.setUint16(r.base + r.l.usedIdx, v & 0xffff, true);
  };
  const pushUsed = (q: 0 | 1, id: number, len: number): void => {
    const r = ring(q);
    const idx = usedIdx(q);
    const slot = r.base + r.l.usedRing + 8 * (idx % r.num);
    dv.setUint32(slot, id >>> 0, true);
    dv.setUint32(slot + 4, len >>> 0, true);
    setUsedIdx(q, idx + 1);
  };
  // The next rx buffer the host posted on vring0 (the remote's transport consumed avail
  // entries up to used.idx so far), its descriptor offset and buffer address.
  const nextRx = (): { id: number; desc: number; addr: number; len: number } => {
    const r = ring(0);
    const idx = usedIdx(0);
    const id = dv.getUint16(r.base + r.l.availRing + 2 * (idx % r.num), true) % r.num;
    const desc = r.base + r.l.desc + 16 * id;
    return { id, desc, addr: dv.getUint32(desc, true), len: dv.getUint32(desc + 8, true) };
  };
  const inject = (src: number, dst: number, hdrLen: number, usedLen?: number): void => {
    const b = nextRx();
    if (!region.contains(b.addr, 16)) return;
    dv.setUint32(b.addr, src >>> 0, true);
    dv.setUint32(b.addr + 4, dst >>> 0, true);
    dv.setUint32(b.addr + 8, 0, true);
    dv.setUint16(b.addr + 12, hdrLen & 0xffff, true);
    dv.setUint16(b.addr + 14, 0, true);
    pushUsed(0, b.id, usedLen ?? 16 + Math.min(hdrLen, 8));
  };

  const run = (): void => {
    dv.setFloat64(MAILBOX_OFFSET, performance.timeOrigin + performance.now(), true);
    const num = ring(0).num;
    switch (attack) {
      case 'rx-used-idx-ahead':
        setUsedIdx(0, usedIdx(0) + num + 1 + rnd.int(1000));
        break;
      case 'rx-used-idx-back':
        setUsedIdx(0, usedIdx(0) - 1 - rnd.int(3));
        break;
      case 'rx-used-id-range':
        pushUsed(0, num + rnd.int(0x10000), 24);
        break;
      case 'rx-used-id-reused': {
        // the id of a buffer already returned (the announcement's), again
        const r = ring(0);
        const last = dv.getUint32(r.base + r.l.usedRing + 8 * ((usedIdx(0) - 1) % r.num), true);
        pushUsed(0, last, 24);
        break;
      }
      case 'rx-used-len': {
        const b = nextRx();
        pushUsed(0, b.id, b.len + 1 + rnd.int(0x10000));
        break;
      }
      case 'rx-desc-addr': {
        const b = nextRx();
        const targets = [0, 0x100, region.size - 8, 0xfffffff0, ring(1).base];
        if (guard > 0) targets.push(guard);
        dv.setUint32(b.desc, rnd.pick(targets), true);
        pushUsed(0, b.id, 24);
        break;
      }
      case 'rx-desc-len': {
        const b = nextRx();
        dv.setUint32(b.desc + 8, 0x10000 + rnd.int(0x7fffffff), true);
        pushUsed(0, b.id, 24);
        break;
      }
      case 'rx-desc-random': {
        const r = ring(0);
        for (let i = 0, n = 1 + rnd.int(64); i < n; i++) dv.setUint8(r.base + r.l.desc + rnd.int(16 * r.num), rnd.int(256));
        break;
      }
      case 'tx-used-idx-ahead':
        setUsedIdx(1, usedIdx(1) + num + 1 + rnd.int(1000));
        break;
      case 'tx-used-id-range':
        pushUsed(1, num + rnd.int(0x10000), 0);
        break;
      case 'hdr-len':
        inject(ep.addr, NS_ADDR, 496 + 1 + rnd.int(0xfe00));
        break;
      case 'hdr-addr-any':
        inject(rnd.pick([0xffffffff, ep.addr]), rnd.pick([0xffffffff, 0x400 + rnd.int(64)]), 8);
        break;
      case 'ns-short':
        ep.trySendTo(new Uint8Array(rnd.int(39)), NS_ADDR);
        break;
      case 'ns-unterminated': {
        const m = new Uint8Array(40).fill(0x41 + rnd.int(26));
        m.set([0, 4, 0, 0, 0, 0, 0, 0], 32);
        ep.trySendTo(m, NS_ADDR);
        break;
      }
      case 'ns-garbage': {
        // 32 random bytes of name, no NUL among them, any address
        const m = new Uint8Array(40);
        for (let i = 0; i < 40; i++) m[i] = i < 32 ? 1 + rnd.int(255) : rnd.int(256);
        ep.trySendTo(m, NS_ADDR);
        break;
      }
      case 'rsc-status':
        dv.setUint8(mem.vdev.statusOffset, 1 + rnd.int(255));
        break;
      case 'rsc-table': {
        // any byte of the table but the status byte (the host reads only that while up)
        let off = rnd.int(RSC_BYTES);
        if (off === mem.vdev.statusOffset) off++;
        dv.setUint8(off, dv.getUint8(off) ^ (1 + rnd.int(255)));
        break;
      }
      case 'random-used': {
        const q = rnd.pick([0, 1] as const);
        const r = ring(q);
        for (let i = 0, n = 1 + rnd.int(8); i < n; i++) dv.setUint8(r.base + r.l.used + rnd.int(4 + 8 * r.num), rnd.int(256));
        break;
      }
      case 'spurious-kicks':
        for (let i = 0, n = 100 + rnd.int(1000); i < n; i++) ctx.notify!();
        break;
    }
    ctx.notify!();
  };
  setTimeout(run, 20);
});
