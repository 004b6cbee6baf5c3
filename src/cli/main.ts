#!/usr/bin/env node
/** The `rpmsg` command. */
import { parseArgs } from 'node:util';
import { runDemo } from './demo.js';

const USAGE = `usage: rpmsg <command> [options]

commands:
  demo [--remotes N] [--count N]   boot N remote processors (worker threads) running the
                                   rpmsg-client-sample firmware and run the sample driver
  help                             this text`;

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
