/**
 * Issue 9 on real platforms: a remote that corrupts the host's rx ring takes the link down at
 * once (the violation is the cause), and reset() brings the channel back without restarting
 * either side.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { RpmsgBus, RpmsgError, spawnProcessRemote, startWorkerRemote, type Channel } from '../../src/index.js';
import { repoRoot, until } from '../helpers.js';

const SVC = 'rpmsg-openamp-demo-channel';
const firmware = join(repoRoot(), 'dist', 'test', 'fixtures', 'hostile-firmware.js');
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

function echoBus() {
  const bus = new RpmsgBus();
  const got: string[] = [];
  bus.registerDriver({ name: 'echo', idTable: [SVC], probe: () => {}, callback: (_c, d) => void got.push(new TextDecoder().decode(d.slice())) });
  return { bus, got };
}

function causeCode(e: unknown): string | undefined {
  for (let c: unknown = e; c instanceof Error; c = c.cause) if (c instanceof RpmsgError && c.code.startsWith('ERR_VQ')) return c.code;
  return undefined;
}

const CLASSES: Array<[string, string]> = [
  ['used-id', 'ERR_VQ_DESC_ID'],
  ['idx-ahead', 'ERR_VQ_USED_IDX'],
  ['idx-back', 'ERR_VQ_USED_IDX'],
];

async function attackAndReset(
  bus: RpmsgBus,
  got: string[],
  host: { on(ev: 'down', f: (e: RpmsgError) => void): unknown; reset(): Promise<void> },
  cls: string,
): Promise<{ ms: number; code: string | undefined }> {
  await until(() => bus.channels.length === 1);
  const ch: Channel = bus.channels[0]!;
  const down = new Promise<RpmsgError>((r) => host.on('down', r));
  const t0 = performance.now();
  await ch.send(enc(`corrupt:${cls}`));
  const err = await down;
  const ms = performance.now() - t0 - 5; // the firmware waits 5 ms before it writes
  assert.equal(bus.channels.length, 0, 'channels removed');
  await assert.rejects(ch.send(enc('x')), (e: unknown) => e instanceof RpmsgError && e.code === 'ENODEV');
  await host.reset();
  await until(() => bus.channels.length === 1);
  got.length = 0;
  await bus.channels[0]!.send(enc('again'));
  await until(() => got.includes('again'));
  return { ms, code: causeCode(err) };
}

describe('violations on the host rx ring, then reset', () => {
  it('worker remote: each class is reported at once and traffic resumes after reset()', async () => {
    const { bus, got } = echoBus();
    const rp = await startWorkerRemote(bus, { firmware, log: () => {} });
    rp.on('error', () => {});
    try {
      for (const [cls, code] of CLASSES) {
        const r = await attackAndReset(bus, got, rp, cls);
        console.log(`worker ${cls}: ${code} reported in ${r.ms.toFixed(1)} ms, traffic resumed after reset`);
        assert.equal(r.code, code);
        assert.ok(r.ms < 1000, `reported in ${r.ms} ms`);
      }
    } finally {
      await rp.close();
    }
  });

  it('process remote: each class is reported at once and traffic resumes after reset()', async () => {
    const { bus, got } = echoBus();
    const { child, remote } = await spawnProcessRemote(bus, { firmware, stdout: 'ignore' });
    remote.on('error', () => {});
    try {
      for (const [cls, code] of CLASSES) {
        const r = await attackAndReset(bus, got, remote, cls);
        console.log(`process ${cls}: ${code} reported in ${r.ms.toFixed(1)} ms, traffic resumed after reset`);
        assert.equal(r.code, code);
        assert.ok(r.ms < 1000, `reported in ${r.ms} ms`);
      }
    } finally {
      remote.close();
      await once(child, 'exit');
    }
  });
});
