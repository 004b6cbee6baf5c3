/** An rpmsg driver (Linux `struct rpmsg_driver`): matched to channels by service name. */
import type { Channel } from './channel.js';

export interface RpmsgDriver {
  /** Driver name (what a channel's driverOverride names). */
  readonly name: string;
  /** Required. Service names this driver binds to (Linux id_table). */
  readonly idTable: readonly string[];
  /** Required. Called when a matching channel appears (or when the driver registers late). */
  probe(channel: Channel): void | Promise<void>;
  /** Optional. Called when the channel goes away or the driver unregisters. */
  remove?(channel: Channel): void;
  /** Optional. With it, a default endpoint is created at probe and delivers here. */
  callback?(channel: Channel, data: Uint8Array, src: number, priv: unknown): void;
}
