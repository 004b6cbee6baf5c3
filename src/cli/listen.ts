/**
 * `rpmsg listen CHANNEL`: print what arrives on a new endpoint of the channel: a hex dump as the
 * kernel's rpmsg_client_sample prints it (16 bytes a line, with ASCII), the raw bytes, or one
 * JSON object per line.
 */
import { parseArgs } from 'node:util';
import { once } from 'node:events';
import { CLIENT_FLAGS, connectFrom, hex, intFlag, runCommand, UsageError } from './daemon-common.js';

export const LISTEN_USAGE = `usage: rpmsg listen CHANNEL [--raw | --json] [--count N] [--send DATA] [--link NAME] [--socket PATH] [--token T]
  --count N     exit after N messages
  --send DATA   send DATA first (the remote learns our address from it)`;

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

export function runListen(args: string[]): Promise<number> {
  return runCommand(LISTEN_USAGE, async () => {
    const { values, positionals } = parseArgs({ args, options: { ...CLIENT_FLAGS, ...{
      raw: { type: 'boolean', default: false },
      count: { type: 'string' },
      send: { type: 'string' },
      link: { type: 'string' },
    } }, allowPositionals: true });
    if (values.help) {
      console.log(LISTEN_USAGE);
      return 0;
    }
    const [channel, ...extra] = positionals;
    if (channel === undefined || extra.length > 0) throw new UsageError('listen takes one CHANNEL');
    if (values.raw && values.json) throw new UsageError('--raw and --json exclude each other');
    const count = intFlag(values.count, 'count', 0, 1, 2 ** 31);
    const client = await connectFrom(values);
    const ept = await client.open(channel, values.link !== undefined ? { link: values.link } : {});
    if (!values.raw && !values.json) console.error(`rpmsg listen: ${ept.name} on ${ept.link}, ${hex(ept.addr)} -> ${hex(ept.dst)}`);
    let seen = 0;
    let resolveDone!: (code: number) => void;
    const done = new Promise<number>((r) => (resolveDone = r));
    ept.on('message', (data: Uint8Array, src: number) => {
      seen++;
      if (values.raw) process.stdout.write(data);
      else if (values.json) console.log(JSON.stringify({ src, len: data.length, hex: Buffer.from(data).toString('hex') }));
      else {
        console.log(`${ept.link} ${ept.name}: ${data.length} bytes from ${hex(src)}`);
        for (const l of hexDump(data)) console.log(l);
      }
      if (count !== 0 && seen >= count) resolveDone(0);
    });
    ept.on('drop', (n: number) => console.error(`rpmsg listen: ${n} messages dropped (reader too slow)`));
    ept.on('gone', (e: Error) => {
      console.error(`rpmsg: EPIPE: ${e.message}`);
      resolveDone(1);
    });
    if (values.send !== undefined) await ept.send(new TextEncoder().encode(values.send));
    const stop = (): void => resolveDone(0);
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    const code = await done;
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    ept.removeAllListeners('gone');
    if (values.raw && process.stdout.writableLength > 0) await once(process.stdout, 'drain');
    client.close();
    return code;
  });
}
