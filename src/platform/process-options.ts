/**
 * Remote processors in separate OS processes speak OpenAMP's Linux-machine protocol
 * (PROTOCOL.md §8): a shared-memory file (default /dev/shm/openamp.shm, 0x80000 bytes, file
 * offset = bus address) and one-byte kicks on a UNIX stream socket (default
 * /tmp/openamp.event.0). The remote (process-server.ts) writes the resource table and
 * listens; the host (process-host.ts) connects, reads the table, sets up the rings and sets
 * DRIVER_OK. These are the options both sides share.
 */
import { computeLayout, type LayoutOptions, type MemoryLayout } from './layout.js';
import type { PollLoopOptions } from './poll-loop.js';
import { OPENAMP_SHM_PATH, OPENAMP_SHM_SIZE } from './shm-file.js';

export const OPENAMP_SOCKET_PATH = '/tmp/openamp.event.0';

export interface ProcessMemoryOptions {
  /** Shared-memory file (default /dev/shm/openamp.shm). */
  shmPath?: string;
  /** Its size in bytes (default 0x80000). */
  size?: number;
  /** Kick socket (default /tmp/openamp.event.0). */
  socketPath?: string;
  /** Layout (default OpenAMP's Linux machine). The host reads vrings from the table. */
  layout?: LayoutOptions;
  /** Spin/park tuning; `{ spinWindowMs: 0 }` never spins (pure socket kicks). */
  poll?: PollLoopOptions;
}

export interface ResolvedProcessMemory {
  shmPath: string;
  size: number;
  socketPath: string;
  layout: MemoryLayout;
}

export function resolveProcessMemory(o: ProcessMemoryOptions): ResolvedProcessMemory {
  const size = o.size ?? OPENAMP_SHM_SIZE;
  return {
    shmPath: o.shmPath ?? OPENAMP_SHM_PATH,
    size,
    socketPath: o.socketPath ?? OPENAMP_SOCKET_PATH,
    layout: computeLayout({ size, ...o.layout }),
  };
}
