/**
 * The seed's User API and the bus rules, with both roles implemented by this project in one
 * thread (Loopback in manual mode: the test decides when each side polls).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Endpoint, Loopback, RPMSG_ADDR_ANY, RpmsgError, type RpmsgDriver, type RxBufferHold } from '../../src/index.js';
import { dec, enc, recordingDriver, rejects, setup, type Rx } from '../bus-fixtures.js';

describe('drivers and channels', () => {
  it('a channel announced by the remote is probed by the matching driver, with a default endpoint', () => {
    const { lb } = setup();
    const log: string[] = [];
    lb.host.bus.registerDriver(recordingDriver(log));
    lb.pump();
    assert.deepEqual(log, ['probe rpmsg-client-sample 1024->1024']);
    const ch = lb.host.bus.channels[0]!;
    assert.equal(ch.ept?.addr, 1024);
  });

  it('a driver registered later is probed for every existing matching channel', () => {
    const { lb } = setup();
    lb.pump();
    assert.equal(lb.host.bus.channels.length, 1);
    assert.equal(lb.host.bus.driverOf(lb.host.bus.channels[0]!), undefined);
    const log: string[] = [];
    lb.host.bus.registerDriver(recordingDriver(log));
    assert.deepEqual(log, ['probe rpmsg-client-sample 1024->1024']);
  });

  it('unregistering a driver runs remove and destroys its endpoint', () => {
    const { lb } = setup();
    const log: string[] = [];
    const drv = recordingDriver(log);
    lb.host.bus.registerDriver(drv);
    lb.pump();
    const ch = lb.host.bus.channels[0]!;
    lb.host.bus.unregisterDriver(drv);
    assert.deepEqual(log.slice(1), ['remove rpmsg-client-sample']);
    assert.equal(ch.ept, undefined);
    assert.equal(lb.host.link.getEndpoint(1024), undefined);
  });

  it('driver override binds only the named driver', () => {
    const { lb } = setup();
    lb.pump();
    const ch = lb.host.bus.channels[0]!;
    const log: string[] = [];
    const other: RpmsgDriver = { name: 'other', idTable: [], probe: () => void log.push('other') };
    lb.host.bus.registerDriver(other);
    assert.deepEqual(log, []);
    lb.host.bus.setDriverOverride(ch, 'other');
    assert.deepEqual(log, ['other']);
    lb.host.bus.registerDriver(recordingDriver(log));
    assert.deepEqual(log, ['other'], 'the id table no longer matters');
  });

});

describe('endpoints and addresses', () => {
  it('allocates the lowest free address ≥ 1024; fixed addresses conflict', () => {
    const lb = new Loopback({ manual: true });
    const l = lb.host.link;
    const a = l.createEndpoint(() => {});
    const b = l.createEndpoint(() => {});
    assert.deepEqual([a.addr, b.addr], [1024, 1025]);
    a.destroy();
    assert.equal(l.createEndpoint(() => {}).addr, 1024, 'freed address reused');
    assert.equal(l.createEndpoint(() => {}, { addr: 100 }).addr, 100, 'low address on request');
    assert.throws(() => l.createEndpoint(() => {}, { addr: 1025 }), { code: 'EADDRINUSE' });
    assert.throws(() => l.createEndpoint(() => {}, { addr: 53 }), { code: 'EADDRINUSE' }, 'name service holds 53');
    assert.equal(l.createEndpoint(() => {}).addr, 1026);
  });

  it('ADDR_ANY as src or dst is EINVAL', async () => {
    const { lb } = setup();
    const e = lb.host.link.createEndpoint(() => {});
    assert.throws(() => e.trySend(enc('x')), { code: 'EINVAL' }, 'default dst is ANY');
    assert.throws(() => e.trySendTo(enc('x'), RPMSG_ADDR_ANY), { code: 'EINVAL' });
    assert.throws(() => e.trySendOffchannel(RPMSG_ADDR_ANY, 1024, enc('x')), { code: 'EINVAL' });
    await rejects(e.sendOffchannel(RPMSG_ADDR_ANY, 1024, enc('x')), 'EINVAL');
  });

  it('no callback after destroy, even for messages already in flight', () => {
    const { lb, remoteEpt } = setup();
    lb.pump();
    const got: string[] = [];
    const e = lb.host.link.createEndpoint((_o, d) => got.push(dec(d)), { addr: 4000 });
    remoteEpt.trySendTo(enc('one'), 4000);
    remoteEpt.trySendTo(enc('two'), 4000);
    lb.remote.transport.flush();
    e.destroy();
    lb.pump();
    assert.deepEqual(got, []);
    assert.equal(lb.host.link.stats.rxDroppedNoEndpoint, 2);
    assert.throws(() => e.trySendTo(enc('x'), 1024), { code: 'ENODEV' });
  });

  it('messages to unknown addresses are dropped, counted, and their buffers given back', () => {
    const { lb, remoteEpt } = setup({ rxBuffers: 2 });
    lb.pump();
    for (let i = 0; i < 10; i++) {
      remoteEpt.trySendTo(enc('lost'), 9999);
      lb.pump();
    }
    assert.equal(lb.host.link.stats.rxDroppedNoEndpoint, 10, 'two rx buffers carried ten messages');
  });

  it('a throwing callback is reported and does not block the others', () => {
    const { lb, remoteEpt } = setup();
    lb.pump();
    const got: string[] = [];
    lb.host.link.createEndpoint(() => {
      throw new Error('boom');
    }, { addr: 5000 });
    lb.host.link.createEndpoint((_o, d) => got.push(dec(d)), { addr: 5001 });
    const errors: unknown[] = [];
    lb.host.link.on('error', (e) => errors.push(e));
    remoteEpt.trySendTo(enc('a'), 5000);
    remoteEpt.trySendTo(enc('b'), 5001);
    lb.pump();
    assert.deepEqual(got, ['b']);
    assert.equal(errors.length, 1);
    assert.equal(lb.host.link.stats.callbackErrors, 1);
  });
});

describe('the send family', () => {
  function bound(opts: { txBuffers?: number } = {}) {
    const s = setup(opts);
    const rx: Rx[] = [];
    s.lb.host.bus.registerDriver(recordingDriver([], rx));
    s.lb.pump();
    const ch = s.lb.host.bus.channels[0]!;
    return { ...s, ch, rx };
  }

  it('send, sendTo, sendOffchannel and the try variants deliver in order with the right addresses', async () => {
    const { lb, ch, remoteEpt, remoteRx } = bound();
    await ch.send(enc('s'));
    await ch.sendTo(enc('st'), remoteEpt.addr);
    await ch.sendOffchannel(777, remoteEpt.addr, enc('so'));
    ch.trySend(enc('t'));
    ch.trySendTo(enc('tt'), remoteEpt.addr);
    ch.trySendOffchannel(778, remoteEpt.addr, enc('to'));
    lb.pump();
    assert.deepEqual(remoteRx, [
      { data: 's', src: 1024 },
      { data: 'st', src: 1024 },
      { data: 'so', src: 777 },
      { data: 't', src: 1024 },
      { data: 'tt', src: 1024 },
      { data: 'to', src: 778 },
    ]);
  });

  it('keeps order over many messages in both directions', async () => {
    const { lb, ch, remoteEpt, remoteRx, rx } = bound();
    for (let i = 0; i < 2000; i++) {
      await ch.send(enc(`h${i}`), { timeout: 1000 }).catch(async () => {
        lb.pump();
        await ch.send(enc(`h${i}`));
      });
      remoteEpt.trySendTo(enc(`r${i}`), 1024);
      if (i % 50 === 0) lb.pump();
    }
    lb.pump();
    assert.deepEqual(remoteRx.map((r) => r.data), Array.from({ length: 2000 }, (_, i) => `h${i}`));
    assert.deepEqual(rx.map((r) => r.data), Array.from({ length: 2000 }, (_, i) => `r${i}`));
  });

  it('EMSGSIZE at MTU + 1, success at the MTU; never truncated', async () => {
    const { lb, ch, remoteEpt } = bound();
    let len = -1;
    remoteEpt.cb = (_o, d) => void (len = d.length);
    assert.equal(ch.getMtu(), 496);
    assert.throws(() => ch.trySend(new Uint8Array(497)), { code: 'EMSGSIZE' });
    await rejects(ch.send(new Uint8Array(497)), 'EMSGSIZE');
    await ch.send(new Uint8Array(496).fill(7));
    lb.pump();
    assert.equal(len, 496);
    assert.equal(lb.remote.link.getMtu(), 496, 'the remote learns the size of the host buffers');
    assert.throws(() => remoteEpt.trySendTo(new Uint8Array(497), 1024), { code: 'EMSGSIZE' });
  });

  it('ENOMEM when every tx buffer is held by the remote; a blocked send is released when one returns', async () => {
    const { lb, ch, remoteRx } = bound({ txBuffers: 4 });
    for (let i = 0; i < 4; i++) ch.trySend(enc(`m${i}`));
    assert.equal(ch.poll(), false);
    assert.throws(() => ch.trySend(enc('x')), { code: 'ENOMEM' });
    assert.throws(() => ch.tryGetTxPayloadBuffer(), { code: 'ENOMEM' });
    let done = false;
    const p = ch.send(enc('blocked')).then(() => (done = true));
    await new Promise((r) => setImmediate(r));
    assert.equal(done, false, 'still waiting');
    lb.pump(); // the remote consumes and returns buffers; the host reclaims and wakes the sender
    await p;
    lb.pump();
    assert.deepEqual(remoteRx.map((r) => r.data), ['m0', 'm1', 'm2', 'm3', 'blocked']);
    assert.equal(ch.poll(), true);
  });

  it('a blocked send is rejected on timeout, on abort and when the remote is lost', async () => {
    const { lb, ch } = bound({ txBuffers: 2 });
    ch.trySend(enc('a'));
    ch.trySend(enc('b'));
    const t0 = Date.now();
    await rejects(ch.send(enc('t'), { timeout: 60 }), 'ETIMEDOUT');
    assert.ok(Date.now() - t0 >= 50);
    const ac = new AbortController();
    const aborted = ch.send(enc('a'), { signal: ac.signal });
    ac.abort(new Error('user'));
    await rejects(aborted, 'ABORT_ERR');
    await rejects(ch.send(enc('x'), { signal: AbortSignal.abort() }), 'ABORT_ERR');
    const lost = ch.send(enc('l'));
    const writable = ch.waitWritable();
    assert.equal(lb.host.link.txWaiters, 2);
    lb.host.transport.destroy(new RpmsgError('ENODEV', 'remote crashed'));
    await rejects(lost, 'ENODEV');
    await rejects(writable, 'ENODEV');
    assert.equal(lb.host.bus.channels.length, 0, 'channels removed');
    await rejects(ch.send(enc('after')), 'ENODEV');
  });

  it('waitWritable resolves once a buffer comes back', async () => {
    const { lb, ch } = bound({ txBuffers: 1 });
    ch.trySend(enc('a'));
    const w = ch.waitWritable({ timeout: 1000 });
    lb.pump();
    await w;
    assert.equal(ch.poll(), true);
  });
});

describe('zero-copy', () => {
  it('fill a tx buffer in place and send it, or release it unsent', () => {
    const { lb, remoteEpt, remoteRx } = setup({ txBuffers: 2 });
    lb.pump();
    const e = lb.host.link.createEndpoint(() => {}, { dst: remoteEpt.addr });
    const b = e.tryGetTxPayloadBuffer();
    assert.equal(b.data.length, 496);
    b.data.set(enc('in place'));
    e.sendNocopy(b, 8);
    assert.throws(() => e.sendNocopy(b, 8), { code: 'EINVAL' }, 'a buffer is sent once');
    const c = e.tryGetTxPayloadBuffer();
    assert.throws(() => e.sendNocopy(c, 497), { code: 'EMSGSIZE' });
    e.releaseTxBuffer(c);
    assert.throws(() => e.releaseTxBuffer(c), { code: 'EINVAL' });
    lb.pump();
    assert.deepEqual(remoteRx.map((r) => r.data), ['in place']);
  });

  it('an rx buffer held past the callback is only given back when released', () => {
    const { lb, remoteEpt } = setup();
    lb.pump();
    const holds: RxBufferHold[] = [];
    lb.host.link.createEndpoint((o, d) => holds.push((o as Endpoint).holdRxBuffer(d)), { addr: 6000 });
    const before = lb.remote.transport.txVq.outstanding;
    remoteEpt.trySendTo(enc('keep me'), 6000);
    lb.pump();
    assert.equal(holds.length, 1);
    assert.equal(dec(holds[0]!.data), 'keep me', 'data stays valid while held');
    // The remote cannot reuse that buffer: one fewer available on its tx ring.
    let avail = 0;
    for (;;) {
      try {
        lb.remote.link.tryGetTxBuffer();
        avail++;
      } catch {
        break;
      }
    }
    assert.equal(avail, 255);
    assert.equal(before, 0);
    lb.host.link.releaseRxBuffer(holds[0]!);
    assert.throws(() => lb.host.link.releaseRxBuffer(holds[0]!), { code: 'EINVAL' });
  });

  it('holding outside the callback is refused', () => {
    const { lb } = setup();
    const e = lb.host.link.createEndpoint(() => {});
    assert.throws(() => e.holdRxBuffer(new Uint8Array(1)), { code: 'EINVAL' });
  });
});
