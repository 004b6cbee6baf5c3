/**
 * `rpmsg remote`: the remote role of OpenAMP's Linux-machine demos over a shared-memory file
 * and a UNIX socket. With no flags it uses OpenAMP's defaults, so it pairs with OpenAMP's
 * ping hosts; it serves one service of the registry (src/services/registry.ts), or a firmware
 * module, to one host after another until SIGINT/SIGTERM (or, with --once, until the first
 * host leaves).
 */
import { ProcessRemoteServer } from '../platform/process-server.js';
import { SERVICES } from '../services/registry.js';
import { defineCommand } from './command.js';
import { flag } from './flags.js';
import { processFlags, processMemory } from './process-flags.js';
import { runVhostUserRemote } from './vhost-user.js';

export const remoteCommand = defineCommand({
  name: 'remote',
  summary: "remote role over a shared-memory file + UNIX socket (pairs with OpenAMP's host apps)",
  description:
    'Creates the shared-memory file, writes the resource table and listens on the socket; each host\n' +
    'that attaches gets the service (echo: rpmsg-echo, sample: rpmsg-sample-echo, matrix:\n' +
    'matrix_multiplyd, nocopy: rpmsg-nocopy-echo, flood: the echo service, tty: "rpmsg-tty"), or\n' +
    'a firmware module. A socket that another remote still serves is never taken over.\n' +
    'With --vhost-user SOCKET it is instead a vhost-user virtio-rpmsg device for a Linux kernel\n' +
    '(e.g. User-Mode Linux with virtio_uml.device=SOCKET:7); --shm, --size, --socket do not apply.',
  flags: {
    ...processFlags,
    firmware: flag.file({ help: 'run this firmware module (default export: defineFirmware(...)) instead of a built-in service' }),
    count: flag.int({ help: 'sample: messages echoed before the endpoint is destroyed (default 100); given to firmware as ctx.options.count', min: 1, max: 0x100000 }),
    once: flag.boolean({ help: 'exit when the first host leaves' }),
    'vhost-user': flag.string({ help: 'be a vhost-user virtio-rpmsg device on this UNIX socket (a Linux guest is the host)', metavar: 'SOCKET' }),
    'require-sealed-memory': flag.boolean({ help: 'vhost-user: refuse guest memory the front-end could shrink (only sealed memfds, e.g. QEMU memory-backend-memfd; not User-Mode Linux)' }),
  },
  async run(v, ctx) {
    const service = SERVICES[v.service];
    if (v['vhost-user'] !== undefined) return runVhostUserRemote({ socket: v['vhost-user'], label: service.channel, setup: service.remote, firmware: v.firmware, requireSealedMemory: v['require-sealed-memory'] }, ctx);
    let failed = false;
    const server = await ProcessRemoteServer.start({
      ...processMemory(v),
      ...(v.firmware !== undefined ? { firmware: v.firmware } : { setup: service.remote }),
      ...(v.count !== undefined ? { options: { count: v.count } } : {}),
      log: (l) => ctx.log(l),
      once: v.once,
    });
    ctx.log(`rpmsg remote: serving ${v.firmware ?? `${service.name} ("${service.channel}")`} on ${v.socket}`);
    server.on('attached', () => ctx.log('rpmsg remote: host attached'));
    server.on('detached', () => ctx.log('rpmsg remote: host detached'));
    server.on('error', (e: unknown) => {
      failed = true;
      ctx.warn(`rpmsg remote: ${e instanceof Error ? e.message : String(e)}`);
    });
    await new Promise<void>((resolve) => {
      server.once('close', resolve);
      ctx.signal.addEventListener('abort', () => void server.close(), { once: true });
    });
    return failed ? 1 : 0;
  },
});
