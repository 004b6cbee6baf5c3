/**
 * Flags shared by `rpmsg remote` and `rpmsg host` (OpenAMP's Linux-machine defaults), and
 * their translation into the platform's ProcessMemoryOptions.
 */
import type { ProcessMemoryOptions } from '../platform/process-options.js';
import { OPENAMP_DEMO_SERVICE } from '../services/echo.js';
import { SERVICE_NAMES } from '../services/registry.js';
import { flag } from './flags.js';

export const ECHO_SERVICE = OPENAMP_DEMO_SERVICE;

export const processFlags = {
  shm: flag.string({ help: 'shared-memory file', metavar: 'PATH', default: '/dev/shm/openamp.shm' }),
  size: flag.int({ help: 'its size in bytes', metavar: 'BYTES', min: 0x10000, max: 0x40000000, default: 0x80000, hex: true }),
  socket: flag.string({ help: 'kick socket', metavar: 'PATH', default: '/tmp/openamp.event.0' }),
  service: flag.choice(SERVICE_NAMES, {
    help: 'demo service: echo, sample, matrix, nocopy, flood (OpenAMP\'s demos; README: services) or tty ("rpmsg-tty", remote only)',
    default: 'echo',
  }),
  'no-spin': flag.boolean({ help: "never spin: every notification is a socket kick (OpenAMP's way)" }),
};

export function processMemory(v: { shm: string; size: number; socket: string; 'no-spin': boolean }): ProcessMemoryOptions {
  return { shmPath: v.shm, size: v.size, socketPath: v.socket, ...(v['no-spin'] ? { poll: { spinWindowMs: 0 } } : {}) };
}
