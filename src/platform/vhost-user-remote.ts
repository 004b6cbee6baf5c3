/**
 * The rpmsg remote on a vhost-user device's rings: the same transport (remote role), bus,
 * name service and firmware modules as the worker and process platforms; only the memory
 * (the guest's, through the memory table) and the notifications (eventfds) differ.
 *
 * Virtio configuration: vhost-user carries the feature negotiation and has no resource table;
 * the transport reads negotiated features and DRIVER_OK from a vdev entry, so the negotiated
 * rpmsg feature bits are written into a private one-entry table with DRIVER_OK set (the
 * guest's status byte lives with the front-end; vring 0's first kick stands for DRIVER_OK).
 */
import { RpmsgError } from '../errors.js';
import { Region } from '../memory/region.js';
import { RpmsgBus } from '../rpmsg/bus.js';
import { RpmsgLink } from '../rpmsg/link.js';
import { NameService } from '../ns/name-service.js';
import { VirtioRpmsgTransport } from '../rpmsg-virtio/virtio-transport.js';
import {
  VIRTIO_CONFIG_S_ACKNOWLEDGE,
  VIRTIO_CONFIG_S_DRIVER,
  VIRTIO_CONFIG_S_DRIVER_OK,
  VIRTIO_CONFIG_S_FEATURES_OK,
  VIRTIO_RPMSG_F_NS,
  featureBit,
} from '../virtio/constants.js';
import { VdevHandle, buildResourceTable, findRpmsgVdev, parseResourceTable, rpmsgVdev } from '../virtio/resource-table.js';
import type { Firmware, FirmwareContext } from './firmware.js';
import { runFirmware } from './remote-runtime.js';
import type { VhostUserAttachment, VhostUserRings } from './vhost-user-connection.js';

/** Device feature bits of virtio-rpmsg offered over vhost-user (the name service). */
export const VHOST_RPMSG_DEVICE_FEATURES = featureBit(VIRTIO_RPMSG_F_NS);

export interface VhostRpmsgOptions {
  name: string;
  /** Firmware module (path or URL) whose default export runs on each guest, or `setup`. */
  firmware?: string | undefined;
  setup?: Firmware | undefined;
  options?: Record<string, unknown> | undefined;
  log: (line: string) => void;
  /** Each guest's firmware context, once it runs. */
  onAttached?: ((ctx: FirmwareContext) => void) | undefined;
  /** The firmware failed to start (the connection is closed). */
  onFirmwareError: (error: Error) => void;
}

/** A private vdev carrying the negotiated rpmsg features, DRIVER_OK set. */
function negotiatedVdev(features: bigint, rings: VhostUserRings): VdevHandle {
  const table = buildResourceTable([
    rpmsgVdev({
      dfeatures: VHOST_RPMSG_DEVICE_FEATURES,
      vrings: rings.vrings.map((v, i) => ({ da: 0, align: v.align, num: v.num, notifyid: i })),
    }),
  ]);
  const region = new Region(new ArrayBuffer(Math.ceil(table.length / 8) * 8));
  region.copyIn(0, table);
  const entry = findRpmsgVdev(parseResourceTable(region, 0, region.size));
  if (entry === undefined) throw new RpmsgError('ENODEV', 'no rpmsg vdev in the private table');
  const vdev = new VdevHandle(region, 0, entry);
  vdev.setGfeatures(Number(features & 0xffffffffn));
  vdev.setStatus(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
  return vdev;
}

/** Start the remote side on the rings and run the firmware; returns how to stop it. */
export function attachRpmsgRemote(rings: VhostUserRings, o: VhostRpmsgOptions): VhostUserAttachment {
  const bus = new RpmsgBus();
  const link = new RpmsgLink(o.name, 'remote');
  bus.addLink(link);
  const transport = new VirtioRpmsgTransport({
    role: 'remote',
    link,
    region: rings.region,
    vdev: negotiatedVdev(rings.features, rings),
    vrings: rings.vrings,
    notify: rings.notify,
    features: VHOST_RPMSG_DEVICE_FEATURES,
  });
  const ns = transport.nameService ? new NameService(bus, link) : undefined;
  const stopHandlers: Array<() => void | Promise<void>> = [];
  const ctx: FirmwareContext = {
    name: o.name,
    bus,
    link,
    ns,
    options: o.options ?? {},
    createEndpoint: (cb, opts) => link.createEndpoint(cb, opts),
    log: o.log,
    onStop: (fn) => {
      stopHandlers.push(fn);
    },
  };
  let stopped = false;
  const run = async (): Promise<void> => {
    if (o.firmware !== undefined) await runFirmware(o.firmware, ctx);
    else if (o.setup !== undefined) await o.setup(ctx);
    if (!stopped) o.onAttached?.(ctx);
  };
  run().catch((e: unknown) => o.onFirmwareError(e instanceof Error ? e : new Error(String(e))));
  return {
    transport,
    stop(reason) {
      if (stopped) return;
      stopped = true;
      transport.close(reason);
      void (async () => {
        for (const fn of stopHandlers) await fn();
      })().catch((e: unknown) => o.log(`stop handler failed: ${String(e)}`));
    },
  };
}
