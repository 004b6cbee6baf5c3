/**
 * Text forms of trace records.
 *
 * `formatDyndbg` prints what Linux virtio_rpmsg_bus prints with dynamic debug on: a dev_dbg
 * line with the header fields ("From: 0x%x, To: 0x%x, Len: %d, Flags: %d, Reserved: %d" for
 * rx, "TX From 0x%x, To 0x%x, ..." for tx), then print_hex_dump of header and payload (16
 * bytes a row, groups of 1, ASCII column), prefixed "rpmsg_virtio RX: " or "rpmsg_virtio TX: ",
 * under a printk-style timestamp relative to the first record.
 *
 * `formatJson` prints one JSON object per record (JSON lines), payload as hex.
 */
import { RPMSG_NS_DESTROY } from '../ns/ns-message.js';
import { RPMSG_HDR_SIZE } from '../rpmsg-virtio/header.js';
import type { TraceRecord, TraceSink } from './record.js';

const HEX = '0123456789abcdef';

/** One print_hex_dump row (groupsize 1): "xx xx ..." padded to column 49, then ASCII. */
export function hexDumpRow(bytes: Uint8Array, start: number, end: number): string {
  let hex = '';
  let ascii = '';
  for (let i = start; i < end; i++) {
    const b = bytes[i]!;
    if (i > start) hex += ' ';
    hex += HEX[b >> 4]! + HEX[b & 15]!;
    ascii += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.';
  }
  return hex.padEnd(49, ' ') + ascii;
}

export function hexDump(prefix: string, bytes: Uint8Array): string[] {
  const lines: string[] = [];
  for (let i = 0; i < bytes.length; i += 16) lines.push(prefix + hexDumpRow(bytes, i, Math.min(bytes.length, i + 16)));
  return lines;
}

function stamp(us: number): string {
  const s = Math.floor(us / 1e6);
  const frac = String(Math.floor(us % 1e6)).padStart(6, '0');
  return `[${String(s).padStart(5, ' ')}.${frac}]`;
}

const hex = (v: number): string => `0x${v.toString(16)}`;

/** The kernel's lines for one record; `t0Us` is the time printed as 0. */
export function formatDyndbg(r: TraceRecord, t0Us: number): string[] {
  const ts = stamp(Math.max(0, r.timeUs - t0Us));
  const dev = `virtio_rpmsg_bus ${r.link}:`;
  const lines: string[] = [];
  if (r.dir === 'h2r') {
    lines.push(`${ts} ${dev} TX From ${hex(r.src)}, To ${hex(r.dst)}, Len ${r.len}, Flags ${r.flags}, Reserved ${r.reserved}`);
  } else {
    lines.push(`${ts} ${dev} From: ${hex(r.src)}, To: ${hex(r.dst)}, Len: ${r.len}, Flags: ${r.flags}, Reserved: ${r.reserved}`);
  }
  const prefix = `${ts} rpmsg_virtio ${r.dir === 'h2r' ? 'TX' : 'RX'}: `;
  lines.push(...hexDump(prefix, r.wire));
  if (r.wire.length < RPMSG_HDR_SIZE + r.len) lines.push(`${ts} ${dev} (${RPMSG_HDR_SIZE + r.len - r.wire.length} bytes not captured)`);
  if (r.ns !== undefined) {
    const what = (r.ns.flags & RPMSG_NS_DESTROY) !== 0 ? 'destroy' : 'create';
    lines.push(`${ts} ${dev} ns ${what}: ${r.ns.name} addr ${hex(r.ns.addr)}`);
  }
  if (r.drop !== undefined) {
    // The kernel's words for the two drops it reports.
    const why = r.drop === 'no-endpoint' ? 'msg received with no recipient' : r.drop === 'invalid-length' ? `inbound msg too big: (${r.wire.length}, ${r.len})` : `dropped: ${r.drop}`;
    lines.push(`${ts} ${dev} ${why}`);
  }
  return lines;
}

/** A JSON-lines object for one record. */
export function formatJson(r: TraceRecord): string {
  let payload = '';
  for (let i = RPMSG_HDR_SIZE; i < r.wire.length; i++) payload += HEX[r.wire[i]! >> 4]! + HEX[r.wire[i]! & 15]!;
  return JSON.stringify({
    time_us: r.timeUs,
    link: r.link,
    dir: r.dir,
    src: r.src,
    dst: r.dst,
    len: r.len,
    flags: r.flags,
    reserved: r.reserved,
    payload,
    ...(r.wire.length < RPMSG_HDR_SIZE + r.len ? { captured: Math.max(0, r.wire.length - RPMSG_HDR_SIZE) } : {}),
    ...(r.ns !== undefined ? { ns: { name: r.ns.name, addr: r.ns.addr, flags: r.ns.flags } } : {}),
    ...(r.drop !== undefined ? { drop: r.drop } : {}),
  });
}

/** A sink printing kernel-style lines (`out` gets one line at a time, without newline). */
export function dyndbgSink(out: (line: string) => void): TraceSink {
  let t0: number | undefined;
  return {
    write(r) {
      t0 ??= r.timeUs;
      for (const l of formatDyndbg(r, t0)) out(l);
    },
  };
}

/** A sink printing JSON lines. */
export function jsonSink(out: (line: string) => void): TraceSink {
  return { write: (r) => out(formatJson(r)) };
}
