/** Public API (allow-list). Layers, bottom up: errors, memory, virtio, rpmsg, ns, rpmsg-virtio, platform. */
export * from './errors.js';
export { Region, type RegionOptions } from './memory/region.js';
export * from './virtio/constants.js';
export { vringLayout, vringSize, vringNeedEvent, type VringLayout } from './virtio/vring-layout.js';
export { Virtqueue, type VirtqueueOptions, type VirtqueueSide } from './virtio/virtqueue.js';
export * from './virtio/resource-table.js';
export * from './rpmsg/constants.js';
export { RpmsgBus, type ChannelInfo } from './rpmsg/bus.js';
export { Channel } from './rpmsg/channel.js';
export type { RpmsgDriver } from './rpmsg/driver.js';
export { Endpoint, type RxCallback } from './rpmsg/endpoint.js';
export { RpmsgLink, type SendOptions, type CreateEndpointOptions, type LinkStats, type LinkLimits } from './rpmsg/link.js';
export type { RpmsgTransportOps, TxBuffer, RxBufferHold } from './rpmsg/ops.js';
export * from './ns/ns-message.js';
export { NameService, type NameServiceStats } from './ns/name-service.js';
export { RPMSG_HDR_SIZE, readHeader, writeHeader, type RpmsgHeader } from './rpmsg-virtio/header.js';
export { VirtioRpmsgTransport, DEFAULT_FEATURES, type VirtioRpmsgOptions, type RpmsgRole, type RingPlacement } from './rpmsg-virtio/virtio-transport.js';
export * from './platform/layout.js';
export { defineFirmware, type Firmware, type FirmwareContext } from './platform/firmware.js';
export { Loopback, type LoopbackOptions, type LoopbackSide } from './platform/loopback.js';
export { PollLoop, AtomicsDoorbell, type PollLoopOptions, type Pollable } from './platform/poll-loop.js';
export { WorkerRemoteProc, startWorkerRemote, type WorkerRemoteOptions, type RemoteState } from './platform/worker-remote.js';
export { startHostSide, type HostBufferOptions, type HostSide, type HostSideOptions } from './platform/host-side.js';
export { inspectVring, type VringSnapshot, type VringDescriptor } from './virtio/inspect.js';
export { mapShmFile, OPENAMP_SHM_PATH, OPENAMP_SHM_SIZE } from './platform/shm-file.js';
export { SocketDoorbell } from './platform/socket-doorbell.js';
export type { Doorbell } from './platform/poll-loop.js';
export {
  ProcessRemoteServer,
  ProcessRemoteLink,
  attachProcessRemote,
  spawnProcessRemote,
  OPENAMP_SOCKET_PATH,
  type ProcessMemoryOptions,
  type RemoteServeOptions,
  type HostAttachOptions,
  type SpawnOptions,
} from './platform/process-remote.js';
