/** `rpmsg send CHANNEL DATA`: one message through the daemon (rpmsg_char: open, write, close). */
import { ADDR_MAX, defineClientCommand, linkFlag } from './daemon-flags.js';
import { UsageError, flag } from './flags.js';

function payload(data: string, hex: boolean): Uint8Array {
  if (!hex) return new TextEncoder().encode(data);
  if (!/^([0-9a-f]{2})*$/i.test(data)) throw new UsageError('with --hex, DATA must be pairs of hex digits');
  return Buffer.from(data, 'hex');
}

export const sendCommand = defineClientCommand({
  name: 'send',
  summary: 'send one message on a channel through the daemon',
  description: 'DATA is text (UTF-8), or hex bytes with --hex ("68656c6c6f").',
  args: { usage: 'CHANNEL DATA', min: 2, max: 2 },
  flags: {
    hex: flag.boolean({ help: 'DATA is hex bytes' }),
    link: linkFlag,
    dst: flag.int({ help: 'the channel with this remote address', metavar: 'ADDR', min: 0, max: ADDR_MAX, hex: true }),
  },
  check(values, [, data]) {
    payload(data!, values.hex);
  },
  async run(client, values, ctx, [channel, data]) {
    const bytes = payload(data!, values.hex);
    const ept = await client.open(channel!, { ...(values.link !== undefined ? { link: values.link } : {}), ...(values.dst !== undefined ? { dst: values.dst } : {}) });
    await ept.send(bytes);
    if (values.json) ctx.json({ channel, link: ept.link, src: ept.addr, dst: ept.dst, bytes: bytes.length });
    await ept.destroy();
    return 0;
  },
});
