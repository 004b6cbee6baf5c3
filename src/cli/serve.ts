/**
 * `rpmsg serve`: own a bus and serve it on a UNIX socket under a policy. The bus is made of
 * worker remotes (`--remotes N`, running the echo firmware by default) and/or an OpenAMP-style
 * process remote (`--attach`: its shared-memory file and kick socket). Other transports
 * (vhost-user, the kernel's) plug in through `RpmsgDaemon.start({ bus })` in code.
 */
import { RpmsgBus } from '../rpmsg/bus.js';
import { RpmsgDaemon } from '../daemon/server.js';
import { loadPolicy } from '../daemon/policy.js';
import { defaultSocketPath } from '../daemon/socket-path.js';
import { startWorkerRemote, type WorkerRemoteProc } from '../platform/worker-remote.js';
import { attachProcessRemote, type ProcessRemoteLink } from '../platform/process-host.js';
import { startUi, type UiServer } from '../ui/server.js';
import { defineCommand } from './command.js';
import { hex } from './daemon-flags.js';
import { UsageError, flag } from './flags.js';

function firmwareUrl(f: string): string | URL {
  if (f === 'echo' || f === 'sample') return new URL(`../../samples/firmware/${f === 'echo' ? 'echo' : 'client-sample'}.js`, import.meta.url);
  return f;
}

export const serveCommand = defineCommand({
  name: 'serve',
  summary: 'serve the bus to local programs on a UNIX socket, each limited by a policy (rpmsg_char\'s job)',
  description:
    'Boots --remotes worker remote processors (and/or --attach to a process remote) and listens on\n' +
    '--socket (mode 0600, or the policy\'s socketMode). Without --policy, whoever can open the socket\n' +
    '(its owner) gets everything. Policy and protocol: docs/daemon-protocol.md. Stop with SIGINT/SIGTERM.',
  flags: {
    policy: flag.file({ help: 'policy file (JSON): which client may use which channels, and how' }),
    socket: flag.string({ help: 'socket path (default $RPMSG_SOCKET, $XDG_RUNTIME_DIR/rpmsg.sock or /tmp/rpmsg-$UID.sock)', metavar: 'PATH' }),
    remotes: flag.int({ help: 'worker-thread remote processors (default 1, or 0 with --attach)', min: 0, max: 64 }),
    firmware: flag.string({ help: 'what they run: echo ("rpmsg-openamp-demo-channel"), sample ("rpmsg-client-sample") or a firmware file', default: 'echo' }),
    attach: flag.boolean({ help: 'also attach to an OpenAMP-style process remote (rpmsg remote, OpenAMP\'s rpmsg-echo)' }),
    shm: flag.string({ help: 'its shared-memory file (default /dev/shm/openamp.shm)', metavar: 'PATH' }),
    kick: flag.string({ help: 'its kick socket (default /tmp/openamp.event.0)', metavar: 'PATH' }),
    quiet: flag.boolean({ help: 'no log lines', short: 'q' }),
    ui: flag.boolean({ help: 'also serve the live view (statistics, vrings, recent messages) on 127.0.0.1' }),
    'ui-port': flag.int({ help: 'its port (0: any free port)', min: 0, max: 65535, default: 0 }),
  },
  async run(values, ctx) {
    const remotes = values.remotes ?? (values.attach ? 0 : 1);
    if (remotes === 0 && !values.attach) throw new UsageError('nothing to serve: --remotes 0 without --attach');
    const log = values.quiet ? (): void => {} : (l: string): void => ctx.log(`rpmsg serve: ${l}`);
    const policy = values.policy !== undefined ? loadPolicy(values.policy) : undefined;
    const bus = new RpmsgBus();
    bus.on('channel', (c) => log(`channel ${c.name} on ${c.link.name}: ${c.src === 0xffffffff ? 'any' : hex(c.src)} -> ${hex(c.dst)}`));
    bus.on('channel-removed', (c) => log(`channel ${c.name} on ${c.link.name} removed`));
    bus.on('error', (e) => ctx.warn(`rpmsg serve: ${e.message}`));
    const procs: WorkerRemoteProc[] = [];
    let attached: ProcessRemoteLink | undefined;
    let daemon: RpmsgDaemon | undefined;
    let ui: UiServer | undefined;
    try {
      if (values.ui) {
        ui = await startUi({ bus, port: values['ui-port'], title: 'rpmsg serve' });
        ctx.log(`rpmsg serve: live view: ${ui.url}`);
      }
      for (let i = 0; i < remotes; i++) {
        const rp = await startWorkerRemote(bus, { firmware: firmwareUrl(values.firmware), name: `rproc${i}`, log: (l) => log(`[rproc${i}] ${l}`) });
        rp.on('crash', (e) => ctx.warn(`rpmsg serve: ${e.message}`));
        procs.push(rp);
      }
      if (values.attach) {
        attached = await attachProcessRemote(bus, {
          name: `rproc${remotes}`,
          ...(values.shm !== undefined ? { shmPath: values.shm } : {}),
          ...(values.kick !== undefined ? { socketPath: values.kick } : {}),
        });
        attached.on('down', () => log('attached remote is gone'));
      }
      daemon = await RpmsgDaemon.start({ bus, socketPath: values.socket ?? defaultSocketPath(), ...(policy !== undefined ? { policy } : {}), log });
      daemon.on('client-closed', (id: number) => log(`client ${id} closed`));
      log(`listening on ${daemon.socketPath} (mode ${daemon.policy.socketMode.toString(8).padStart(4, '0')}, policy: ${values.policy ?? 'owner only'})`);
      await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(), { once: true }));
      log('shutting down');
      return 0;
    } finally {
      await ui?.close();
      await daemon?.close();
      attached?.close();
      await Promise.all(procs.map((p) => p.close()));
    }
  },
});
