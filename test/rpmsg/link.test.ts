/**
 * The bus core over a direct transport (no virtio): the one send path, argument checks at the
 * public API (payload types, sizes, timeouts, drivers), waiting senders, where errors go.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { RpmsgBus, RpmsgError } from '../../src/index.js';
import { dec, directPair, enc, rejects } from '../bus-fixtures.js';

function pair(credits = 2) {
  const p = directPair(credits, 64);
  const got: Uint8Array[] = [];
  const sink = p.remote.link.createEndpoint((_e, d) => void got.push(d.slice()), { addr: 0x500 });
  const ept = p.host.link.createEndpoint(() => {}, { dst: sink.addr });
  return { ...p, got, ept };
}

describe('payloads are sent by their bytes', () => {
  it('every ArrayBufferView goes out as its bytes; an ArrayBuffer is accepted whole', async () => {
    const { ept, got, pump } = pair(8);
    const u16 = new Uint16Array([0x0201, 0x0403]);
    const dv = new DataView(new Uint8Array([9, 8, 7, 6]).buffer, 1, 2);
    ept.trySend(u16);
    ept.trySend(dv);
    ept.trySend(new Uint8Array([5, 5]).buffer);
    ept.trySend(Buffer.from('hi'));
    await ept.send(new Float32Array([1]));
    pump();
    assert.deepEqual(got.map((b) => [...b]), [[1, 2, 3, 4], [8, 7], [5, 5], [0x68, 0x69], [0, 0, 0x80, 0x3f]]);
  });

  it('anything else is EINVAL: strings, null, numbers, plain arrays', async () => {
    const { ept } = pair();
    for (const bad of ['hello', null, undefined, 42, [1, 2], { length: 1 }]) {
      assert.throws(() => ept.trySend(bad as never), { code: 'EINVAL' });
      await rejects(ept.send(bad as never), 'EINVAL');
    }
  });
});

describe('sizes and timeouts', () => {
  it('an oversize trySend is EMSGSIZE even while another sender waits (size first, as Linux)', async () => {
    const { ept, pump } = pair(1);
    ept.trySend(enc('a'));
    const waiting = ept.send(enc('b'));
    assert.throws(() => ept.trySend(new Uint8Array(65)), { code: 'EMSGSIZE' });
    await rejects(ept.send(new Uint8Array(65)), 'EMSGSIZE');
    assert.throws(() => ept.trySend(enc('c')), { code: 'ENOMEM' }, 'a fitting one is ENOMEM while the other waits');
    pump();
    await waiting;
  });

  it('timeout: Infinity waits without limit, 0 fails at once, out-of-range values are EINVAL', async () => {
    const { ept, pump } = pair(1);
    ept.trySend(enc('a'));
    for (const timeout of [2 ** 31, -1, NaN, -Infinity]) {
      await rejects(ept.send(enc('x'), { timeout }), 'EINVAL');
      await rejects(ept.waitWritable({ timeout }), 'EINVAL');
    }
    await rejects(ept.send(enc('x'), { timeout: 0 }), 'ETIMEDOUT');
    const forever = ept.send(enc('b'), { timeout: Infinity });
    let settled = false;
    void forever.then(() => (settled = true));
    await new Promise((r) => setTimeout(r, 30)); // Node would fire an overflowing timer after ~1 ms
    assert.equal(settled, false);
    pump();
    await forever;
  });

  it('a send waiting when its endpoint is destroyed rejects at destroy, not when a buffer frees', async () => {
    const { ept, host } = pair(1);
    ept.trySend(enc('a'));
    const waiting = ept.send(enc('b'), { timeout: Infinity });
    const writable = ept.waitWritable({ timeout: Infinity });
    const t0 = Date.now();
    ept.destroy();
    await rejects(waiting, 'ENODEV');
    await rejects(writable, 'ENODEV');
    assert.ok(Date.now() - t0 < 100);
    assert.equal(host.link.txWaiters, 0);
    assert.equal(host.txWaiting, false, 'the transport was told nobody waits');
  });

  it('blocked senders leave in call order; a queued message is copied when it goes out', async () => {
    const { ept, got, pump } = pair(1);
    const sends = ['a', 'b', 'c', 'd'].map((s) => ept.send(enc(s)));
    for (let i = 0; i < 4; i++) pump();
    await Promise.all(sends);
    assert.deepEqual(got.map(dec), ['a', 'b', 'c', 'd']);
  });
});

describe('drivers', () => {
  it('a driver without an id table (or name, or probe) is rejected at registration; later drivers still probe', () => {
    const bus = new RpmsgBus();
    const noop = (): void => {};
    assert.throws(() => bus.registerDriver({ name: 'x', probe: noop } as never), { code: 'EINVAL' });
    assert.throws(() => bus.registerDriver({ name: 'x', idTable: 'svc', probe: noop } as never), { code: 'EINVAL' });
    assert.throws(() => bus.registerDriver({ idTable: ['svc'], probe: noop } as never), { code: 'EINVAL' });
    assert.throws(() => bus.registerDriver({ name: 'x', idTable: ['svc'] } as never), { code: 'EINVAL' });
    const { hostBus, host, remote, pump } = directPair();
    assert.throws(() => hostBus.registerDriver({ name: 'bad', probe: noop } as never), { code: 'EINVAL' });
    const probed: string[] = [];
    hostBus.registerDriver({ name: 'good', idTable: ['svc'], probe: (ch) => void probed.push(ch.name) });
    remote.link.createEndpoint(noop, { name: 'svc' });
    pump();
    assert.deepEqual(probed, ['svc']);
    assert.equal(host.link.up, true);
  });
});

describe('where errors go', () => {
  it("to 'error' listeners when there are any, else to process.emitWarning; the poll goes on", async () => {
    const { host, remote, pump } = pair();
    const bad = host.link.createEndpoint(() => {
      throw new RpmsgError('EINVAL', 'callback bug');
    }, { addr: 0x600 });
    const r = remote.link.createEndpoint(() => {}, { dst: bad.addr });
    const warned = once(process, 'warning');
    r.trySend(enc('1'));
    pump();
    const [w] = (await warned) as [RpmsgError];
    assert.equal(w.message, 'callback bug');
    const errors: Error[] = [];
    host.link.on('error', (e) => errors.push(e));
    r.trySend(enc('2'));
    pump();
    assert.equal(errors.length, 1);
    assert.equal(host.link.stats.callbackErrors, 2);
  });

  it('events are typed: a misspelt name does not compile', () => {
    const bus = new RpmsgBus();
    // @ts-expect-error 'chanel' is not an event of RpmsgBus
    bus.on('chanel', () => {});
    bus.on('channel', (ch) => void ch.name);
    assert.ok(true);
  });
});
