/** Public API (allow-list). Layers, bottom up: errors, memory, virtio, rpmsg, ns, rpmsg-virtio, platform, services. */
export * from './errors.js';
export { Region, type RegionOptions } from './memory/region.js';
export * from './virtio/constants.js';
export { vringLayout, vringSize, vringNeedEvent, type VringLayout } from './virtio/vring-layout.js';
export { Virtqueue, type VirtqueueOptions, type VirtqueueSide } from './virtio/virtqueue.js';
export * from './virtio/resource-table.js';
export * from './rpmsg/constants.js';
export { RpmsgBus, type RpmsgBusEvents } from './rpmsg/bus.js';
export { Channel } from './rpmsg/channel.js';
export type { RpmsgDriver } from './rpmsg/driver.js';
export { Endpoint, payloadBytes, type Payload, type RxCallback } from './rpmsg/endpoint.js';
export { RpmsgLink, type RpmsgLinkEvents } from './rpmsg/link.js';
export type { SendOptions, CreateEndpointOptions, ChannelInfo, LinkStats, LinkLimits } from './rpmsg/types.js';
export type { RpmsgTransportOps, TxBuffer, RxBufferHold } from './rpmsg/ops.js';
export * from './ns/ns-message.js';
export { NameService, type NameServiceStats } from './ns/name-service.js';
export { RPMSG_HDR_SIZE, readHeader, writeHeader, type RpmsgHeader } from './rpmsg-virtio/header.js';
export { VirtioRpmsgTransport, DEFAULT_FEATURES, type VirtioRpmsgOptions, type RpmsgRole } from './rpmsg-virtio/virtio-transport.js';
export type { RingPlacement } from './virtio/vring-layout.js';
export { KernelRpmsgTransport, type KernelTransportOptions, type KernelTransportStats } from './rpmsg-char/char-transport.js';
export { RpmsgTtyStream, openRpmsgTty, type RpmsgTtyOptions } from './rpmsg-char/tty.js';
export { listDevices as listKernelRpmsgDevices, type KernelRpmsgDevice } from './rpmsg-char/sysfs.js';
export * from './platform/layout.js';
export { defineFirmware, type Firmware, type FirmwareContext } from './platform/firmware.js';
export { Loopback, type LoopbackOptions, type LoopbackSide } from './platform/loopback.js';
export { PollLoop, type PollLoopOptions, type Pollable } from './platform/poll-loop.js';
export { AtomicsDoorbell } from './platform/atomics-doorbell.js';
export { WorkerRemoteProc, startWorkerRemote, type WorkerRemoteOptions, type WorkerRemoteEvents, type RemoteState } from './platform/worker-remote.js';
export { startHostSide, startRemoteSide, type HostBufferOptions, type HostSide, type HostSideOptions, type RemoteSideOptions, type RpmsgSide } from './platform/start-side.js';
export { inspectVring, type VringSnapshot, type VringDescriptor } from './virtio/inspect.js';
export {
  RPMSG_CHANNELS,
  type DiagLink,
  type DiagVring,
  type LinkUpEvent,
  type LinkDownEvent,
  type ResetEvent,
  type ChannelEvent,
  type EndpointEvent,
  type MessageEvent,
  type WaitEvent,
  type DropEvent,
  type DropReason,
  type ViolationEvent,
} from './rpmsg/diagnostics.js';
export { mapShmFile, OPENAMP_SHM_PATH, OPENAMP_SHM_SIZE } from './platform/shm-file.js';
export { SocketDoorbell } from './platform/socket-doorbell.js';
export type { Doorbell } from './platform/poll-loop.js';
export { OPENAMP_SOCKET_PATH, type ProcessMemoryOptions } from './platform/process-options.js';
export { ProcessRemoteServer, type RemoteServeOptions, type ProcessRemoteServerEvents } from './platform/process-server.js';
export { ProcessRemoteLink, attachProcessRemote, type HostAttachOptions, type ProcessRemoteLinkEvents } from './platform/process-host.js';
export { spawnProcessRemote, type SpawnOptions } from './platform/process-spawn.js';
export { HostDevice, type AutoResetOptions, type HostDeviceEvents, type HostDeviceOptions, type RecoveryOptions, type WatchdogOptions } from './platform/host-device.js';
export { GuestMemory, type GuestRegion, type GuestRegionSpec, type GuestLocation } from './memory/guest-memory.js';
export {
  VhostUserRemoteServer,
  startVhostUserRemote,
  type VhostUserRemoteOptions,
  type VhostUserRemoteEvents,
} from './platform/vhost-user.js';
export type { VhostUserConnection } from './platform/vhost-user.js';
export { type TraceRecord, type TraceSink, type TraceDirection } from './trace/record.js';
export { formatDyndbg, formatJson, dyndbgSink, jsonSink } from './trace/format.js';
export { PcapngWriter, LINKTYPE_USER0 } from './trace/pcapng.js';
export { traceBus, type BusTrace, type TraceBusOptions } from './trace/bus-tracer.js';
export { ShmTracer, type ShmTraceOptions, type ShmTraceStats, type VringOccupancy } from './trace/shm-tracer.js';
export { BusStats, type LinkStatsReport, type EndpointStats, type VringStats } from './trace/stats.js';
export { startUi, type UiOptions, type UiServer, type UiState } from './ui/server.js';
// user-facing: streams and the daemon (rpmsg serve) with its client
export { EndpointStream, type EndpointStreamOptions, type HeldMessage, type StreamPort } from './stream/endpoint-stream.js';
export { openEndpointStream, createStreamDriver, type LocalStreamOptions, type StreamDriverOptions } from './stream/local-stream.js';
export { RpmsgDaemon, type DaemonOptions, type DaemonCounters } from './daemon/server.js';
export { RpmsgClient, DaemonEndpoint, type ConnectOptions, type SessionInfo, type ChannelEntry } from './daemon/client.js';
export { parsePolicy, loadPolicy, ownerOnlyPolicy, type Policy, type ClientRule, type ClientMatch } from './daemon/policy.js';
export { defaultSocketPath } from './daemon/socket-path.js';
export { PROTOCOL_VERSION as DAEMON_PROTOCOL_VERSION } from './daemon/protocol.js';
export { SERVICES, SERVICE_NAMES, TTY_SERVICE, getService, isServiceName, type ServiceDefinition, type ServiceName } from './services/registry.js';
export { resultLine, openServiceEndpoint, type HostTestContext, type HostTestResult } from './services/host-test.js';
export * from './services/payload.js';
export { OPENAMP_DEMO_SERVICE, serveEcho, runEchoPing } from './services/echo.js';
export { SAMPLE_SERVICE, serveSample, runSamplePing } from './services/sample.js';
export { MATRIX_BYTES, MATRIX_REQUEST_BYTES, encodeMatrix, decodeMatrix, multiply, serveMatrix, runMatrixMultiply, type Matrix } from './services/matrix.js';
export { serveNocopyEcho, runNocopyPing } from './services/nocopy.js';
export { runFloodPing, OPENAMP_FLOOD_PACKAGES } from './services/flood.js';
