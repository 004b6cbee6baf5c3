/**
 * The daemon's wire protocol, version 1 (docs/daemon-protocol.md): length-prefixed frames on a
 * UNIX stream socket, a small JSON header for the fields and the message bytes raw after it.
 *
 *   0  u32 LE  length     bytes after this field: 8 + jsonLen + payload, at most maxFrame
 *   4  u8      version    1
 *   5  u8      op         Op below
 *   6  u16 LE  jsonLen    0 means no header fields ({})
 *   8  u32 LE  id         request id, echoed by its reply; 0 in events
 *  12  jsonLen bytes      a JSON object with exactly the fields the op allows
 *  ..  rest               payload: message bytes (SEND, MSG), a trace record's wire bytes
 *                         (TRACE_RECORD), a JSON document (the OK of STATS)
 *
 * Both ends treat the other as untrusted: the decoder is a state machine that checks it has
 * the bytes before reading them and validates every field before anyone sees the frame.
 */
import { RpmsgError } from '../errors.js';

export const PROTOCOL_VERSION = 1;
export const FRAME_PREFIX = 4;
export const FRAME_HEADER = 12;
/** Default largest frame (everything after the length word). */
export const DEFAULT_MAX_FRAME = 65536;
/** Largest JSON header of any op. */
export const MAX_JSON = 4096;

export const Op = {
  HELLO: 0x01,
  LIST: 0x02,
  OPEN: 0x03,
  CREATE_EPT: 0x04,
  DESTROY_EPT: 0x05,
  SEND: 0x06,
  CREATE_CHANNEL: 0x07,
  DESTROY_CHANNEL: 0x08,
  STATS: 0x09,
  TRACE: 0x0a,
  TRACE_STOP: 0x0b,
  OK: 0x80,
  ERROR: 0x81,
  MSG: 0x82,
  EPT_GONE: 0x83,
  TRACE_RECORD: 0x84,
} as const;
export type OpCode = (typeof Op)[keyof typeof Op];

export interface Frame {
  op: OpCode;
  id: number;
  fields: Record<string, unknown>;
  payload: Uint8Array;
}

type FieldType = 'u32' | 'u53' | 'name' | 'link' | 'token' | 'bool' | 'code' | 'text' | 'dir' | 'reason' | 'any';
interface OpSchema {
  fields: Readonly<Record<string, FieldType>>;
  /** Fields that must be present. */
  required?: readonly string[];
  payload: boolean;
  /** Fewest payload bytes (TRACE_RECORD: the 16-byte rpmsg header). */
  minPayload?: number;
}

/** A trace record's bytes: the rpmsg header at least. */
export const TRACE_MIN_WIRE = 16;

/** What each op may carry. Replies (OK) carry results built by the daemon: checked loosely. */
const SCHEMA: Readonly<Record<number, OpSchema>> = {
  [Op.HELLO]: { fields: { version: 'u32', token: 'token' }, required: ['version'], payload: false },
  [Op.LIST]: { fields: {}, payload: false },
  [Op.OPEN]: { fields: { channel: 'name', link: 'link', dst: 'u32' }, required: ['channel'], payload: false },
  [Op.CREATE_EPT]: { fields: { name: 'name', link: 'link', src: 'u32', dst: 'u32' }, required: ['name'], payload: false },
  [Op.DESTROY_EPT]: { fields: { ept: 'u32' }, required: ['ept'], payload: false },
  [Op.SEND]: { fields: { ept: 'u32', src: 'u32', dst: 'u32', pace: 'bool' }, required: ['ept'], payload: true },
  [Op.CREATE_CHANNEL]: {
    fields: { name: 'name', link: 'link', src: 'u32', dst: 'u32', announce: 'bool' },
    required: ['name', 'dst'],
    payload: false,
  },
  [Op.DESTROY_CHANNEL]: { fields: { name: 'name', link: 'link', src: 'u32', dst: 'u32' }, required: ['name'], payload: false },
  [Op.STATS]: { fields: {}, payload: false },
  [Op.TRACE]: { fields: { snaplen: 'u32', drops: 'bool' }, payload: false },
  [Op.TRACE_STOP]: { fields: {}, payload: false },
  // The OK of STATS carries its report as a JSON payload (it may be larger than a header).
  [Op.OK]: { fields: { '*': 'any' }, payload: true },
  [Op.ERROR]: { fields: { code: 'code', message: 'text', retryAfterMs: 'u32' }, required: ['code'], payload: false },
  [Op.MSG]: { fields: { ept: 'u32', src: 'u32', dropped: 'u32' }, required: ['ept', 'src'], payload: true },
  [Op.EPT_GONE]: { fields: { ept: 'u32', code: 'code', message: 'text' }, required: ['ept', 'code'], payload: false },
  [Op.TRACE_RECORD]: {
    fields: { link: 'link', dir: 'dir', timeUs: 'u53', drop: 'reason', dropped: 'u32' },
    required: ['link', 'dir', 'timeUs'],
    payload: true,
    minPayload: TRACE_MIN_WIRE,
  },
};

/** rpmsg service names are at most 31 bytes (RPMSG_NAME_SIZE 32 with its NUL). */
export const MAX_NAME = 31;
const NAME_RE = /^[\x21-\x7e]{1,31}$/;
const LINK_RE = /^[\w.:-]{1,64}$/;
const CODE_RE = /^[A-Z][A-Z0-9_]{1,31}$/;
const REASON_RE = /^[a-z][a-z-]{0,31}$/;

function protoError(message: string, details?: Record<string, number | string>): RpmsgError {
  return new RpmsgError('EPROTO', message, details);
}

function checkField(op: number, key: string, type: FieldType, v: unknown): void {
  let ok: boolean;
  switch (type) {
    case 'u32':
      ok = typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffffffff;
      break;
    case 'u53':
      ok = typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
      break;
    case 'dir':
      ok = v === 'h2r' || v === 'r2h';
      break;
    case 'reason':
      ok = typeof v === 'string' && REASON_RE.test(v);
      break;
    case 'name':
      ok = typeof v === 'string' && NAME_RE.test(v);
      break;
    case 'link':
      ok = typeof v === 'string' && LINK_RE.test(v);
      break;
    case 'token':
      ok = typeof v === 'string' && v.length >= 1 && v.length <= 256;
      break;
    case 'bool':
      ok = typeof v === 'boolean';
      break;
    case 'code':
      ok = typeof v === 'string' && CODE_RE.test(v);
      break;
    case 'text':
      ok = typeof v === 'string' && v.length <= 1024;
      break;
    case 'any':
      ok = true;
  }
  if (!ok) throw protoError(`bad field "${key}" for op 0x${op.toString(16)}`, { op, field: key });
}

/** Validate a decoded frame's fields and payload against its op's schema. */
export function validateFrame(f: Frame): void {
  const schema = SCHEMA[f.op];
  if (schema === undefined) throw protoError(`unknown op 0x${(f.op as number).toString(16)}`, { op: f.op });
  const wildcard = schema.fields['*'];
  for (const key of Object.keys(f.fields)) {
    const type = schema.fields[key] ?? wildcard;
    if (type === undefined) throw protoError(`unexpected field "${key}" for op 0x${f.op.toString(16)}`, { op: f.op, field: key });
    checkField(f.op, key, type, f.fields[key]);
  }
  for (const key of schema.required ?? []) {
    if (!(key in f.fields)) throw protoError(`missing field "${key}" for op 0x${f.op.toString(16)}`, { op: f.op, field: key });
  }
  if (!schema.payload && f.payload.length !== 0) throw protoError(`op 0x${f.op.toString(16)} carries no payload`, { op: f.op });
  if (f.payload.length < (schema.minPayload ?? 0)) throw protoError(`op 0x${f.op.toString(16)} needs at least ${schema.minPayload} payload bytes`, { op: f.op, len: f.payload.length });
}

const encoder = new TextEncoder();

/** Encode one frame (the fields are not validated here: the decoder on the other side does). */
export function encodeFrame(op: OpCode, id: number, fields: Record<string, unknown> | undefined, payload?: Uint8Array): Buffer {
  const json = fields === undefined || Object.keys(fields).length === 0 ? undefined : encoder.encode(JSON.stringify(fields));
  const jsonLen = json?.length ?? 0;
  if (jsonLen > MAX_JSON) throw new RpmsgError('EMSGSIZE', 'frame header too large', { len: jsonLen });
  const plen = payload?.length ?? 0;
  const out = Buffer.allocUnsafe(FRAME_HEADER + jsonLen + plen);
  out.writeUInt32LE(FRAME_HEADER - FRAME_PREFIX + jsonLen + plen, 0);
  out[4] = PROTOCOL_VERSION;
  out[5] = op;
  out.writeUInt16LE(jsonLen, 6);
  out.writeUInt32LE(id >>> 0, 8);
  if (json !== undefined) out.set(json, FRAME_HEADER);
  if (payload !== undefined && plen > 0) out.set(payload, FRAME_HEADER + jsonLen);
  return out;
}

/**
 * Incremental decoder: push() socket chunks, get whole validated frames. Throws EPROTO on the
 * first malformed frame or EMSGSIZE on one longer than `maxFrame`; after a throw the stream is
 * unusable (the caller closes the connection). Payloads are views of the received bytes.
 */
export class FrameDecoder {
  private readonly maxFrame: number;
  private chunks: Buffer[] = [];
  private buffered = 0;
  private need = FRAME_PREFIX;
  private frameLen = -1;

  constructor(maxFrame = DEFAULT_MAX_FRAME) {
    this.maxFrame = maxFrame;
  }

  /** Bytes of an incomplete frame held now. */
  get pending(): number {
    return this.buffered + (this.frameLen >= 0 ? FRAME_PREFIX : 0);
  }

  push(chunk: Buffer, onFrame: (f: Frame) => void): void {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    while (this.buffered >= this.need) {
      const buf = this.take(this.need);
      if (this.frameLen < 0) {
        const len = buf.readUInt32LE(0);
        if (len < FRAME_HEADER - FRAME_PREFIX) throw protoError('frame shorter than its header', { len });
        if (len > this.maxFrame) throw new RpmsgError('EMSGSIZE', `frame of ${len} bytes exceeds ${this.maxFrame}`, { len, max: this.maxFrame });
        this.frameLen = len;
        this.need = len;
      } else {
        this.frameLen = -1;
        this.need = FRAME_PREFIX;
        onFrame(parseBody(buf));
      }
    }
  }

  /** Remove and return the first n buffered bytes (one copy only when they span chunks). */
  private take(n: number): Buffer {
    const first = this.chunks[0]!;
    let out: Buffer;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
    } else {
      out = Buffer.allocUnsafe(n);
      let off = 0;
      while (off < n) {
        const c = this.chunks[0]!;
        const k = Math.min(c.length, n - off);
        c.copy(out, off, 0, k);
        off += k;
        if (k === c.length) this.chunks.shift();
        else this.chunks[0] = c.subarray(k);
      }
    }
    this.buffered -= n;
    return out;
  }
}

const decoder = new TextDecoder('utf-8', { fatal: true });

function parseBody(b: Buffer): Frame {
  const version = b[0]!;
  if (version !== PROTOCOL_VERSION) throw protoError(`protocol version ${version}, expected ${PROTOCOL_VERSION}`, { version });
  const op = b[1]! as OpCode;
  const jsonLen = b.readUInt16LE(2);
  const id = b.readUInt32LE(4);
  const body = FRAME_HEADER - FRAME_PREFIX;
  if (jsonLen > MAX_JSON || body + jsonLen > b.length) throw protoError('header length beyond the frame', { jsonLen, len: b.length });
  let fields: Record<string, unknown> = {};
  if (jsonLen > 0) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(decoder.decode(b.subarray(body, body + jsonLen)));
    } catch {
      throw protoError('header is not valid UTF-8 JSON', { jsonLen });
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw protoError('header is not a JSON object');
    fields = parsed as Record<string, unknown>;
  }
  const frame: Frame = { op, id, fields, payload: b.subarray(body + jsonLen) };
  validateFrame(frame);
  return frame;
}
