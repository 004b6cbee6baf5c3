/**
 * `rpmsg listen CHANNEL`: print what arrives on a new endpoint of the channel: a hex dump as the
 * kernel's rpmsg_client_sample prints it (16 bytes a line, with ASCII), the raw bytes, or one
 * JSON object per line.
 */
import { once } from 'node:events';
import { defineClientCommand, hex, linkFlag } from './daemon-flags.js';
import { UsageError, flag } from './flags.js';

export function hexDump(data: Uint8Array): string[] {
  const lines: string[] = [];
  for (let off = 0; off < data.length; off += 16) {
    const row = data.subarray(off, off + 16);
    const bytes = [...row].map((b) => b.toString(16).padStart(2, '0')).join(' ');
    const ascii = [...row].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    lines.push(`${off.toString(16).padStart(8, '0')}: ${bytes.padEnd(47)}  ${ascii}`);
  }
  return lines;
}

export const listenCommand = defineClientCommand({
  name: 'listen',
  summary: 'print the messages that arrive on a new endpoint of a channel (hex dump, raw or JSON lines)',
  description: 'Runs until interrupted, --count messages, or the endpoint is gone (exit 1, EPIPE).\nWith --json: one JSON object per message and line ({"src", "len", "hex"}).',
  args: { usage: 'CHANNEL', min: 1, max: 1 },
  flags: {
    raw: flag.boolean({ help: 'write the bytes as they are to stdout' }),
    count: flag.int({ help: 'exit after this many messages', min: 1, max: 2 ** 31 }),
    send: flag.string({ help: 'send this text first (the remote learns our address from it)', metavar: 'TEXT' }),
    link: linkFlag,
  },
  check(values) {
    if (values.raw && values.json) throw new UsageError('--raw and --json exclude each other');
  },
  async run(client, values, ctx, [channel]) {
    const ept = await client.open(channel!, values.link !== undefined ? { link: values.link } : {});
    if (!values.raw && !values.json) ctx.warn(`rpmsg listen: ${ept.name} on ${ept.link}, ${hex(ept.addr)} -> ${hex(ept.dst)}`);
    let seen = 0;
    let finish!: (code: number) => void;
    const done = new Promise<number>((r) => (finish = r));
    ept.on('message', (data: Uint8Array, src: number) => {
      seen++;
      if (values.raw) process.stdout.write(data);
      else if (values.json) console.log(JSON.stringify({ src, len: data.length, hex: Buffer.from(data).toString('hex') }));
      else {
        ctx.log(`${ept.link} ${ept.name}: ${data.length} bytes from ${hex(src)}`);
        for (const l of hexDump(data)) ctx.log(l);
      }
      if (values.count !== undefined && seen >= values.count) finish(0);
    });
    ept.on('drop', (n: number) => ctx.warn(`rpmsg listen: ${n} messages dropped (reader too slow)`));
    ept.on('gone', (e: Error) => {
      ctx.warn(`rpmsg listen: ${e.message} [EPIPE]`);
      finish(1);
    });
    ctx.signal.addEventListener('abort', () => finish(0), { once: true });
    if (values.send !== undefined) await ept.send(new TextEncoder().encode(values.send));
    const code = await done;
    ept.removeAllListeners('gone');
    if (values.raw && process.stdout.writableLength > 0) await once(process.stdout, 'drain');
    return code;
  },
});
