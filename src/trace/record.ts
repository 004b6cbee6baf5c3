/**
 * One traced message, whatever it was read from (the diagnostics channels of a bus in this
 * program, or the vrings of a shared-memory file): the bytes as they were on the wire (16-byte
 * rpmsg header, then the payload, cut at the snap length) and the decoded header fields.
 *
 * Direction is absolute: "h2r" is host → remote (vring1), "r2h" remote → host (vring0), so a
 * trace reads the same whichever side it was taken on. The kernel prints TX for h2r and RX
 * for r2h (it is the host).
 */
import { decodeNsMessage, type NsMessage } from '../ns/ns-message.js';
import { RPMSG_NS_ADDR } from '../rpmsg/constants.js';
import type { DropReason } from '../rpmsg/diagnostics.js';
import { RPMSG_HDR_SIZE } from '../rpmsg-virtio/header.js';

export type TraceDirection = 'h2r' | 'r2h';

export interface TraceRecord {
  /** Wall-clock time of the observation, microseconds since the Unix epoch. */
  timeUs: number;
  /** Link (remote processor) name. */
  link: string;
  dir: TraceDirection;
  /** Set when the receiver dropped the message, with the reason. */
  drop?: DropReason;
  src: number;
  dst: number;
  reserved: number;
  /** Payload length from the header. */
  len: number;
  flags: number;
  /** Header and payload as on the wire, at most the snap length. */
  wire: Uint8Array;
  /** The name-service message, when this is one that decodes. */
  ns?: NsMessage;
}

/** Default bytes kept per message (header included): every rpmsg message fits. */
export const DEFAULT_SNAPLEN = 0xffff + RPMSG_HDR_SIZE;

/** Wall-clock microseconds, monotonic within the process (the performance clock's origin is wall time). */
export function nowUs(): number {
  return Math.floor((performance.timeOrigin + performance.now()) * 1000);
}

function putU32(b: Uint8Array, at: number, v: number): void {
  b[at] = v & 0xff;
  b[at + 1] = (v >>> 8) & 0xff;
  b[at + 2] = (v >>> 16) & 0xff;
  b[at + 3] = v >>> 24;
}

/**
 * Build a record from header fields and a payload (the bus tracer: the payload is a view of
 * shared memory lent for the duration of the event; it is copied here).
 */
export function recordFromFields(
  link: string,
  dir: TraceDirection,
  src: number,
  dst: number,
  flags: number,
  payload: Uint8Array,
  snaplen = DEFAULT_SNAPLEN,
  timeUs = nowUs(),
): TraceRecord {
  const len = payload.length;
  const keep = Math.max(0, Math.min(len, snaplen - RPMSG_HDR_SIZE));
  // Bytes by hand: a DataView would make V8 move the small array off its heap (microseconds),
  // and set() from a SharedArrayBuffer view is slower than a loop for short payloads.
  // Above 64 bytes a new Uint8Array is allocated outside V8's heap (microseconds); Node's
  // pooled Buffer is not. Its bytes are not zeroed: every header byte is written below.
  const size = RPMSG_HDR_SIZE + keep;
  const wire: Uint8Array = size <= 64 ? new Uint8Array(size) : Buffer.allocUnsafe(size);
  putU32(wire, 0, src);
  putU32(wire, 4, dst);
  putU32(wire, 8, 0);
  putU32(wire, 12, (len & 0xffff) | ((flags & 0xffff) << 16));
  if (keep <= 64) for (let i = 0; i < keep; i++) wire[RPMSG_HDR_SIZE + i] = payload[i]!;
  else wire.set(payload.subarray(0, keep), RPMSG_HDR_SIZE);
  const r: TraceRecord = { timeUs, link, dir, src, dst, reserved: 0, len, flags, wire };
  addNs(r, payload);
  return r;
}

/**
 * Build a record from wire bytes (header + payload) read out of untrusted memory. `wire` must
 * hold at least the header; the payload part may be shorter than `len` says (cut).
 */
export function recordFromWire(link: string, dir: TraceDirection, wire: Uint8Array, timeUs = nowUs()): TraceRecord {
  const dv = new DataView(wire.buffer, wire.byteOffset, wire.byteLength);
  const r: TraceRecord = {
    timeUs,
    link,
    dir,
    src: dv.getUint32(0, true),
    dst: dv.getUint32(4, true),
    reserved: dv.getUint32(8, true),
    len: dv.getUint16(12, true),
    flags: dv.getUint16(14, true),
    wire,
  };
  addNs(r, wire.subarray(RPMSG_HDR_SIZE));
  return r;
}

function addNs(r: TraceRecord, payload: Uint8Array): void {
  if (r.dst !== RPMSG_NS_ADDR || r.len !== payload.length) return;
  const ns = decodeNsMessage(payload);
  if (typeof ns !== 'string') r.ns = ns;
}

/** Something that takes trace records (a formatter writing lines, a pcapng file). */
export interface TraceSink {
  write(record: TraceRecord): void;
  /** Flush and release; idempotent. */
  close?(): void | Promise<void>;
}
