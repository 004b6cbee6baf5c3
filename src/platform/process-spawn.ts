/** Start a firmware module in a child process (remote role, process-child.ts) and attach to it as host. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { RpmsgError } from '../errors.js';
import type { RpmsgBus } from '../rpmsg/bus.js';
import { attachProcessRemote, type HostAttachOptions, type ProcessRemoteLink } from './process-host.js';

export interface SpawnOptions extends Omit<HostAttachOptions, 'shmPath' | 'socketPath'> {
  /** Firmware module run in the child process. */
  firmware: string;
  /** The child's stdout: shown (default) or discarded. Its stderr is always shown. */
  stdout?: 'inherit' | 'ignore';
  shmPath?: string;
  socketPath?: string;
}

let spawned = 0;

export async function spawnProcessRemote(bus: RpmsgBus, options: SpawnOptions): Promise<{ child: ChildProcess; remote: ProcessRemoteLink }> {
  const id = `${process.pid}-${spawned++}`;
  const shmPath = options.shmPath ?? `/dev/shm/rpmsg-${id}.shm`;
  const socketPath = options.socketPath ?? `/tmp/rpmsg-${id}.sock`;
  const entry = new URL('./process-child.js', import.meta.url);
  const args = JSON.stringify({ firmware: options.firmware, shmPath, socketPath, ...(options.poll !== undefined ? { poll: options.poll } : {}) });
  const child = spawn(process.execPath, [fileURLToPath(entry), args], { stdio: ['ignore', options.stdout ?? 'inherit', 'inherit'] });
  const ac = new AbortController();
  let exited: string | undefined;
  child.once('exit', (code, signal) => {
    exited = signal !== null ? `killed by ${signal}` : `exited with code ${code}`;
    ac.abort();
  });
  try {
    const remote = await attachProcessRemote(bus, { ...options, shmPath, socketPath, signal: ac.signal });
    return { child, remote };
  } catch (e) {
    child.kill('SIGKILL');
    // Not the caller's abort (ABORT_ERR): the remote died before the host could attach.
    if (exited !== undefined) throw new RpmsgError('ENODEV', `remote process ${exited} before the host attached`, { firmware: options.firmware }, { cause: e });
    throw e;
  }
}
