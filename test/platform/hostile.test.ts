/**
 * Issue 9, beyond the host's rx ring (recovery.test.ts): a corrupt host tx ring reported while
 * the host sends nothing; a violation the remote sees on its rx ring reported on both sides;
 * autoReset's backoff and its give-up; the liveness watchdog; `rpmsg host` and `rpmsg remote`
 * printing the violation and exiting non-zero.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { RpmsgBus, RpmsgError, attachProcessRemote, startWorkerRemote, type Channel, type Region } from '../../src/index.js';
import { AtomicsDoorbell, CTRL_WORDS } from '../../src/platform/atomics-doorbell.js';
import { vringLayout } from '../../src/virtio/vring-layout.js';
import { firmwarePath, repoRoot, until } from '../helpers.js';

const SVC = 'rpmsg-openamp-demo-channel';
const hostile = join(repoRoot(), 'dist', 'test', 'fixtures', 'hostile-firmware.js');
const slowSink = join(repoRoot(), 'dist', 'test', 'fixtures', 'slow-sink-firmware.js');
const cli = join(repoRoot(), 'bin', 'rpmsg.js');
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

function echoBus(service = SVC) {
  const bus = new RpmsgBus();
  const got: string[] = [];
  bus.registerDriver({ name: 'rx', idTable: [service], probe: () => {}, callback: (_c, d) => void got.push(new TextDecoder().decode(d.slice())) });
  return { bus, got };
}

/** The codes along an error's cause chain. */
function codes(e: unknown): string[] {
  const out: string[] = [];
  for (let c: unknown = e; c instanceof Error; c = c.cause) if (typeof (c as RpmsgError).code === 'string') out.push((c as RpmsgError).code);
  return out;
}

/** The violation along a cause chain (code and queue). */
function violation(e: unknown): { code: string; queue: string } | undefined {
  for (let c: unknown = e; c instanceof Error; c = c.cause) {
    const q = (c as { queue?: unknown }).queue;
    if (typeof q === 'string') return { code: (c as RpmsgError).code, queue: q };
  }
  return undefined;
}

/**
 * Scribble on vring[1]'s descriptors (the host's tx ring, which the remote reads): flags NEXT
 * and length 0 in every one. The host re-posts a descriptor without rewriting fields its
 * shadow says hold the value already, so the next send carries the garbage to the remote.
 */
function corruptTxDescriptors(region: Region, vring1: number, num = 256): void {
  const l = vringLayout(num, 0x1000);
  for (let id = 0; id < num; id++) {
    region.setU32(vring1 + l.desc + 16 * id + 8, 0);
    region.setU16(vring1 + l.desc + 16 * id + 12, 1);
  }
}

describe('the host tx ring, corrupted while the host sends nothing', () => {
  for (const [cls, expect] of [
    ['tx-idx-ahead', ['ERR_VQ_USED_IDX']],
    ['tx-used-id', ['ERR_VQ_USED_IDX', 'ERR_VQ_DESC_ID']], // in flight 0: the index check fires first
  ] as const) {
    it(`${cls}: reported when the remote kicks, without another send`, async () => {
      const { bus } = echoBus();
      const rp = await startWorkerRemote(bus, { firmware: hostile, log: () => {} });
      rp.on('error', () => {});
      try {
        await until(() => bus.channels.length === 1);
        const ch: Channel = bus.channels[0]!;
        const down = new Promise<RpmsgError>((r) => rp.once('down', r));
        await ch.send(enc(`corrupt:${cls}`));
        const t0 = performance.now();
        const err = await Promise.race([down, new Promise<undefined>((r) => setTimeout(() => r(undefined), 5000))]);
        assert.ok(err !== undefined, 'no report within 5 s of the corruption (nothing was sent after it)');
        const v = violation(err);
        assert.ok(v !== undefined && (expect as readonly string[]).includes(v.code), `got ${codes(err).join(' <- ')}`);
        assert.match(v.queue, /host-tx$/);
        assert.ok(performance.now() - t0 < 2000);
        assert.equal(bus.channels.length, 0);
        await rp.reset();
        await until(() => bus.channels.length === 1);
      } finally {
        await rp.close();
      }
    });
  }
});

describe("a violation on the remote's rx ring", () => {
  it('worker: the remote reports it at once (its log), the host sees EPROTO, reset() recovers', async () => {
    const { bus, got } = echoBus();
    const lines: string[] = [];
    const rp = await startWorkerRemote(bus, { firmware: firmwarePath('echo'), log: (l) => lines.push(l) });
    rp.on('error', () => {});
    try {
      await until(() => bus.channels.length === 1);
      await bus.channels[0]!.send(enc('one'));
      await until(() => got.includes('one'));
      // Host as the attacker: avail.idx of vring[1] 300 ahead, then a kick on the doorbell.
      const region = rp.region!;
      const v1 = rp.layout!.vrings[1];
      region.storeU16(v1.da + vringLayout(v1.num, v1.align).availIdx, (region.loadU16(v1.da + vringLayout(v1.num, v1.align).availIdx) + 300) & 0xffff);
      const down = new Promise<RpmsgError>((r) => rp.once('down', r));
      new AtomicsDoorbell(new Int32Array(region.buffer as SharedArrayBuffer, rp.layout!.control!, CTRL_WORDS), 'host').kick();
      const err = await Promise.race([down, new Promise<undefined>((r) => setTimeout(() => r(undefined), 5000))]);
      assert.ok(err !== undefined, 'the host saw nothing within 5 s');
      assert.ok(codes(err).includes('EPROTO'), codes(err).join(' <- '));
      await until(() => lines.some((l) => /link down: .*ERR_VQ_AVAIL_IDX/.test(l)), 5000);
      await rp.reset();
      await until(() => bus.channels.length === 1);
      await bus.channels[0]!.send(enc('two'));
      await until(() => got.includes('two'));
    } finally {
      await rp.close();
    }
  });
});

describe('autoReset', () => {
  it('resets after backoffMs, doubling, and gives up after maxResets in a row', async () => {
    const { bus } = echoBus();
    const backoffMs = 300;
    const rp = await startWorkerRemote(bus, { firmware: hostile, log: () => {}, autoReset: { maxResets: 2, backoffMs, stableMs: 60_000 } });
    const errors: Error[] = [];
    rp.on('error', (e) => errors.push(e));
    const events: Array<{ ev: 'up' | 'down'; at: number }> = [];
    rp.on('up', () => events.push({ ev: 'up', at: performance.now() }));
    rp.on('down', () => events.push({ ev: 'down', at: performance.now() }));
    try {
      for (let round = 0; round < 3; round++) {
        await until(() => bus.channels.length === 1);
        const downs = events.filter((e) => e.ev === 'down').length;
        await bus.channels[0]!.send(enc('corrupt:idx-ahead'));
        await until(() => events.filter((e) => e.ev === 'down').length > downs);
        if (round < 2) await until(() => events.at(-1)!.ev === 'up');
      }
      await until(() => errors.length > 0, 5000);
      await new Promise((r) => setTimeout(r, 3 * backoffMs)); // no third reset comes
      assert.deepEqual(
        events.map((e) => e.ev),
        ['down', 'up', 'down', 'up', 'down'],
      );
      const gap1 = events[1]!.at - events[0]!.at;
      const gap2 = events[3]!.at - events[2]!.at;
      assert.ok(gap1 >= backoffMs - 10, `first reset after ${gap1} ms`);
      assert.ok(gap2 >= 2 * backoffMs - 10, `second reset after ${gap2} ms (doubled backoff)`);
      assert.equal(errors.length, 1);
      assert.match(errors[0]!.message, /gave up after 2 resets/);
      assert.ok(codes(errors[0]).includes('ERR_VQ_USED_IDX'), 'the last violation is the cause');
      assert.equal(bus.channels.length, 0);
    } finally {
      await rp.close();
    }
  });
});

describe('the liveness watchdog', () => {
  it('declares a remote that consumes nothing dead (ETIMEDOUT), long before the 15 s send timeout', async () => {
    const { bus } = echoBus('slow-sink');
    const timeoutMs = 400;
    // slow-sink holds every rx buffer and gives one back every 1000 s: alive, consuming nothing.
    const rp = await startWorkerRemote(bus, { firmware: slowSink, options: { intervalMs: 1_000_000 }, log: () => {}, watchdog: { timeoutMs } });
    rp.on('error', () => {});
    try {
      await until(() => bus.channels.length === 1);
      const ch = bus.channels[0]!;
      let n = 0;
      for (;;) {
        try {
          ch.trySend(enc(`m${n}`));
          n++;
        } catch {
          break;
        }
      }
      assert.ok(n > 0);
      const down = new Promise<RpmsgError>((r) => rp.once('down', r));
      const t0 = performance.now();
      const blocked = ch.send(enc('blocked')).then(
        () => undefined,
        (e: unknown) => e,
      );
      const err = await down;
      const ms = performance.now() - t0;
      assert.ok(codes(err).includes('ETIMEDOUT'), codes(err).join(' <- '));
      assert.match(messages(err), /watchdog/);
      assert.ok(ms >= timeoutMs - 150, `declared dead after ${ms} ms`);
      assert.ok(ms < 10_000, `declared dead after ${ms} ms`);
      const sendErr = await blocked;
      assert.ok(sendErr instanceof RpmsgError && codes(sendErr).includes('ETIMEDOUT'), `the blocked send got ${codes(sendErr).join(' <- ')}`);
      // The remote is alive: a reset brings the channel back.
      await rp.reset();
      await until(() => bus.channels.length === 1);
    } finally {
      await rp.destroy();
    }
  });
});

function messages(e: unknown): string {
  const parts: string[] = [];
  for (let c: unknown = e; c instanceof Error; c = c.cause) parts.push(c.message);
  return parts.join(' <- ');
}

describe('the CLI prints the violation and exits non-zero', () => {
  it('rpmsg host: the remote corrupts its rx ring after the first echo', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'rpmsg-hostile-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const fw = join(dir, 'corrupt.mjs');
    // Echo the first message, then used.idx of vring[0] (the host's rx ring) 300 ahead, and kick.
    writeFileSync(
      fw,
      `export default (ctx) => {
  let n = 0;
  ctx.createEndpoint((ep, data, src) => {
    if (n++ === 0) { ep.trySendTo(data, src); return; }
    const used = 0x4000 + 0x2000;
    ctx.region.storeU16(used + 2, (ctx.region.loadU16(used + 2) + 300) & 0xffff);
    ctx.notify();
  }, { name: 'rpmsg-openamp-demo-channel' });
};
`,
    );
    const paths = ['--shm', join(dir, 'shm'), '--socket', join(dir, 'sock')];
    const remote = spawn(process.execPath, [cli, 'remote', '--once', '--firmware', fw, ...paths], { stdio: ['ignore', 'pipe', 'pipe'] });
    t.after(() => remote.kill('SIGKILL'));
    let out = '';
    remote.stdout.on('data', (d: Buffer) => (out += d.toString()));
    await until(() => out.includes('serving'), 30_000);
    const t0 = Date.now();
    const host = spawnSync(process.execPath, [cli, 'host', ...paths, '--timeout', '30000'], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(host.status, 1, host.stderr);
    assert.match(host.stderr, /ERR_VQ_USED_IDX/);
    assert.doesNotMatch(host.stderr, /timed out/);
    assert.ok(Date.now() - t0 < 25_000, 'ended by the violation, not by the 30 s timeout');
  });

  it('rpmsg remote: the host corrupts the descriptors of its tx ring (the remote rx ring)', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'rpmsg-hostile-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const shmPath = join(dir, 'shm');
    const socketPath = join(dir, 'sock');
    const remote = spawn(process.execPath, [cli, 'remote', '--once', '--shm', shmPath, '--socket', socketPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    t.after(() => remote.kill('SIGKILL'));
    let out = '';
    let err = '';
    remote.stdout.on('data', (d: Buffer) => (out += d.toString()));
    remote.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exit = new Promise<number | null>((r) => remote.once('close', r));
    await until(() => out.includes('serving'), 30_000);
    const { bus, got } = echoBus();
    const link = await attachProcessRemote(bus, { shmPath, socketPath });
    link.on('error', () => {});
    await until(() => bus.channels.length === 1);
    await bus.channels[0]!.send(enc('one'));
    await until(() => got.includes('one'));
    corruptTxDescriptors(link.region, 0x8000);
    await bus.channels[0]!.send(enc('two'));
    // What this test asserts is the remote CLI's side: it prints the violation and exits 1.
    // (The host usually sees the remote's DEVICE_NEEDS_RESET as EPROTO at once, but about one
    // run in five on Node 24 it did not within 15 s: an open bug, see the closing note.)
    await until(() => /rpmsg remote: .*ERR_VQ_DESC_(CHAIN|LEN)/.test(err), 15_000);
    link.close();
    assert.equal(await exit, 1, err);
  });
});
