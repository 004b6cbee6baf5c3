/**
 * The name service (Linux rpmsg_ns.c): announcements in both directions, OpenAMP's bind by
 * name, and untrusted messages given as exact bytes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Loopback, RPMSG_ADDR_ANY, decodeNsMessage, encodeNsMessage } from '../../src/index.js';
import { SVC, dec, directPair, enc, recordingDriver, setup } from '../bus-fixtures.js';

describe('the name service over virtio', () => {
  it('NS DESTROY releases the channel: remove runs, endpoints destroyed', () => {
    const { lb, remoteEpt } = setup();
    const log: string[] = [];
    lb.host.bus.registerDriver(recordingDriver(log));
    lb.pump();
    remoteEpt.destroy();
    lb.pump();
    assert.deepEqual(log, ['probe rpmsg-client-sample 1024->1024', 'remove rpmsg-client-sample']);
    assert.equal(lb.host.bus.channels.length, 0);
    assert.equal(lb.host.ns!.stats.destroyed, 1);
  });

  it('malformed announcements are rejected and counted; 0-length payloads are delivered', () => {
    const { lb } = setup();
    lb.pump();
    const raw = lb.remote.link.createEndpoint(() => {}, { addr: 3000 });
    const good = encodeNsMessage({ name: 'x', addr: 5, flags: 0 });
    raw.trySendTo(good.subarray(0, 39), 53); // wrong length
    const unterminated = encodeNsMessage({ name: 'x', addr: 6, flags: 0 });
    unterminated.fill(0x41, 0, 32); // no NUL in its 32 bytes: rejected (Linux would cut it at byte 31)
    raw.trySendTo(unterminated, 53);
    const any = encodeNsMessage({ name: 'y', addr: 0, flags: 0 });
    new DataView(any.buffer).setUint32(32, RPMSG_ADDR_ANY, true);
    raw.trySendTo(any, 53);
    raw.trySendTo(new Uint8Array(40), 53); // empty name
    const warnings: unknown[] = [];
    lb.host.link.on('error', (w) => warnings.push(w));
    lb.pump();
    assert.deepEqual(lb.host.ns!.stats.rejected, { length: 1, name: 2, addr: 1, limit: 0 });
    assert.equal(warnings.length, 4);
    assert.ok(warnings.every((w) => (w as { code?: string }).code === 'EBADMSG'));
    const names = lb.host.bus.channels.map((c) => c.name).sort();
    assert.deepEqual(names, [SVC], 'no channel for an unterminated name');
    // 0-length payload (Zephyr answers announcements with one)
    const got: number[] = [];
    lb.host.link.createEndpoint((_o, data) => got.push(data.length), { addr: 2000 });
    raw.trySendTo(new Uint8Array(0), 2000);
    lb.pump();
    assert.deepEqual(got, [0]);
  });

  it('the host can announce its own services; the remote binds its waiting endpoint (OpenAMP)', () => {
    const lb = new Loopback({ manual: true });
    const remoteRx: string[] = [];
    const rept = lb.remote.link.createEndpoint((_o, d) => remoteRx.push(dec(d)), { name: 'svc', announce: false });
    const hept = lb.host.link.createEndpoint(() => {}, { name: 'svc', announce: true });
    lb.pump();
    assert.equal(rept.dst, hept.addr, 'bound by name');
    assert.equal(lb.remote.ns!.stats.bound, 1);
    rept.trySend(enc('hi'));
    hept.trySendTo(enc('back'), rept.addr);
    lb.pump();
    assert.deepEqual(remoteRx, ['back']);
  });
});

describe('name-service messages as exact bytes', () => {
  const msg = (name: number[], addr: number, flags: number, len = 40): Uint8Array => {
    const b = new Uint8Array(len);
    b.set(name.slice(0, Math.min(name.length, len)));
    if (len >= 40) {
      new DataView(b.buffer).setUint32(32, addr, true);
      new DataView(b.buffer).setUint32(36, flags, true);
    }
    return b;
  };
  const ascii = (s: string): number[] => [...s].map((c) => c.charCodeAt(0));

  it('decodes CREATE and DESTROY by bit 0 of flags; other bits are ignored', () => {
    assert.deepEqual(decodeNsMessage(msg(ascii('svc'), 0x401, 0)), { name: 'svc', addr: 0x401, flags: 0 });
    assert.deepEqual(decodeNsMessage(msg(ascii('svc'), 0x401, 0xfffffffe)), { name: 'svc', addr: 0x401, flags: 0 });
    assert.deepEqual(decodeNsMessage(msg(ascii('svc'), 0x401, 3)), { name: 'svc', addr: 0x401, flags: 1 });
  });

  it('rejects every other length, empty and non-UTF-8 names and ADDR_ANY', () => {
    assert.equal(decodeNsMessage(msg(ascii('svc'), 1, 0, 39)), 'length');
    assert.equal(decodeNsMessage(msg(ascii('svc'), 1, 0, 41)), 'length');
    assert.equal(decodeNsMessage(msg([], 1, 0)), 'name');
    assert.equal(decodeNsMessage(msg([0xff, 0xfe], 1, 0)), 'name');
    assert.equal(decodeNsMessage(msg(ascii('svc'), RPMSG_ADDR_ANY, 0)), 'addr');
  });

  it('rejects a name with no NUL in its 32 bytes (Linux would cut it at byte 31); 31 bytes + NUL is the longest', () => {
    assert.equal(decodeNsMessage(msg(new Array(32).fill(0x42), 7, 0)), 'name');
    assert.deepEqual(decodeNsMessage(msg(new Array(31).fill(0x42), 7, 0)), { name: 'B'.repeat(31), addr: 7, flags: 0 });
  });
});

describe('the name service over a direct transport (no virtio)', () => {
  it('a CREATE makes a channel that a driver probes; a DESTROY releases it', () => {
    const { hostBus, remote, host, pump } = directPair();
    const log: string[] = [];
    hostBus.registerDriver(recordingDriver(log));
    const ept = remote.link.createEndpoint(() => {}, { name: SVC });
    pump();
    assert.deepEqual(log, [`probe ${SVC} 1024->${ept.addr}`]);
    assert.equal(host.ns!.stats.created, 1);
    ept.destroy();
    pump();
    assert.deepEqual(log, [`probe ${SVC} 1024->${ept.addr}`, `remove ${SVC}`]);
    assert.equal(hostBus.channels.length, 0);
  });

  it('binds a waiting local endpoint of the same name instead of making a channel (OpenAMP), and unbinds it on DESTROY', () => {
    const { hostBus, remoteBus, host, remote, pump } = directPair();
    const waiting = remote.link.createEndpoint(() => {}, { name: 'svc', announce: false });
    const ch = hostBus.createChannel(host.link, { name: 'svc', dst: RPMSG_ADDR_ANY, announce: true })!;
    hostBus.registerDriver({ name: 'd', idTable: ['svc'], probe: () => {}, callback: () => {} });
    pump();
    assert.equal(waiting.dst, ch.src, 'bound to the announced address');
    assert.equal(remote.ns!.stats.bound, 1);
    assert.equal(remoteBus.channels.length, 0);
    hostBus.releaseChannel(ch);
    pump();
    assert.equal(waiting.dst, RPMSG_ADDR_ANY, 'waits again');
  });

  it('announcements beyond the channel limit are counted and reported, not acted on', () => {
    const { hostBus, host, remote, pump } = directPair(64);
    (host.link as { maxChannels: number }).maxChannels = 2;
    const errors: Error[] = [];
    host.link.on('error', (e) => errors.push(e));
    for (let i = 0; i < 3; i++) remote.link.createEndpoint(() => {}, { name: `s${i}` });
    pump();
    assert.equal(hostBus.channels.length, 2);
    assert.equal(host.ns!.stats.rejected.limit, 1);
    assert.equal(errors.length, 1);
  });
});
