/** `rpmsg serve` as a library: policy enforcement, hostile frames, socket safety. */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import { RpmsgClient } from '../../src/daemon/client.js';
import { RpmsgDaemon } from '../../src/daemon/server.js';
import { FrameDecoder, Op, encodeFrame, type Frame } from '../../src/daemon/protocol.js';
import { until } from '../helpers.js';
import { ECHO, dec, enc, startRig, tempSocket } from './daemon-helpers.js';

const SAMPLE = 'rpmsg-client-sample';

const POLICY = {
  version: 1,
  clients: [
    { name: 'limited', match: { token: 'limited-client-token' }, channels: ['rpmsg-openamp-*'], maxMessageSize: 64, rate: { messagesPerSecond: 20, burst: 10 }, maxEndpoints: 2 },
    { name: 'readonly', match: { token: 'readonly-client-token' }, channels: [ECHO], send: false },
    { name: 'admin', match: { token: 'admin-client-token-xx' }, channels: ['*'], offchannel: true, control: true },
  ],
};

function echoOnce(c: RpmsgClient, data: string) {
  return c.open(ECHO).then(async (ept) => {
    const got = once(ept, 'message');
    await ept.send(enc(data));
    const [msg] = (await got) as [Uint8Array];
    return dec(msg);
  });
}

/** Raw frames over a plain socket, for what the client library would never send. */
async function rawClient(path: string): Promise<{ write(b: Buffer): void; frames: Frame[]; closed: Promise<unknown> }> {
  const s = connect(path);
  await once(s, 'connect');
  const frames: Frame[] = [];
  const d = new FrameDecoder();
  s.on('data', (c: Buffer) => d.push(c, (f) => frames.push(f)));
  s.on('error', () => {});
  return { write: (b) => s.write(b), frames, closed: once(s, 'close') };
}

describe('rpmsg daemon', () => {
  it('lists only allowed channels, echoes, and enforces name, size, rate, offchannel and direction', async () => {
    const rig = await startRig({ firmware: ['echo', 'client-sample'], policy: POLICY });
    try {
      const lim = await RpmsgClient.connect({ socketPath: rig.socketPath, token: 'limited-client-token' });
      assert.equal(lim.info.client, 'limited');
      assert.deepEqual((await lim.list()).map((c) => c.name), [ECHO]);
      assert.equal(await echoOnce(lim, 'hello'), 'hello');
      // denied name
      await assert.rejects(lim.open(SAMPLE), { code: 'EACCES' });
      await assert.rejects(lim.createEndpoint({ name: SAMPLE }), { code: 'EACCES' });
      // unknown channel
      await assert.rejects(lim.open('rpmsg-openamp-none'), { code: 'ENOENT' });
      const ept = await lim.open(ECHO);
      // oversize for the policy (64) though within the MTU
      await assert.rejects(ept.send(new Uint8Array(65)), { code: 'EMSGSIZE' });
      // offchannel attempts
      await assert.rejects(ept.sendTo(enc('x'), 1025), { code: 'EACCES' });
      await assert.rejects(ept.sendOffchannel(5000, ept.dst, enc('x')), { code: 'EACCES' });
      await assert.rejects(lim.createEndpoint({ name: 'rpmsg-openamp-x', src: 3000 }), { code: 'EACCES' });
      // control
      await assert.rejects(lim.createChannel({ name: 'rpmsg-openamp-static', dst: 1030 }), { code: 'EACCES' });
      // endpoint limit (2: one open above, one from echoOnce)
      await assert.rejects(lim.open(ECHO), { code: 'EMFILE' });
      // flood beyond the rate: burst 10, 20/s
      await new Promise((r) => setTimeout(r, 600)); // refill the bucket
      const results = await Promise.allSettled(Array.from({ length: 100 }, (_, i) => ept.send(enc(`f${i}`))));
      const ok = results.filter((r) => r.status === 'fulfilled').length;
      const limited = results.filter((r) => r.status === 'rejected' && (r.reason as { code: string }).code === 'EAGAIN').length;
      assert.equal(ok + limited, 100);
      assert.ok(ok >= 10 && ok <= 20, `sent ${ok}`);
      assert.ok(rig.daemon.counters.rateLimited >= 80);
      // still connected after every refusal
      assert.equal((await lim.list()).length, 1);
      lim.close();

      const ro = await RpmsgClient.connect({ socketPath: rig.socketPath, token: 'readonly-client-token' });
      const rept = await ro.open(ECHO);
      await assert.rejects(rept.send(enc('x')), { code: 'EACCES' });
      ro.close();

      // no matching rule: refused at HELLO
      await assert.rejects(RpmsgClient.connect({ socketPath: rig.socketPath }), { code: 'EACCES' });
      await assert.rejects(RpmsgClient.connect({ socketPath: rig.socketPath, token: 'wrong-token-wrong-token' }), { code: 'EACCES' });
    } finally {
      await rig.stop();
    }
  });

  it('admin: offchannel sends and a static channel created, opened and destroyed', async () => {
    const rig = await startRig({ policy: POLICY });
    try {
      const a = await RpmsgClient.connect({ socketPath: rig.socketPath, token: 'admin-client-token-xx' });
      const echoDst = (await a.list())[0]!.dst;
      // The echo replies to the source address, so an offchannel send from our own address comes back.
      const ept = await a.createEndpoint({ name: 'probe', src: 2000, dst: echoDst });
      assert.equal(ept.addr, 2000);
      const got = once(ept, 'message');
      await ept.sendTo(enc('off'), echoDst);
      const [m, src] = (await got) as [Uint8Array, number];
      assert.deepEqual([dec(m), src], ['off', echoDst]);
      const ch = await a.createChannel({ name: 'static-one', src: 3000, dst: echoDst, link: 'rproc0' });
      assert.deepEqual([ch.name, ch.src, ch.dst], ['static-one', 3000, echoDst]);
      await assert.rejects(a.createChannel({ name: 'static-one', src: 3000, dst: echoDst }), { code: 'EBUSY' });
      assert.ok((await a.list()).some((c) => c.name === 'static-one'));
      const sept = await a.open('static-one');
      assert.equal(sept.addr, 3000);
      const got2 = once(sept, 'message');
      await sept.send(enc('static'));
      assert.equal(dec(((await got2) as [Uint8Array])[0]), 'static');
      const gone = once(sept, 'gone');
      await a.destroyChannel({ name: 'static-one' });
      const [err] = (await gone) as [{ code: string }];
      assert.equal(err.code, 'EPIPE');
      await assert.rejects(sept.send(enc('x')), { code: 'EPIPE' });
      await assert.rejects(a.destroyChannel({ name: ECHO }), { code: 'ENOENT' }); // announced channels are not the daemon's
      a.close();
    } finally {
      await rig.stop();
    }
  });

  it('a malformed or oversize frame closes that client only; others are untouched', async () => {
    const rig = await startRig({});
    try {
      const good = await RpmsgClient.connect({ socketPath: rig.socketPath });
      const bad: Buffer[] = [
        encodeFrame(Op.LIST, 1, {}), // before HELLO
        Buffer.from([0xff, 0xff, 0xff, 0x7f]), // 2 GiB length
        Buffer.concat([encodeFrame(Op.HELLO, 1, { version: 1 }), Buffer.from('0c000000010200000100000000000000', 'hex')]), // jsonLen beyond frame
        Buffer.concat([encodeFrame(Op.HELLO, 1, { version: 1 }), encodeFrame(Op.OK, 2, {})]), // a reply op as request
        Buffer.concat([encodeFrame(Op.HELLO, 1, { version: 1 }), encodeFrame(Op.SEND, 2, { ept: 'x' as unknown as number })]),
      ];
      for (const b of bad) {
        const r = await rawClient(rig.socketPath);
        r.write(b);
        await r.closed;
        const last = r.frames.at(-1);
        assert.equal(last?.op, Op.ERROR);
        assert.match(String(last?.fields['code']), /^(EPROTO|EMSGSIZE)$/);
      }
      assert.equal(rig.daemon.counters.malformed, bad.length);
      assert.equal(await echoOnce(good, 'still here'), 'still here');
      await until(() => rig.daemon.clientCount === 1);
      good.close();
    } finally {
      await rig.stop();
    }
  });

  it('socket: created 0600, a live daemon is never taken over, a stale socket is replaced, a plain file is left alone', async () => {
    const rig = await startRig({});
    try {
      assert.equal(statSync(rig.socketPath).mode & 0o777, 0o600);
      await assert.rejects(RpmsgDaemon.start({ bus: rig.bus, socketPath: rig.socketPath }), { code: 'EBUSY' });
      const c = await RpmsgClient.connect({ socketPath: rig.socketPath });
      assert.equal((await c.list()).length, 1); // the first daemon still serves
      c.close();
      const file = tempSocket();
      writeFileSync(file, 'not a socket');
      await assert.rejects(RpmsgDaemon.start({ bus: rig.bus, socketPath: file }), { code: 'EBUSY' });
      assert.equal(statSync(file).isFile(), true);
    } finally {
      await rig.stop();
    }
    await assert.rejects(RpmsgClient.connect({ socketPath: rig.socketPath }), { code: /ENOENT|ECONNREFUSED/ });
  });
});
