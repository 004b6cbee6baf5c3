/**
 * Every observable bus event as a `node:diagnostics_channel` channel (undici's way: no logging
 * in the library, tools subscribe). Publishers check `hasSubscribers` before building the event
 * object, so a bus nobody watches allocates nothing and pays one property read per message.
 *
 * Payloads: `data` in message events is the bytes as they are in shared memory (a view, never a
 * copy), valid only while the subscriber runs; a subscriber that wants the payload copies it,
 * one that does not ignores it and costs nothing more.
 *
 * Everything else (decisions worth a line when debugging) goes to `util.debuglog('rpmsg')`:
 * `NODE_DEBUG=rpmsg`.
 *
 * This file imports nothing of the project so that any layer may publish.
 */
import { channel, type Channel } from 'node:diagnostics_channel';
import { debuglog } from 'node:util';

/** What events say about the link they happened on (RpmsgLink meets it). */
export interface DiagLink {
  readonly name: string;
  readonly role: 'host' | 'remote';
  /** The bus the link is on, if any (tools filter by it). */
  readonly bus: unknown;
}

/** A vring as placed in memory, for tools that read its occupancy (read-only). */
export interface DiagVring {
  /** "vring0" (remote → host) or "vring1" (host → remote). */
  readonly name: string;
  /** The Region holding the ring (the tool only reads its index words). */
  readonly region: unknown;
  readonly offset: number;
  readonly num: number;
  readonly align: number;
}

export interface LinkUpEvent {
  link: DiagLink;
  /** The link's vrings, when the transport has any. */
  vrings: readonly DiagVring[];
  /** Largest payload. */
  mtu: number;
}
export interface LinkDownEvent {
  link: DiagLink;
  reason: Error;
}
/** The memory of a remote was reset (restart, a new host attaching): a link comes up next. */
export interface ResetEvent {
  /** Remote processor name. */
  name: string;
  reason: string;
}
export interface ChannelEvent {
  link: DiagLink;
  name: string;
  src: number;
  dst: number;
}
export interface EndpointEvent {
  link: DiagLink;
  addr: number;
  dst: number;
  name: string;
}
/** One message on the wire: the rpmsg header fields and the payload (a lent view). */
export interface MessageEvent {
  link: DiagLink;
  src: number;
  dst: number;
  len: number;
  flags: number;
  data: Uint8Array;
}
export interface WaitEvent {
  link: DiagLink;
  /** Senders queued for a tx buffer, this one included. */
  waiters: number;
}
export type DropReason = 'no-endpoint' | 'invalid-length' | 'unusable-buffer';
export interface DropEvent {
  link: DiagLink;
  reason: DropReason;
  /** Header fields when they could be read, else -1. */
  src: number;
  dst: number;
  len: number;
  /** The payload (a lent view) when it was intact (no-endpoint drops). */
  data: Uint8Array | undefined;
}
export interface ViolationEvent {
  link: DiagLink;
  /** A VirtqueueViolation (code, queue, details). */
  error: Error & { code?: string };
}

/** Channel names, one per event. */
export const RPMSG_CHANNELS = {
  linkUp: 'rpmsg:link:up',
  linkDown: 'rpmsg:link:down',
  reset: 'rpmsg:reset',
  channelCreated: 'rpmsg:channel:created',
  channelRemoved: 'rpmsg:channel:removed',
  endpointCreated: 'rpmsg:endpoint:created',
  endpointDestroyed: 'rpmsg:endpoint:destroyed',
  send: 'rpmsg:message:send',
  receive: 'rpmsg:message:receive',
  wait: 'rpmsg:buffer:wait',
  drop: 'rpmsg:drop',
  violation: 'rpmsg:violation',
} as const;

function channelsOf<T extends Record<string, string>>(names: T): { readonly [K in keyof T]: Channel } {
  return Object.fromEntries(Object.entries(names).map(([k, name]) => [k, channel(name)])) as { readonly [K in keyof T]: Channel };
}

// One named channel per RPMSG_CHANNELS entry (module constants, so `x.hasSubscribers` stays cheap).
export const {
  linkUp: linkUpChannel, linkDown: linkDownChannel, reset: resetChannel,
  channelCreated: channelCreatedChannel, channelRemoved: channelRemovedChannel,
  endpointCreated: endpointCreatedChannel, endpointDestroyed: endpointDestroyedChannel,
  send: sendChannel, receive: receiveChannel, wait: waitChannel, drop: dropChannel, violation: violationChannel,
} = channelsOf(RPMSG_CHANNELS);

/** `NODE_DEBUG=rpmsg` lines for what has no channel. */
export const debug = debuglog('rpmsg');

// Publish helpers for the cold events: callers check `hasSubscribers` on the hot ones themselves
// (a call with six arguments is not free at 6 M messages/s).

export function publishMessage(
  ch: typeof sendChannel,
  link: DiagLink,
  src: number,
  dst: number,
  flags: number,
  data: Uint8Array,
): void {
  const e: MessageEvent = { link, src, dst, len: data.length, flags, data };
  ch.publish(e);
}

export function publishDrop(link: DiagLink, reason: DropReason, src: number, dst: number, len: number, data?: Uint8Array): void {
  if (debug.enabled) debug('%s: drop (%s) src 0x%s dst 0x%s len %d', link.name, reason, hex(src), hex(dst), len);
  if (dropChannel.hasSubscribers) dropChannel.publish({ link, reason, src, dst, len, data } satisfies DropEvent);
}

export function publishEndpoint(created: boolean, link: DiagLink, addr: number, dst: number, name: string): void {
  const ch = created ? endpointCreatedChannel : endpointDestroyedChannel;
  if (ch.hasSubscribers) ch.publish({ link, addr, dst, name } satisfies EndpointEvent);
}

export function publishChannel(created: boolean, link: DiagLink, name: string, src: number, dst: number): void {
  if (debug.enabled) debug('%s: channel %s %s [0x%s -> 0x%s]', link.name, created ? 'created' : 'removed', name, hex(src), hex(dst));
  const ch = created ? channelCreatedChannel : channelRemovedChannel;
  if (ch.hasSubscribers) ch.publish({ link, name, src, dst } satisfies ChannelEvent);
}

/** What each link that came up published, for tools that start watching later (weak: no leak). */
const linkInfo = new WeakMap<DiagLink, { vrings: readonly DiagVring[]; mtu: number }>();

/** The vrings and MTU a link published when it came up, if it did. */
export function linkDiagInfo(link: DiagLink): { vrings: readonly DiagVring[]; mtu: number } | undefined {
  return linkInfo.get(link);
}

export function publishLinkUp(link: DiagLink, vrings: readonly DiagVring[], mtu: number): void {
  linkInfo.set(link, { vrings, mtu });
  if (debug.enabled) debug('%s: link up (%s), mtu %d', link.name, link.role, mtu);
  if (linkUpChannel.hasSubscribers) linkUpChannel.publish({ link, vrings, mtu } satisfies LinkUpEvent);
}

export function publishLinkDown(link: DiagLink, reason: Error): void {
  if (debug.enabled) debug('%s: link down: %s', link.name, reason.message);
  if (linkDownChannel.hasSubscribers) linkDownChannel.publish({ link, reason } satisfies LinkDownEvent);
}

export function publishReset(name: string, reason: string): void {
  if (debug.enabled) debug('%s: reset: %s', name, reason);
  if (resetChannel.hasSubscribers) resetChannel.publish({ name, reason } satisfies ResetEvent);
}

export function publishViolation(link: DiagLink, error: Error & { code?: string }): void {
  if (debug.enabled) debug('%s: violation %s: %s', link.name, error.code ?? '', error.message);
  if (violationChannel.hasSubscribers) violationChannel.publish({ link, error } satisfies ViolationEvent);
}

export function publishWait(link: DiagLink, waiters: number): void {
  if (waitChannel.hasSubscribers) waitChannel.publish({ link, waiters } satisfies WaitEvent);
}

function hex(v: number): string {
  return v < 0 ? '-' : v.toString(16);
}
