/**
 * pcapng capture of rpmsg traffic (the pcapng draft, IETF opsawg: Section Header, Interface
 * Description and Enhanced Packet blocks, little-endian). One interface per link, named after
 * it, link type LINKTYPE_USER0 (147) with microsecond timestamps.
 *
 * Each packet is a 4-byte capture header defined here, then the rpmsg message exactly as on
 * the wire (16-byte header, payload). contrib/wireshark/rpmsg.lua dissects both.
 *
 *   0 u8 version      1
 *   1 u8 direction    0 = host → remote (vring1), 1 = remote → host (vring0)
 *   2 u8 event        0 = message, 1 = dropped by the receiver
 *   3 u8 reason       when dropped: 1 no endpoint, 2 invalid length, 3 unusable buffer,
 *                     else 0
 */
import type { DropReason } from '../rpmsg/diagnostics.js';
import type { TraceRecord, TraceSink } from './record.js';

export const LINKTYPE_USER0 = 147;
export const RPMSG_CAPTURE_VERSION = 1;
export const CAPTURE_HEADER_SIZE = 4;

const SHB = 0x0a0d0d0a;
const IDB = 0x00000001;
const EPB = 0x00000006;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const OPT_ENDOFOPT = 0;
const OPT_SHB_USERAPPL = 4;
const OPT_IF_NAME = 2;
const OPT_IF_TSRESOL = 9;

export const DROP_REASON_CODES: Record<DropReason, number> = {
  'no-endpoint': 1,
  'invalid-length': 2,
  'unusable-buffer': 3,
};

const pad4 = (n: number): number => (n + 3) & ~3;
const encoder = new TextEncoder();

/** Options as (code, bytes) pairs, each padded to 32 bits, then opt_endofopt. */
function options(list: Array<[number, Uint8Array]>): Uint8Array {
  let size = 4;
  for (const [, v] of list) size += 4 + pad4(v.length);
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  let o = 0;
  for (const [code, v] of list) {
    dv.setUint16(o, code, true);
    dv.setUint16(o + 2, v.length, true);
    out.set(v, o + 4);
    o += 4 + pad4(v.length);
  }
  dv.setUint16(o, OPT_ENDOFOPT, true);
  return out;
}

/** A block: type, total length, body (padded), total length again. */
function block(type: number, body: Uint8Array): Uint8Array {
  const total = 12 + pad4(body.length);
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, type, true);
  dv.setUint32(4, total, true);
  out.set(body, 8);
  dv.setUint32(total - 4, total, true);
  return out;
}

export function sectionHeaderBlock(application: string): Uint8Array {
  const opts = options([[OPT_SHB_USERAPPL, encoder.encode(application)]]);
  const body = new Uint8Array(16 + opts.length);
  const dv = new DataView(body.buffer);
  dv.setUint32(0, BYTE_ORDER_MAGIC, true);
  dv.setUint16(4, 1, true); // major
  dv.setUint16(6, 0, true); // minor
  dv.setBigInt64(8, -1n, true); // section length: not given
  body.set(opts, 16);
  return block(SHB, body);
}

export function interfaceBlock(name: string, snaplen: number): Uint8Array {
  const opts = options([
    [OPT_IF_NAME, encoder.encode(name)],
    [OPT_IF_TSRESOL, Uint8Array.of(6)],
  ]);
  const body = new Uint8Array(8 + opts.length);
  const dv = new DataView(body.buffer);
  dv.setUint16(0, LINKTYPE_USER0, true);
  dv.setUint32(4, snaplen, true);
  body.set(opts, 8);
  return block(IDB, body);
}

export function packetBlock(iface: number, r: TraceRecord): Uint8Array {
  const captured = CAPTURE_HEADER_SIZE + r.wire.length;
  const original = CAPTURE_HEADER_SIZE + Math.max(r.wire.length, 16 + r.len);
  const body = new Uint8Array(20 + pad4(captured) + 4);
  const dv = new DataView(body.buffer);
  const ts = BigInt(Math.max(0, Math.floor(r.timeUs)));
  dv.setUint32(0, iface, true);
  dv.setUint32(4, Number(ts >> 32n), true);
  dv.setUint32(8, Number(ts & 0xffffffffn), true);
  dv.setUint32(12, captured, true);
  dv.setUint32(16, original, true);
  body[20] = RPMSG_CAPTURE_VERSION;
  body[21] = r.dir === 'h2r' ? 0 : 1;
  body[22] = r.drop === undefined ? 0 : 1;
  body[23] = r.drop === undefined ? 0 : DROP_REASON_CODES[r.drop];
  body.set(r.wire, 24);
  // options: only opt_endofopt (already zero)
  return block(EPB, body);
}

/**
 * Writes a capture as blocks through `out` (a file's write, a stream's write). The section
 * header goes out at once; an interface block precedes the first packet of each link.
 */
export class PcapngWriter implements TraceSink {
  private readonly interfaces = new Map<string, number>();
  private closed = false;

  constructor(
    private readonly out: (chunk: Uint8Array) => void,
    private readonly snaplen = 0xffff + 16 + CAPTURE_HEADER_SIZE,
    application = 'rpmsg trace',
  ) {
    out(sectionHeaderBlock(application));
  }

  write(r: TraceRecord): void {
    if (this.closed) return;
    let iface = this.interfaces.get(r.link);
    if (iface === undefined) {
      iface = this.interfaces.size;
      this.interfaces.set(r.link, iface);
      this.out(interfaceBlock(r.link, this.snaplen));
    }
    this.out(packetBlock(iface, r));
  }

  close(): void {
    this.closed = true;
  }
}
