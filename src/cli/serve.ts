/**
 * `rpmsg serve`: own a bus and serve it on a UNIX socket under a policy. The bus is made of
 * worker remotes (`--remotes N`, running the echo firmware by default) and/or an OpenAMP-style
 * process remote (`--attach`: its shared-memory file and kick socket). Other transports
 * (vhost-user, the kernel's) plug in through `RpmsgDaemon.start({ bus })` in code.
 */
import { parseArgs } from 'node:util';
import { RpmsgBus } from '../rpmsg/bus.js';
import { RpmsgDaemon } from '../daemon/server.js';
import { loadPolicy } from '../daemon/policy.js';
import { defaultSocketPath } from '../daemon/socket-path.js';
import { startWorkerRemote, type WorkerRemoteProc } from '../platform/worker-remote.js';
import { attachProcessRemote, type ProcessRemoteLink } from '../platform/process-remote.js';
import { CLIENT_FLAGS, hex, intFlag, runCommand, UsageError } from './daemon-common.js';

export const SERVE_USAGE = `usage: rpmsg serve [--policy FILE] [--socket PATH] [--remotes N] [--firmware echo|sample|FILE]
                   [--attach] [--shm PATH] [--kick PATH] [--quiet]
  --policy FILE    client rules (docs/daemon-protocol.md); default: the socket owner gets everything
  --socket PATH    default $RPMSG_SOCKET, $XDG_RUNTIME_DIR/rpmsg.sock or /tmp/rpmsg-$UID.sock
  --remotes N      worker-thread remote processors (default 1, or 0 with --attach)
  --firmware F     what they run: echo ("rpmsg-openamp-demo-channel", default), sample
                   ("rpmsg-client-sample"), or a firmware module file
  --attach         also attach to an OpenAMP-style process remote (rpmsg remote, OpenAMP's rpmsg-echo)
  --shm, --kick    its shared-memory file and kick socket (default /dev/shm/openamp.shm, /tmp/openamp.event.0)`;

function firmwareUrl(f: string): string | URL {
  if (f === 'echo' || f === 'sample') return new URL(`../../samples/firmware/${f === 'echo' ? 'echo' : 'client-sample'}.js`, import.meta.url);
  return f;
}

export function runServe(args: string[]): Promise<number> {
  return runCommand(SERVE_USAGE, async () => {
    const { values, positionals } = parseArgs({ args, options: { ...CLIENT_FLAGS, ...{
      policy: { type: 'string' },
      remotes: { type: 'string' },
      firmware: { type: 'string', default: 'echo' },
      attach: { type: 'boolean', default: false },
      shm: { type: 'string' },
      kick: { type: 'string' },
      quiet: { type: 'boolean', short: 'q', default: false },
    } }, allowPositionals: true });
    if (values.help) {
      console.log(SERVE_USAGE);
      return 0;
    }
    if (positionals.length > 0) throw new UsageError(`serve takes no arguments (got '${positionals[0]}')`);
    const remotes = intFlag(values.remotes, 'remotes', values.attach ? 0 : 1, 0, 64);
    if (remotes === 0 && !values.attach) throw new UsageError('nothing to serve: --remotes 0 without --attach');
    const log = values.quiet ? (): void => {} : (l: string): void => console.log(`rpmsg serve: ${l}`);
    const policy = values.policy !== undefined ? loadPolicy(values.policy) : undefined;
    const bus = new RpmsgBus();
    bus.on('channel', (c) => log(`channel ${c.name} on ${c.link.name}: ${c.src === 0xffffffff ? 'any' : hex(c.src)} -> ${hex(c.dst)}`));
    bus.on('channel-removed', (c) => log(`channel ${c.name} on ${c.link.name} removed`));
    bus.on('warning', (e: Error) => log(`warning: ${e.message}`));
    const procs: WorkerRemoteProc[] = [];
    let attached: ProcessRemoteLink | undefined;
    let daemon: RpmsgDaemon | undefined;
    try {
      for (let i = 0; i < remotes; i++) {
        procs.push(await startWorkerRemote(bus, { firmware: firmwareUrl(values.firmware), name: `rproc${i}`, log: (l) => log(`[rproc${i}] ${l}`) }));
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
      daemon.on('client', (id: number) => log(`client ${id} connected`));
      daemon.on('client-closed', (id: number) => log(`client ${id} closed`));
      log(`listening on ${daemon.socketPath} (mode ${daemon.policy.socketMode.toString(8).padStart(4, '0')}, policy: ${values.policy ?? 'owner only'})`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      log('shutting down');
      return 0;
    } finally {
      await daemon?.close();
      attached?.close();
      await Promise.all(procs.map((p) => p.stop()));
    }
  });
}
