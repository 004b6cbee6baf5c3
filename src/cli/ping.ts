/**
 * `rpmsg ping CHANNEL`: rpmsg-utils' rpmsg_ping habit against an echo service: send `--count`
 * messages of `--size` bytes, check each echo byte for byte, print round trips and a summary.
 */
import { once } from 'node:events';
import { defineClientCommand, linkFlag } from './daemon-flags.js';
import { UsageError, flag } from './flags.js';

export const pingCommand = defineClientCommand({
  name: 'ping',
  summary: 'ping an echo service through the daemon: round trips, payload checked byte for byte',
  description: 'Exit status 1 when an echo differs from what was sent.',
  args: { usage: 'CHANNEL', min: 1, max: 1 },
  flags: {
    size: flag.int({ help: 'payload bytes (at most the MTU)', min: 1, max: 65536, default: 32 }),
    count: flag.int({ help: 'messages', min: 1, max: 10_000_000, default: 10 }),
    link: linkFlag,
    quiet: flag.boolean({ help: 'only the summary', short: 'q' }),
  },
  async run(client, values, ctx, [channel]) {
    const ept = await client.open(channel!, values.link !== undefined ? { link: values.link } : {});
    if (values.size > ept.getMtu()) throw new UsageError(`--size must be at most the MTU, ${ept.getMtu()}`);
    ctx.log(`PING ${ept.name} on ${ept.link}: ${values.size} bytes, ${values.count} messages`);
    const rtts: number[] = [];
    let errors = 0;
    for (let i = 0; i < values.count && !ctx.signal.aborted; i++) {
      const msg = new Uint8Array(values.size);
      for (let j = 0; j < msg.length; j++) msg[j] = (i + j) & 0xff;
      const echo = once(ept, 'message', { signal: ctx.signal });
      const t0 = performance.now();
      await ept.send(msg);
      const [got] = (await echo) as [Uint8Array];
      const rtt = performance.now() - t0;
      rtts.push(rtt);
      const ok = got.length === msg.length && got.every((b, j) => b === msg[j]);
      if (!ok) errors++;
      if (!values.quiet) ctx.log(`${got.length} bytes from ${ept.link}: seq=${i} time=${rtt.toFixed(3)} ms${ok ? '' : ' MISMATCH'}`);
    }
    const min = Math.min(...rtts);
    const max = Math.max(...rtts);
    const avg = rtts.reduce((a, b) => a + b, 0) / rtts.length;
    if (values.json) ctx.json({ channel, link: ept.link, size: values.size, count: rtts.length, errors, minMs: min, avgMs: avg, maxMs: max });
    else ctx.log(`${rtts.length} messages, ${errors} errors; rtt min/avg/max = ${min.toFixed(3)}/${avg.toFixed(3)}/${max.toFixed(3)} ms`);
    await ept.destroy();
    return errors === 0 ? 0 : 1;
  },
});
