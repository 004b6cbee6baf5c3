/**
 * vhost-user wire format (QEMU docs/interop/vhost-user.rst): a 12-byte header {request u32,
 * flags u32, size u32} then `size` payload bytes, little-endian, file descriptors passed with
 * SCM_RIGHTS alongside. This file reads messages off a non-blocking socket and decodes and
 * validates each payload; it knows nothing of devices. Every field comes from the front-end and
 * is checked before use; a violation is a VhostUserError (the caller closes the connection).
 */
import { VhostUserError } from '../errors.js';
import type { NativeAddon } from '../native/addon.js';

export const VHOST_USER_HDR_SIZE = 12;
/** Largest payload accepted (the largest we use, a full 8-region memory table, is 264 bytes). */
export const VHOST_USER_MAX_PAYLOAD = 4096;
/** Most fds one message may carry (SET_MEM_TABLE: one per region). */
export const VHOST_USER_MAX_FDS = 8;
export const VHOST_USER_MAX_REGIONS = 8;

// Header flags.
export const VHOST_USER_VERSION = 0x1;
export const VHOST_USER_VERSION_MASK = 0x3;
export const VHOST_USER_FLAG_REPLY = 0x4;
export const VHOST_USER_FLAG_NEED_REPLY = 0x8;

/** Feature bits of SET_FEATURES beyond the device's own (the upper 32 bits of 64). */
export const VIRTIO_F_VERSION_1 = 32;
export const VHOST_USER_F_PROTOCOL_FEATURES = 30;

/** Protocol feature bits. */
export const VHOST_USER_PROTOCOL_F_REPLY_ACK = 3;
export const VHOST_USER_PROTOCOL_F_SLAVE_REQ = 5;

/** SET_VRING_KICK/CALL payload: bit 8 = no fd (polling), bits 0..7 the vring index. */
export const VHOST_USER_VRING_INDEX_MASK = 0xff;
export const VHOST_USER_VRING_NOFD_MASK = 0x100;

export const Req = {
  GET_FEATURES: 1,
  SET_FEATURES: 2,
  SET_OWNER: 3,
  RESET_OWNER: 4,
  SET_MEM_TABLE: 5,
  SET_LOG_BASE: 6,
  SET_LOG_FD: 7,
  SET_VRING_NUM: 8,
  SET_VRING_ADDR: 9,
  SET_VRING_BASE: 10,
  GET_VRING_BASE: 11,
  SET_VRING_KICK: 12,
  SET_VRING_CALL: 13,
  SET_VRING_ERR: 14,
  GET_PROTOCOL_FEATURES: 15,
  SET_PROTOCOL_FEATURES: 16,
  GET_QUEUE_NUM: 17,
  SET_VRING_ENABLE: 18,
  SET_SLAVE_REQ_FD: 21,
} as const;

/** Names for logs and errors (the spec's names, without the VHOST_USER_ prefix). */
export const REQUEST_NAMES: Readonly<Record<number, string>> = {
  1: 'GET_FEATURES', 2: 'SET_FEATURES', 3: 'SET_OWNER', 4: 'RESET_OWNER', 5: 'SET_MEM_TABLE',
  6: 'SET_LOG_BASE', 7: 'SET_LOG_FD', 8: 'SET_VRING_NUM', 9: 'SET_VRING_ADDR', 10: 'SET_VRING_BASE',
  11: 'GET_VRING_BASE', 12: 'SET_VRING_KICK', 13: 'SET_VRING_CALL', 14: 'SET_VRING_ERR',
  15: 'GET_PROTOCOL_FEATURES', 16: 'SET_PROTOCOL_FEATURES', 17: 'GET_QUEUE_NUM', 18: 'SET_VRING_ENABLE',
  19: 'SEND_RARP', 20: 'NET_SET_MTU', 21: 'SET_SLAVE_REQ_FD', 22: 'IOTLB_MSG', 23: 'SET_VRING_ENDIAN',
  24: 'GET_CONFIG', 25: 'SET_CONFIG',
};

export function requestName(request: number): string {
  return REQUEST_NAMES[request] ?? `request ${request}`;
}

export interface VhostUserMessage {
  request: number;
  flags: number;
  /** The payload (a view valid until the next message is read). */
  payload: DataView;
  /** Descriptors that came with the message; whoever keeps one removes it from here. */
  fds: number[];
}

/**
 * Reads whole messages from a non-blocking stream socket: the header first, then exactly
 * `size` payload bytes, so that descriptors are always attached to the message they came
 * with. Partial reads are resumed on the next call.
 */
export class VhostUserReader {
  private readonly buf = new Uint8Array(VHOST_USER_HDR_SIZE + VHOST_USER_MAX_PAYLOAD);
  private readonly dv = new DataView(this.buf.buffer);
  private have = 0;
  private want = VHOST_USER_HDR_SIZE;
  private fds: number[] = [];

  constructor(
    private readonly native: NativeAddon,
    private readonly fd: number,
  ) {}

  /**
   * The next complete message, null when the socket has no more bytes now, 'eof' when the
   * front-end closed between messages. Throws VhostUserError for a malformed one (its fds are
   * closed first).
   */
  next(): VhostUserMessage | null | 'eof' {
    for (;;) {
      const got = this.native.recvFds(this.fd, this.buf.subarray(this.have, this.want), VHOST_USER_MAX_FDS);
      if (got === null) return null;
      for (const f of got.fds) this.fds.push(f);
      if (got.droppedFds > 0) this.fail('ERR_VHOST_SIZE', 'more descriptors than a message may carry', { max: VHOST_USER_MAX_FDS });
      if (got.bytes === 0) {
        if (this.have === 0 && this.fds.length === 0) return 'eof';
        this.fail('ERR_VHOST_HEADER', 'connection closed inside a message', { have: this.have, want: this.want });
      }
      this.have += got.bytes;
      if (this.have < this.want) continue;
      if (this.want === VHOST_USER_HDR_SIZE) {
        this.checkHeader();
        this.want += this.dv.getUint32(8, true);
        if (this.have < this.want) continue;
      }
      const msg: VhostUserMessage = {
        request: this.dv.getUint32(0, true),
        flags: this.dv.getUint32(4, true),
        payload: new DataView(this.buf.buffer, VHOST_USER_HDR_SIZE, this.want - VHOST_USER_HDR_SIZE),
        fds: this.fds,
      };
      this.fds = [];
      this.have = 0;
      this.want = VHOST_USER_HDR_SIZE;
      return msg;
    }
  }

  /** Close descriptors of a message not completely read. */
  dispose(): void {
    for (const f of this.fds.splice(0)) this.native.close(f);
  }

  private checkHeader(): void {
    const flags = this.dv.getUint32(4, true);
    const size = this.dv.getUint32(8, true);
    if ((flags & VHOST_USER_VERSION_MASK) !== VHOST_USER_VERSION || (flags & VHOST_USER_FLAG_REPLY) !== 0) {
      this.fail('ERR_VHOST_HEADER', `bad header flags 0x${flags.toString(16)} (version 1, no reply bit)`, { flags });
    }
    if (size > VHOST_USER_MAX_PAYLOAD) {
      this.fail('ERR_VHOST_HEADER', `payload of ${size} bytes above the limit of ${VHOST_USER_MAX_PAYLOAD}`, { size });
    }
  }

  private fail(code: 'ERR_VHOST_HEADER' | 'ERR_VHOST_SIZE', message: string, details: Record<string, number>): never {
    this.dispose();
    const request = this.have >= 4 ? this.dv.getUint32(0, true) : 0;
    throw new VhostUserError(code, request, message, details);
  }
}

// ------------------------------------------------------------------ payload decoders

function expectSize(msg: VhostUserMessage, min: number, max = min): void {
  const n = msg.payload.byteLength;
  if (n < min || n > max) {
    throw new VhostUserError('ERR_VHOST_SIZE', msg.request, `${requestName(msg.request)}: payload of ${n} bytes, expected ${min === max ? min : `${min}..${max}`}`, {
      size: n,
    });
  }
}

/** `count` fds exactly (fds beyond those are a violation, never silently kept). */
export function expectFds(msg: VhostUserMessage, count: number): void {
  if (msg.fds.length !== count) {
    throw new VhostUserError('ERR_VHOST_SIZE', msg.request, `${requestName(msg.request)}: ${msg.fds.length} descriptors, expected ${count}`, {
      fds: msg.fds.length,
    });
  }
}

/** A u64 as a number; values beyond 2^53 become Infinity (outside any region or limit). */
function u64(dv: DataView, off: number): number {
  const v = dv.getBigUint64(off, true);
  return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : Infinity;
}

/** Requests without payload (SET_OWNER, GET_FEATURES, ...). */
export function decodeNone(msg: VhostUserMessage): void {
  expectSize(msg, 0);
  expectFds(msg, 0);
}

/** A 64-bit bit mask (features). */
export function decodeBits(msg: VhostUserMessage): bigint {
  expectSize(msg, 8);
  expectFds(msg, 0);
  return msg.payload.getBigUint64(0, true);
}

/** SET_VRING_KICK/CALL/ERR: index and whether an fd comes with it. */
export function decodeVringFd(msg: VhostUserMessage): { index: number; noFd: boolean } {
  expectSize(msg, 8);
  const v = msg.payload.getBigUint64(0, true);
  const index = Number(v & BigInt(VHOST_USER_VRING_INDEX_MASK));
  const noFd = (v & BigInt(VHOST_USER_VRING_NOFD_MASK)) !== 0n;
  if ((v & ~BigInt(VHOST_USER_VRING_INDEX_MASK | VHOST_USER_VRING_NOFD_MASK)) !== 0n) {
    throw new VhostUserError('ERR_VHOST_VRING', msg.request, `${requestName(msg.request)}: unknown bits in 0x${v.toString(16)}`);
  }
  expectFds(msg, noFd ? 0 : 1);
  return { index, noFd };
}

/** SET_VRING_NUM/BASE/ENABLE, GET_VRING_BASE: struct vhost_vring_state {index, num}. */
export function decodeVringState(msg: VhostUserMessage): { index: number; num: number } {
  expectSize(msg, 8);
  expectFds(msg, 0);
  return { index: msg.payload.getUint32(0, true), num: msg.payload.getUint32(4, true) };
}

export interface VringAddr {
  index: number;
  flags: number;
  /** Front-end (user) addresses of the three parts. */
  desc: number;
  used: number;
  avail: number;
}

/** SET_VRING_ADDR: struct vhost_vring_addr {index, flags, desc, used, avail, log}. */
export function decodeVringAddr(msg: VhostUserMessage): VringAddr {
  expectSize(msg, 40);
  expectFds(msg, 0);
  const p = msg.payload;
  return { index: p.getUint32(0, true), flags: p.getUint32(4, true), desc: u64(p, 8), used: u64(p, 16), avail: u64(p, 24) };
}

export interface MemRegionSpec {
  guestAddr: number;
  size: number;
  userAddr: number;
  mmapOffset: number;
}

/**
 * SET_MEM_TABLE: {nregions u32, padding u32, regions[]{guest_addr, size, user_addr,
 * mmap_offset}}, one fd per region. The payload may be longer than nregions entries (Linux's
 * virtio_uml always sends room for 2), never longer than 8.
 */
export function decodeMemTable(msg: VhostUserMessage): MemRegionSpec[] {
  const n = msg.payload.byteLength >= 4 ? msg.payload.getUint32(0, true) : 0;
  if (n < 1 || n > VHOST_USER_MAX_REGIONS) {
    throw new VhostUserError('ERR_VHOST_MEM', msg.request, `SET_MEM_TABLE: ${n} regions (1..${VHOST_USER_MAX_REGIONS})`, { nregions: n });
  }
  expectSize(msg, 8 + 32 * n, 8 + 32 * VHOST_USER_MAX_REGIONS);
  expectFds(msg, n);
  const p = msg.payload;
  const out: MemRegionSpec[] = [];
  for (let i = 0; i < n; i++) {
    const o = 8 + 32 * i;
    out.push({ guestAddr: u64(p, o), size: u64(p, o + 8), userAddr: u64(p, o + 16), mmapOffset: u64(p, o + 24) });
  }
  return out;
}

/** A reply: the request's header with the reply bit and a u64 payload. */
export function encodeU64Reply(request: number, value: bigint, out = new Uint8Array(VHOST_USER_HDR_SIZE + 8)): Uint8Array {
  const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
  dv.setUint32(0, request, true);
  dv.setUint32(4, VHOST_USER_VERSION | VHOST_USER_FLAG_REPLY, true);
  dv.setUint32(8, 8, true);
  dv.setBigUint64(12, value, true);
  return out;
}

/** GET_VRING_BASE's reply: struct vhost_vring_state. */
export function encodeVringStateReply(request: number, index: number, num: number): Uint8Array {
  const out = new Uint8Array(VHOST_USER_HDR_SIZE + 8);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, request, true);
  dv.setUint32(4, VHOST_USER_VERSION | VHOST_USER_FLAG_REPLY, true);
  dv.setUint32(8, 8, true);
  dv.setUint32(12, index, true);
  dv.setUint32(16, num, true);
  return out;
}
