/** Where `rpmsg serve` listens unless told otherwise (the same rule on both sides). */
import { join } from 'node:path';

/** $RPMSG_SOCKET, else $XDG_RUNTIME_DIR/rpmsg.sock, else /tmp/rpmsg-$UID.sock. */
export function defaultSocketPath(env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env['RPMSG_SOCKET'];
  if (explicit !== undefined && explicit !== '') return explicit;
  const runtime = env['XDG_RUNTIME_DIR'];
  if (runtime !== undefined && runtime !== '') return join(runtime, 'rpmsg.sock');
  return `/tmp/rpmsg-${process.getuid?.() ?? 0}.sock`;
}
