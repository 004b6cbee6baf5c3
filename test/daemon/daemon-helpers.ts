/** Shared by the daemon tests: a bus with echo remotes in workers and a daemon on a temp socket. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RpmsgBus, startWorkerRemote, type WorkerRemoteProc } from '../../src/index.js';
import { RpmsgDaemon, type DaemonOptions } from '../../src/daemon/server.js';
import { parsePolicy } from '../../src/daemon/policy.js';
import { firmwarePath, until } from '../helpers.js';

export const ECHO = 'rpmsg-openamp-demo-channel';
export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
export const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

export interface Rig {
  bus: RpmsgBus;
  remotes: WorkerRemoteProc[];
  daemon: RpmsgDaemon;
  socketPath: string;
  stop(): Promise<void>;
}

export function tempSocket(): string {
  return join(mkdtempSync(join(tmpdir(), 'rpmsgd-')), 'rpmsg.sock');
}

/** `remotes` echo remotes (a second firmware is the client sample: another channel name). */
export async function startRig(
  o: { remotes?: number; firmware?: string[]; policy?: unknown; socketPath?: string; daemon?: Partial<DaemonOptions> } = {},
): Promise<Rig> {
  const bus = new RpmsgBus();
  const remotes: WorkerRemoteProc[] = [];
  const fws = o.firmware ?? ['echo'];
  const n = o.remotes ?? fws.length;
  for (let i = 0; i < n; i++) {
    remotes.push(await startWorkerRemote(bus, { firmware: firmwarePath(fws[i % fws.length]!), name: `rproc${i}`, log: () => {} }));
  }
  await until(() => bus.channels.length >= n);
  const socketPath = o.socketPath ?? tempSocket();
  const daemon = await RpmsgDaemon.start({
    bus,
    socketPath,
    ...(o.policy !== undefined ? { policy: parsePolicy(o.policy) } : {}),
    ...o.daemon,
  });
  return {
    bus,
    remotes,
    daemon,
    socketPath,
    async stop() {
      await daemon.close();
      await Promise.all(remotes.map((r) => r.close()));
    },
  };
}
