/**
 * The rpmsg bus (Linux rpmsg_core.c): drivers and channels of every link, matched by service
 * name, with probe and remove. A channel that appears is probed by a matching driver at once;
 * a driver registered later is probed for every unbound matching channel; unregistering a
 * driver runs its remove on its channels.
 *
 * Errors from probe and remove go to 'error' listeners, else to process.emitWarning.
 */
import { EventEmitter } from 'node:events';
import { RpmsgError, reportError } from '../errors.js';
import { Channel } from './channel.js';
import { publishChannel } from './diagnostics.js';
import { RPMSG_ADDR_ANY } from './constants.js';
import type { RpmsgDriver } from './driver.js';
import type { RpmsgLink } from './link.js';
import type { ChannelInfo } from './types.js';

export interface RpmsgBusEvents {
  channel: [channel: Channel];
  'channel-removed': [channel: Channel];
  bound: [channel: Channel, driver: RpmsgDriver];
  unbound: [channel: Channel, driver: RpmsgDriver];
  error: [error: Error];
}

export class RpmsgBus extends EventEmitter<RpmsgBusEvents> {
  private readonly drivers = new Set<RpmsgDriver>();
  private readonly bindings = new Map<Channel, RpmsgDriver | undefined>();
  private readonly links = new Set<RpmsgLink>();

  /** Links attached to this bus. */
  listLinks(): RpmsgLink[] {
    return [...this.links];
  }

  addLink(link: RpmsgLink): void {
    if (link.bus === this) return;
    if (link.bus !== undefined) throw new RpmsgError('EALREADY', 'link is on another bus');
    link.bus = this;
    this.links.add(link);
    link.once('down', () => this.links.delete(link));
  }

  get channels(): Channel[] {
    return [...this.bindings.keys()];
  }

  /** The driver bound to `ch`, if any. */
  driverOf(ch: Channel): RpmsgDriver | undefined {
    return this.bindings.get(ch);
  }

  /** Linux rpmsg_register_driver. EINVAL for a driver without name, id table or probe. */
  registerDriver(driver: RpmsgDriver): void {
    if (this.drivers.has(driver)) throw new RpmsgError('EALREADY', 'driver already registered', { name: driver.name });
    checkDriver(driver);
    this.drivers.add(driver);
    for (const ch of this.channels) if (this.bindings.get(ch) === undefined && matches(driver, ch)) this.probe(ch, driver);
  }

  unregisterDriver(driver: RpmsgDriver): void {
    if (!this.drivers.delete(driver)) return;
    for (const [ch, d] of [...this.bindings]) if (d === driver) this.unbind(ch);
  }

  /** Linux rpmsg_create_channel: returns undefined when the same channel exists already. */
  createChannel(link: RpmsgLink, info: ChannelInfo): Channel | undefined {
    if (!link.up) throw new RpmsgError('ENODEV', 'link is down', { link: link.name });
    const src = info.src ?? RPMSG_ADDR_ANY;
    if (this.findChannel(link, info.name, src, info.dst) !== undefined) return undefined;
    let onLink = 0;
    for (const ch of this.bindings.keys()) if (ch.link === link) onLink++;
    if (onLink >= link.maxChannels) {
      throw new RpmsgError('ENOMEM', 'channel limit reached on link', { link: link.name, max: link.maxChannels });
    }
    this.addLink(link);
    const ch = new Channel(link, info.name, src, info.dst, info.announce ?? false);
    this.bindings.set(ch, undefined);
    publishChannel(true, link, ch.name, ch.src, ch.dst);
    this.emit('channel', ch);
    this.probeFirstMatch(ch);
    return ch;
  }

  /** Linux rpmsg_find_device: ADDR_ANY in src or dst matches any. */
  findChannel(link: RpmsgLink, name: string, src = RPMSG_ADDR_ANY, dst = RPMSG_ADDR_ANY): Channel | undefined {
    for (const ch of this.bindings.keys()) {
      if (ch.link !== link || ch.name !== name) continue;
      if (src !== RPMSG_ADDR_ANY && ch.src !== RPMSG_ADDR_ANY && ch.src !== src) continue;
      if (dst !== RPMSG_ADDR_ANY && ch.dst !== dst) continue;
      return ch;
    }
    return undefined;
  }

  /** Linux rpmsg_release_channel: unbind (remove runs), then forget the channel. */
  releaseChannel(ch: Channel): void {
    if (!this.bindings.has(ch)) return;
    this.unbind(ch);
    ch.released = true;
    this.bindings.delete(ch);
    publishChannel(false, ch.link, ch.name, ch.src, ch.dst);
    this.emit('channel-removed', ch);
  }

  /** @internal the link went down */
  removeLinkChannels(link: RpmsgLink): void {
    for (const ch of this.channels) if (ch.link === link) this.releaseChannel(ch);
  }

  /**
   * Linux driver_override: bind `ch` only to the driver named `driverName` (undefined clears
   * it). An already bound channel is unbound and re-probed.
   */
  setDriverOverride(ch: Channel, driverName: string | undefined): void {
    ch.driverOverride = driverName;
    this.unbind(ch);
    this.probeFirstMatch(ch);
  }

  private probeFirstMatch(ch: Channel): void {
    for (const d of this.drivers) {
      if (matches(d, ch)) return this.probe(ch, d);
    }
  }

  private probe(ch: Channel, driver: RpmsgDriver): void {
    const cb = driver.callback;
    try {
      if (cb !== undefined) {
        ch.ept = ch.link.addEndpoint((_ept, data, src, priv) => cb.call(driver, ch, data, src, priv), { addr: ch.src, dst: ch.dst, announce: false }, false);
        ch.src = ch.ept.addr;
      }
      this.bind(ch, driver);
      const r = driver.probe(ch);
      if (r instanceof Promise) r.catch((e: unknown) => this.probeFailed(ch, driver, e));
    } catch (e) {
      this.probeFailed(ch, driver, e);
      return;
    }
    if (this.bindings.get(ch) === driver) {
      if (ch.announce && ch.ept !== undefined) ch.link.announce(ch.ept, ch.name);
      this.emit('bound', ch, driver);
    }
  }

  private bind(ch: Channel, driver: RpmsgDriver | undefined): void {
    this.bindings.set(ch, driver);
    ch.driverName = driver?.name;
  }

  private probeFailed(ch: Channel, driver: RpmsgDriver, e: unknown): void {
    if (this.bindings.get(ch) === driver) {
      this.bind(ch, undefined);
      ch.ept?.destroy();
      ch.ept = undefined;
    }
    reportError(this, new RpmsgError('ENODEV', `probe of ${driver.name} for ${ch.name} failed`, undefined, { cause: e }));
  }

  private unbind(ch: Channel): void {
    const driver = this.bindings.get(ch);
    if (driver === undefined) return;
    this.bind(ch, undefined);
    try {
      driver.remove?.(ch);
    } catch (e) {
      reportError(this, new RpmsgError('EINVAL', `remove of ${driver.name} for ${ch.name} failed`, undefined, { cause: e }));
    } finally {
      ch.ept?.destroy(); // sends NS DESTROY if it announced itself
      ch.ept = undefined;
      this.emit('unbound', ch, driver);
    }
  }
}

function checkDriver(d: RpmsgDriver): void {
  const bad = (what: string): never => {
    throw new RpmsgError('EINVAL', `driver needs ${what}`, { name: String(d?.name) });
  };
  if (typeof d !== 'object' || d === null) bad('to be an object');
  if (typeof d.name !== 'string' || d.name === '') bad('a name');
  if (!Array.isArray(d.idTable) || !d.idTable.every((n) => typeof n === 'string')) bad('an id table (array of service names)');
  if (typeof d.probe !== 'function') bad('probe()');
  if (d.remove !== undefined && typeof d.remove !== 'function') bad('remove to be a function');
  if (d.callback !== undefined && typeof d.callback !== 'function') bad('callback to be a function');
}

function matches(driver: RpmsgDriver, ch: Channel): boolean {
  if (ch.driverOverride !== undefined) return ch.driverOverride === driver.name;
  return driver.idTable.includes(ch.name);
}
