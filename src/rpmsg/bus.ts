/**
 * The rpmsg bus (Linux rpmsg_core.c): drivers and channels of every link, matched by service
 * name, with probe and remove. A channel that appears is probed by a matching driver at once;
 * a driver registered later is probed for every unbound matching channel; unregistering a
 * driver runs its remove on its channels.
 *
 * Events: 'channel' (added), 'channel-removed', 'bound', 'unbound', 'error' (probe/remove
 * failures; emitted only when listened to, else a 'warning').
 */
import { EventEmitter } from 'node:events';
import { RpmsgError } from '../errors.js';
import { Channel } from './channel.js';
import { RPMSG_ADDR_ANY } from './constants.js';
import type { RpmsgDriver } from './driver.js';
import type { ChannelHost, RpmsgLink } from './link.js';

export interface ChannelInfo {
  name: string;
  /** Local address; ADDR_ANY lets the default endpoint pick one. */
  src?: number;
  dst: number;
  /** Announce to the peer when probed (Linux: channels created with a fixed src by the host). */
  announce?: boolean;
}

export class RpmsgBus extends EventEmitter implements ChannelHost {
  private readonly drivers = new Set<RpmsgDriver>();
  private readonly channelSet = new Set<Channel>();
  private readonly links = new Set<RpmsgLink>();

  /** Links attached to this bus. */
  listLinks(): RpmsgLink[] {
    return [...this.links];
  }

  addLink(link: RpmsgLink): void {
    if (link.bus !== undefined && link.bus !== this) throw new RpmsgError('EALREADY', 'link is on another bus');
    link.bus = this;
    this.links.add(link);
    link.once('down', () => this.links.delete(link));
  }

  get channels(): Channel[] {
    return [...this.channelSet];
  }

  registerDriver(driver: RpmsgDriver): void {
    if (this.drivers.has(driver)) throw new RpmsgError('EALREADY', 'driver already registered', { name: driver.name });
    if (typeof driver.probe !== 'function') throw new RpmsgError('EINVAL', 'driver needs probe()', { name: driver.name });
    this.drivers.add(driver);
    for (const ch of [...this.channelSet]) if (ch.driver === undefined && matches(driver, ch)) this.probe(ch, driver);
  }

  unregisterDriver(driver: RpmsgDriver): void {
    if (!this.drivers.delete(driver)) return;
    for (const ch of [...this.channelSet]) if (ch.driver === driver) this.unbind(ch);
  }

  /** Linux rpmsg_create_channel: returns undefined when the same channel exists already. */
  createChannel(link: RpmsgLink, info: ChannelInfo): Channel | undefined {
    if (!link.up) throw new RpmsgError('ENODEV', 'link is down', { link: link.name });
    const src = info.src ?? RPMSG_ADDR_ANY;
    if (this.findChannel(link, info.name, src, info.dst) !== undefined) return undefined;
    let onLink = 0;
    for (const ch of this.channelSet) if (ch.link === link) onLink++;
    if (onLink >= link.maxChannels) {
      throw new RpmsgError('ENOMEM', 'channel limit reached on link', { link: link.name, max: link.maxChannels });
    }
    if (link.bus !== this) this.addLink(link);
    const ch = new Channel(link, info.name, src, info.dst, info.announce ?? false);
    this.channelSet.add(ch);
    this.emit('channel', ch);
    for (const d of this.drivers) {
      if (matches(d, ch)) {
        this.probe(ch, d);
        break;
      }
    }
    return ch;
  }

  /** Linux rpmsg_find_device: ADDR_ANY in src or dst matches any. */
  findChannel(link: RpmsgLink, name: string, src = RPMSG_ADDR_ANY, dst = RPMSG_ADDR_ANY): Channel | undefined {
    for (const ch of this.channelSet) {
      if (ch.link !== link || ch.name !== name) continue;
      if (src !== RPMSG_ADDR_ANY && ch.src !== RPMSG_ADDR_ANY && ch.src !== src) continue;
      if (dst !== RPMSG_ADDR_ANY && ch.dst !== dst) continue;
      return ch;
    }
    return undefined;
  }

  /** Linux rpmsg_release_channel: unbind (remove runs), then forget the channel. */
  releaseChannel(ch: Channel): void {
    if (!this.channelSet.has(ch)) return;
    this.unbind(ch);
    ch.released = true;
    this.channelSet.delete(ch);
    this.emit('channel-removed', ch);
  }

  /** @internal the link went down */
  removeLinkChannels(link: RpmsgLink): void {
    for (const ch of [...this.channelSet]) if (ch.link === link) this.releaseChannel(ch);
  }

  /**
   * Linux driver_override: bind `ch` only to the driver named `driverName` (undefined clears
   * it). An already bound channel is unbound and re-probed.
   */
  setDriverOverride(ch: Channel, driverName: string | undefined): void {
    ch.driverOverride = driverName;
    if (ch.driver !== undefined) this.unbind(ch);
    for (const d of this.drivers) {
      if (matches(d, ch)) {
        this.probe(ch, d);
        break;
      }
    }
  }

  private probe(ch: Channel, driver: RpmsgDriver): void {
    const link = ch.link;
    const cb = driver.callback;
    try {
      if (cb !== undefined) {
        ch.ept = link.createEndpoint(
          (_owner, data, src, priv) => cb.call(driver, ch, data, src, priv),
          { addr: ch.src, dst: ch.dst, announce: false },
          ch,
        );
        ch.src = ch.ept.addr;
      }
      ch.driver = driver;
      const r = driver.probe(ch);
      if (r instanceof Promise) r.catch((e: unknown) => this.probeFailed(ch, driver, e));
    } catch (e) {
      this.probeFailed(ch, driver, e);
      return;
    }
    if (ch.driver === driver) {
      if (ch.announce && ch.ept !== undefined && link.announcer !== undefined) {
        link.announcer(ch.name, ch.ept.addr, false);
        ch.ept.announced = true;
      }
      this.emit('bound', ch, driver);
    }
  }

  private probeFailed(ch: Channel, driver: RpmsgDriver, e: unknown): void {
    if (ch.driver === driver) {
      ch.driver = undefined;
      ch.ept?.destroy();
      ch.ept = undefined;
    }
    this.report(new RpmsgError('ENODEV', `probe of ${driver.name} for ${ch.name} failed`, undefined, { cause: e }));
  }

  private unbind(ch: Channel): void {
    const driver = ch.driver;
    if (driver === undefined) return;
    ch.driver = undefined;
    try {
      driver.remove?.(ch);
    } catch (e) {
      this.report(new RpmsgError('EINVAL', `remove of ${driver.name} for ${ch.name} failed`, undefined, { cause: e }));
    } finally {
      ch.ept?.destroy(); // sends NS DESTROY if it announced itself
      ch.ept = undefined;
      this.emit('unbound', ch, driver);
    }
  }

  private report(e: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', e);
    else this.emit('warning', e);
  }
}

function matches(driver: RpmsgDriver, ch: Channel): boolean {
  if (ch.driverOverride !== undefined) return ch.driverOverride === driver.name;
  return driver.idTable.includes(ch.name);
}
