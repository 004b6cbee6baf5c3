/** `rpmsg send CHANNEL DATA`: one message through the daemon (rpmsg_char: open, write, close). */
import { parseArgs } from 'node:util';
import { CLIENT_FLAGS, UsageError, connectFrom, intFlag, runCommand } from './daemon-common.js';

export const SEND_USAGE = `usage: rpmsg send CHANNEL DATA [--hex] [--link NAME] [--dst ADDR] [--socket PATH] [--token T]
  DATA is text (UTF-8), or hex bytes with --hex ("68656c6c6f")`;

export function runSend(args: string[]): Promise<number> {
  return runCommand(SEND_USAGE, async () => {
    const { values, positionals } = parseArgs({ args, options: { ...CLIENT_FLAGS, ...{ hex: { type: 'boolean', default: false }, link: { type: 'string' }, dst: { type: 'string' } } }, allowPositionals: true });
    if (values.help) {
      console.log(SEND_USAGE);
      return 0;
    }
    const [channel, data, ...extra] = positionals;
    if (channel === undefined || data === undefined || extra.length > 0) throw new UsageError('send takes CHANNEL and DATA');
    let bytes: Uint8Array;
    if (values.hex) {
      if (!/^([0-9a-f]{2})*$/i.test(data)) throw new UsageError('--hex DATA must be pairs of hex digits');
      bytes = Buffer.from(data, 'hex');
    } else {
      bytes = new TextEncoder().encode(data);
    }
    const dst = values.dst === undefined ? undefined : intFlag(values.dst, 'dst', 0, 0, 0xfffffffe);
    const client = await connectFrom(values);
    try {
      const ept = await client.open(channel, { ...(values.link !== undefined ? { link: values.link } : {}), ...(dst !== undefined ? { dst } : {}) });
      await ept.send(bytes);
      if (values.json) console.log(JSON.stringify({ channel, link: ept.link, src: ept.addr, dst: ept.dst, bytes: bytes.length }));
      await ept.destroy();
      return 0;
    } finally {
      client.close();
    }
  });
}
