/**
 * The vhost-user back-end's protocol state for one front-end connection (QEMU
 * docs/interop/vhost-user.rst, "Front-end message types"): features, the memory table, and
 * two vrings (rpmsg: vring 0 remote → host, vring 1 host → remote). It owns every descriptor
 * and mapping the front-end hands over and releases them all in `close()`.
 *
 * A vring is usable once it has a size (SET_VRING_NUM), addresses inside the memory table
 * (SET_VRING_ADDR), a kick fd and SET_VRING_ENABLE 1; when both are, `start` fires; disabling
 * one, GET_VRING_BASE or RESET_OWNER fires `stop`. The order Linux's virtio_uml uses: SET_OWNER,
 * GET_FEATURES, GET/SET_PROTOCOL_FEATURES, SET_SLAVE_REQ_FD, SET_FEATURES, SET_MEM_TABLE, per
 * vring CALL, NUM, BASE, ADDR, then per vring KICK, ENABLE 1.
 *
 * Ring addresses are front-end virtual addresses; the rings must have the legacy contiguous
 * layout (desc, avail right after, used at the next multiple of a power-of-two alignment),
 * which is what Linux's vring_create_virtqueue allocates, and both must lie in one region (the
 * virtqueue addresses one Region; mapping and placement are vhost-user-memory.ts). Buffer addresses are checked by the virtqueue against that
 * region: one outside it is a violation (ERR_VQ_DESC_ADDR), never an access.
 */
import { VhostUserError, type VhostUserErrorCode } from '../errors.js';
import type { GuestMemory, GuestRegion } from '../memory/guest-memory.js';
import type { NativeAddon } from '../native/addon.js';
import { VRING_MAX_NUM } from '../virtio/constants.js';
import type { RingPlacement } from '../virtio/vring-layout.js';
import { mapMemTable, placeVring } from './vhost-user-memory.js';
import {
  Req,
  VHOST_USER_FLAG_NEED_REPLY,
  decodeBits,
  decodeNone,
  decodeVringAddr,
  decodeVringFd,
  decodeVringState,
  encodeU64Reply,
  encodeVringStateReply,
  expectFds,
  requestName,
  type VhostUserMessage,
} from './vhost-user-message.js';

export const NUM_VRINGS = 2;

export interface VhostUserDeviceOptions {
  native: NativeAddon;
  /** Feature bits offered to GET_FEATURES. */
  features: bigint;
  /** Protocol feature bits offered to GET_PROTOCOL_FEATURES. */
  protocolFeatures: bigint;
  /** Largest vring size accepted (default 1024; Linux's virtio_uml uses 256). */
  maxVringNum?: number;
  /**
   * Refuse memory regions whose file the front-end could shrink (default false). A region's
   * file is sealed against shrinking where it allows that (a memfd with sealing allowed, as
   * QEMU's memory-backend-memfd makes); one that cannot be sealed (User-Mode Linux's memory
   * file, any plain file) could be truncated by the front-end after the mapping, and touching
   * the lost pages raises SIGBUS in this process. With this option such memory closes the
   * connection (ERR_VHOST_MEM) instead.
   */
  requireSealedMemory?: boolean;
  /** Both vrings are usable. */
  onStart: () => void;
  /** A vring stopped being usable (disabled, GET_VRING_BASE, RESET_OWNER). */
  onStop: () => void;
  /** A vring's kick fd was replaced while running. */
  onKickChanged?: (index: number) => void;
}

interface Vring {
  num: number;
  placement: RingPlacement | undefined;
  region: GuestRegion | undefined;
  kickFd: number;
  callFd: number;
  errFd: number;
  enabled: boolean;
}

const newVring = (): Vring => ({ num: 0, placement: undefined, region: undefined, kickFd: -1, callFd: -1, errFd: -1, enabled: false });

export class VhostUserDevice {
  private readonly o: VhostUserDeviceOptions;
  private readonly native: NativeAddon;
  private readonly maxNum: number;
  private readonly vrings: Vring[] = [newVring(), newVring()];
  private mappings: ArrayBuffer[] = [];
  private slaveFd = -1;
  /** Negotiated feature bits (SET_FEATURES); 0 until then. */
  features = 0n;
  protocolFeatures = 0n;
  memory: GuestMemory | undefined;
  /** Every region of the current memory table is sealed against shrinking (see requireSealedMemory). */
  memorySealed = false;
  /** Both vrings usable (between onStart and onStop). */
  running = false;
  /** Messages handled. */
  messages = 0;
  private closed = false;

  constructor(options: VhostUserDeviceOptions) {
    this.o = options;
    this.native = options.native;
    this.maxNum = Math.min(options.maxVringNum ?? 1024, VRING_MAX_NUM);
  }

  /** The vring's placement in `region()` (defined while running). */
  placement(index: number): RingPlacement {
    const p = this.vrings[index]?.placement;
    if (p === undefined) throw new VhostUserError('ERR_VHOST_STATE', 0, `vring ${index} is not set up`);
    return p;
  }

  /** The region both rings (and so every buffer) live in; defined while running. */
  region(): GuestRegion {
    const r = this.vrings[0]!.region;
    if (r === undefined) throw new VhostUserError('ERR_VHOST_STATE', 0, 'vrings are not set up');
    return r;
  }

  kickFd(index: number): number {
    return this.vrings[index]!.kickFd;
  }

  /** The call fd, or -1 (none, or the front-end polls). */
  callFd(index: number): number {
    return this.vrings[index]!.callFd;
  }

  /**
   * Handle one message: returns the reply to send (if any). Throws VhostUserError for a
   * violation; the message's leftover fds are the caller's to close.
   */
  handle(msg: VhostUserMessage): Uint8Array | undefined {
    if (this.closed) throw new VhostUserError('ERR_VHOST_STATE', msg.request, 'device closed');
    this.messages++;
    const r = msg.request;
    let reply: Uint8Array | undefined;
    switch (r) {
      case Req.SET_OWNER:
        decodeNone(msg);
        break;
      case Req.RESET_OWNER:
        decodeNone(msg);
        this.reset();
        break;
      case Req.GET_FEATURES:
      case Req.GET_PROTOCOL_FEATURES:
        decodeNone(msg);
        return encodeU64Reply(r, r === Req.GET_FEATURES ? this.o.features : this.o.protocolFeatures);
      case Req.SET_FEATURES:
        this.features = this.acceptBits(msg, this.o.features, 'features');
        break;
      case Req.SET_PROTOCOL_FEATURES:
        this.protocolFeatures = this.acceptBits(msg, this.o.protocolFeatures, 'protocol features');
        break;
      case Req.SET_SLAVE_REQ_FD:
        decodeNone({ ...msg, fds: [] });
        expectFds(msg, 1);
        if (this.slaveFd >= 0) this.native.close(this.slaveFd);
        this.slaveFd = msg.fds.pop()!;
        break;
      case Req.SET_MEM_TABLE:
        this.setMemTable(msg);
        break;
      case Req.SET_VRING_ADDR:
        this.setVringAddr(msg);
        break;
      case Req.SET_VRING_KICK:
      case Req.SET_VRING_CALL:
      case Req.SET_VRING_ERR:
        this.setVringFd(msg);
        break;
      case Req.SET_VRING_NUM:
      case Req.SET_VRING_BASE:
      case Req.GET_VRING_BASE:
      case Req.SET_VRING_ENABLE:
        if (r === Req.GET_VRING_BASE) return this.vringState(msg);
        this.vringState(msg);
        break;
      default:
        this.fail('ERR_VHOST_REQUEST', r, `unsupported request ${requestName(r)}`);
    }
    if ((msg.flags & VHOST_USER_FLAG_NEED_REPLY) !== 0) reply = encodeU64Reply(r, 0n);
    return reply;
  }

  /** Set by the rpmsg side: the next avail index a stopped vring would resume at. */
  onGetBase: ((index: number) => number) | undefined;

  /** Release every fd and mapping (idempotent). */
  close(): void {
    if (this.closed) return;
    this.stopRings();
    this.closed = true;
    for (const v of this.vrings) for (const fd of [v.kickFd, v.callFd, v.errFd]) if (fd >= 0) this.native.close(fd);
    this.vrings.splice(0, this.vrings.length, newVring(), newVring());
    if (this.slaveFd >= 0) this.native.close(this.slaveFd);
    this.slaveFd = -1;
    this.unmap();
  }

  private reset(): void {
    this.stopRings();
    for (const v of this.vrings) {
      for (const fd of [v.kickFd, v.callFd, v.errFd]) if (fd >= 0) this.native.close(fd);
      Object.assign(v, newVring());
    }
    this.features = 0n;
  }

  private startRings(): void {
    const r0 = this.vrings[0]!.region;
    if (r0 === undefined || this.vrings.some((v) => v.region !== r0)) {
      this.fail('ERR_VHOST_MEM', Req.SET_VRING_ENABLE, 'the two vrings lie in different memory regions');
    }
    this.running = true;
    this.o.onStart();
  }

  private stopRings(): void {
    if (!this.running) return;
    this.running = false;
    this.o.onStop();
  }

  private vring(request: number, index: number, setup: boolean): Vring {
    const v = this.vrings[index];
    if (v === undefined) this.fail('ERR_VHOST_VRING', request, `vring index ${index} (rpmsg has ${NUM_VRINGS})`, { index });
    if (setup && this.running) this.fail('ERR_VHOST_STATE', request, `${requestName(request)} while vring ${index} is running`);
    return v;
  }

  /** The requests that carry a vhost_vring_state {index, num}; GET_VRING_BASE's reply. */
  private vringState(msg: VhostUserMessage): Uint8Array | undefined {
    const r = msg.request;
    const { index, num } = decodeVringState(msg);
    const v = this.vring(r, index, r === Req.SET_VRING_NUM || r === Req.SET_VRING_BASE);
    switch (r) {
      case Req.SET_VRING_NUM:
        if (!(num > 0 && (num & (num - 1)) === 0 && num <= this.maxNum)) {
          this.fail('ERR_VHOST_VRING', r, `vring ${index}: size ${num} is not a power of two in 1..${this.maxNum}`, { num });
        }
        v.num = num;
        v.placement = undefined;
        v.region = undefined;
        return undefined;
      case Req.SET_VRING_BASE:
        // The virtqueue starts from index 0 (a fresh ring); resuming a used ring is not supported.
        if (num !== 0) this.fail('ERR_VHOST_VRING', r, `vring ${index}: base ${num} (only 0, a fresh ring, is supported)`, { base: num });
        return undefined;
      case Req.GET_VRING_BASE: {
        const consumed = this.onGetBase?.(index) ?? 0;
        this.stopRings();
        this.vrings[index]!.enabled = false;
        return encodeVringStateReply(r, index, consumed);
      }
      default: // SET_VRING_ENABLE
        if (num > 1) this.fail('ERR_VHOST_VRING', r, `vring ${index}: enable ${num} (0 or 1)`, { num });
        if (num === 1) {
          if (v.placement === undefined || v.kickFd < 0) this.fail('ERR_VHOST_STATE', r, `vring ${index} enabled before its size, addresses and kick fd`);
          v.enabled = true;
          if (!this.running && this.vrings.every((x) => x.enabled)) this.startRings();
        } else {
          v.enabled = false;
          this.stopRings();
        }
        return undefined;
    }
  }

  private setMemTable(msg: VhostUserMessage): void {
    if (this.running) this.fail('ERR_VHOST_STATE', msg.request, 'SET_MEM_TABLE while the vrings are running');
    const { memory, buffers, sealed } = mapMemTable(this.native, msg, this.o.requireSealedMemory === true);
    this.unmap();
    this.memory = memory;
    this.memorySealed = sealed;
    this.mappings = buffers;
    for (const v of this.vrings) {
      v.placement = undefined;
      v.region = undefined;
    }
  }

  private setVringAddr(msg: VhostUserMessage): void {
    const r = msg.request;
    const a = decodeVringAddr(msg);
    const v = this.vring(r, a.index, true);
    if (a.flags !== 0) this.fail('ERR_VHOST_VRING', r, `vring ${a.index}: flags 0x${a.flags.toString(16)} (dirty logging is not supported)`);
    if (v.num === 0 || this.memory === undefined) this.fail('ERR_VHOST_STATE', r, `vring ${a.index}: addresses before its size and the memory table`);
    const { placement, region } = placeVring(this.memory, a, v.num, r);
    v.placement = placement;
    v.region = region;
  }

  private setVringFd(msg: VhostUserMessage): void {
    const r = msg.request;
    const { index, noFd } = decodeVringFd(msg);
    const v = this.vring(r, index, r === Req.SET_VRING_KICK && noFd);
    if (r === Req.SET_VRING_KICK && noFd) this.fail('ERR_VHOST_REQUEST', r, 'polling mode (kick without fd) is not supported');
    const fd = noFd ? -1 : msg.fds.pop()!;
    if (fd >= 0) this.native.setNonBlocking(fd);
    const field = r === Req.SET_VRING_KICK ? 'kickFd' : r === Req.SET_VRING_CALL ? 'callFd' : 'errFd';
    if (v[field] >= 0) this.native.close(v[field]);
    v[field] = fd;
    if (field === 'kickFd' && this.running) this.o.onKickChanged?.(index);
  }

  private unmap(): void {
    for (const b of this.mappings) this.native.munmap(b);
    this.mappings = [];
    this.memory = undefined;
  }

  /** The feature bits a SET_*FEATURES carries, refused when the driver sets one not `offered`. */
  private acceptBits(msg: VhostUserMessage, offered: bigint, what: string): bigint {
    const f = decodeBits(msg);
    if ((f & ~offered) !== 0n) this.fail('ERR_VHOST_REQUEST', msg.request, `${what} 0x${f.toString(16)} not offered`);
    return f;
  }

  private fail(code: VhostUserErrorCode, request: number, message: string, details?: Record<string, number>): never {
    throw new VhostUserError(code, request, message, details);
  }
}
