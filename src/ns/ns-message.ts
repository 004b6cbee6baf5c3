/**
 * `struct rpmsg_ns_msg` (PROTOCOL.md §2): char name[32] NUL-padded, u32 addr, u32 flags.
 * flags bit 0: 0 = CREATE, 1 = DESTROY. Any other length is malformed.
 */
import { RpmsgError } from '../errors.js';
import { RPMSG_ADDR_ANY, RPMSG_NAME_SIZE } from '../rpmsg/constants.js';

export const RPMSG_NS_MSG_SIZE = 40;
export const RPMSG_NS_CREATE = 0;
export const RPMSG_NS_DESTROY = 1;

export interface NsMessage {
  name: string;
  addr: number;
  /** RPMSG_NS_CREATE or RPMSG_NS_DESTROY. */
  flags: number;
}

const decoder = new TextDecoder('utf-8', { fatal: true });
const encoder = new TextEncoder();

/** Encode a name into exactly 32 NUL-padded bytes (EINVAL when it does not fit 31 bytes). */
export function encodeServiceName(name: string): Uint8Array {
  const bytes = encoder.encode(name);
  if (bytes.length === 0 || bytes.length > RPMSG_NAME_SIZE - 1 || bytes.includes(0)) {
    throw new RpmsgError('EINVAL', 'service name must be 1..31 bytes without NUL', { name });
  }
  const out = new Uint8Array(RPMSG_NAME_SIZE);
  out.set(bytes);
  return out;
}

export function encodeNsMessage(msg: NsMessage): Uint8Array {
  const out = new Uint8Array(RPMSG_NS_MSG_SIZE);
  out.set(encodeServiceName(msg.name));
  const dv = new DataView(out.buffer);
  dv.setUint32(32, msg.addr >>> 0, true);
  dv.setUint32(36, msg.flags >>> 0, true);
  return out;
}

/** Why an announcement was rejected (counted by the name service). */
export type NsRejectReason = 'length' | 'name' | 'addr';

/**
 * Decode an untrusted announcement. Returns the message or the reason it is malformed:
 * wrong length, a name that is empty, not UTF-8 or not NUL-terminated within its 32 bytes,
 * or ADDR_ANY as address.
 *
 * Unterminated names: Linux's rpmsg_ns_cb forces name[31] = 0 and creates a channel for the
 * first 31 bytes, a name the peer never announced. Here it is rejected ('name': counted by the
 * name service and reported as EBADMSG) instead; no conforming announcer sends one (the name
 * is at most 31 bytes plus its NUL, RPMSG_NAME_SIZE = 32).
 */
export function decodeNsMessage(data: Uint8Array): NsMessage | NsRejectReason {
  if (data.length !== RPMSG_NS_MSG_SIZE) return 'length';
  let end = 0;
  while (end < RPMSG_NAME_SIZE && data[end] !== 0) end++;
  if (end === 0 || end === RPMSG_NAME_SIZE) return 'name';
  let name: string;
  try {
    name = decoder.decode(data.slice(0, end)); // slice: TextDecoder refuses views of shared memory
  } catch {
    return 'name';
  }
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const addr = dv.getUint32(32, true);
  if (addr === RPMSG_ADDR_ANY) return 'addr';
  return { name, addr, flags: dv.getUint32(36, true) & 1 };
}
