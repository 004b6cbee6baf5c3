/**
 * The daemon's policy (docs/daemon-protocol.md, "Policy file"): which local program may use
 * which channels, and how. The seed's warning is the reason: a remote processor may have
 * direct access to memory and hardware, so userland is limited to named channels, to a
 * direction, a message size and a rate, and to its channel's address pair unless allowed
 * offchannel addressing.
 *
 * The first client rule whose `match` fits the connecting program applies; no rule → the
 * connection is refused (EACCES). The file is validated strictly: unknown keys are errors.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { RpmsgError } from '../errors.js';

export interface ClientMatch {
  /** Peer uid from SO_PEERCRED. */
  uid?: number;
  /** Peer primary gid from SO_PEERCRED. */
  gid?: number;
  /** A shared secret the client sends in HELLO (for programs not told apart by uid). */
  token?: string;
}

export interface ClientRule {
  /** For logs. */
  name: string;
  /** All given criteria must hold; an empty match fits everyone who can open the socket. */
  match: ClientMatch;
  /** Channel names or patterns (`*` any run of characters, `?` one). */
  channels: string[];
  /** May send (default true). */
  send: boolean;
  /** May receive (default true). */
  receive: boolean;
  /** Largest message in bytes it may send (default: the link's MTU). */
  maxMessageSize: number;
  /** Token bucket on sends; undefined = unlimited. */
  rate: { messagesPerSecond: number; burst: number } | undefined;
  /** May choose source/destination addresses (sendTo, offchannel, fixed endpoint addresses). */
  offchannel: boolean;
  /** May create and destroy channels (rpmsg ctrl). */
  control: boolean;
  /**
   * May read the bus's statistics (STATS) and subscribe to trace records (TRACE), both limited
   * to its `channels` (default false): it then sees every message of those channels, whoever
   * sent it, payload included.
   */
  observe: boolean;
  /** Endpoints it may hold open at once (default 16). */
  maxEndpoints: number;
}

export interface Policy {
  /** Socket file mode (default 0o600). */
  socketMode: number;
  clients: ClientRule[];
}

/** Who is connecting, as far as the daemon knows. */
export interface ClientIdentity {
  uid: number | undefined;
  gid: number | undefined;
  pid: number | undefined;
  token: string | undefined;
}

export const DEFAULT_MAX_ENDPOINTS = 16;
const UNLIMITED_SIZE = 0xffffffff;

/**
 * No policy file: every program that can open the socket gets everything. The socket is mode
 * 0600, so that is its owner (and root), as a /dev/rpmsgN node of mode 0600 would be.
 */
export function ownerOnlyPolicy(): Policy {
  return {
    socketMode: 0o600,
    clients: [
      {
        name: 'owner',
        match: {},
        channels: ['*'],
        send: true,
        receive: true,
        maxMessageSize: UNLIMITED_SIZE,
        rate: undefined,
        offchannel: true,
        control: true,
        observe: true,
        maxEndpoints: DEFAULT_MAX_ENDPOINTS,
      },
    ],
  };
}

function bad(path: string, what: string): RpmsgError {
  return new RpmsgError('EINVAL', `policy: ${path} ${what}`, { path });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function onlyKeys(o: Record<string, unknown>, path: string, allowed: readonly string[]): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) throw bad(`${path}.${k}`, 'is not a known key');
}

function uint(v: unknown, path: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw bad(path, `must be an integer in ${min}..${max}`);
  return v;
}

function bool(v: unknown, path: string, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (typeof v !== 'boolean') throw bad(path, 'must be true or false');
  return v;
}

/** Validate a parsed policy document (see docs/daemon-protocol.md for the schema). */
export function parsePolicy(doc: unknown): Policy {
  if (!isObject(doc)) throw bad('(root)', 'must be a JSON object');
  onlyKeys(doc, '(root)', ['version', 'socketMode', 'clients']);
  if (doc['version'] !== 1) throw bad('version', 'must be 1');
  let socketMode = 0o600;
  if (doc['socketMode'] !== undefined) {
    const m = doc['socketMode'];
    if (typeof m !== 'string' || !/^0?[0-7]{3}$/.test(m)) throw bad('socketMode', 'must be an octal string such as "0600"');
    socketMode = parseInt(m, 8);
  }
  const list = doc['clients'];
  if (!Array.isArray(list) || list.length === 0 || list.length > 1024) throw bad('clients', 'must be an array of 1..1024 rules');
  const clients = list.map((c: unknown, i) => parseRule(c, `clients[${i}]`));
  return { socketMode, clients };
}

function parseRule(c: unknown, path: string): ClientRule {
  if (!isObject(c)) throw bad(path, 'must be an object');
  onlyKeys(c, path, ['name', 'match', 'channels', 'send', 'receive', 'maxMessageSize', 'rate', 'offchannel', 'control', 'observe', 'maxEndpoints']);
  const name = c['name'] ?? path;
  if (typeof name !== 'string' || name.length > 64) throw bad(`${path}.name`, 'must be a string of at most 64 characters');
  const m = c['match'];
  if (!isObject(m)) throw bad(`${path}.match`, 'must be an object (use {} to match everyone)');
  onlyKeys(m, `${path}.match`, ['uid', 'gid', 'token']);
  const match: ClientMatch = {};
  if (m['uid'] !== undefined) match.uid = uint(m['uid'], `${path}.match.uid`, 0, 0xffffffff);
  if (m['gid'] !== undefined) match.gid = uint(m['gid'], `${path}.match.gid`, 0, 0xffffffff);
  if (m['token'] !== undefined) {
    const t = m['token'];
    if (typeof t !== 'string' || t.length < 16 || t.length > 256) throw bad(`${path}.match.token`, 'must be a string of 16..256 characters');
    match.token = t;
  }
  const ch = c['channels'];
  if (!Array.isArray(ch) || ch.length > 256 || !ch.every((p) => typeof p === 'string' && /^[\x21-\x7e]{1,31}$/.test(p))) {
    throw bad(`${path}.channels`, 'must be an array of channel names or patterns (1..31 printable characters)');
  }
  let rate: ClientRule['rate'];
  const r = c['rate'];
  if (r !== undefined) {
    if (!isObject(r)) throw bad(`${path}.rate`, 'must be an object');
    onlyKeys(r, `${path}.rate`, ['messagesPerSecond', 'burst']);
    const mps = uint(r['messagesPerSecond'], `${path}.rate.messagesPerSecond`, 1, 10_000_000);
    const burst = r['burst'] === undefined ? mps : uint(r['burst'], `${path}.rate.burst`, 1, 10_000_000);
    rate = { messagesPerSecond: mps, burst };
  }
  return {
    name,
    match,
    channels: ch as string[],
    send: bool(c['send'], `${path}.send`, true),
    receive: bool(c['receive'], `${path}.receive`, true),
    maxMessageSize: c['maxMessageSize'] === undefined ? UNLIMITED_SIZE : uint(c['maxMessageSize'], `${path}.maxMessageSize`, 1, UNLIMITED_SIZE),
    rate,
    offchannel: bool(c['offchannel'], `${path}.offchannel`, false),
    control: bool(c['control'], `${path}.control`, false),
    observe: bool(c['observe'], `${path}.observe`, false),
    maxEndpoints: c['maxEndpoints'] === undefined ? DEFAULT_MAX_ENDPOINTS : uint(c['maxEndpoints'], `${path}.maxEndpoints`, 1, 4096),
  };
}

/** Read and validate a policy file. */
export function loadPolicy(file: string): Policy {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new RpmsgError('EINVAL', `policy: cannot read ${file}: ${(e as Error).message}`, undefined, { cause: e });
  }
  return parsePolicy(doc);
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** The rule for `who`, or undefined (refused). Tokens compare in constant time. */
export function findRule(policy: Policy, who: ClientIdentity): ClientRule | undefined {
  for (const rule of policy.clients) {
    const m = rule.match;
    if (m.uid !== undefined && m.uid !== who.uid) continue;
    if (m.gid !== undefined && m.gid !== who.gid) continue;
    if (m.token !== undefined && (who.token === undefined || !timingSafeEqual(digest(m.token), digest(who.token)))) continue;
    return rule;
  }
  return undefined;
}

const patternCache = new Map<string, RegExp>();

/**
 * Whether `rule` allows every name (a `*` pattern): only such a rule sees what no channel name
 * can be given to (traffic to an address without endpoint, unnamed endpoints, link totals' details).
 */
export function allowsEveryName(rule: ClientRule): boolean {
  return rule.channels.includes('*');
}

/** Whether `rule` allows the channel name (exact names or `*`/`?` patterns). */
export function channelAllowed(rule: ClientRule, name: string): boolean {
  for (const p of rule.channels) {
    if (!p.includes('*') && !p.includes('?')) {
      if (p === name) return true;
      continue;
    }
    let re = patternCache.get(p);
    if (re === undefined) {
      re = new RegExp(`^${p.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
      patternCache.set(p, re);
    }
    if (re.test(name)) return true;
  }
  return false;
}

/** Token bucket (messages per second, `burst` tokens deep), one per client. */
export class TokenBucket {
  private tokens: number;
  private last: number;
  constructor(
    private readonly rate: number,
    private readonly burst: number,
    now = performance.now(),
  ) {
    this.tokens = burst;
    this.last = now;
  }

  /** Take a token: 0 when allowed, else the milliseconds until one is back. */
  take(now = performance.now()): number {
    const wait = this.peek(now);
    if (wait === 0) this.tokens -= 1;
    return wait;
  }

  /** Like take() without taking. */
  peek(now = performance.now()): number {
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.rate) / 1000);
    this.last = now;
    if (this.tokens >= 1) return 0;
    return Math.ceil(((1 - this.tokens) * 1000) / this.rate);
  }
}
