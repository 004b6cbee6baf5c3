/**
 * The virtio transport against a peer that writes what it should not: lengths, ring indices;
 * and the notifications it asks for while senders wait.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Loopback, type Channel, type RpmsgError } from '../../src/index.js';
import { dec, enc, recordingDriver, rejects, setup } from '../bus-fixtures.js';

describe('the transport rejects bad lengths from the peer', () => {
  it('a header len beyond the buffer is dropped, counted, and the buffer recycled', () => {
    const { lb, remoteEpt } = setup();
    lb.pump();
    const got: string[] = [];
    lb.host.link.createEndpoint((_o, d) => got.push(dec(d)), { addr: 7000 });
    const buf = lb.remote.link.tryGetTxBuffer();
    remoteEpt.sendOffchannelNocopy(buf, remoteEpt.addr, 7000, 4);
    // The (hostile) remote rewrites the header len after publishing: 512 - 16 + 1.
    const hdr = buf.data.byteOffset - lb.region.byteOffset - 16;
    lb.region.setU16(hdr + 12, 497);
    lb.remote.transport.flush();
    lb.pump();
    assert.deepEqual(got, []);
    assert.equal(lb.host.link.stats.rxInvalid, 1);
    remoteEpt.trySendTo(enc('fine'), 7000);
    lb.pump();
    assert.deepEqual(got, ['fine'], 'the link goes on');
  });

  it('a used length beyond the posted buffer is dropped and counted (Linux rpmsg_recv_single)', () => {
    const { lb, remoteEpt } = setup();
    lb.pump();
    const got: string[] = [];
    lb.host.link.createEndpoint((_o, d) => got.push(dec(d)), { addr: 7001 });
    remoteEpt.trySendTo(enc('x'), 7001);
    lb.remote.transport.flush();
    const L = lb.layout.vrings[0];
    const usedIdx = lb.region.getU16(L.da + 0x2000 + 2); // used ring at +0x2000 for 256 entries, align 0x1000
    const slot = (usedIdx - 1) & 255;
    lb.region.setU32(L.da + 0x2000 + 4 + slot * 8 + 4, 513);
    lb.pump();
    assert.deepEqual(got, []);
    assert.equal(lb.host.link.stats.rxInvalid, 1);
  });

  it('a ring violation breaks the link: channels removed, senders rejected with ENODEV', async () => {
    const { lb } = setup();
    const log: string[] = [];
    lb.host.bus.registerDriver(recordingDriver(log));
    lb.pump();
    const ch: Channel = lb.host.bus.channels[0]!;
    const errors: RpmsgError[] = [];
    lb.host.link.on('error', (e) => errors.push(e as RpmsgError));
    lb.region.setU16(lb.layout.vrings[0].da + 0x2000 + 2, 0x1234); // used.idx far ahead
    lb.host.transport.poll();
    assert.equal(errors[0]?.code, 'ERR_VQ_USED_IDX');
    assert.equal(lb.host.link.up, false);
    assert.deepEqual(log, ['probe rpmsg-client-sample 1024->1024', 'remove rpmsg-client-sample']);
    await rejects(ch.send(enc('x')), 'ENODEV');
  });
});

describe('notifications for waiting senders', () => {
  it('the host re-arms its request to be kicked each time queued senders run dry (event index)', async () => {
    const lb = new Loopback({ manual: true, host: { txBuffers: 2 } });
    const got: string[] = [];
    const r = lb.remote.link.createEndpoint((_o, d) => got.push(dec(d)), { addr: 3000 });
    lb.pump();
    const e = lb.host.link.createEndpoint(() => {}, { dst: r.addr });
    const sends = Array.from({ length: 8 }, (_, i) => e.send(enc(`m${i}`)));
    for (let round = 1; round <= 3; round++) {
      const before = lb.host.kicks;
      lb.remote.transport.poll(); // consumes two, gives the buffers back
      assert.equal(lb.host.kicks, before + 1, `round ${round}: the remote kicked the waiting host`);
      lb.host.transport.poll(); // reclaims, sends the next two queued messages
    }
    lb.pump();
    await Promise.all(sends);
    assert.deepEqual(got, ['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7']);
  });
});
