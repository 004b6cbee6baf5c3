/** Endpoints as streams over worker remotes: messages, backpressure, zero-copy, EPIPE, abort. */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { RpmsgBus, startWorkerRemote, type Channel } from '../../src/index.js';
import { EndpointStream, type HeldMessage } from '../../src/stream/endpoint-stream.js';
import { createStreamDriver, openEndpointStream } from '../../src/stream/local-stream.js';
import { firmwarePath, repoRoot, until } from '../helpers.js';

const ECHO = 'rpmsg-openamp-demo-channel';
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);
const slowSink = join(repoRoot(), 'dist', 'test', 'fixtures', 'slow-sink-firmware.js');

async function echoRig(o: { firmware?: string; txBuffers?: number; name?: string } = {}) {
  const bus = new RpmsgBus();
  const rp = await startWorkerRemote(bus, {
    firmware: o.firmware ?? firmwarePath('echo'),
    name: 'rproc0',
    log: () => {},
    ...(o.txBuffers !== undefined ? { host: { txBuffers: o.txBuffers } } : {}),
  });
  await until(() => bus.channels.length === 1);
  return { bus, rp, ch: bus.channels[0]! as Channel };
}

describe('endpoint streams', () => {
  it('one chunk = one message; for await reads echoes in order; end() destroys the endpoint', async () => {
    const { rp, ch } = await echoRig();
    try {
      const s = openEndpointStream(ch, { highWaterMark: 8 });
      const addr = ch.link.endpointCount;
      assert.ok(addr >= 1);
      const n = 200;
      const writer = (async () => {
        for (let i = 0; i < n; i++) if (!s.write(enc(`m${i}`))) await once(s, 'drain');
      })();
      const got: string[] = [];
      for await (const m of s) {
        assert.ok(m instanceof Uint8Array);
        got.push(dec(m as Uint8Array));
        if (got.length === n) break; // break destroys the stream, and with it the endpoint
      }
      await writer;
      assert.deepEqual(got, Array.from({ length: n }, (_, i) => `m${i}`));
      assert.equal(ch.link.endpointCount, addr - 1);

      const s2 = openEndpointStream(ch);
      const before = ch.link.endpointCount;
      s2.write(enc('last'));
      const [m] = (await once(s2, 'data')) as [Uint8Array];
      assert.equal(dec(m), 'last');
      s2.end();
      await once(s2, 'end');
      assert.equal(ch.link.endpointCount, before - 1);
      await assert.rejects(new Promise((_, rej) => s2.write(enc('x'), (e) => (e ? rej(e) : undefined))), { code: 'ERR_STREAM_WRITE_AFTER_END' });
      const tooBig = openEndpointStream(ch);
      const err = once(tooBig, 'error');
      tooBig.write(new Uint8Array(ch.getMtu() + 1));
      assert.equal(((await err) as [{ code: string }])[0].code, 'EMSGSIZE');
    } finally {
      await rp.close();
    }
  });

  it('backpressure from the tx ring: a slow remote makes writes wait at highWaterMark; nothing is lost', async () => {
    const { rp, ch } = await echoRig({ firmware: slowSink, txBuffers: 8 });
    try {
      const hwm = 4;
      const s = openEndpointStream(ch, { highWaterMark: hwm });
      const n = 120;
      let refused = 0;
      let maxPending = 0;
      const got: string[] = [];
      s.on('data', (m: Uint8Array) => got.push(dec(m)));
      for (let i = 0; i < n; i++) {
        const ok = s.write(enc(`s${i}`));
        maxPending = Math.max(maxPending, s.writableLength);
        if (!ok) {
          refused++;
          await once(s, 'drain');
        }
      }
      await until(() => got.length === n, 60_000);
      assert.deepEqual(got, Array.from({ length: n }, (_, i) => `s${i}`));
      assert.ok(refused > 10, `write() returned false ${refused} times`);
      assert.ok(maxPending <= hwm, `writableLength reached ${maxPending}`);
      s.destroy();
    } finally {
      await rp.close();
    }
  });

  it('copy mode: a reader that does not read gets at most maxQueued messages, the rest counted as dropped', async () => {
    const { rp, ch } = await echoRig();
    try {
      const s = openEndpointStream(ch, { maxQueued: 10 });
      for (let i = 0; i < 30; i++) s.write(enc(`d${i}`));
      await until(() => s.readableLength + s.dropped === 30);
      assert.equal(s.readableLength, 10);
      assert.equal(s.dropped, 20);
      assert.equal(dec(s.read() as Uint8Array), 'd0');
      s.destroy();
    } finally {
      await rp.close();
    }
  });

  it('zero-copy: held rx buffers stay with the reader until release()', async () => {
    const { rp, ch } = await echoRig();
    try {
      const s = openEndpointStream(ch, { zeroCopy: true });
      for (let i = 0; i < 5; i++) s.write(enc(`z${i}`));
      const held: HeldMessage[] = [];
      for await (const m of s) {
        held.push(m as HeldMessage);
        if (held.length === 5) break;
      }
      // break destroyed the stream: it released what the reader still held
      assert.deepEqual(held.map((h) => dec(h.data.slice())), ['z0', 'z1', 'z2', 'z3', 'z4']);
      assert.equal(s.heldCount, 0);

      const s2 = openEndpointStream(ch, { zeroCopy: true });
      s2.write(enc('keep'));
      const [h] = (await once(s2, 'data')) as [HeldMessage];
      assert.equal(s2.heldCount, 1);
      assert.equal(dec(h.data.slice()), 'keep');
      h.release();
      h.release(); // idempotent
      assert.equal(s2.heldCount, 0);
      s2.destroy();
    } finally {
      await rp.close();
    }
  });

  it('EPIPE once the remote is gone: queued messages are read first, then the error', async () => {
    const { rp, ch } = await echoRig();
    const s = openEndpointStream(ch);
    for (let i = 0; i < 3; i++) s.write(enc(`q${i}`));
    await until(() => s.readableLength === 3);
    rp.on('crash', () => {}); // expected: we kill it
    await rp.destroy();
    const got: string[] = [];
    await assert.rejects(
      (async () => {
        for await (const m of s) got.push(dec(m as Uint8Array));
      })(),
      { code: 'EPIPE' },
    );
    assert.deepEqual(got, ['q0', 'q1', 'q2']);
  });

  it('an AbortSignal destroys the stream with ABORT_ERR', async () => {
    const { rp, ch } = await echoRig();
    try {
      const ac = new AbortController();
      const s = openEndpointStream(ch, { signal: ac.signal });
      const before = ch.link.endpointCount;
      const err = once(s, 'error');
      ac.abort();
      assert.equal(((await err) as [{ code: string }])[0].code, 'ABORT_ERR');
      assert.equal(ch.link.endpointCount, before - 1);
    } finally {
      await rp.close();
    }
  });

  it("a channel's default endpoint as a stream through a driver; EPIPE when the channel goes", async () => {
    const bus = new RpmsgBus();
    const streams: EndpointStream[] = [];
    bus.registerDriver(createStreamDriver({ name: 'echo-stream', idTable: [ECHO], onStream: (s) => void streams.push(s) }));
    const rp = await startWorkerRemote(bus, { firmware: firmwarePath('echo'), name: 'rproc0', log: () => {} });
    await until(() => streams.length === 1);
    const s = streams[0]!;
    s.write(enc('default'));
    const [m] = (await once(s, 'data')) as [Uint8Array];
    assert.equal(dec(m), 'default');
    const err = once(s, 'error');
    await rp.close();
    assert.equal(((await err) as [{ code: string }])[0].code, 'EPIPE');
  });
});
