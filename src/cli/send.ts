/** `rpmsg send CHANNEL DATA`: one message through the daemon (rpmsg_char: open, write, close). */
import { defineCommand } from './command.js';
import { ADDR_MAX, clientFlags, connectFrom } from './daemon-flags.js';
import { UsageError, flag } from './flags.js';

export const sendCommand = defineCommand({
  name: 'send',
  summary: 'send one message on a channel through the daemon',
  description: 'DATA is text (UTF-8), or hex bytes with --hex ("68656c6c6f").',
  args: { usage: 'CHANNEL DATA', min: 2, max: 2 },
  flags: {
    hex: flag.boolean({ help: 'DATA is hex bytes' }),
    link: flag.string({ help: 'the channel on this link (default: the first)', metavar: 'NAME' }),
    dst: flag.int({ help: 'the channel with this remote address', metavar: 'ADDR', min: 0, max: ADDR_MAX, hex: true }),
    ...clientFlags,
  },
  async run(values, ctx, [channel, data]) {
    let bytes: Uint8Array;
    if (values.hex) {
      if (!/^([0-9a-f]{2})*$/i.test(data!)) throw new UsageError('with --hex, DATA must be pairs of hex digits');
      bytes = Buffer.from(data!, 'hex');
    } else {
      bytes = new TextEncoder().encode(data!);
    }
    const client = await connectFrom(values, ctx.signal);
    try {
      const ept = await client.open(channel!, { ...(values.link !== undefined ? { link: values.link } : {}), ...(values.dst !== undefined ? { dst: values.dst } : {}) });
      await ept.send(bytes);
      if (values.json) ctx.json({ channel, link: ept.link, src: ept.addr, dst: ept.dst, bytes: bytes.length });
      await ept.destroy();
      return 0;
    } finally {
      client.close();
    }
  },
});
