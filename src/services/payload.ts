/**
 * Message layouts shared by OpenAMP's demo apps (all little endian, as on the Linux machine).
 *
 * The ping payload is OpenAMP's `struct _payload { unsigned long num; unsigned long size;
 * unsigned char data[]; }` (apps/examples/echo/rpmsg-ping.c, tests/msg/rpmsg-*-ping.c). Built
 * for LP64 Linux, `unsigned long` is 8 bytes, so the header is u64 num at 0, u64 size at 8 and
 * the data (`size` bytes of 0xA5) starts at 16.
 */

export const PING_HDR_SIZE = 16;
export const PING_FILL = 0xa5;
/** The first u32 of a message that tells OpenAMP's remotes to stop (rpmsg-echo.c SHUTDOWN_MSG). */
export const SHUTDOWN_MSG = 0xef56a55a;

/** Pings a host test sends: one per size up to the MTU less the header, or `count` if fewer. */
export function pingCount(mtu: number, count: number | undefined): number {
  const maxSize = mtu - PING_HDR_SIZE;
  return Math.min(count ?? maxSize, maxSize);
}

/** Write a ping header and `size` fill bytes into `buf` (at least 16 + size bytes). */
export function writePing(buf: Uint8Array, num: number, size: number): number {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  dv.setBigUint64(0, BigInt(num), true);
  dv.setBigUint64(8, BigInt(size), true);
  buf.fill(PING_FILL, PING_HDR_SIZE, PING_HDR_SIZE + size);
  return PING_HDR_SIZE + size;
}

/** A fresh ping message. */
export function pingPayload(num: number, size: number): Uint8Array {
  const b = new Uint8Array(PING_HDR_SIZE + size);
  writePing(b, num, size);
  return b;
}

export interface PingHeader {
  num: number;
  size: number;
}

/**
 * Read an untrusted ping header: null when shorter than 16 bytes. Values above 2^53 come back
 * as Infinity (they can never match a count or a length).
 */
export function readPing(data: Uint8Array): PingHeader | null {
  if (data.length < PING_HDR_SIZE) return null;
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const num = dv.getBigUint64(0, true);
  const size = dv.getBigUint64(8, true);
  const big = (v: bigint): number => (v > BigInt(Number.MAX_SAFE_INTEGER) ? Infinity : Number(v));
  return { num: big(num), size: big(size) };
}

/** Whether bytes 16..16+size are all 0xA5 and present. */
export function pingDataIntact(data: Uint8Array, size: number): boolean {
  if (!(size <= data.length - PING_HDR_SIZE)) return false;
  for (let i = PING_HDR_SIZE; i < PING_HDR_SIZE + size; i++) if (data[i] !== PING_FILL) return false;
  return true;
}

/** `*(unsigned int *)data == SHUTDOWN_MSG`, read only when 4 bytes are there. */
export function isShutdown(data: Uint8Array): boolean {
  if (data.length < 4) return false;
  return ((data[0]! | (data[1]! << 8) | (data[2]! << 16) | (data[3]! << 24)) >>> 0) === SHUTDOWN_MSG;
}

/** The 4-byte shutdown message (`int shutdown_msg = SHUTDOWN_MSG`, sizeof(int)). */
export function shutdownMessage(): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, SHUTDOWN_MSG, true);
  return b;
}
