/** Flags and connection shared by the daemon's client commands (ls, send, listen, ping, ctrl). */
import { RpmsgClient } from '../daemon/client.js';
import { flag, jsonFlag } from './flags.js';

export const clientFlags = {
  socket: flag.string({ help: 'daemon socket (default $RPMSG_SOCKET, $XDG_RUNTIME_DIR/rpmsg.sock or /tmp/rpmsg-$UID.sock)', metavar: 'PATH' }),
  token: flag.string({ help: 'token for a policy rule that matches by token (default $RPMSG_TOKEN)', metavar: 'T' }),
  json: jsonFlag,
};

export function connectFrom(values: { socket: string | undefined; token: string | undefined }, signal?: AbortSignal): Promise<RpmsgClient> {
  const token = values.token ?? process.env['RPMSG_TOKEN'];
  return RpmsgClient.connect({
    ...(values.socket !== undefined ? { socketPath: values.socket } : {}),
    ...(token !== undefined && token !== '' ? { token } : {}),
    ...(signal !== undefined ? { signal } : {}),
  });
}

export const hex = (n: number): string => `0x${n.toString(16)}`;
export const ADDR_MAX = 0xfffffffe;
