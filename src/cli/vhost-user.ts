/**
 * `rpmsg remote --vhost-user SOCKET`: the remote role as a vhost-user virtio-rpmsg device for
 * a Linux kernel (QEMU, or User-Mode Linux's virtio_uml.device=SOCKET:7). Serves one guest
 * after another until SIGINT/SIGTERM; a socket another back-end still serves is refused.
 */
import { startVhostUserRemote } from '../platform/vhost-user.js';
import type { Firmware } from '../platform/firmware.js';
import type { CommandContext } from './command.js';

export interface VhostUserCommandOptions {
  socket: string;
  /** The built-in service's channel name (for the log) and its remote side, unless a firmware is given. */
  label: string;
  setup: Firmware;
  firmware: string | undefined;
  /** Accept only guest memory sealed against shrinking (QEMU's memfd backend; not UML). */
  requireSealedMemory: boolean;
}

export async function runVhostUserRemote(v: VhostUserCommandOptions, ctx: CommandContext): Promise<number> {
  const server = await startVhostUserRemote({
    socketPath: v.socket,
    ...(v.firmware !== undefined ? { firmware: v.firmware } : { setup: v.setup }),
    log: (l) => ctx.log(l),
    requireSealedMemory: v.requireSealedMemory,
  });
  ctx.log(`rpmsg remote: vhost-user device (virtio id 7) serving ${v.firmware ?? v.label} on ${v.socket}`);
  server.on('attached', () => ctx.log('rpmsg remote: guest attached'));
  server.on('detached', (e) => ctx.log(`rpmsg remote: guest detached${e !== undefined ? `: ${e.message}` : ''}`));
  await new Promise<void>((resolve) => {
    server.once('close', resolve);
    ctx.signal.addEventListener('abort', () => void server.close(), { once: true });
  });
  return 0;
}
