/** Flags and connection shared by the daemon's client commands (ls, send, listen, ping, ctrl). */
import type { ParseArgsConfig } from 'node:util';
import { RpmsgClient } from '../daemon/client.js';
import { RpmsgError } from '../errors.js';

export class UsageError extends Error {}

export const CLIENT_FLAGS = {
  socket: { type: 'string' },
  token: { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const satisfies NonNullable<ParseArgsConfig['options']>;

/** An integer flag in [min, max]; the message names the flag and the range. */
export function intFlag(v: string | undefined, name: string, dflt: number, min: number, max: number): number {
  if (v === undefined) return dflt;
  const n = /^(0x[0-9a-f]+|\d+)$/i.test(v) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be an integer in ${min}..${max} (got '${v}')`);
  return n;
}

export function connectFrom(values: { socket?: string | undefined; token?: string | undefined }): Promise<RpmsgClient> {
  const token = values.token ?? process.env['RPMSG_TOKEN'];
  return RpmsgClient.connect({
    ...(values.socket !== undefined ? { socketPath: values.socket } : {}),
    ...(token !== undefined && token !== '' ? { token } : {}),
  });
}

/** Run a command body: usage errors exit 2, failures exit 1 with `rpmsg: CODE: message`. */
export async function runCommand(usage: string, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (e) {
    const parseError = typeof (e as { code?: unknown }).code === 'string' && String((e as { code: string }).code).startsWith('ERR_PARSE_ARGS');
    if (e instanceof UsageError || parseError) {
      console.error(`rpmsg: ${(e as Error).message}\n${usage}`);
      return 2;
    }
    console.error(`rpmsg: ${e instanceof RpmsgError ? `${e.code}: ` : ''}${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
}

export function hex(n: number): string {
  return `0x${n.toString(16)}`;
}
