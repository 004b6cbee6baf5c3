/** `rpmsg ls`: the channels the daemon lets this client see (as /sys/bus/rpmsg/devices lists them). */
import { defineCommand } from './command.js';
import { clientFlags, hex, withClient } from './daemon-flags.js';
import { flag } from './flags.js';
import { lsKernelCommand, runKernelLs } from './kernel-commands.js';

export const lsCommand = defineCommand({
  name: 'ls',
  summary: 'list the channels the daemon (rpmsg serve) lets this client use',
  description:
    'One line per channel: link, service name, local (src) and remote (dst) address.\n' +
    `With --kernel: ${lsKernelCommand.summary} (no daemon needed).`,
  flags: { kernel: flag.boolean({ help: "the Linux kernel's rpmsg devices (sysfs) instead of the daemon's channels" }), ...clientFlags },
  async run(values, ctx) {
    if (values.kernel) return runKernelLs(ctx, values.json);
    return withClient(values, ctx, async (client) => {
      const channels = await client.list();
      if (values.json) {
        ctx.json(channels);
        return 0;
      }
      ctx.log(`${'LINK'.padEnd(10)}${'CHANNEL'.padEnd(34)}${'SRC'.padEnd(12)}DST`);
      for (const c of channels) ctx.log(`${c.link.padEnd(10)}${c.name.padEnd(34)}${(c.src === 0xffffffff ? 'any' : hex(c.src)).padEnd(12)}${hex(c.dst)}`);
      return 0;
    });
  },
});
