/**
 * A minimal vhost-user front-end for the protocol tests: exact bytes on the socket, guest
 * memory in a memfd, and the driver side of the rings with the package's own Virtqueue.
 */
import { FD_READABLE, type NativeAddon } from '../../src/native/addon.js';
import { Region } from '../../src/memory/region.js';
import { Virtqueue } from '../../src/virtio/virtqueue.js';

export const REQ = {
  GET_FEATURES: 1, SET_FEATURES: 2, SET_OWNER: 3, SET_MEM_TABLE: 5, SET_VRING_NUM: 8, SET_VRING_ADDR: 9,
  SET_VRING_BASE: 10, GET_VRING_BASE: 11, SET_VRING_KICK: 12, SET_VRING_CALL: 13, GET_PROTOCOL_FEATURES: 15,
  SET_PROTOCOL_FEATURES: 16, SET_VRING_ENABLE: 18,
} as const;
export const NEED_REPLY = 0x8;

/** Guest memory: 1 MiB at guest address 0x4000_0000, front-end address 0x7f00_0000_0000. */
export const GUEST = { guestAddr: 0x4000_0000, userAddr: 0x7f00_0000_0000, size: 0x10_0000 };
export const RING = [0x1000, 0x5000] as const; // ring offsets in the memory (num 256, align 4096)

export function u64(...values: (number | bigint)[]): Uint8Array {
  const b = new Uint8Array(8 * values.length);
  const dv = new DataView(b.buffer);
  values.forEach((v, i) => dv.setBigUint64(8 * i, BigInt(v), true));
  return b;
}

export function u32(...values: number[]): Uint8Array {
  const b = new Uint8Array(4 * values.length);
  const dv = new DataView(b.buffer);
  values.forEach((v, i) => dv.setUint32(4 * i, v >>> 0, true));
  return b;
}

export const cat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
};

export function memTablePayload(regions: { guestAddr: number; size: number; userAddr: number; mmapOffset: number }[], room = regions.length): Uint8Array {
  const parts = [u32(regions.length, 0)];
  for (const r of regions) parts.push(u64(r.guestAddr, r.size, r.userAddr, r.mmapOffset));
  for (let i = regions.length; i < room; i++) parts.push(new Uint8Array(32));
  return cat(...parts);
}

/** vhost_vring_addr for ring `i` at memory offset `off` (legacy layout, num 256, align 4096). */
export function vringAddrPayload(i: number, off: number, base = GUEST.userAddr): Uint8Array {
  const desc = base + off;
  const avail = desc + 16 * 256;
  const used = desc + Math.ceil((16 * 256 + 6 + 2 * 256) / 4096) * 4096;
  return cat(u32(i, 0), u64(desc, used, avail, 0xffff_ffff_ffff_ffffn));
}

export class FrontEnd {
  readonly fd: number;
  constructor(
    private readonly n: NativeAddon,
    path: string,
  ) {
    this.fd = n.connectUnix(path);
  }

  send(request: number, payload: Uint8Array = new Uint8Array(0), fds: number[] = [], flags = 1, size = payload.length): void {
    const sent = this.n.sendFds(this.fd, cat(u32(request, flags, size), payload), fds);
    if (sent < 0) throw new Error('socket full');
  }

  /** The next reply (request, flags, u64 payload), or 'eof' when the back-end closed. */
  async reply(ms = 10_000): Promise<{ request: number; flags: number; value: bigint } | 'eof'> {
    const buf = new Uint8Array(20);
    let have = 0;
    const deadline = Date.now() + ms;
    while (have < 20) {
      const k = this.n.read(this.fd, buf.subarray(have));
      if (k === 0) return 'eof';
      if (k > 0) {
        have += k;
        continue;
      }
      if (Date.now() > deadline) throw new Error('no reply');
      await this.readable(deadline - Date.now());
    }
    const dv = new DataView(buf.buffer);
    return { request: dv.getUint32(0, true), flags: dv.getUint32(4, true), value: dv.getBigUint64(12, true) };
  }

  /** Send with NEED_REPLY and expect the ack 0. */
  async acked(request: number, payload?: Uint8Array, fds: number[] = []): Promise<void> {
    this.send(request, payload, fds, 1 | NEED_REPLY);
    const r = await this.reply();
    if (r === 'eof' || r.value !== 0n || r.request !== request) throw new Error(`request ${request} not acked: ${JSON.stringify(r, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}`);
  }

  /** True once the back-end has closed the connection (reads end of file). */
  async closedByPeer(ms = 10_000): Promise<boolean> {
    const deadline = Date.now() + ms;
    const buf = new Uint8Array(64);
    for (;;) {
      let k: number;
      try {
        k = this.n.read(this.fd, buf);
      } catch {
        return true; // ECONNRESET
      }
      if (k === 0) return true;
      if (k < 0) {
        if (Date.now() > deadline) return false;
        await this.readable(deadline - Date.now());
      }
    }
  }

  readable(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, Math.max(ms, 1));
      const w = this.n.watch(this.fd, FD_READABLE, done);
      function done(): void {
        clearTimeout(timer);
        n.unwatch(w);
        resolve();
      }
      const n = this.n;
    });
  }

  close(): void {
    this.n.close(this.fd);
  }
}

/** Guest memory and the two rings (driver side), as a guest kernel would set them up. */
export class Guest {
  readonly memfd: number;
  readonly region: Region;
  readonly vq: [Virtqueue, Virtqueue];
  readonly kick: [number, number];
  readonly call: [number, number];
  constructor(private readonly n: NativeAddon) {
    this.memfd = n.memfd('vhost-test-guest', GUEST.size);
    this.region = new Region(n.mmapFd(this.memfd, GUEST.size, 0), { busBase: GUEST.guestAddr });
    const mk = (i: 0 | 1): Virtqueue => new Virtqueue({ name: `guest-vq${i}`, region: this.region, offset: RING[i], num: 256, align: 4096, side: 'driver' });
    this.vq = [mk(0), mk(1)];
    this.kick = [n.eventfd(0), n.eventfd(0)];
    this.call = [n.eventfd(0), n.eventfd(0)];
  }

  /** The full virtio_uml start-up sequence on `fe`, every message acked. */
  async handshake(fe: FrontEnd): Promise<void> {
    fe.send(REQ.SET_OWNER);
    fe.send(REQ.GET_FEATURES);
    const f = await fe.reply();
    if (f === 'eof') throw new Error('eof');
    fe.send(REQ.GET_PROTOCOL_FEATURES);
    const p = await fe.reply();
    if (p === 'eof') throw new Error('eof');
    await fe.acked(REQ.SET_PROTOCOL_FEATURES, u64(p.value));
    await fe.acked(REQ.SET_FEATURES, u64(f.value));
    await fe.acked(REQ.SET_MEM_TABLE, memTablePayload([{ ...GUEST, mmapOffset: 0 }], 2), [this.memfd]);
    for (const i of [0, 1] as const) {
      await fe.acked(REQ.SET_VRING_CALL, u64(i), [this.call[i]]);
      await fe.acked(REQ.SET_VRING_NUM, u32(i, 256));
      await fe.acked(REQ.SET_VRING_BASE, u32(i, 0));
      await fe.acked(REQ.SET_VRING_ADDR, vringAddrPayload(i, RING[i]));
    }
    for (const i of [0, 1] as const) {
      await fe.acked(REQ.SET_VRING_KICK, u64(i), [this.kick[i]]);
      await fe.acked(REQ.SET_VRING_ENABLE, u32(i, 1));
    }
  }

  /** Post `count` 512-byte rx buffers on vring 0 at `addr(i)` and kick. */
  postRx(count: number, addr: (i: number) => number = (i) => GUEST.guestAddr + 0x10000 + 512 * i): void {
    for (let i = 0; i < count; i++) this.vq[0].add(addr(i), 512, true, i);
    this.vq[0].publish();
    this.n.eventfdWrite(this.kick[0], 1);
  }

  close(): void {
    for (const fd of [this.memfd, ...this.kick, ...this.call]) this.n.close(fd);
    this.n.munmap(this.region.buffer as ArrayBuffer);
  }
}
