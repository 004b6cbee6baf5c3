/**
 * Fuzz firmware: announces "fuzz-hostile", then, once, does one attack named by
 * ctx.options.attack with a PRNG seeded by ctx.options.seed. Ring and buffer attacks write the
 * shared memory directly (the worker's workerData holds the SharedArrayBuffer and the layout),
 * bypassing this remote's own transport, as a buggy or malicious firmware would; name-service
 * attacks go through the endpoint API with malformed payloads. Logs "attack <epoch ms>" just
 * before the write so the host can time the report.
 */
import { workerData } from 'node:worker_threads';
import { defineFirmware } from '../src/index.js';
import { AtomicsDoorbell, CTRL_WORDS } from '../src/platform/atomics-doorbell.js';
import type { WorkerBootData } from '../src/platform/worker-entry.js';
import { vringLayout } from '../src/virtio/vring-layout.js';
import { Region } from '../src/memory/region.js';
import { readRpmsgMemory } from '../src/platform/layout.js';
import { prng } from './prng.js';

export const ATTACKS = [
  'rx-used-idx-ahead',
  'rx-used-idx-back',
  'rx-used-id-range',
  'rx-used-len',
  'rx-desc-addr',
  'rx-desc-len',
  'tx-used-idx-ahead',
  'tx-used-id-range',
  'hdr-len',
  'hdr-addr-any',
  'ns-short',
  'ns-unterminated',
  'rsc-status',
  'random-used',
] as const;
export type Attack = (typeof ATTACKS)[number];

const NS_ADDR = 53;

export default defineFirmware((ctx) => {
  const data = workerData as WorkerBootData;
  const attack = ctx.options['attack'] as Attack;
  const rnd = prng(Number(ctx.options['seed'] ?? 1));
  const dv = new DataView(data.sab);
  const bell = new AtomicsDoorbell(new Int32Array(data.sab, data.layout.control!, CTRL_WORDS), 'remote');
  const ep = ctx.createEndpoint(() => {}, { name: 'fuzz-hostile' });
  const ring = (q: 0 | 1) => {
    const v = data.layout.vrings[q];
    return { base: v.da, num: v.num, l: vringLayout(v.num, v.align) };
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
  // The next rx buffer the host posted on vring0 (this remote consumed exactly used.idx so far:
  // the announcement), its descriptor offset and buffer address.
  const nextRx = (): { id: number; desc: number; addr: number; len: number } => {
    const r = ring(0);
    const idx = usedIdx(0);
    const id = dv.getUint16(r.base + r.l.availRing + 2 * (idx % r.num), true) % r.num;
    const desc = r.base + r.l.desc + 16 * id;
    return { id, desc, addr: dv.getUint32(desc, true), len: dv.getUint32(desc + 8, true) };
  };
  const inject = (src: number, dst: number, hdrLen: number, usedLen?: number): void => {
    const b = nextRx();
    if (b.addr + 16 > data.sab.byteLength) return;
    dv.setUint32(b.addr, src >>> 0, true);
    dv.setUint32(b.addr + 4, dst >>> 0, true);
    dv.setUint32(b.addr + 8, 0, true);
    dv.setUint16(b.addr + 12, hdrLen & 0xffff, true);
    dv.setUint16(b.addr + 14, 0, true);
    pushUsed(0, b.id, usedLen ?? 16 + Math.min(hdrLen, 8));
  };

  const run = (): void => {
    ctx.log(`attack ${performance.timeOrigin + performance.now()}`);
    const num = ring(0).num;
    switch (attack) {
      case 'rx-used-idx-ahead':
        setUsedIdx(0, usedIdx(0) + num + 1 + rnd.int(1000));
        break;
      case 'rx-used-idx-back':
        setUsedIdx(0, usedIdx(0) - 1);
        break;
      case 'rx-used-id-range':
        pushUsed(0, num + rnd.int(0x10000), 24);
        break;
      case 'rx-used-len': {
        const b = nextRx();
        pushUsed(0, b.id, b.len + 1 + rnd.int(0x10000));
        break;
      }
      case 'rx-desc-addr': {
        const b = nextRx();
        dv.setUint32(b.desc, rnd.pick([0, 0x100, data.sab.byteLength - 8, 0xfffffff0, data.layout.vrings[1].da]), true);
        pushUsed(0, b.id, 24);
        break;
      }
      case 'rx-desc-len': {
        const b = nextRx();
        dv.setUint32(b.desc + 8, 0x10000 + rnd.int(0x7fffffff), true);
        pushUsed(0, b.id, 24);
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
        const m = new Uint8Array(40).fill(0x41);
        m.set([0, 4, 0, 0, 0, 0, 0, 0], 32);
        ep.trySendTo(m, NS_ADDR);
        break;
      }
      case 'rsc-status': {
        const vdev = readRpmsgMemory(new Region(data.sab), data.layout.rscOffset, data.layout.rscSize).vdev;
        dv.setUint8(vdev.statusOffset, rnd.int(256));
        break;
      }
      case 'random-used': {
        const q = rnd.pick([0, 1] as const);
        const r = ring(q);
        const off = r.base + r.l.used + rnd.int(4 + 8 * r.num);
        dv.setUint8(off, rnd.int(256));
        break;
      }
    }
    bell.kick();
  };
  setTimeout(run, 20);
});
