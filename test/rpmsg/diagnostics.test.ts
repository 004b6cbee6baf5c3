/** The diagnostics channels: every bus event is published, with the fields tools need. */
import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { describe, it } from 'node:test';
import { Loopback, RpmsgBus, inspectVring, startWorkerRemote, vringLayout } from '../../src/index.js';
import { firmwarePath } from '../helpers.js';
import { RPMSG_CHANNELS, sendChannel, receiveChannel, type MessageEvent } from '../../src/rpmsg/diagnostics.js';

type Seen = Array<{ ch: string; e: Record<string, unknown> }>;

/** Subscribe to every channel for the duration of `body`. */
async function watch(body: (seen: Seen) => Promise<void> | void): Promise<Seen> {
  const seen: Seen = [];
  const hs = Object.values(RPMSG_CHANNELS).map((ch) => {
    const h = (m: unknown): void => {
      const e = m as MessageEvent;
      // the payload is lent for the duration of the event: copy it
      seen.push({ ch, e: { ...(m as object), ...(e.data instanceof Uint8Array ? { data: Buffer.from(e.data).toString() } : {}) } });
    };
    subscribe(ch, h);
    return [ch, h] as const;
  });
  try {
    await body(seen);
  } finally {
    for (const [ch, h] of hs) unsubscribe(ch, h);
  }
  return seen;
}

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const of = (seen: Seen, ch: string): Array<Record<string, unknown>> => seen.filter((s) => s.ch === ch).map((s) => s.e);

describe('diagnostics channels', () => {
  it('have no subscribers unless someone watches', () => {
    assert.equal(sendChannel.hasSubscribers, false);
    assert.equal(receiveChannel.hasSubscribers, false);
  });

  it('publish link up, endpoints, channels, messages, drops and link down', async () => {
    let lb!: Loopback;
    const seen = await watch(() => {
      lb = new Loopback({ manual: true });
      const ept = lb.remote.link.createEndpoint(() => {}, { name: 'svc' });
      lb.pump();
      const host = lb.host.link.createEndpoint(() => {}, { dst: ept.addr });
      host.trySend(enc('ping'));
      host.trySendTo(enc('nobody'), 0x999);
      lb.pump();
      ept.destroy();
      lb.pump();
      lb.close();
    });
    const ups = of(seen, RPMSG_CHANNELS.linkUp);
    assert.deepEqual(ups.map((u) => [(u.link as { role: string }).role, u.mtu, (u.vrings as unknown[]).length]), [['host', 496, 2], ['remote', 496, 2]]);
    const created = of(seen, RPMSG_CHANNELS.endpointCreated);
    assert.ok(created.some((e) => e.name === 'svc' && e.addr === 0x400));
    assert.deepEqual(of(seen, RPMSG_CHANNELS.channelCreated).map((c) => [c.name, c.dst]), [['svc', 0x400]]);
    assert.deepEqual(of(seen, RPMSG_CHANNELS.channelRemoved).map((c) => c.name), ['svc']);
    const sends = of(seen, RPMSG_CHANNELS.send).map((m) => [(m.link as { role: string }).role, m.src, m.dst, m.len, m.flags, m.data]);
    assert.deepEqual(sends.slice(0, 1), [['remote', 0x400, 0x35, 40, 0, sends[0]![5]]]); // the NS announcement
    assert.ok(sends.some((s) => s[0] === 'host' && s[2] === 0x400 && s[5] === 'ping'));
    const rx = of(seen, RPMSG_CHANNELS.receive).map((m) => [(m.link as { role: string }).role, m.dst, m.data]);
    assert.ok(rx.some((r) => r[0] === 'remote' && r[1] === 0x400 && r[2] === 'ping'));
    const drops = of(seen, RPMSG_CHANNELS.drop);
    assert.deepEqual(drops.map((d) => [d.reason, d.dst, d.len, d.data]), [['no-endpoint', 0x999, 6, 'nobody']]);
    assert.equal(of(seen, RPMSG_CHANNELS.endpointDestroyed).filter((e) => e.addr === 0x400 && e.name === 'svc').length, 1);
    assert.deepEqual(of(seen, RPMSG_CHANNELS.linkDown).length, 2);
  });

  it('publish waits for tx buffers, bad lengths and violations', async () => {
    const seen = await watch(async () => {
      const lb = new Loopback({ manual: true, host: { txBuffers: 1 } });
      const remote = lb.remote.link.createEndpoint(() => {}, { addr: 0x500 });
      const host = lb.host.link.createEndpoint(() => {}, { dst: remote.addr });
      const first = host.send(enc('one'));
      const second = host.send(enc('two')); // waits: one tx buffer only
      await first;
      lb.pump();
      await second;
      // A header len beyond its buffer: the remote drops it (Linux rpmsg_recv_single).
      host.trySend(enc('three'));
      lb.host.transport.flush();
      const [, v1] = [lb.layout.vrings[0], lb.layout.vrings[1]];
      const snap = inspectVring(lb.region, v1.da, v1.num, v1.align);
      const id = snap.availRing[(snap.availIdx - 1) & (v1.num - 1)]!;
      lb.region.dv.setUint16(Number(snap.desc[id]!.addr) + 12, 4000, true);
      lb.pump();
      // avail.idx run far ahead: a violation, the remote's link goes down.
      const L = vringLayout(v1.num, v1.align);
      lb.region.dv.setUint16(v1.da + L.availIdx, (snap.availIdx + 1000) & 0xffff, true);
      lb.remote.transport.poll();
      lb.close();
    });
    const waits = of(seen, RPMSG_CHANNELS.wait);
    assert.deepEqual(waits.map((w) => w.waiters), [1]);
    assert.deepEqual(of(seen, RPMSG_CHANNELS.drop).map((d) => [d.reason, d.src, d.dst, d.len]), [['invalid-length', 0x400, 0x500, 4000]]);
    const v = of(seen, RPMSG_CHANNELS.violation);
    assert.deepEqual(v.map((x) => (x.error as { code: string }).code), ['ERR_VQ_AVAIL_IDX']);
  });

  it('publish a reset when a remote restarts, then its new link comes up', async () => {
    const bus = new RpmsgBus();
    const rproc = await startWorkerRemote(bus, { firmware: firmwarePath('echo'), name: 'rp-reset', log: () => {} });
    try {
      const seen = await watch(() => rproc.restart());
      const names = seen.map((s) => s.ch);
      assert.deepEqual(of(seen, RPMSG_CHANNELS.reset).map((r) => [r.name, r.reason]), [['rp-reset', 'restart']]);
      assert.ok(names.indexOf(RPMSG_CHANNELS.reset) < names.indexOf(RPMSG_CHANNELS.linkDown));
      assert.ok(names.lastIndexOf(RPMSG_CHANNELS.linkUp) > names.indexOf(RPMSG_CHANNELS.linkDown));
    } finally {
      await rproc.close();
    }
  });
});
