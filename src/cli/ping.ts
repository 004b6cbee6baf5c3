/**
 * `rpmsg ping CHANNEL`: rpmsg-utils' rpmsg_ping habit against an echo service: send `--count`
 * messages of `--size` bytes, check each echo byte for byte, print round trips and a summary.
 */
import { parseArgs } from 'node:util';
import { once } from 'node:events';
import { CLIENT_FLAGS, connectFrom, intFlag, runCommand, UsageError } from './daemon-common.js';

export const PING_USAGE = `usage: rpmsg ping CHANNEL [--size BYTES] [--count N] [--link NAME] [--socket PATH] [--token T] [--json]
  --size   payload bytes (default 32; at most the MTU)
  --count  messages (default 10)`;

export function runPing(args: string[]): Promise<number> {
  return runCommand(PING_USAGE, async () => {
    const { values, positionals } = parseArgs({ args, options: { ...CLIENT_FLAGS, ...{ size: { type: 'string' }, count: { type: 'string' }, link: { type: 'string' }, quiet: { type: 'boolean', short: 'q', default: false } } }, allowPositionals: true });
    if (values.help) {
      console.log(PING_USAGE);
      return 0;
    }
    const [channel, ...extra] = positionals;
    if (channel === undefined || extra.length > 0) throw new UsageError('ping takes one CHANNEL');
    const size = intFlag(values.size, 'size', 32, 1, 65536);
    const count = intFlag(values.count, 'count', 10, 1, 10_000_000);
    const client = await connectFrom(values);
    try {
      const ept = await client.open(channel, values.link !== undefined ? { link: values.link } : {});
      if (size > ept.getMtu()) throw new UsageError(`--size must be at most the MTU, ${ept.getMtu()}`);
      if (!values.json) console.log(`PING ${ept.name} on ${ept.link}: ${size} bytes, ${count} messages`);
      const rtts: number[] = [];
      let errors = 0;
      for (let i = 0; i < count; i++) {
        const msg = new Uint8Array(size);
        for (let j = 0; j < size; j++) msg[j] = (i + j) & 0xff;
        const echo = once(ept, 'message');
        const t0 = performance.now();
        await ept.send(msg);
        const [got] = (await echo) as [Uint8Array];
        const rtt = performance.now() - t0;
        rtts.push(rtt);
        const ok = got.length === size && got.every((b, j) => b === msg[j]);
        if (!ok) errors++;
        if (!values.json && !values.quiet) console.log(`${got.length} bytes from ${ept.link}: seq=${i} time=${rtt.toFixed(3)} ms${ok ? '' : ' MISMATCH'}`);
      }
      const min = Math.min(...rtts);
      const max = Math.max(...rtts);
      const avg = rtts.reduce((a, b) => a + b, 0) / rtts.length;
      if (values.json) console.log(JSON.stringify({ channel, link: ept.link, size, count, errors, minMs: min, avgMs: avg, maxMs: max }));
      else console.log(`${count} messages, ${errors} errors; rtt min/avg/max = ${min.toFixed(3)}/${avg.toFixed(3)}/${max.toFixed(3)} ms`);
      await ept.destroy();
      return errors === 0 ? 0 : 1;
    } finally {
      client.close();
    }
  });
}
