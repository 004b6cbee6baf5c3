/**
 * Every demo service with this project on both sides, both start orders: in one thread
 * (loopback, OpenAMP's resource table), with the remote in a worker thread (its firmware module
 * under samples/firmware/), and as two processes through the CLI (`rpmsg remote` / `rpmsg host`).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  Loopback,
  RpmsgBus,
  SERVICES,
  SERVICE_NAMES,
  VIRTIO_RPMSG_F_NS,
  featureBit,
  resultLine,
  startWorkerRemote,
  type HostTestResult,
  type ServiceName,
} from '../../src/index.js';
import { firmwarePath, repoRoot, until } from '../helpers.js';
import { loopbackContext } from './context.js';

/** Services with a host test (tty's host is the kernel: test/rpmsg-char). */
type Tested = Exclude<ServiceName, 'tty'>;
const TESTED = SERVICE_NAMES.filter((n): n is Tested => n !== 'tty');
/** OpenAMP's counts, except flood (2 packets per size, not 0x100000). */
const COUNT: Record<Tested, number> = { echo: 480, sample: 100, matrix: 200, nocopy: 480, flood: 2 };
const EXPECTED: Record<Tested, number> = { echo: 480, sample: 100, matrix: 200, nocopy: 480, flood: 2 * 480 };

async function runLoopback(name: Tested, order: 'remote first' | 'host first'): Promise<HostTestResult> {
  // OpenAMP's table: only VIRTIO_RPMSG_F_NS offered.
  const lb = new Loopback({ layout: { dfeatures: featureBit(VIRTIO_RPMSG_F_NS) } });
  const svc = SERVICES[name];
  const ctx = loopbackContext(lb, { count: COUNT[name] });
  try {
    if (order === 'remote first') await svc.remote(ctx);
    const test = svc.host({ bus: lb.host.bus, link: lb.host.link, log: () => {}, signal: AbortSignal.timeout(60_000), count: COUNT[name] });
    if (order === 'host first') {
      await new Promise((r) => setTimeout(r, 5)); // the host's announcement is out first
      await svc.remote(ctx);
    }
    return await test;
  } finally {
    lb.close();
  }
}

describe('services paired in one thread (loopback)', () => {
  for (const name of TESTED) {
    for (const order of ['remote first', 'host first'] as const) {
      it(`${name}, ${order}`, async () => {
        const r = await runLoopback(name, order);
        assert.deepEqual(r, { messages: EXPECTED[name], errors: 0, passed: true });
      });
    }
  }
});

describe('services with the remote in a worker thread (samples/firmware)', () => {
  for (const name of TESTED) {
    it(name, async () => {
      const bus = new RpmsgBus();
      const rp = await startWorkerRemote(bus, { firmware: firmwarePath(name), options: { count: COUNT[name] }, log: () => {} });
      try {
        const r = await SERVICES[name].host({ bus, link: rp.link!, log: () => {}, signal: AbortSignal.timeout(60_000), count: COUNT[name] });
        assert.deepEqual(r, { messages: EXPECTED[name], errors: 0, passed: true });
      } finally {
        await rp.close();
      }
    });
  }
});

const cli = join(repoRoot(), 'bin', 'rpmsg.js');
const files: string[] = [];
let seq = 0;
after(() => {
  for (const f of files) rmSync(f, { force: true });
});

function run(args: string[]): { out: () => string; exit: Promise<number> } {
  const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  return { out: () => out, exit: once(child, 'exit').then(([code]) => code as number) };
}

describe('rpmsg remote --service NAME and rpmsg host --service NAME as two processes', () => {
  for (const name of TESTED) {
    for (const order of ['remote first', 'host first'] as const) {
      it(`${name}, ${order}`, async () => {
        const id = `${process.pid}-s${seq++}`;
        const shm = `/dev/shm/rpmsg-svc-${id}.shm`;
        const sock = `/tmp/rpmsg-svc-${id}.sock`;
        files.push(shm, sock);
        const common = ['--service', name, '--shm', shm, '--socket', sock, '--count', String(COUNT[name])];
        let remote: ReturnType<typeof run>;
        let host: ReturnType<typeof run>;
        if (order === 'remote first') {
          remote = run(['remote', '--once', ...common]);
          await until(() => remote.out().includes('serving'));
          host = run(['host', ...common]);
        } else {
          host = run(['host', ...common]);
          await new Promise((r) => setTimeout(r, 300));
          remote = run(['remote', '--once', ...common]);
        }
        assert.equal(await host.exit, 0, host.out());
        const line = resultLine({ messages: EXPECTED[name], errors: 0, passed: true });
        assert.ok(host.out().split('\n').includes(line), host.out());
        assert.equal(await remote.exit, 0, remote.out());
      });
    }
  }

  it('the host exits 1 when its test fails (sample remote stops after 5 of 100)', async () => {
    const id = `${process.pid}-s${seq++}`;
    const shm = `/dev/shm/rpmsg-svc-${id}.shm`;
    const sock = `/tmp/rpmsg-svc-${id}.sock`;
    files.push(shm, sock);
    const common = ['--service', 'sample', '--shm', shm, '--socket', sock];
    const remote = run(['remote', '--once', '--count', '5', ...common]);
    await until(() => remote.out().includes('serving'));
    const host = run(['host', ...common]);
    assert.equal(await host.exit, 1, host.out());
    assert.match(host.out(), /^5 messages, 0 errors$/m);
    assert.match(host.out(), /destroyed its endpoint after 5 messages/);
    await remote.exit;
  });

  it('an unknown service is a usage error', async () => {
    const r = run(['host', '--service', 'nope']);
    assert.equal(await r.exit, 2);
    assert.match(r.out(), /--service must be one of echo, sample, matrix, nocopy, flood/);
  });
});
