/**
 * The fuzz run's checks and accounting: the host's first reaction to the current hostile link
 * and its reported violations, drops and name-service rejections (diagnostics channels and link
 * errors); every failed bounds check of a host Region; the counts the host kept against the
 * reports; the canary in the guard band.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { Region, type RpmsgBus, type RpmsgError } from '../src/index.js';
import type { RpmsgLink } from '../src/rpmsg/link.js';
import { RPMSG_CHANNELS, type DropEvent, type LinkDownEvent, type LinkUpEvent, type ViolationEvent } from '../src/rpmsg/diagnostics.js';
import type { VirtioRpmsgTransport } from '../src/rpmsg-virtio/virtio-transport.js';
import { now, type Remote } from './fuzz-remotes.js';

const CANARY = 0xa5;

/** Count every failed bounds check of any Region in this process (the host side). */
export function countOutOfBounds(): { count: () => number; restore: () => void } {
  let n = 0;
  const proto = Region.prototype;
  const { check, busToOffset } = proto;
  proto.check = function (this: Region, offset: number, length: number): void {
    if (!this.contains(offset, length)) n++;
    check.call(this, offset, length);
  };
  proto.busToOffset = function (this: Region, bus: number, length: number): number {
    if (!this.contains(bus - this.busBase, length)) n++;
    return busToOffset.call(this, bus, length);
  };
  return {
    count: () => n,
    restore: () => {
      proto.check = check;
      proto.busToOffset = busToOffset;
    },
  };
}

/** Reactions and reports for the current hostile link, by its name. */
export interface Round {
  name: string;
  reaction: { outcome: string; at: number } | undefined;
  violations: number;
  drops: number;
  nsErrors: number;
  watching: boolean;
}

/**
 * Watches the bus's links through the diagnostics channels: the first reaction to, and the
 * reports for, the current round's link; any error on a well-behaved link is a failure.
 */
export class ReactionWatch {
  private current: Round | undefined;

  constructor(
    private readonly bus: RpmsgBus,
    private readonly isGood: (link: string) => boolean,
    private readonly fail: (m: string) => void,
  ) {
    subscribe(RPMSG_CHANNELS.linkUp, this.onLinkUp);
    subscribe(RPMSG_CHANNELS.violation, this.onViolation);
    subscribe(RPMSG_CHANNELS.drop, this.onDrop);
    subscribe(RPMSG_CHANNELS.linkDown, this.onDown);
  }

  /** Watch the link named `name` from now on. */
  begin(name: string): Round {
    const r: Round = { name, reaction: undefined, violations: 0, drops: 0, nsErrors: 0, watching: true };
    this.current = r;
    return r;
  }

  end(): void {
    this.current = undefined;
  }

  close(): void {
    unsubscribe(RPMSG_CHANNELS.linkUp, this.onLinkUp);
    unsubscribe(RPMSG_CHANNELS.violation, this.onViolation);
    unsubscribe(RPMSG_CHANNELS.drop, this.onDrop);
    unsubscribe(RPMSG_CHANNELS.linkDown, this.onDown);
  }

  private react(outcome: string): void {
    const c = this.current;
    if (c !== undefined && c.watching) c.reaction ??= { outcome, at: now() };
  }

  private readonly onViolation = (m: unknown): void => {
    const e = m as ViolationEvent;
    const c = this.current;
    if (e.link.name !== c?.name || !c.watching) return;
    c.violations++;
    this.react(`violation ${e.error.code ?? '?'}`);
  };

  private readonly onDrop = (m: unknown): void => {
    const e = m as DropEvent;
    const c = this.current;
    if (e.link.name !== c?.name || !c.watching) return;
    c.drops++;
    this.react(`drop ${e.reason}`);
  };

  private readonly onDown = (m: unknown): void => {
    const e = m as LinkDownEvent;
    if (e.link.name === this.current?.name) this.react(`down ${rootCode(e.reason)}`);
  };

  /** Each link's errors, from the moment it exists (a fast attack comes before startRemote returns). */
  private readonly onLinkUp = (m: unknown): void => {
    const link = (m as LinkUpEvent).link as RpmsgLink;
    if (link.bus !== this.bus) return;
    link.on('error', (e: Error & { code?: string }) => {
      if (this.isGood(link.name)) return this.fail(`${link.name}: ${String(e)}`);
      const c = this.current;
      if (link.name !== c?.name || !c.watching) return;
      if (e.code === 'EBADMSG') c.nsErrors++;
      this.react(`error ${e.code ?? '?'}`);
    });
  };
}

/** The violations, drops and name-service rejections `transport` counted against what `r` saw reported. */
export function checkCounts(label: string, transport: VirtioRpmsgTransport, r: Round, fail: (m: string) => void): void {
  const vqViolations = transport.rxVq.violations + transport.txVq.violations;
  if (vqViolations !== r.violations) fail(`${label}: ${vqViolations} violations counted, ${r.violations} reported`);
  const s = transport.link.stats;
  if (s.rxDroppedNoEndpoint + s.rxInvalid !== r.drops) fail(`${label}: ${s.rxDroppedNoEndpoint + s.rxInvalid} drops counted, ${r.drops} reported`);
  const ns = transport.ns;
  if (ns !== undefined) {
    const rej = ns.stats.rejected;
    const nsRejected = rej.length + rej.name + rej.addr;
    if (nsRejected !== r.nsErrors) fail(`${label}: ${nsRejected} announcements rejected, ${r.nsErrors} reported`);
  }
}

/** Fill the guard band with the canary. */
export function fillCanary(rp: Remote): void {
  rp.region.fill(rp.guard[0], rp.guard[1] - rp.guard[0], CANARY);
}

/** The first guard byte that is not the canary any more, as a failure. */
export function checkCanary(label: string, rp: Remote, fail: (m: string) => void): void {
  const g = rp.region.u8;
  for (let i = rp.guard[0]; i < rp.guard[1]; i++) {
    if (g[i] !== CANARY) {
      fail(`${label}: guard byte at 0x${i.toString(16)} changed to 0x${g[i]!.toString(16)}`);
      break;
    }
  }
}

/** The code deepest in an error's cause chain (the link's ENODEV wraps the reason). */
function rootCode(e: unknown): string {
  let code = '?';
  for (let c: unknown = e, d = 0; c instanceof Error && d < 8; c = c.cause, d++) {
    const k = (c as RpmsgError).code;
    if (typeof k === 'string') code = k;
  }
  return code;
}
