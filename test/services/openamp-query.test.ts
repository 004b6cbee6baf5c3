/**
 * What OpenAMP's echo remote sees when it asks for its tx buffer size. rpmsg-echo.c logs
 * `rpmsg_get_tx_buffer_size()` right after `rpmsg_create_ept()` returned (its NS CREATE has
 * taken the host's first rx buffer); on the remote that is `virtqueue_get_desc_size(svq) − 16`
 * (lib/rpmsg/rpmsg_virtio.c), and `virtqueue_get_desc_size` gives 0 when the remote has used
 * every buffer the host published (`vq_available_idx == avail->idx`), else the length of the
 * next descriptor; a size ≤ 0 is RPMSG_ERR_NO_BUFF (−2002 = 0xfffff82e). With OpenAMP's host
 * it is 512 − 16 = 0x1f0. This test freezes this project's host and remote (two ends of the
 * process platform, OpenAMP's layout, no spinning) at that very moment — like image 03 — and
 * compares the whole file with image 03, then evaluates OpenAMP's formula on it.
 */
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { after, it } from 'node:test';
import { ProcessRemoteServer, RpmsgBus, attachProcessRemote } from '../../src/index.js';
import { firstDiff, openampImage } from '../helpers.js';

const shm = `/dev/shm/rpmsg-query-${process.pid}.shm`;
const sock = `/tmp/rpmsg-query-${process.pid}.sock`;
after(() => {
  rmSync(shm, { force: true });
  rmSync(sock, { force: true });
});

/** rpmsg_virtio_get_tx_buffer_size on the remote, from the bytes (vring[0] at 0x4000, 256 entries). */
function openampTxBufferSize(file: Uint8Array, consumed: number): number {
  const dv = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const availIdx = dv.getUint16(0x5002, true);
  let len = 0;
  if (availIdx !== (consumed & 0xffff)) {
    const head = dv.getUint16(0x5004 + 2 * (consumed % 256), true);
    len = dv.getUint32(0x4000 + 16 * head + 8, true);
  }
  const size = len - 16;
  return (size <= 0 ? -2002 : size) >>> 0;
}

it("at the echo remote's tx-size query, the file is image 03 byte for byte: size 0x1f0", async () => {
  let snapshot: Uint8Array | undefined;
  const server = await ProcessRemoteServer.start({
    shmPath: shm,
    socketPath: sock,
    once: true,
    poll: { spinWindowMs: 0 },
    log: () => {},
    setup: async (ctx) => {
      ctx.createEndpoint(() => {}, { name: 'rpmsg-openamp-demo-channel' });
      // The send is published at the end of this synchronous run (a promise reaction); a few
      // microtask turns later rpmsg_create_ept "has returned", and the host, which needs an
      // I/O turn for the kick, has not run yet: copy the file now.
      for (let i = 0; i < 4; i++) await Promise.resolve();
      snapshot = new Uint8Array(readFileSync(shm));
    },
  });
  const remote = await attachProcessRemote(new RpmsgBus(), { shmPath: shm, socketPath: sock, poll: { spinWindowMs: 0 } });
  const closed = new Promise<void>((r) => server.once('close', () => r()));
  for (let i = 0; i < 500 && snapshot === undefined; i++) await new Promise((r) => setTimeout(r, 2));
  remote.close();
  await closed;
  assert.ok(snapshot !== undefined);
  assert.equal(firstDiff(snapshot, new Uint8Array(openampImage('03_remote_ns_announced.bin'))), -1);
  assert.equal(openampTxBufferSize(snapshot, 1), 0x1f0);
  // The formula itself, on the states that give RPMSG_ERR_NO_BUFF: nothing left, or a bad length.
  assert.equal(openampTxBufferSize(snapshot, 256), 0xfffff82e);
  const zeroLen = snapshot.slice();
  new DataView(zeroLen.buffer).setUint32(0x4000 + 16 * 1 + 8, 16, true);
  assert.equal(openampTxBufferSize(zeroLen, 1), 0xfffff82e);
});
