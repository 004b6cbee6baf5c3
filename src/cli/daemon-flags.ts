/**
 * What the daemon's client commands (ls, send, listen, ping, ctrl; trace and stats with
 * --daemon) share: the connection flags, the connection itself (closed when the command ends),
 * and `defineClientCommand`, which adds both to a command so that each names only its own.
 */
import { RpmsgClient } from '../daemon/client.js';
import { defineCommand, type Command, type CommandContext } from './command.js';
import { flag, jsonFlag, type FlagSpecs, type FlagValues } from './flags.js';

/** How to reach the daemon: its socket and the token of a policy rule. */
export const connectionFlags = {
  socket: flag.string({ help: 'daemon socket (default $RPMSG_SOCKET, $XDG_RUNTIME_DIR/rpmsg.sock or /tmp/rpmsg-$UID.sock)', metavar: 'PATH' }),
  token: flag.string({ help: 'token for a policy rule that matches by token (default $RPMSG_TOKEN)', metavar: 'T' }),
};

export const clientFlags = { ...connectionFlags, json: jsonFlag };

/** `--link NAME`: which link's channel, where several remotes offer one by the same name. */
export const linkFlag = flag.string({ help: 'the channel on this link (default: the first)', metavar: 'NAME' });

export interface ConnectionValues {
  socket: string | undefined;
  token: string | undefined;
}

export function connectFrom(values: ConnectionValues, signal?: AbortSignal): Promise<RpmsgClient> {
  const token = values.token ?? process.env['RPMSG_TOKEN'];
  return RpmsgClient.connect({
    ...(values.socket !== undefined ? { socketPath: values.socket } : {}),
    ...(token !== undefined && token !== '' ? { token } : {}),
    ...(signal !== undefined ? { signal } : {}),
  });
}

/** Connect, run `fn`, close the connection whatever happens. */
export async function withClient<T>(values: ConnectionValues, ctx: CommandContext, fn: (client: RpmsgClient) => Promise<T>): Promise<T> {
  const client = await connectFrom(values, ctx.signal);
  try {
    return await fn(client);
  } finally {
    client.close();
  }
}

type ClientFlagSpecs<F extends FlagSpecs> = F & typeof clientFlags;

export interface ClientCommand<F extends FlagSpecs> extends Omit<Command<F>, 'run' | 'flags'> {
  /** The command's own flags; the connection flags (and --json) are added after them. */
  flags: F;
  /** Usage checks that need no daemon (throw UsageError): run before connecting. */
  check?(values: FlagValues<ClientFlagSpecs<F>>, args: string[]): void;
  run(client: RpmsgClient, values: FlagValues<ClientFlagSpecs<F>>, ctx: CommandContext, args: string[]): Promise<number>;
}

/** A command that talks to the daemon: connected before `run`, closed after it. */
export function defineClientCommand<F extends FlagSpecs>(c: ClientCommand<F>): Command<ClientFlagSpecs<F>> {
  const { flags, check, run, ...about } = c;
  return defineCommand({
    ...about,
    flags: { ...flags, ...clientFlags },
    async run(values, ctx, args) {
      check?.(values, args);
      // clientFlags are in every such command: TypeScript cannot see it through the generic F.
      const conn = values as unknown as ConnectionValues;
      return withClient(conn, ctx, (client) => run(client, values, ctx, args));
    },
  });
}

export const hex = (n: number): string => `0x${n.toString(16)}`;
export const ADDR_MAX = 0xfffffffe;
