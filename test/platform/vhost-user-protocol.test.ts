/**
 * The vhost-user back-end against a front-end written here (exact bytes, memfd guest memory,
 * the driver side of the rings): a full start-up that ends in the name-service announcement,
 * and malformed input of every class, each closing only its own connection.
 */
import assert from 'node:assert/strict';
import { closeSync, ftruncateSync, mkdtempSync, openSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { loadNative, type NativeAddon } from '../../src/native/addon.js';
import { startVhostUserRemote, type VhostUserRemoteServer } from '../../src/index.js';
import { FrontEnd, GUEST, Guest, NEED_REPLY, REQ, RING, memTablePayload, u32, u64, vringAddrPayload } from './vhost-front-end.js';

let n: NativeAddon;
let dir = '';
let socket = '';
let server: VhostUserRemoteServer;
const fdCount = (): number => readdirSync('/proc/self/fd').length;

before(async () => {
  n = loadNative();
  dir = mkdtempSync(join(tmpdir(), 'rpmsg-vhost-proto-'));
  socket = join(dir, 'backend.sock');
  server = await startVhostUserRemote({
    socketPath: socket,
    setup: (ctx) => {
      ctx.createEndpoint(() => {}, { name: 'vhost-proto-test' });
    },
  });
});
after(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

const nextDetach = (): Promise<Error | undefined> => new Promise((r) => server.once('detached', (e) => r(e)));

/** A valid start-up to the announcement: what "still serving" means. */
async function fullStartUp(): Promise<void> {
  const guest = new Guest(n);
  const fe = new FrontEnd(n, socket);
  try {
    await guest.handshake(fe);
    guest.postRx(8);
    const deadline = Date.now() + 10_000;
    let id = -1;
    while ((id = guest.vq[0].getUsed()) < 0) {
      assert.ok(Date.now() < deadline, 'no announcement on vring 0');
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.ok(n.eventfdRead(guest.call[0]) >= 1, 'the back-end signalled the call fd');
    const off = 0x10000 + 512 * id;
    const msg = guest.region.view(off, 16 + 40);
    const dv = new DataView(msg.buffer, msg.byteOffset, msg.byteLength);
    assert.equal(dv.getUint32(4, true), 53, 'to the name service');
    assert.equal(dv.getUint16(12, true), 40, 'struct rpmsg_ns_msg');
    assert.equal(new TextDecoder().decode(msg.subarray(16, 16 + 16)), 'vhost-proto-test');
    const gone = nextDetach();
    fe.close();
    assert.equal(await gone, undefined, 'a clean hang-up');
  } finally {
    guest.close();
  }
}

test('a front-end that follows virtio_uml\'s sequence gets acks, then the announcement on vring 0', async () => {
  const fds = fdCount();
  await fullStartUp();
  assert.equal(fdCount(), fds, 'every fd the front-end passed was closed');
});

interface Case {
  name: string;
  code: string;
  /** Sends the bad input (after an optional valid prefix); return false to skip the EOF check. */
  run: (fe: FrontEnd, guest: Guest) => Promise<boolean | void>;
}

const mem = (guest: Guest, fe: FrontEnd): Promise<void> => fe.acked(REQ.SET_MEM_TABLE, memTablePayload([{ ...GUEST, mmapOffset: 0 }]), [guest.memfd]);

const cases: Case[] = [
  {
    name: 'truncated header (8 of 12 bytes, then hang-up)',
    code: 'ERR_VHOST_HEADER',
    run: async (fe) => {
      n.sendFds(fe.fd, u32(REQ.SET_OWNER, 1), []);
      fe.close();
      return false;
    },
  },
  { name: 'version flags 2', code: 'ERR_VHOST_HEADER', run: async (fe) => fe.send(REQ.SET_OWNER, undefined, [], 2) },
  { name: 'payload size above 4 KiB', code: 'ERR_VHOST_HEADER', run: async (fe) => fe.send(REQ.SET_FEATURES, u64(0), [], 1, 0x10000) },
  { name: 'SET_FEATURES with a 4-byte payload', code: 'ERR_VHOST_SIZE', run: async (fe) => fe.send(REQ.SET_FEATURES, u32(0)) },
  { name: 'GET_FEATURES with a payload', code: 'ERR_VHOST_SIZE', run: async (fe) => fe.send(REQ.GET_FEATURES, u64(1)) },
  { name: 'SET_MEM_TABLE with fewer fds than regions', code: 'ERR_VHOST_SIZE', run: async (fe) => fe.send(REQ.SET_MEM_TABLE, memTablePayload([{ ...GUEST, mmapOffset: 0 }])) },
  { name: 'unknown request 99', code: 'ERR_VHOST_REQUEST', run: async (fe) => fe.send(99) },
  { name: 'features never offered', code: 'ERR_VHOST_REQUEST', run: async (fe) => fe.send(REQ.SET_FEATURES, u64(1n << 40n)) },
  {
    name: 'a region larger than its file (would be SIGBUS)',
    code: 'ERR_VHOST_MEM',
    run: async (fe, guest) => fe.send(REQ.SET_MEM_TABLE, memTablePayload([{ ...GUEST, size: GUEST.size * 2, mmapOffset: 0 }]), [guest.memfd]),
  },
  { name: 'nine regions', code: 'ERR_VHOST_MEM', run: async (fe) => fe.send(REQ.SET_MEM_TABLE, u32(9, 0)) },
  {
    name: 'vring address outside the memory table',
    code: 'ERR_VHOST_MEM',
    run: async (fe, guest) => {
      await mem(guest, fe);
      await fe.acked(REQ.SET_VRING_NUM, u32(0, 256));
      fe.send(REQ.SET_VRING_ADDR, vringAddrPayload(0, GUEST.size - 0x1000), [], 1 | NEED_REPLY);
    },
  },
  {
    name: 'vring address in an unmapped hole below the region',
    code: 'ERR_VHOST_MEM',
    run: async (fe, guest) => {
      await mem(guest, fe);
      await fe.acked(REQ.SET_VRING_NUM, u32(0, 256));
      fe.send(REQ.SET_VRING_ADDR, vringAddrPayload(0, RING[0], GUEST.userAddr - 0x10_0000));
    },
  },
  { name: 'vring size 0', code: 'ERR_VHOST_VRING', run: async (fe) => fe.send(REQ.SET_VRING_NUM, u32(0, 0)) },
  { name: 'vring size 100 (not a power of two)', code: 'ERR_VHOST_VRING', run: async (fe) => fe.send(REQ.SET_VRING_NUM, u32(1, 100)) },
  { name: 'vring size 65536', code: 'ERR_VHOST_VRING', run: async (fe) => fe.send(REQ.SET_VRING_NUM, u32(0, 65536)) },
  { name: 'vring index 2', code: 'ERR_VHOST_VRING', run: async (fe) => fe.send(REQ.SET_VRING_NUM, u32(2, 256)) },
  { name: 'vring enabled before it is set up', code: 'ERR_VHOST_STATE', run: async (fe) => fe.send(REQ.SET_VRING_ENABLE, u32(0, 1)) },
  {
    name: 'a descriptor outside the guest memory (virtqueue violation)',
    code: 'ERR_VQ_DESC_ADDR',
    run: async (fe, guest) => {
      await guest.handshake(fe);
      guest.postRx(1, () => GUEST.guestAddr + GUEST.size + 0x1000);
    },
  },
];

for (const c of cases) {
  test(`malformed: ${c.name} → ${c.code}, connection closed, process serving`, async () => {
    const fds = fdCount();
    const guest = new Guest(n);
    const fe = new FrontEnd(n, socket);
    const gone = nextDetach();
    const checkEof = (await c.run(fe, guest)) !== false;
    const error = await gone;
    assert.equal((error as { code?: string } | undefined)?.code, c.code, String(error));
    if (checkEof) {
      assert.equal(await fe.closedByPeer(), true, 'the back-end closed the connection');
      fe.close();
    }
    guest.close();
    assert.equal(fdCount(), fds, 'no fd left behind');
    await fullStartUp();
  });
}

test('a live socket is refused, a stale one taken over, a non-socket file left alone', async () => {
  await assert.rejects(startVhostUserRemote({ socketPath: socket, setup: () => {} }), { code: 'EADDRINUSE' });
  const stalePath = join(dir, 'stale.sock');
  const lfd = n.listenUnix(stalePath, 1);
  n.close(lfd); // the file stays, nobody listens
  const s2 = await startVhostUserRemote({ socketPath: stalePath, setup: () => {} });
  await s2.close();
  const file = join(dir, 'file');
  writeFileSync(file, 'x');
  await assert.rejects(startVhostUserRemote({ socketPath: file, setup: () => {} }), { code: 'EADDRINUSE' });
});

test('guest memory in a memfd is sealed against shrinking: the front-end can no longer raise SIGBUS here', async () => {
  const guest = new Guest(n);
  const fe = new FrontEnd(n, socket);
  try {
    await guest.handshake(fe);
    const [conn] = [...server.connections];
    assert.equal(conn?.device.memorySealed, true);
    assert.throws(() => ftruncateSync(guest.memfd, 0), { code: 'EPERM' });
  } finally {
    const gone = nextDetach();
    fe.close();
    await gone;
    guest.close();
  }
});

test('requireSealedMemory: memory the front-end could shrink closes the connection, a memfd is served', async () => {
  const path = join(dir, 'sealed.sock');
  const strict = await startVhostUserRemote({ socketPath: path, requireSealedMemory: true, setup: () => {} });
  try {
    const file = join(dir, 'plain-guest-memory');
    writeFileSync(file, Buffer.alloc(GUEST.size));
    const fd = openSync(file, 'r+');
    const fe = new FrontEnd(n, path);
    const gone = new Promise<Error | undefined>((r) => strict.once('detached', (e) => r(e)));
    fe.send(REQ.SET_OWNER);
    fe.send(REQ.SET_MEM_TABLE, memTablePayload([{ ...GUEST, mmapOffset: 0 }]), [fd]);
    const error = await gone;
    closeSync(fd);
    assert.equal((error as { code?: string } | undefined)?.code, 'ERR_VHOST_MEM', String(error));
    assert.match(String(error), /requireSealedMemory/);
    assert.equal(await fe.closedByPeer(), true);
    fe.close();
    const guest = new Guest(n);
    const ok = new FrontEnd(n, path);
    try {
      await guest.handshake(ok); // every request acked: the memfd was accepted
      assert.equal([...strict.connections][0]?.device.memorySealed, true);
    } finally {
      ok.close();
      guest.close();
    }
  } finally {
    await strict.close();
  }
});

test('at most 8 front-ends at once (the default): the ninth is closed at accept and counted, a later one is served', async () => {
  const until = async (ok: () => boolean): Promise<void> => {
    const deadline = Date.now() + 10_000;
    while (!ok()) {
      assert.ok(Date.now() < deadline, `connections ${server.connections.size}, refused ${server.stats.refused}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  const refused0 = server.stats.refused;
  const open = Array.from({ length: 8 }, () => new FrontEnd(n, socket));
  try {
    await until(() => server.connections.size === 8);
    const ninth = new FrontEnd(n, socket);
    assert.equal(await ninth.closedByPeer(), true, 'the ninth connection was closed');
    ninth.close();
    assert.equal(server.stats.refused, refused0 + 1);
    assert.equal(server.connections.size, 8);
    const gone = nextDetach();
    open.pop()!.close();
    await gone;
    open.push(new FrontEnd(n, socket));
    await until(() => server.connections.size === 8);
    assert.equal(server.stats.refused, refused0 + 1, 'served, not refused');
  } finally {
    for (const fe of open) fe.close();
    await until(() => server.connections.size === 0);
  }
});
