/** Host and remote in separate OS processes over a mapped file and a UNIX socket. */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  RpmsgBus,
  RpmsgLink,
  VirtioRpmsgTransport,
  mapShmFile,
  readRpmsgMemory,
  spawnProcessRemote,
  type Channel,
  type RpmsgError,
} from '../../src/index.js';
import { firstDiff, openampImage, repoRoot, until } from '../helpers.js';

const cli = join(repoRoot(), 'bin', 'rpmsg.js');
const faulty = join(repoRoot(), 'dist', 'test', 'fixtures', 'faulty-firmware.js');
const ECHO = 'rpmsg-openamp-demo-channel';
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b.slice());
let seq = 0;
const files: string[] = [];

function paths(): { shm: string; sock: string } {
  const id = `${process.pid}-t${seq++}`;
  const p = { shm: `/dev/shm/rpmsg-test-${id}.shm`, sock: `/tmp/rpmsg-test-${id}.sock` };
  files.push(p.shm, p.sock);
  return p;
}

after(() => {
  for (const f of files) rmSync(f, { force: true });
});

function run(args: string[]): { child: ChildProcess; out: () => string; exit: Promise<number> } {
  const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exit = once(child, 'exit').then(([code]) => code as number);
  return { child, out: () => out, exit };
}

describe('rpmsg host and rpmsg remote as two processes', () => {
  for (const order of ['remote first', 'host first'] as const) {
    for (const spin of [true, false]) {
      it(`echo ping test, ${order}, ${spin ? 'fast mode' : 'socket kicks only'}`, async () => {
        const p = paths();
        const common = ['--shm', p.shm, '--socket', p.sock, ...(spin ? [] : ['--no-spin'])];
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
        assert.match(host.out(), /^480 messages, 0 errors$/m);
        assert.equal(await remote.exit, 0, remote.out());
      });
    }
  }

  it('the sample on both sides', async () => {
    const p = paths();
    const common = ['--shm', p.shm, '--socket', p.sock, '--service', 'sample', '--count', '5'];
    const remote = run(['remote', '--once', ...common]);
    await until(() => remote.out().includes('serving'));
    const host = run(['host', ...common]);
    assert.equal(await host.exit, 0, host.out());
    assert.match(host.out(), /the remote destroyed its endpoint/);
    assert.match(host.out(), /^5 messages, 0 errors$/m);
    await remote.exit;
  });
});

describe('a firmware in a child process, attached from the library', () => {
  it('echoes; a killed remote takes its channel and senders down, the host survives and reattaches', async () => {
    const bus = new RpmsgBus();
    const rx: string[] = [];
    const log: string[] = [];
    bus.registerDriver({
      name: 'echo-client',
      idTable: [ECHO],
      probe: () => void log.push('probe'),
      remove: () => void log.push('remove'),
      callback: (_c, d) => void rx.push(dec(d)),
    });
    const p = paths();
    const first = await spawnProcessRemote(bus, { firmware: faulty, shmPath: p.shm, socketPath: p.sock, host: { txBuffers: 2 } });
    await until(() => bus.channels.length === 1);
    const ch: Channel = bus.channels[0]!;
    await ch.send(enc('one'));
    await until(() => rx.length === 1);
    assert.deepEqual(rx, ['one']);
    // Block the host: the remote keeps both tx buffers, a third send waits.
    await ch.send(enc('hold'));
    await ch.send(enc('hold'));
    const blocked = ch.send(enc('never'));
    const down = once(first.remote, 'down');
    first.child.kill('SIGKILL');
    const [reason] = (await down) as [RpmsgError];
    assert.equal(reason.code, 'ENODEV');
    await assert.rejects(blocked, { code: 'ENODEV' });
    assert.deepEqual(log, ['probe', 'remove']);
    assert.equal(bus.channels.length, 0);

    const q = paths();
    const second = await spawnProcessRemote(bus, { firmware: faulty, shmPath: q.shm, socketPath: q.sock });
    await until(() => bus.channels.length === 1);
    await bus.channels[0]!.send(enc('again'));
    await until(() => rx.length === 2);
    assert.equal(rx[1], 'again');
    second.remote.close();
    await once(second.child, 'exit');
  });
});

describe('mapped file against the OpenAMP images', () => {
  const image = (n: string): Buffer => openampImage(n);

  it('our host on a file holding image 01 writes exactly image 02', () => {
    const p = paths();
    writeFileSync(p.shm, image('01_remote_table_written.bin'));
    const region = mapShmFile(p.shm, 0x80000);
    const mem = readRpmsgMemory(region, 0, 0x1000);
    new VirtioRpmsgTransport({
      role: 'host',
      bus: new RpmsgBus(),
      link: new RpmsgLink('h', 'host'),
      region,
      vdev: mem.vdev,
      vrings: mem.vrings,
      pool: { offset: 0x10000, length: 0x40000 },
      notify: () => {},
    });
    assert.equal(firstDiff(new Uint8Array(readFileSync(p.shm)), new Uint8Array(image('02_host_vrings_initialized.bin'))), -1);
  });

  it('our remote on a file holding image 02 announces exactly as image 03', () => {
    const p = paths();
    writeFileSync(p.shm, image('02_host_vrings_initialized.bin'));
    const region = mapShmFile(p.shm, 0x80000);
    const mem = readRpmsgMemory(region, 0, 0x1000);
    const link = new RpmsgLink('r', 'remote');
    const t = new VirtioRpmsgTransport({ role: 'remote', bus: new RpmsgBus(), link, region, vdev: mem.vdev, vrings: mem.vrings, notify: () => {} });
    link.createEndpoint(() => {}, { name: ECHO });
    t.flush();
    assert.equal(firstDiff(new Uint8Array(readFileSync(p.shm)), new Uint8Array(image('03_remote_ns_announced.bin'))), -1);
  });

  it('mapping a missing file is a typed error', () => {
    assert.throws(() => mapShmFile('/dev/shm/rpmsg-does-not-exist', 4096), { code: 'ENOENT' });
  });
});
