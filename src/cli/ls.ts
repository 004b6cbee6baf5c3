/** `rpmsg ls`: the channels the daemon lets this client see (as /sys/bus/rpmsg/devices lists them). */
import { parseArgs } from 'node:util';
import { CLIENT_FLAGS, connectFrom, hex, runCommand } from './daemon-common.js';

export const LS_USAGE = `usage: rpmsg ls [--socket PATH] [--token T] [--json]
  channels this client may use: link, name, local (src) and remote (dst) address`;

export function runLs(args: string[]): Promise<number> {
  return runCommand(LS_USAGE, async () => {
    const { values } = parseArgs({ args, options: { ...CLIENT_FLAGS, ...{} }, allowPositionals: true });
    if (values.help) {
      console.log(LS_USAGE);
      return 0;
    }
    const client = await connectFrom(values);
    try {
      const channels = await client.list();
      if (values.json) {
        console.log(JSON.stringify(channels));
        return 0;
      }
      console.log(`${'LINK'.padEnd(10)}${'CHANNEL'.padEnd(34)}${'SRC'.padEnd(12)}DST`);
      for (const c of channels) {
        console.log(`${c.link.padEnd(10)}${c.name.padEnd(34)}${(c.src === 0xffffffff ? 'any' : hex(c.src)).padEnd(12)}${hex(c.dst)}`);
      }
      return 0;
    } finally {
      client.close();
    }
  });
}
