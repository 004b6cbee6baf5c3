/**
 * Runs inside the UML guest (Node from the host's filesystem), against the kernel's rpmsg
 * devices; reports to the test on the host with console lines "@@ <json>". One scenario per run:
 *
 *   driver   a driver for "rpmsg-kernel-test": probe, 3 echoes, then "destroy" → remove
 *   tty      /dev/ttyRPMSG0 both ways, byte-exact, writes of 1..10000 bytes
 *   full     try-send into a full ring (ENOMEM at once), a blocking send that completes once
 *            the remote drains, then a blocking send the remote's death fails with ENODEV
 *   announce a channel the host announces: RPMSG_CREATE_DEV_IOCTL "rpmsg-raw" with src 0x500 and
 *            dst 0x600 (the kernel binds rpmsg_chrdev and sends the NS announcement), the
 *            remote's greeting and two echoes through its /dev/rpmsgN, then RPMSG_RELEASE_DEV
 *            (the kernel's NS destroy: the remote's driver remove runs)
 *   bench    throughput through the kernel: N messages of 496 bytes to the echo service, all
 *            sent without waiting for echoes (the link queues what the ring cannot take)
 */
import { existsSync } from 'node:fs';
import { KernelRpmsgTransport, RpmsgBus, isRpmsgError, openRpmsgTty, type Channel } from '../../src/index.js';

const report = (o: Record<string, unknown>): void => console.log(`@@ ${JSON.stringify(o)}`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

async function waitFor(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

async function driver(): Promise<void> {
  const bus = new RpmsgBus();
  const got: string[] = [];
  let probed = 0;
  let removed = 0;
  let channel: Channel | undefined;
  bus.registerDriver({
    name: 'kernel-test-driver',
    idTable: ['rpmsg-kernel-test'],
    probe: (ch) => {
      probed++;
      channel = ch;
      report({ event: 'probe', name: ch.name, src: ch.src, dst: ch.dst });
    },
    remove: () => {
      removed++;
      report({ event: 'remove' });
    },
    callback: (_ch, data) => void got.push(new TextDecoder().decode(data)),
  });
  const t = KernelRpmsgTransport.open(bus);
  await waitFor(() => channel !== undefined, 20_000, 'the probe');
  for (const m of ['one', 'two', 'three']) await channel!.send(enc(m));
  await waitFor(() => got.length === 3, 10_000, 'three echoes');
  await channel!.send(enc('destroy'));
  await waitFor(() => removed === 1, 10_000, 'remove');
  report({ result: 'driver', probed, removed, got, channelsLeft: bus.channels.length, stats: t.stats });
  t.close();
}

async function tty(): Promise<void> {
  await waitFor(() => existsSync('/dev/ttyRPMSG0'), 20_000, '/dev/ttyRPMSG0');
  const s = openRpmsgTty('/dev/ttyRPMSG0');
  const sizes = [1, 17, 495, 496, 497, 1000, 2000, 10_000];
  const total = sizes.reduce((a, b) => a + b, 0);
  const sent = new Uint8Array(total);
  for (let i = 0; i < total; i++) sent[i] = (i * 7 + (i >> 8)) & 0xff; // every byte value, \n and \r included
  const chunks: Buffer[] = [];
  let received = 0;
  s.on('data', (b: Buffer) => {
    chunks.push(b);
    received += b.length;
  });
  const t0 = Date.now();
  let off = 0;
  for (const n of sizes) {
    await new Promise<void>((resolve, reject) => s.write(sent.subarray(off, off + n), (e) => (e ? reject(e) : resolve())));
    off += n;
  }
  await waitFor(() => received >= total, 20_000, `${total} echoed bytes`);
  const ms = Date.now() - t0;
  const back = Buffer.concat(chunks);
  let firstDiff = -1;
  for (let i = 0; i < total; i++) if (back[i] !== sent[i]) { firstDiff = i; break; }
  report({ result: 'tty', sizes, total, received: back.length, firstDiff, ms });
  s.destroy();
}

async function full(): Promise<void> {
  const bus = new RpmsgBus();
  let channel: Channel | undefined;
  bus.registerDriver({ name: 'kernel-hold-driver', idTable: ['rpmsg-kernel-hold'], probe: (ch) => void (channel = ch), callback: () => {} });
  const t = KernelRpmsgTransport.open(bus);
  await waitFor(() => channel !== undefined, 20_000, 'the probe');
  const ch = channel!;
  const payload = new Uint8Array(64);
  // 1. fill the ring with try-sends; the first refusal must be ENOMEM and immediate
  let sent = 0;
  let code = '';
  let refusalMs = -1;
  for (;;) {
    const a = process.hrtime.bigint();
    try {
      ch.trySend(payload);
      sent++;
    } catch (e) {
      refusalMs = Number(process.hrtime.bigint() - a) / 1e6;
      code = isRpmsgError(e) ? e.code : String(e);
      break;
    }
    if (sent > 10_000) break;
  }
  // 2. a blocking send waits, then completes when the remote gives the buffers back (~2 s)
  const b0 = Date.now();
  let ticks = 0;
  const ticker = setInterval(() => ticks++, 10); // the event loop keeps running meanwhile
  await ch.send(payload);
  const blockedMs = Date.now() - b0;
  clearInterval(ticker);
  report({ result: 'full', sent, code, refusalMs, blockedMs, ticks, txFull: t.stats.txFull });
  // 3. the remote now holds forever; fill the ring again, then wait in a blocking send
  await ch.send(enc('stop'));
  await sleep(100);
  let refill = 0;
  try {
    for (; refill < 10_000; refill++) ch.trySend(payload);
  } catch {
    // full again
  }
  const waiting = ch.send(payload, { timeout: 60_000 }).then(
    () => 'sent',
    (e: unknown) => (isRpmsgError(e) ? e.code : String(e)),
  );
  report({ mark: 'kill-remote', refill });
  const w0 = Date.now();
  const outcome = await waiting;
  const afterMs = Date.now() - w0;
  // The kernel removes the channels, then the ctrl device: the sender may fail first with its
  // endpoint, the link follows when the ctrl device goes.
  await waitFor(() => !t.link.up, 10_000, 'the link to go down').catch(() => undefined);
  report({ result: 'gone', outcome, afterMs, linkUp: t.link.up, closed: t.isClosed });
}

async function announce(): Promise<void> {
  const src = 0x500;
  const dst = 0x600; // the remote's fixed echo endpoint (test/fixtures/kernel-announced-firmware.ts)
  const bus = new RpmsgBus();
  const got: string[] = [];
  let channel: Channel | undefined;
  let removed = 0;
  bus.registerDriver({
    name: 'announce-test-driver',
    idTable: ['rpmsg-raw'],
    probe: (ch) => {
      if (ch.src === src) channel = ch;
      report({ event: 'announce-probe', name: ch.name, src: ch.src, dst: ch.dst });
    },
    remove: (ch) => {
      if (ch.src === src) removed++;
    },
    callback: (_ch, data) => void got.push(new TextDecoder().decode(data)),
  });
  const t = KernelRpmsgTransport.open(bus);
  t.createDevice('rpmsg-raw', src, dst);
  await waitFor(() => channel !== undefined, 20_000, 'the rpmsg-raw channel in sysfs');
  await waitFor(() => got.includes('hello from the remote'), 10_000, "the remote's greeting");
  for (const m of ['one', 'two']) await channel!.send(enc(m));
  await waitFor(() => got.length === 3, 10_000, 'two echoes');
  let duplicate = '';
  try {
    t.createDevice('rpmsg-raw', src, dst);
  } catch (e) {
    duplicate = isRpmsgError(e) ? e.code : String(e);
  }
  t.releaseDevice('rpmsg-raw', src, dst);
  await waitFor(() => removed === 1, 10_000, 'the channel to go');
  await sleep(300); // the remote logs its remove; the test reads the remote's log
  report({ result: 'announce', got, removed, duplicate, channelsLeft: bus.channels.filter((c) => c.src === src).length });
  t.close();
}

async function bench(): Promise<void> {
  const n = Number(process.argv[3] ?? 4000);
  const bus = new RpmsgBus();
  let channel: Channel | undefined;
  let got = 0;
  let bytes = 0;
  bus.registerDriver({
    name: 'kernel-bench',
    idTable: ['rpmsg-openamp-demo-channel'],
    probe: (ch) => void (channel = ch),
    callback: (_ch, data) => {
      got++;
      bytes += data.length;
    },
  });
  const t = KernelRpmsgTransport.open(bus);
  await waitFor(() => channel !== undefined, 20_000, 'the probe');
  const payload = new Uint8Array(496).fill(0x5a);
  const t0 = process.hrtime.bigint();
  const sends: Promise<void>[] = [];
  for (let i = 0; i < n; i++) sends.push(channel!.send(payload));
  await Promise.all(sends);
  const sentMs = Number(process.hrtime.bigint() - t0) / 1e6;
  await waitFor(() => got === n, 60_000, `${n} echoes`);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  report({ result: 'bench', n, size: 496, sentMs, ms, msgsPerS: Math.round((n * 1000) / ms), mbPerSEachWay: +((bytes / ms) / 1000).toFixed(3), txFull: t.stats.txFull });
  t.close();
}

const scenario = process.argv[2];
const scenarios: Record<string, () => Promise<void>> = { driver, tty, full, announce, bench };
const run = scenario === undefined ? undefined : scenarios[scenario];
if (run === undefined) {
  report({ error: `unknown scenario ${String(scenario)}` });
} else {
  run().then(
    () => report({ done: scenario }),
    (e: unknown) => report({ error: e instanceof Error ? `${e.message}\n${e.stack ?? ''}` : String(e) }),
  );
}
