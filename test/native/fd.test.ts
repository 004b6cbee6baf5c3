import assert from 'node:assert/strict';
import { closeSync, ftruncateSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { FD_READABLE, loadNative, type NativeAddon } from '../../src/native/addon.js';

const fdCount = (): number => readdirSync('/proc/self/fd').length;

function native(t: { skip: (why: string) => void }): NativeAddon | undefined {
  try {
    return loadNative();
  } catch (e) {
    t.skip(`native addon not built: ${(e as Error).message}`);
    return undefined;
  }
}

/** Resolves on the next readable event of `fd`, then stops watching. */
function readable(n: NativeAddon, fd: number): Promise<number> {
  return new Promise((resolve) => {
    const w = n.watch(fd, FD_READABLE, (status, events) => {
      n.unwatch(w);
      resolve(status < 0 ? status : events);
    });
  });
}

test('a memfd passed over a socketpair maps to the same bytes on both ends', async (t) => {
  const n = native(t);
  if (!n) return;
  const before = fdCount();
  const [a, b] = n.socketpair();
  const mem = n.memfd('fd-test', 65536);
  const mine = new Uint8Array(n.mmapFd(mem, 65536, 0));
  mine.set([1, 2, 3, 4], 4096);

  assert.equal(n.recvFds(b, new Uint8Array(16), 4), null, 'nothing to receive yet: would block, not block');
  const header = new Uint8Array([0xaa, 0xbb, 0xcc]);
  assert.equal(n.sendFds(a, header, [mem]), 3);
  assert.equal(await readable(n, b), FD_READABLE);
  const buf = new Uint8Array(16);
  const got = n.recvFds(b, buf, 4);
  assert.ok(got);
  assert.equal(got.bytes, 3);
  assert.deepEqual([...buf.subarray(0, 3)], [0xaa, 0xbb, 0xcc]);
  assert.equal(got.fds.length, 1);
  assert.equal(got.droppedFds, 0);
  const passed = got.fds[0]!;
  assert.notEqual(passed, mem, 'a new descriptor for the same file');

  // An offset that is not page-aligned (vhost-user's mmap_offset need not be).
  const theirs = new Uint8Array(n.mmapFd(passed, 8192, 4094));
  n.close(passed);
  assert.deepEqual([...theirs.subarray(2, 6)], [1, 2, 3, 4]);
  theirs[7] = 99;
  assert.equal(mine[4096 + 5], 99, 'writes through the passed fd are shared');

  n.close(mem);
  n.close(a);
  assert.equal(n.read(b, buf), 0, 'peer closed: end of file');
  assert.equal(n.recvFds(b, buf, 4)?.bytes, 0);
  n.close(b);
  assert.equal(fdCount(), before, 'no fd leaked');
});

test('fds beyond maxFds are closed and counted, never leaked', (t) => {
  const n = native(t);
  if (!n) return;
  const before = fdCount();
  const [a, b] = n.socketpair();
  const e1 = n.eventfd(0);
  const e2 = n.eventfd(0);
  const e3 = n.eventfd(0);
  assert.equal(n.sendFds(a, new Uint8Array([7]), [e1, e2, e3]), 1);
  const got = n.recvFds(b, new Uint8Array(4), 1);
  assert.ok(got);
  assert.equal(got.fds.length, 1);
  assert.equal(got.droppedFds, 2);
  for (const fd of [...got.fds, e1, e2, e3, a, b]) n.close(fd);
  assert.equal(fdCount(), before);
});

test('eventfd round trip: counter adds up, reads reset it, readiness wakes a watcher', async (t) => {
  const n = native(t);
  if (!n) return;
  const e = n.eventfd(0);
  assert.equal(n.eventfdRead(e), 0, 'not signalled: 0, no block');
  const woke = readable(n, e);
  assert.equal(n.eventfdWrite(e, 3), true);
  assert.equal(n.eventfdWrite(e, 4), true);
  assert.equal(await woke, FD_READABLE);
  assert.equal(n.eventfdRead(e), 7);
  assert.equal(n.eventfdRead(e), 0);
  // 0 is not a valid increment (it would not signal).
  assert.throws(() => n.eventfdWrite(e, 0), { code: 'EINVAL' });
  n.close(e);
  assert.throws(() => n.eventfdRead(e), { code: 'EBADF' });
});

test('mmapFd refuses a range beyond the end of the file (that would be SIGBUS)', (t) => {
  const n = native(t);
  if (!n) return;
  const mem = n.memfd('short', 4096);
  assert.throws(() => n.mmapFd(mem, 8192, 0), { code: 'EINVAL' });
  assert.throws(() => n.mmapFd(mem, 4096, 1), { code: 'EINVAL' });
  assert.throws(() => n.mmapFd(mem, 0, 0), { code: 'EINVAL' });
  assert.equal(n.mmapFd(mem, 4096, 0).byteLength, 4096);
  n.close(mem);
});

test('sealShrink: a memfd can no longer shrink (it may still grow); a plain file cannot be sealed', (t) => {
  const n = native(t);
  if (!n) return;
  const mem = n.memfd('seal', 8192);
  ftruncateSync(mem, 4096); // shrinking works before the seal
  assert.equal(n.sealShrink(mem), true);
  assert.throws(() => ftruncateSync(mem, 0), { code: 'EPERM' });
  ftruncateSync(mem, 16384); // growing is not sealed
  assert.equal(n.sealShrink(mem), true, 'idempotent');
  n.close(mem);
  const dir = mkdtempSync(join(tmpdir(), 'rpmsg-seal-'));
  const file = join(dir, 'plain');
  writeFileSync(file, Buffer.alloc(4096));
  const fd = openSync(file, 'r+');
  assert.equal(n.sealShrink(fd), false);
  ftruncateSync(fd, 0); // still shrinkable: this is what requireSealedMemory refuses
  closeSync(fd);
  rmSync(dir, { recursive: true, force: true });
  assert.throws(() => n.sealShrink(-1), { code: 'EINVAL' });
});

test('listen, connect and accept on a UNIX socket path; watch fires on each message', async (t) => {
  const n = native(t);
  if (!n) return;
  const dir = mkdtempSync(join(tmpdir(), 'rpmsg-fd-'));
  const path = join(dir, 'sock');
  const before = fdCount();
  const lfd = n.listenUnix(path, 4);
  assert.throws(() => n.listenUnix(path, 4), { code: 'EADDRINUSE' });
  assert.equal(n.acceptUnix(lfd), -1, 'none pending');
  const client = n.connectUnix(path);
  assert.equal(await readable(n, lfd), FD_READABLE);
  const server = n.acceptUnix(lfd);
  assert.ok(server >= 0);

  const seen: number[] = [];
  let done!: () => void;
  const all = new Promise<void>((r) => (done = r));
  const buf = new Uint8Array(64);
  const w = n.watch(server, FD_READABLE, () => {
    for (;;) {
      const k = n.read(server, buf);
      if (k <= 0) break;
      for (let i = 0; i < k; i++) seen.push(buf[i]!);
    }
    if (seen.length >= 10) done();
  });
  for (let i = 0; i < 10; i++) {
    assert.equal(n.write(client, new Uint8Array([i])), 1);
    await new Promise((r) => setImmediate(r));
  }
  await all;
  n.unwatch(w);
  n.unwatch(w);
  assert.deepEqual(seen, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.throws(() => n.connectUnix(join(dir, 'none')), { code: 'ENOENT' });
  for (const fd of [client, server, lfd]) n.close(fd);
  assert.equal(fdCount(), before);
  rmSync(dir, { recursive: true });
});

test('an unreferenced watch does not keep the process alive; bad arguments are typed errors', (t) => {
  const n = native(t);
  if (!n) return;
  const e = n.eventfd(0);
  const w = n.watch(e, FD_READABLE, () => {});
  n.watchRef(w, false);
  n.watchRef(w, true);
  n.unwatch(w);
  n.close(e);
  assert.throws(() => n.watch(-1, FD_READABLE, () => {}), { code: 'EINVAL' });
  assert.throws(() => n.read(0, new Uint16Array(2) as unknown as Uint8Array), { code: 'EINVAL' });
  assert.throws(() => n.sendFds(0, new Uint8Array(1), new Array(17).fill(0)), { code: 'EINVAL' });
  assert.throws(() => n.unwatch({} as never), { code: 'EINVAL' });
});

test('munmap unmaps at once and leaves every view empty, never dangling', (t) => {
  const n = native(t);
  if (!n) return;
  const maps = (): number => readFileSync('/proc/self/maps', 'utf8').split('\n').filter((l) => l.includes('memfd:unmap-test')).length;
  const mem = n.memfd('unmap-test', 1 << 20);
  const ab = n.mmapFd(mem, 1 << 20, 0);
  n.close(mem);
  const view = new Uint32Array(ab);
  view[10] = 42;
  assert.equal(maps(), 1);
  n.munmap(ab);
  assert.equal(maps(), 0, 'unmapped without waiting for the garbage collector');
  assert.equal(view.length, 0);
  assert.equal(view[10], undefined);
  view[10] = 1; // ignored, not a fault
  n.munmap(ab);
  assert.throws(() => n.munmap(new ArrayBuffer(8)), { code: 'EINVAL' });
});
