#!/usr/bin/env node
/** The `rpmsg` command. */
import { parseArgs } from 'node:util';
import { runDemo } from './demo.js';
import { runHost, runRemote, type ProcessCommandOptions } from './process-commands.js';

const USAGE = `usage: rpmsg <command> [options]

commands:
  demo [--remotes N] [--count N]   boot N remote processors (worker threads) running the
                                   rpmsg-client-sample firmware and run the sample driver
  remote [options]                 remote role over a shared-memory file + UNIX socket (OpenAMP's
                                   Linux machine): serves the echo service "rpmsg-openamp-demo-channel"
  host [options]                   host role: attaches to a remote and runs OpenAMP's ping test
                                   (payloads 17..496, ends with "<n> messages, <e> errors")
  help                             this text

options of remote and host:
  --shm PATH        shared-memory file (default /dev/shm/openamp.shm)
  --size BYTES      its size (default 0x80000)
  --socket PATH     kick socket (default /tmp/openamp.event.0)
  --service NAME    echo (default) or sample ("rpmsg-client-sample", the seed's sample)
  --firmware FILE   remote: run this firmware module instead of a built-in service
  --once            remote: exit when the first host leaves
  --no-spin         never spin: every notification is a socket kick (OpenAMP's way)
  --count N         host, sample: messages before goodbye (default 100)
  --timeout MS      host: give up after MS (default 30000)`;

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'demo': {
      const { values } = parseArgs({
        args: rest,
        options: { remotes: { type: 'string', default: '2' }, count: { type: 'string', default: '100' } },
      });
      const remotes = Number(values.remotes);
      const count = Number(values.count);
      if (!(Number.isInteger(remotes) && remotes >= 1 && remotes <= 64) || !(Number.isInteger(count) && count >= 1)) {
        console.error(USAGE);
        return 2;
      }
      const results = await runDemo({ remotes, count, log: (l) => console.log(l), timeoutMs: 60_000 });
      return results.length === remotes && results.every((r) => r.messages === count) ? 0 : 1;
    }
    case 'remote':
    case 'host': {
      const { values } = parseArgs({
        args: rest,
        options: {
          shm: { type: 'string' },
          size: { type: 'string' },
          socket: { type: 'string' },
          service: { type: 'string', default: 'echo' },
          firmware: { type: 'string' },
          once: { type: 'boolean', default: false },
          'no-spin': { type: 'boolean', default: false },
          count: { type: 'string', default: '100' },
          timeout: { type: 'string', default: '30000' },
        },
      });
      if (values.service !== 'echo' && values.service !== 'sample') {
        console.error(USAGE);
        return 2;
      }
      const o: ProcessCommandOptions = {
        service: values.service,
        once: values.once,
        count: Number(values.count),
        timeoutMs: Number(values.timeout),
        log: (l) => console.log(l),
        ...(values.shm !== undefined ? { shmPath: values.shm } : {}),
        ...(values.size !== undefined ? { size: Number(values.size) } : {}),
        ...(values.socket !== undefined ? { socketPath: values.socket } : {}),
        ...(values.firmware !== undefined ? { firmware: values.firmware } : {}),
        ...(values['no-spin'] ? { poll: { spinWindowMs: 0 } } : {}),
      };
      return cmd === 'remote' ? runRemote(o) : runHost(o);
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(USAGE);
      return cmd === undefined ? 2 : 0;
    default:
      console.error(`rpmsg: unknown command '${cmd}'\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    console.error(`rpmsg: ${e instanceof Error ? e.message : String(e)}`);
    process.exitCode = 1;
  },
);
