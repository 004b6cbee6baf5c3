/**
 * Construction of the virtio rpmsg transport (virtio-transport.ts): feature negotiation, the
 * two virtqueues of the role, and the role's ring handling. Nothing here runs per message.
 */
import { RpmsgError, type VirtqueueViolation } from '../errors.js';
import type { VdevHandle } from '../virtio/resource-table.js';
import { Virtqueue } from '../virtio/virtqueue.js';
import { DEFAULT_BUFFER_SIZE, MAX_BUFFER_SIZE } from './buffer-pool.js';
import { HostRings } from './host-rings.js';
import { RemoteRings } from './remote-rings.js';
import type { RingSide } from './ring-side.js';
import type { RpmsgRole, VirtioRpmsgOptions } from './transport-options.js';

/** The features in use: the host negotiates them; the remote takes what the host set (after DRIVER_OK). */
export function negotiateFeatures(role: RpmsgRole, vdev: VdevHandle, supported: number): number {
  if (role === 'host') return vdev.hostNegotiate(supported);
  if (!vdev.driverOk()) throw new RpmsgError('ENODEV', 'remote started before the host set DRIVER_OK');
  return (vdev.negotiated() & supported) >>> 0;
}

/**
 * The role's rx and tx virtqueues (host: vring 0 rx, driver side; remote: vring 1 rx, device
 * side), each reporting its first violation to `onViolation`.
 */
export function createQueues(
  options: VirtioRpmsgOptions,
  eventIdx: boolean,
  onViolation: (v: VirtqueueViolation) => void,
): { rxVq: Virtqueue; txVq: Virtqueue } {
  const { role, link, region, vrings } = options;
  const host = role === 'host';
  const mk = (q: 0 | 1, name: string): Virtqueue =>
    new Virtqueue({
      name: `${link.name}:${name}`,
      region,
      offset: vrings[q].offset,
      num: vrings[q].num,
      align: vrings[q].align,
      side: host ? 'driver' : 'device',
      eventIdx,
      onViolation,
      maxBufferLength: options.maxBufferSize ?? MAX_BUFFER_SIZE,
      ...(options.bufferWindow !== undefined ? { bufferWindow: options.bufferWindow } : {}),
    });
  return { rxVq: mk(host ? 0 : 1, host ? 'host-rx' : 'remote-rx'), txVq: mk(host ? 1 : 0, host ? 'host-tx' : 'remote-tx') };
}

/**
 * The role's ring handling: the host posts buffers from its pool (HostRings); the remote uses
 * the host's (RemoteRings), calling `onInvalidTx` for a tx buffer it cannot use.
 */
export function createRingSide(options: VirtioRpmsgOptions, rxVq: Virtqueue, txVq: Virtqueue, onInvalidTx: () => void): RingSide {
  if (options.role !== 'host') return new RemoteRings(rxVq, txVq, onInvalidTx);
  return new HostRings(options.region, options.vdev, rxVq, txVq, {
    pool: options.pool,
    rxBufferSize: options.rxBufferSize ?? DEFAULT_BUFFER_SIZE,
    txBufferSize: options.txBufferSize ?? DEFAULT_BUFFER_SIZE,
    rxBuffers: options.rxBuffers ?? rxVq.num,
    txBuffers: options.txBuffers ?? txVq.num,
    rxNum: rxVq.num,
    txNum: txVq.num,
  });
}

/**
 * Why the link goes down when the status byte moved: on the remote, the host reset the device
 * (status 0: virtio §2.1, the remote starts over); on the host, the remote set
 * DEVICE_NEEDS_RESET after a violation it saw.
 */
export function statusChangeError(role: RpmsgRole, status: number): RpmsgError {
  return role === 'remote'
    ? new RpmsgError('ECONNRESET', 'the host reset the device', { status })
    : new RpmsgError('EPROTO', 'the remote reports a protocol violation (DEVICE_NEEDS_RESET)', { status });
}
