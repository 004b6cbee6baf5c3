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
import { bootRemote, runFirmware } from './remote-runtime.js';
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
  /** The firmware failed to start, or the link went down by itself (a virtqueue violation): close the connection. */
  onFailure: (error: Error) => void;
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
  const rt = bootRemote({
    name: o.name,
    region: rings.region,
    mem: { vdev: negotiatedVdev(rings.features, rings), vrings: rings.vrings },
    notify: rings.notify,
    options: o.options ?? {},
    log: o.log,
    features: VHOST_RPMSG_DEVICE_FEATURES,
  });
  let stopped = false;
  rt.ctx.link.on('down', (e) => {
    // Down without stop(): the guest broke a ring; the violation is the cause.
    if (!stopped) o.onFailure(e.cause instanceof Error ? e.cause : e);
  });
  const run = async (): Promise<void> => {
    if (o.firmware !== undefined) await runFirmware(o.firmware, rt.ctx);
    else if (o.setup !== undefined) await o.setup(rt.ctx);
    if (!stopped) o.onAttached?.(rt.ctx);
  };
  run().catch((e: unknown) => o.onFailure(e instanceof Error ? e : new Error(String(e))));
  return {
    transport: rt.transport,
    stop(reason) {
      if (stopped) return;
      stopped = true;
      rt.transport.destroy(reason);
      rt.runStopHandlers().catch((e: unknown) => o.log(`stop handler failed: ${String(e)}`));
    },
  };
}
