/**
 * Where `rpmsg trace` and `rpmsg stats` find a bus: a process pair's shared-memory file
 * (`--shm PATH`, read-only), the demo run in this process (`--demo`), or a running daemon
 * (`--daemon [SOCKET]`, the socket as ls/send/listen find it: --socket, $RPMSG_SOCKET, ...).
 * Exactly one.
 */
import { connectionFlags, type ConnectionValues } from './daemon-flags.js';
import { flag, UsageError } from './flags.js';

export const busSourceFlags = {
  shm: flag.string({ help: 'shared-memory file of a running pair (opened read-only)', metavar: 'PATH' }),
  demo: flag.boolean({ help: 'run the demo (worker remotes) in this process and use its bus' }),
  daemon: flag.boolean({ help: "the bus of a running daemon (rpmsg serve); its socket: SOCKET, --socket or the default; needs the policy's observe" }),
  ...connectionFlags,
};

/** The positional SOCKET, only with --daemon. */
export const busSourceArgs = { usage: '[SOCKET]', min: 0, max: 1 };

export type BusSource = { kind: 'shm'; path: string } | { kind: 'demo' } | { kind: 'daemon'; connection: ConnectionValues };

/** The one source the flags name; UsageError for none or several. */
export function busSource(v: { shm: string | undefined; demo: boolean; daemon: boolean } & ConnectionValues, args: string[] = []): BusSource {
  const given = [v.shm !== undefined, v.demo, v.daemon].filter(Boolean).length;
  if (given !== 1) throw new UsageError('give exactly one of --shm PATH, --demo and --daemon [SOCKET]');
  const [socket] = args;
  if (!v.daemon && (socket !== undefined || v.socket !== undefined || v.token !== undefined)) throw new UsageError('SOCKET, --socket and --token go with --daemon');
  if (socket !== undefined && v.socket !== undefined) throw new UsageError('give the socket once: SOCKET or --socket');
  if (v.shm !== undefined) return { kind: 'shm', path: v.shm };
  if (v.demo) return { kind: 'demo' };
  return { kind: 'daemon', connection: { socket: socket ?? v.socket, token: v.token } };
}
