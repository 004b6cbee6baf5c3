/**
 * Virtio constants used by remoteproc/rpmsg (virtio 1.x §2.7, legacy split layout; PROTOCOL.md §5, §7).
 */

/** Descriptor flags (`struct vring_desc.flags`). */
export const VRING_DESC_F_NEXT = 1;
export const VRING_DESC_F_WRITE = 2;
export const VRING_DESC_F_INDIRECT = 4;

/** `vring_avail.flags`: the driver does not want "buffer used" interrupts. */
export const VRING_AVAIL_F_NO_INTERRUPT = 1;
/** `vring_used.flags`: the device does not want "buffer available" notifications. */
export const VRING_USED_F_NO_NOTIFY = 1;

/** Feature bits (transport features live above the device-specific ones). */
export const VIRTIO_RING_F_INDIRECT_DESC = 28;
export const VIRTIO_RING_F_EVENT_IDX = 29;
/** rpmsg device feature: the name service is supported (bit 0 of dfeatures). */
export const VIRTIO_RPMSG_F_NS = 0;

/** Device status bits (the resource table's vdev `status` byte). */
export const VIRTIO_CONFIG_S_ACKNOWLEDGE = 1;
export const VIRTIO_CONFIG_S_DRIVER = 2;
export const VIRTIO_CONFIG_S_DRIVER_OK = 4;
export const VIRTIO_CONFIG_S_FEATURES_OK = 8;
export const VIRTIO_CONFIG_S_NEEDS_RESET = 0x40;
export const VIRTIO_CONFIG_S_FAILED = 0x80;

/** Virtio device id of rpmsg. */
export const VIRTIO_ID_RPMSG = 7;

/** End-of-chain marker OpenAMP writes into the last free descriptor's `next` field. */
export const VQ_RING_DESC_CHAIN_END = 0x8000;

/** Largest queue size the split layout allows (virtio 1.x §2.7: Queue Size ≤ 32768). */
export const VRING_MAX_NUM = 32768;

/** Bit mask of one feature bit (bits 0..31 only: the resource table carries 32-bit words). */
export function featureBit(bit: number): number {
  return (1 << bit) >>> 0;
}

export function hasFeature(features: number, bit: number): boolean {
  return ((features >>> bit) & 1) === 1;
}
