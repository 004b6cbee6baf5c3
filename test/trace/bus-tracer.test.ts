/** Tracing and counting a bus in this program through the diagnostics channels. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Loopback } from '../../src/index.js';
import { traceBus } from '../../src/trace/bus-tracer.js';
import { formatDyndbg } from '../../src/trace/format.js';
import type { TraceRecord } from '../../src/trace/record.js';
import { BusStats } from '../../src/trace/stats.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('traceBus', () => {
  it('records what crosses one bus, with absolute directions, copies of payloads and drops', async () => {
    const lb = new Loopback({ manual: true });
    const records: TraceRecord[] = [];
    const trace = traceBus(lb.host.bus, { write: (r) => records.push(r) }, { snaplen: 16 + 4 });
    const ept = lb.remote.link.createEndpoint((_o, data, src) => (_o as typeof ept).trySendTo(data, src), { name: 'echo' });
    lb.pump();
    const host = lb.host.link.createEndpoint(() => {}, { dst: ept.addr });
    host.trySend(enc('hello!'));
    lb.pump();
    lb.remote.link.createEndpoint(() => {}, { addr: 0x600 }).trySendTo(enc('stray'), 0x777);
    lb.pump();
    await trace.close();
    host.trySend(enc('after'));
    lb.pump();
    lb.close();
    // Only the host bus's link: the announcement and echo received (r2h), the send (h2r), the drop.
    assert.deepEqual(
      records.map((r) => [r.link, r.dir, r.src, r.dst, r.len, r.drop ?? '', Buffer.from(r.wire.subarray(16)).toString()]),
      [
        ['loopback-host', 'r2h', 0x400, 0x35, 40, '', 'echo'],
        ['loopback-host', 'h2r', 0x400, 0x400, 6, '', 'hell'],
        ['loopback-host', 'r2h', 0x400, 0x400, 6, '', 'hell'],
        ['loopback-host', 'r2h', 0x600, 0x777, 5, 'no-endpoint', 'stra'],
      ],
    );
    assert.equal(trace.count, 4);
    assert.equal(records[0]!.ns?.name, 'echo'); // decoded from the payload, though only 4 bytes were kept
    assert.equal(records[0]!.wire.length, 20);
    assert.match(formatDyndbg(records[1]!, records[0]!.timeUs)[0]!, /virtio_rpmsg_bus loopback-host: TX From 0x400, To 0x400, Len 6, Flags 0, Reserved 0$/);
    assert.ok(records.every((r, i) => i === 0 || r.timeUs >= records[i - 1]!.timeUs));
  });
});

describe('BusStats', () => {
  it('counts per link and endpoint, drops, waits and reads vring occupancy', async () => {
    const lb = new Loopback({ manual: true, host: { txBuffers: 2 } });
    const stats = new BusStats(lb.host.bus); // after the links came up: still finds their vrings
    const ept = lb.remote.link.createEndpoint(() => {}, { name: 'svc' });
    lb.pump();
    const host = lb.host.link.createEndpoint(() => {}, { dst: ept.addr });
    const sends = [1, 2, 3].map((n) => host.send(new Uint8Array(n * 10)));
    // Two buffers went out (published at once: a sender waits), the third send waits.
    assert.equal(stats.report()[0]!.vrings.find((v) => v.name === 'vring1')!.inFlight, 2);
    assert.equal(stats.report()[0]!.txWaiters, 1);
    lb.pump();
    await Promise.all(sends);
    lb.pump();
    lb.remote.link.createEndpoint(() => {}, { addr: 0x600 }).trySendTo(new Uint8Array(3), 0x777);
    lb.pump();
    const [r] = stats.report();
    stats.close();
    assert.equal(r!.name, 'loopback-host');
    assert.equal(r!.mtu, 496);
    assert.deepEqual([r!.txMessages, r!.txBytes, r!.rxMessages, r!.rxDroppedNoEndpoint, r!.drops['no-endpoint']], [3, 60, 1, 1, 1]);
    assert.equal(r!.waits, 1);
    const e = r!.endpoints.find((x) => x.addr === host.addr)!;
    assert.deepEqual([e.txMessages, e.txBytes, e.dst], [3, 60, 0x400]);
    assert.ok(r!.endpoints.some((x) => x.addr === 0x35 && x.rxMessages === 1 && x.rxBytes === 40));
    assert.deepEqual(r!.channels.map((c) => c.name), ['svc']);
    assert.deepEqual(r!.vrings.map((v) => [v.name, v.num, v.inFlight]), [['vring0', 256, 256], ['vring1', 256, 0]]);
    lb.close();
  });
});
