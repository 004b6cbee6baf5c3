/**
 * The vhost-user platform: the rpmsg remote as a vhost-user virtio-rpmsg device for a Linux
 * kernel. Its parts, one job each:
 *   vhost-user-message.ts     wire format: reading, validating and encoding messages
 *   vhost-user-device.ts      protocol state of one connection: features, memory table, vrings
 *   vhost-user-connection.ts  socket I/O, kicks and calls, the rpmsg side's lifecycle
 *   vhost-user-remote.ts      the unchanged transport, bus and firmware on the guest's rings
 *   vhost-user-server.ts      the listening socket, one connection after another
 * and src/memory/guest-memory.ts for the memory table's address translation.
 */
export {
  VhostUserRemoteServer,
  startVhostUserRemote,
  VHOST_USER_RPMSG_FEATURES,
  VHOST_USER_RPMSG_PROTOCOL_FEATURES,
  type VhostUserRemoteOptions,
  type VhostUserRemoteEvents,
} from './vhost-user-server.js';
export type { VhostUserConnection } from './vhost-user-connection.js';
