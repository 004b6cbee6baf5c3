/**
 * The STATS reply's JSON document, checked on the client side like any frame from the daemon:
 * the shape of trace/stats.ts's LinkStatsReport[], every field typed, lists bounded. A
 * document that does not fit is EPROTO, never a half-typed object handed to the caller.
 */
import { RpmsgError } from '../errors.js';
import type { LinkStatsReport } from '../trace/stats.js';

type Check = (v: unknown, path: string) => void;

function fail(path: string, what: string): never {
  throw new RpmsgError('EPROTO', `daemon stats: ${path} ${what}`);
}

const count: Check = (v, p) => {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) fail(p, 'is not a count');
};
const text: Check = (v, p) => {
  if (typeof v !== 'string' || v.length > 1024) fail(p, 'is not a string');
};
const flag: Check = (v, p) => {
  if (typeof v !== 'boolean') fail(p, 'is not a boolean');
};
const optional = (c: Check): Check => (v, p) => {
  if (v !== undefined) c(v, p);
};
const oneOf = (...values: string[]): Check => (v, p) => {
  if (!values.includes(v as string)) fail(p, `is not one of ${values.join(', ')}`);
};
const list = (c: Check, max: number): Check => (v, p) => {
  if (!Array.isArray(v) || v.length > max) fail(p, `is not a list of at most ${max}`);
  v.forEach((x, i) => c(x, `${p}[${i}]`));
};
const object = (shape: Record<string, Check>, open = false): Check => (v, p) => {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) fail(p, 'is not an object');
  const o = v as Record<string, unknown>;
  for (const [k, c] of Object.entries(shape)) c(o[k], `${p}.${k}`);
  if (!open) for (const k of Object.keys(o)) if (!(k in shape)) fail(`${p}.${k}`, 'is not expected');
};
const counts: Check = (v, p) => {
  if (v === null || typeof v !== 'object' || Array.isArray(v) || Object.keys(v).length > 16) fail(p, 'is not a table of counts');
  for (const [k, n] of Object.entries(v as Record<string, unknown>)) count(n, `${p}.${k}`);
};

const LINK = object({
  name: text,
  role: oneOf('host', 'remote'),
  up: flag,
  mtu: optional(count),
  rxMessages: count,
  rxBytes: count,
  txMessages: count,
  txBytes: count,
  rxDroppedNoEndpoint: count,
  rxInvalid: count,
  callbackErrors: count,
  drops: counts,
  waits: count,
  txWaiters: count,
  violations: list(object({ code: text, message: text }), 64),
  downReason: optional(text),
  channels: list(object({ name: text, src: count, dst: count, driver: optional(text) }), 4096),
  endpoints: list(object({ addr: count, name: text, dst: count, rxMessages: count, rxBytes: count, txMessages: count, txBytes: count, destroyed: flag }), 65536),
  vrings: list(object({ name: text, num: count, availIdx: count, usedIdx: count, inFlight: count }), 64),
});

/** Parse and check the STATS payload. */
export function parseStatsReport(payload: Uint8Array): LinkStatsReport[] {
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
  } catch {
    fail('(document)', 'is not UTF-8 JSON');
  }
  list(LINK, 1024)(doc, 'links');
  return doc as LinkStatsReport[];
}
