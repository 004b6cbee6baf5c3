/**
 * The receive path (Linux rpmsg_recv_done / rpmsg_recv_single): take what the peer published,
 * check each buffer through header.ts, deliver it, give the buffer back unless an endpoint
 * holds it. A used length beyond the buffer, a buffer shorter than a header or a header `len`
 * beyond the buffer is dropped and counted; nothing here throws for peer-written data.
 */
import { RpmsgError } from '../errors.js';
import type { Region } from '../memory/region.js';
import type { RpmsgLink } from '../rpmsg/link.js';
import type { ViewCache } from './buffer-pool.js';
import { RPMSG_HDR_SIZE, headerDst, headerPayloadLen, headerSrc } from './header.js';
import type { RingSide } from './ring-side.js';
import { publishDrop } from '../rpmsg/diagnostics.js';

export class Receiver {
  /** True while messages are being delivered (sends then publish at the end of the batch). */
  inRx = false;
  private readonly views: (Uint8Array | undefined)[];
  private readonly held: Uint8Array;
  private readonly u16: Uint16Array;
  private readonly u32: Uint32Array;
  private readonly base: number;
  private curToken = -1;
  private curHeld = false;

  constructor(
    private readonly side: RingSide,
    private readonly link: RpmsgLink,
    region: Region,
    private readonly viewCache: ViewCache,
    private readonly closed: () => boolean,
  ) {
    this.u16 = region.u16;
    this.u32 = region.u32;
    this.base = region.byteOffset;
    this.views = new Array<Uint8Array | undefined>(side.rx.count).fill(undefined);
    this.held = new Uint8Array(side.rx.count);
  }

  /** Deliver up to `budget` messages; returns how many buffers were taken. */
  receive(budget: number): number {
    const side = this.side;
    let n = 0;
    this.inRx = true;
    try {
      for (; n < budget; n++) {
        const t = side.nextRx();
        if (t < 0) break;
        this.receiveSingle(t, side.rxOff, side.rxLen);
        if (this.closed()) break;
      }
    } finally {
      this.inRx = false;
      this.curToken = -1;
    }
    return n;
  }

  private receiveSingle(t: number, off: number, bufLen: number): void {
    const len = bufLen < 0 ? -1 : headerPayloadLen(this.u16, off, bufLen);
    if (len < 0) {
      this.link.countInvalid();
      const hdr = bufLen >= RPMSG_HDR_SIZE; // header words readable, though the lengths are wrong
      publishDrop(this.link, 'invalid-length', hdr ? headerSrc(this.u32, off) : -1, hdr ? headerDst(this.u32, off) : -1, hdr ? this.u16[(off + 12) >>> 1]! : -1);
      this.side.recycleRx(t, 0);
      return;
    }
    const start = off + RPMSG_HDR_SIZE;
    let view = this.views[t];
    if (view === undefined || view.length !== len || view.byteOffset !== this.base + start) {
      view = this.viewCache.viewAt(start, len);
      this.views[t] = view;
    }
    this.curToken = t;
    this.curHeld = false;
    this.link.deliver(headerSrc(this.u32, off), headerDst(this.u32, off), view);
    this.curToken = -1;
    if (!this.curHeld && !this.closed()) this.side.recycleRx(t, bufLen);
  }

  /** Keep the buffer being delivered; returns its token. */
  hold(): number {
    if (this.curToken < 0) throw new RpmsgError('EINVAL', 'no rx buffer is being delivered');
    this.curHeld = true;
    this.held[this.curToken] = 1;
    return this.curToken;
  }

  /** Give a held buffer back to the peer (published by the caller). */
  release(token: number): void {
    if (!(token >= 0 && token < this.held.length) || this.held[token] === 0) {
      throw new RpmsgError('EINVAL', 'rx buffer not held', { token });
    }
    this.held[token] = 0;
    if (!this.closed()) this.side.recycleRx(token, this.side.rx.len[token]!);
  }
}
