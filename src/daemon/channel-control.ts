/**
 * rpmsg_ctrl's device requests through the daemon: CREATE_CHANNEL makes a static channel by
 * name and addresses (what the seed says Linux never offered), DESTROY_CHANNEL releases one,
 * but only one created this way. Both need the rule's `control`.
 */
import { RpmsgError } from '../errors.js';
import { RPMSG_ADDR_ANY } from '../rpmsg/constants.js';
import type { RpmsgLink } from '../rpmsg/link.js';
import type { DaemonContext } from './context.js';
import { channelAllowed, type ClientRule } from './policy.js';
import { describeChannel } from './session-port.js';

/** The first link that is up (named: that one); ENOENT when there is none. */
export function findLink(ctx: DaemonContext, name: string | undefined): RpmsgLink {
  const links = ctx.bus.listLinks().filter((l) => l.up && (name === undefined || l.name === name));
  if (links.length === 0) throw new RpmsgError('ENOENT', name === undefined ? 'no link is up' : `no link "${name}"`);
  return links[0]!;
}

/** CREATE_CHANNEL; returns the OK fields. */
export function createChannel(ctx: DaemonContext, rule: ClientRule, f: Record<string, unknown>, who: string): Record<string, unknown> {
  const name = f['name'] as string;
  if (!rule.control) throw new RpmsgError('EACCES', 'creating channels is not allowed by the policy');
  if (!channelAllowed(rule, name)) throw new RpmsgError('EACCES', `channel "${name}" is not allowed by the policy`);
  const link = findLink(ctx, f['link'] as string | undefined);
  const ch = ctx.bus.createChannel(link, {
    name,
    src: (f['src'] as number | undefined) ?? RPMSG_ADDR_ANY,
    dst: f['dst'] as number,
    announce: (f['announce'] as boolean | undefined) ?? false,
  });
  if (ch === undefined) throw new RpmsgError('EBUSY', `channel "${name}" exists`);
  ctx.staticChannels.add(ch);
  ctx.log(`${who}: created channel ${ch.toString()} on ${link.name}`);
  return describeChannel(ch);
}

/** DESTROY_CHANNEL. */
export function destroyChannel(ctx: DaemonContext, rule: ClientRule, f: Record<string, unknown>): void {
  const name = f['name'] as string;
  if (!rule.control) throw new RpmsgError('EACCES', 'destroying channels is not allowed by the policy');
  const link = f['link'] as string | undefined;
  const src = f['src'] as number | undefined;
  const dst = f['dst'] as number | undefined;
  const ch = [...ctx.staticChannels].find(
    (c) => c.name === name && (link === undefined || c.link.name === link) && (src === undefined || c.src === src) && (dst === undefined || c.dst === dst),
  );
  if (ch === undefined) throw new RpmsgError('ENOENT', `no static channel "${name}" (only channels created through the daemon can be destroyed)`);
  if (!channelAllowed(rule, name)) throw new RpmsgError('EACCES', `channel "${name}" is not allowed by the policy`);
  ctx.staticChannels.delete(ch);
  ctx.bus.releaseChannel(ch);
}
