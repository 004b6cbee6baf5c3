/** Watching a process pair's shared-memory file from a third process-side observer, read-only. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Region, RpmsgBus, SERVICES, VIRTIO_CONFIG_S_DRIVER_OK, attachProcessRemote, computeLayout, readRpmsgMemory, vringLayout, writeResourceTable } from '../../src/index.js';
import { ShmTracer } from '../../src/trace/shm-tracer.js';
import type { TraceRecord } from '../../src/trace/record.js';
import { repoRoot, until } from '../helpers.js';

const cli = join(repoRoot(), 'bin', 'rpmsg.js');
const files: string[] = [];
let seq = 0;
function paths(): { shm: string; sock: string } {
  const id = `${process.pid}-s${seq++}`;
  const p = { shm: `/dev/shm/rpmsg-trace-${id}.shm`, sock: `/tmp/rpmsg-trace-${id}.sock` };
  files.push(p.shm, p.sock);
  return p;
}
after(() => {
  for (const f of files) rmSync(f, { force: true });
});

function run(args: string[]): { out: () => string; exit: Promise<number> } {
  const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  return { out: () => out, exit: once(child, 'exit').then(([c]) => c as number) };
}

describe('shared-memory tracer', () => {
  it('sees the announcement and every message of a process pair', async () => {
    const p = paths();
    const remote = run(['remote', '--once', '--service', 'sample', '--count', '20', '--shm', p.shm, '--socket', p.sock]);
    await until(() => remote.out().includes('serving'), 20_000);
    const tracer = new ShmTracer(p.shm);
    const seen: TraceRecord[] = [];
    let stop = false;
    const polling = (async () => {
      while (!stop) {
        seen.push(...tracer.poll());
        await new Promise((r) => setTimeout(r, 1));
      }
      seen.push(...tracer.poll());
    })();
    await until(() => tracer.stats.polls > 3);
    // The host runs here, not as a third process: the pair's memory stays as it is until the
    // tracer has read every message (when the host leaves, the remote zeroes its memory for the
    // next host, and a tracer descheduled on a loaded machine would lose the last messages).
    const bus = new RpmsgBus();
    const host = await attachProcessRemote(bus, { shmPath: p.shm, socketPath: p.sock, connectTimeoutMs: 20_000 });
    const ac = new AbortController();
    const result = await SERVICES.sample.host!({ bus, link: host.link, log: () => {}, signal: ac.signal, count: 20 });
    assert.equal(result.passed, true, result.reason);
    const data = (dir: string): number => seen.filter((r) => r.dir === dir && r.ns === undefined).length;
    await until(() => data('h2r') >= 20 && data('r2h') >= 20 && seen.some((r) => r.ns?.flags === 1), 20_000);
    host.close();
    assert.equal(await remote.exit, 0, remote.out());
    stop = true;
    await polling;
    tracer.close();
    // OpenAMP's sample: both sides announce; the remote destroys its endpoint after the 20th echo.
    const ns = seen.filter((r) => r.ns !== undefined && r.ns.flags === 0);
    assert.deepEqual(ns.map((r) => [r.dir, r.src, r.ns!.name, r.ns!.addr]).sort(), [
      ['h2r', 0x400, 'rpmsg-client-sample', 0x400],
      ['r2h', 0x400, 'rpmsg-client-sample', 0x400],
    ]);
    assert.ok(seen.some((r) => r.dir === 'r2h' && r.ns?.flags === 1));
    const h2r = seen.filter((r) => r.dir === 'h2r' && r.ns === undefined);
    const r2h = seen.filter((r) => r.dir === 'r2h' && r.ns === undefined);
    // 19 × "hello world!" and "goodbye!", each echoed; nothing was missed.
    assert.equal(tracer.stats.missed, 0);
    assert.equal(tracer.stats.invalid, 0);
    assert.equal(h2r.length, 20);
    assert.equal(r2h.length, 20);
    const text = (r: TraceRecord): string => Buffer.from(r.wire.subarray(16)).toString();
    assert.deepEqual(h2r.map(text), [...Array<string>(19).fill('hello world!'), 'goodbye!']);
    assert.deepEqual(r2h.map(text), h2r.map(text));
    assert.ok(seen.every((r) => r.wire.length === 16 + r.len));
  });

  it('counts nonsense from hostile memory instead of trusting it', () => {
    const p = paths();
    const layout = computeLayout();
    const ab = new ArrayBuffer(layout.size);
    const region = new Region(ab);
    writeResourceTable(region, layout);
    writeFileSync(p.shm, new Uint8Array(ab));
    const tracer = new ShmTracer(p.shm);
    assert.deepEqual(tracer.poll(), []); // no host yet: nothing to watch
    assert.equal(tracer.occupancy(), undefined);
    // A "host" sets DRIVER_OK and posts three buffers on vring1: one good, one outside the
    // memory, one with an id past the ring; and one on vring0's used ring with a header len
    // larger than its buffer.
    const mem = readRpmsgMemory(region, layout.rscOffset, layout.rscSize);
    mem.vdev.setStatus(VIRTIO_CONFIG_S_DRIVER_OK);
    const [v0, v1] = mem.vrings;
    const L = vringLayout(v1.num, v1.align);
    const dv = region.dv;
    const buf = layout.pool.offset;
    const desc = (ring: number, id: number, addr: number, len: number): void => {
      dv.setBigUint64(ring + 16 * id, BigInt(addr), true);
      dv.setUint32(ring + 16 * id + 8, len, true);
    };
    desc(v1.offset, 0, buf, 512);
    desc(v1.offset, 1, 0xfffff000, 512);
    dv.setUint32(buf, 0x400, true);
    dv.setUint32(buf + 4, 0x401, true);
    dv.setUint16(buf + 12, 3, true);
    region.u8.set([0x61, 0x62, 0x63], buf + 16);
    dv.setUint16(v1.offset + L.availRing, 0, true);
    dv.setUint16(v1.offset + L.availRing + 2, 1, true);
    dv.setUint16(v1.offset + L.availRing + 4, 999, true);
    dv.setUint16(v1.offset + L.availIdx, 3, true);
    desc(v0.offset, 7, buf + 512, 512);
    dv.setUint16(buf + 512 + 12, 600, true);
    const L0 = vringLayout(v0.num, v0.align);
    dv.setUint32(v0.offset + L0.usedRing, 7, true);
    dv.setUint32(v0.offset + L0.usedRing + 4, 512, true);
    dv.setUint16(v0.offset + L0.usedIdx, 1, true);
    writeFileSync(p.shm, new Uint8Array(ab));
    const got = tracer.poll();
    assert.deepEqual(got.map((r) => [r.dir, r.src, r.dst, r.len]), [['h2r', 0x400, 0x401, 3]]);
    assert.equal(tracer.stats.invalid, 3);
    assert.deepEqual(tracer.occupancy()!.map((v) => v.inFlight), [0xffff, 3]);
    // The ring reset under a status that still reads DRIVER_OK (a remote zeroing the memory for
    // its next host): a step back is a reset, not 65000 messages missed.
    const resets = tracer.stats.resets;
    dv.setUint16(v1.offset + L.availIdx, 0, true);
    writeFileSync(p.shm, new Uint8Array(ab));
    assert.deepEqual(tracer.poll(), []);
    assert.deepEqual([tracer.stats.missed, tracer.stats.resets], [0, resets + 1]);
    // and what comes after it is seen again
    dv.setUint16(v1.offset + L.availIdx, 1, true);
    writeFileSync(p.shm, new Uint8Array(ab));
    assert.deepEqual(tracer.poll().map((r) => [r.dir, r.src, r.dst, r.len]), [['h2r', 0x400, 0x401, 3]]);
    // A ring index jumping by more than the ring size: the excess is counted as missed.
    dv.setUint16(v1.offset + L.availIdx, 1 + 300, true);
    writeFileSync(p.shm, new Uint8Array(ab));
    tracer.poll();
    assert.equal(tracer.stats.missed, 300 - 256);
    // Garbage where the table was: the tracer stops watching, no exception.
    writeFileSync(p.shm, new Uint8Array(readFileSync(p.shm).length).fill(0xa5));
    assert.deepEqual(tracer.poll(), []);
    tracer.close();
  });
});
