/**
 * STATS and TRACE through the daemon: the counters a client gets are the bus's own, trace
 * records are those of the channels the client's rule allows and no others, a subscriber that
 * does not read gets counted drops, and hostile or wrong requests get typed errors.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import { RpmsgClient, type DaemonTrace } from '../../src/daemon/client.js';
import { FrameDecoder, Op, TRACE_MIN_WIRE, encodeFrame, type Frame } from '../../src/daemon/protocol.js';
import { parseStatsReport } from '../../src/daemon/stats-wire.js';
import type { TraceRecord } from '../../src/trace/record.js';
import { until } from '../helpers.js';
import { ECHO, dec, enc, startRig } from './daemon-helpers.js';

const SAMPLE = 'rpmsg-client-sample';

const POLICY = {
  version: 1,
  clients: [
    { name: 'echo-observer', match: { token: 'echo-observer-token-x' }, channels: ['rpmsg-openamp-*'], observe: true },
    { name: 'plain', match: { token: 'plain-client-token-xx' }, channels: ['*'] },
    { name: 'admin', match: { token: 'admin-client-token-xx' }, channels: ['*'], observe: true },
  ],
};

async function echoes(c: RpmsgClient, channel: string, n: number, size = 24): Promise<void> {
  const ept = await c.open(channel);
  for (let i = 0; i < n; i++) {
    const got = once(ept, 'message');
    const msg = enc(`${channel.slice(0, 8)} ${i}`.padEnd(size, '.'));
    await ept.send(msg);
    const [echo] = (await got) as [Uint8Array];
    assert.equal(dec(echo), dec(msg));
  }
  await ept.destroy();
}

function collect(t: DaemonTrace): TraceRecord[] {
  const out: TraceRecord[] = [];
  t.on('record', (r: TraceRecord) => out.push(r));
  return out;
}

describe('daemon STATS and TRACE', () => {
  it('stats are the bus counters; trace shows the rule\'s channels only; no observe: EACCES', async () => {
    const rig = await startRig({ firmware: ['echo', 'client-sample'], policy: POLICY });
    const clients: RpmsgClient[] = [];
    const connectAs = async (token: string): Promise<RpmsgClient> => {
      const c = await RpmsgClient.connect({ socketPath: rig.socketPath, token });
      clients.push(c);
      return c;
    };
    try {
      const echoLink = rig.bus.channels.find((c) => c.name === ECHO)!.link.name;
      const sampleLink = rig.bus.channels.find((c) => c.name === SAMPLE)!.link.name;
      const observer = await connectAs('echo-observer-token-x');
      const admin = await connectAs('admin-client-token-xx');
      const plain = await connectAs('plain-client-token-xx');
      assert.equal(observer.info.observe, true);
      assert.equal(plain.info.observe, false);
      await assert.rejects(plain.stats(), { code: 'EACCES' });
      await assert.rejects(plain.trace(), { code: 'EACCES' });

      const seen = collect(await observer.trace());
      const all = collect(await admin.trace({ snaplen: 20 }));
      await echoes(admin, ECHO, 5);
      await echoes(admin, SAMPLE, 3);
      // 5 and 3 round trips: a send and its echo each.
      await until(() => all.length >= 16 && seen.length >= 10, 20_000);
      assert.equal(seen.length, 10);
      assert.ok(seen.every((r) => r.link === echoLink), 'the observer saw another channel\'s traffic');
      assert.deepEqual(seen.map((r) => r.dir), ['h2r', 'r2h', 'h2r', 'r2h', 'h2r', 'r2h', 'h2r', 'r2h', 'h2r', 'r2h']);
      assert.equal(dec(seen[4]!.wire.subarray(16)), `${ECHO.slice(0, 8)} 2`.padEnd(24, '.'));
      assert.equal(seen[4]!.len, 24);
      assert.equal(all.filter((r) => r.link === sampleLink).length, 6);
      assert.equal(all.filter((r) => r.link === echoLink).length, 10);
      // snaplen 20: the header and 4 payload bytes kept, len still the message's
      assert.ok(all.every((r) => r.wire.length === 20 && r.len === 24));

      const link = rig.bus.listLinks().find((l) => l.name === echoLink)!;
      const mine = await observer.stats();
      assert.deepEqual(mine.map((l) => l.name).sort(), [echoLink, sampleLink].sort());
      const e = mine.find((l) => l.name === echoLink)!;
      assert.equal(e.txMessages, link.stats.txMessages);
      assert.equal(e.rxMessages, link.stats.rxMessages);
      assert.equal(e.txMessages, 5);
      assert.deepEqual(e.channels.map((c) => c.name), [ECHO]);
      const opened = e.endpoints.filter((x) => x.txMessages > 0);
      assert.deepEqual(opened.map((x) => [x.txMessages, x.rxMessages, x.txBytes]), [[5, 5, 120]]);
      // the other channel's link: totals only, no channel or endpoint of it
      const s = mine.find((l) => l.name === sampleLink)!;
      assert.equal(s.txMessages, 3);
      assert.deepEqual([s.channels.length, s.endpoints.length], [0, 0]);
      const full = (await admin.stats()).find((l) => l.name === sampleLink)!;
      assert.deepEqual(full.channels.map((c) => c.name), [SAMPLE]);

      const second = await observer.trace().then(
        () => assert.fail('a second TRACE on one connection'),
        (err: { code: string }) => err.code,
      );
      assert.equal(second, 'EALREADY');
    } finally {
      for (const c of clients) c.close();
      await rig.stop();
    }
  });

  it('a subscriber that does not read gets counted drops; the daemon queues at most its limit', async () => {
    const rig = await startRig({ daemon: { maxQueuedBytes: 8192 } });
    try {
      const s = connect(rig.socketPath);
      await once(s, 'connect');
      const frames: Frame[] = [];
      const d = new FrameDecoder(1 << 20);
      s.on('data', (c: Buffer) => d.push(c, (f) => frames.push(f)));
      s.write(encodeFrame(Op.HELLO, 1, { version: 1 }));
      s.write(encodeFrame(Op.TRACE, 2, {}));
      await until(() => frames.filter((f) => f.op === Op.OK).length === 2);
      s.pause(); // the reader stalls
      // Traffic in this process on the echo channel: 400 sends of 400 bytes and their echoes.
      const ch = rig.bus.channels.find((c) => c.name === ECHO)!;
      let echoed = 0;
      const ept = ch.createEndpoint(() => void echoed++);
      const N = 400;
      for (let i = 0; i < N; i++) await ept.send(new Uint8Array(400).fill(i & 0xff));
      await until(() => echoed === N, 30_000);
      assert.ok(rig.daemon.counters.traceDropped > 0, 'nothing was dropped for a reader that stalled');
      s.resume();
      // Once the reader keeps up again, a record gets through and carries the count of those
      // dropped before it: send marked messages until one's echo is traced.
      const isMarker = (f: Frame): boolean => f.op === Op.TRACE_RECORD && f.fields['dir'] === 'r2h' && f.payload[16] === 0xee;
      let sent = N;
      for (let tries = 0; !frames.some(isMarker); tries++) {
        assert.ok(tries < 200, 'no record got through after the reader resumed');
        await ept.send(new Uint8Array(8).fill(0xee));
        sent++;
        await until(() => echoed === sent, 20_000);
        await new Promise((r) => setTimeout(r, 50));
      }
      s.write(encodeFrame(Op.TRACE_STOP, 3, {}));
      await until(() => frames.some((f) => f.id === 3), 20_000);
      const stop = frames.find((f) => f.id === 3)!;
      const records = frames.filter((f) => f.op === Op.TRACE_RECORD);
      assert.equal(stop.op, Op.OK);
      assert.equal(stop.fields['records'], records.length);
      assert.equal((stop.fields['records'] as number) + (stop.fields['dropped'] as number), 2 * sent);
      assert.equal(stop.fields['dropped'], rig.daemon.counters.traceDropped);
      // Drops ride on the next record that gets through; those after the last one are only in
      // TRACE_STOP's totals (above). Records carry counts, never more than were dropped.
      const reported = records.reduce((a, f) => a + ((f.fields['dropped'] as number | undefined) ?? 0), 0);
      assert.ok(reported > 0, 'no record carried the count of the records dropped before it');
      assert.ok(reported <= (stop.fields['dropped'] as number), `records report ${reported} drops, the daemon counted ${String(stop.fields['dropped'])}`);
      ept.destroy();
      s.destroy();
    } finally {
      await rig.stop();
    }
  });

  it('bad trace requests are typed errors; bad frames from either side are EPROTO', async () => {
    const rig = await startRig();
    try {
      const c = await RpmsgClient.connect({ socketPath: rig.socketPath });
      await assert.rejects(c.trace({ snaplen: 8 }), { code: 'EINVAL' });
      await assert.rejects(c.trace({ snaplen: 70_000 }), { code: 'EINVAL' });
      const t = await c.trace();
      assert.deepEqual(await t.stop(), { records: 0, dropped: 0 });
      c.close();
      // an unknown field in TRACE closes that client with EPROTO
      const s = connect(rig.socketPath);
      await once(s, 'connect');
      const frames: Frame[] = [];
      const d = new FrameDecoder();
      s.on('data', (b: Buffer) => d.push(b, (f) => frames.push(f)));
      s.write(encodeFrame(Op.HELLO, 1, { version: 1 }));
      s.write(encodeFrame(Op.TRACE, 2, { snaplen: 64, filter: 'x' }));
      await once(s, 'close');
      assert.deepEqual(frames.at(-1)?.fields['code'], 'EPROTO');
      assert.equal(rig.daemon.clientCount, 0);
    } finally {
      await rig.stop();
    }
    // what a daemon might send wrong
    const decode = (b: Buffer): Frame[] => {
      const out: Frame[] = [];
      new FrameDecoder().push(b, (f) => out.push(f));
      return out;
    };
    assert.throws(() => decode(encodeFrame(Op.TRACE_RECORD, 0, { link: 'rproc0', dir: 'h2r', timeUs: 1 }, new Uint8Array(TRACE_MIN_WIRE - 1))), { code: 'EPROTO' });
    assert.throws(() => decode(encodeFrame(Op.TRACE_RECORD, 0, { link: 'rproc0', dir: 'up', timeUs: 1 }, new Uint8Array(16))), { code: 'EPROTO' });
    assert.throws(() => decode(encodeFrame(Op.TRACE_RECORD, 0, { link: 'rproc0', dir: 'r2h', timeUs: -1 }, new Uint8Array(16))), { code: 'EPROTO' });
    assert.equal(decode(encodeFrame(Op.TRACE_RECORD, 0, { link: 'rproc0', dir: 'r2h', timeUs: 1.7e15, drop: 'no-endpoint' }, new Uint8Array(16))).length, 1);
    assert.throws(() => parseStatsReport(enc('{"links":[]}')), { code: 'EPROTO' });
    assert.throws(() => parseStatsReport(enc('[{"name":"x"}]')), { code: 'EPROTO' });
    assert.throws(() => parseStatsReport(new Uint8Array([0xff, 0xfe])), { code: 'EPROTO' });
    assert.deepEqual(parseStatsReport(enc('[]')), []);
  });
});
