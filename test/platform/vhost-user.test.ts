/**
 * The vhost-user remote against the real Linux kernel: User-Mode Linux (../shared/uml) with
 * virtio_rpmsg_bus as the rpmsg host, our back-end (this process) as the virtio-rpmsg device.
 * Each test boots a guest; the guest's init script is test/fixtures/uml-init.sh.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startVhostUserRemote, type VhostUserRemoteOptions, type VhostUserRemoteServer } from '../../src/index.js';
import { firmwarePath, repoRoot } from '../helpers.js';
import { bootGuest, umlDir, type GuestRun } from './uml-guest.js';

const uml = umlDir();
const fdCount = (): number => readdirSync('/proc/self/fd').length;
/** Shared file mappings (the guest's memory is one; V8 makes none). */
const sharedMaps = (): number => readFileSync('/proc/self/maps', 'utf8').split('\n').filter((l) => / rw-s /.test(l)).length;

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'rpmsg-vhost-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

async function withServer<T>(name: string, o: Omit<VhostUserRemoteOptions, 'socketPath'>, fn: (s: VhostUserRemoteServer, socket: string) => Promise<T>): Promise<T> {
  const socket = join(dir, `${name}.sock`);
  const server = await startVhostUserRemote({ ...o, socketPath: socket });
  try {
    return await fn(server, socket);
  } finally {
    await server.close();
  }
}

/** Resolves with the next `detached` event's error (undefined = clean hang-up). */
const nextDetach = (s: VhostUserRemoteServer): Promise<Error | undefined> => new Promise((r) => s.once('detached', (e) => r(e)));

function checkSample(run: GuestRun): void {
  const log = run.dmesg.join('\n');
  assert.match(log, /rpmsg_client_sample .*: new channel: 0x[0-9a-f]+ -> 0x[0-9a-f]+!/, run.output);
  for (let i = 1; i <= 100; i++) assert.ok(log.includes(`incoming msg ${i} (src: 0x`), `incoming msg ${i} missing\n${run.output}`);
  assert.match(log, /rpmsg_client_sample .*: goodbye!/);
  assert.ok(run.marks.includes('@@result ok'), run.output);
}

function checkEcho(run: GuestRun): { perSecond: number } {
  const mark = (k: string): string | undefined => run.marks.find((m) => m.startsWith(`@@echo ${k}`));
  assert.ok(mark('device=')?.includes('sizes=1..496 ok=496 bytes=123256'), run.output);
  assert.equal(mark('oversize'), '@@echo oversize EMSGSIZE', run.output);
  const rounds = /per_second=(\d+)/.exec(mark('rounds=') ?? '');
  assert.ok(rounds, run.output);
  assert.ok(run.marks.includes('@@result ok'), run.output);
  return { perSecond: Number(rounds[1]) };
}

describe('vhost-user remote with the Linux kernel (User-Mode Linux)', { timeout: 600_000 }, () => {
  test('rpmsg_client_sample probes on our sample announcement and runs to goodbye', async (t) => {
    if ('missing' in uml) return t.skip(uml.missing);
    await withServer('sample', { firmware: firmwarePath('client-sample') }, async (server, socket) => {
      const gone = nextDetach(server);
      let sealed: boolean | undefined;
      server.once('attached', (_ctx, conn) => (sealed = conn.device.memorySealed));
      const run = await bootGuest(uml.dir, socket, 'sample');
      checkSample(run);
      assert.equal(await gone, undefined, 'the guest hung up cleanly');
      t.diagnostic(`guest boot + 100 messages + power-off: ${run.ms} ms; guest memory sealed against shrinking: ${sealed}`);
      for (const l of run.dmesg.filter((x) => /new channel|incoming msg (1|100) |goodbye|creating channel/.test(x))) t.diagnostic(l);
    });
  });

  test('user space opens /dev/rpmsg_ctrl0 and gets every size 1..MTU back byte-exact', async (t) => {
    if ('missing' in uml) return t.skip(uml.missing);
    await withServer('echo', { firmware: firmwarePath('echo') }, async (server, socket) => {
      let addr = -1;
      server.on('attached', (ctx) => {
        addr = ctx.link.listEndpoints().find((e) => e.name === 'rpmsg-openamp-demo-channel')?.addr ?? -1;
      });
      const run = await bootGuest(uml.dir, socket, 'ctrl-echo', '0x400');
      assert.equal(addr, 0x400, 'the echo service sits where the guest sends');
      const { perSecond } = checkEcho(run);
      t.diagnostic(`496 sizes (123256 bytes) echoed, 2000 round trips of 64 bytes at ${perSecond}/s; ${run.ms} ms in all`);
    });
  });

  test('a service named rpmsg-raw becomes /dev/rpmsgN in the guest and reaches our firmware', async (t) => {
    if ('missing' in uml) return t.skip(uml.missing);
    const lines: string[] = [];
    const fw = join(repoRoot(), 'dist', 'test', 'fixtures', 'raw-firmware.js');
    await withServer('raw', { firmware: fw, log: (l) => lines.push(l) }, async (_server, socket) => {
      const run = await bootGuest(uml.dir, socket, 'raw', 'hello-from-guest-user-space');
      assert.ok(run.marks.includes('@@result ok'), run.output);
      assert.ok(lines.some((l) => /^raw: hello-from-guest-user-space from 0x[0-9a-f]+$/.test(l)), `${lines.join('\n')}\n${run.output}`);
      assert.match(run.dmesg.join('\n'), /creating channel rpmsg-raw addr 0x400/);
      t.diagnostic(`${lines.join('; ')}; ${run.ms} ms`);
    });
  });

  test('a second guest boots against the same back-end after the first powered off; nothing leaked', async (t) => {
    if ('missing' in uml) return t.skip(uml.missing);
    await withServer('reboot', { firmware: firmwarePath('client-sample') }, async (server, socket) => {
      const fds0 = fdCount();
      const maps0 = sharedMaps();
      let gone = nextDetach(server);
      const first = await bootGuest(uml.dir, socket, 'sample');
      checkSample(first);
      assert.equal(await gone, undefined);
      assert.equal(fdCount(), fds0, 'fds after the first guest');
      assert.equal(sharedMaps(), maps0, 'guest memory unmapped after the first guest');
      gone = nextDetach(server);
      const second = await bootGuest(uml.dir, socket, 'ctrl-echo', '0x400');
      checkEcho(second);
      assert.equal(await gone, undefined);
      assert.equal(fdCount(), fds0, 'fds after the second guest');
      assert.equal(sharedMaps(), maps0, 'guest memory unmapped after the second guest');
      assert.equal(server.stats.connections, 2);
      assert.equal(server.stats.errors, 0);
      t.diagnostic(`first guest ${first.ms} ms, second ${second.ms} ms; fds ${fds0} before and after, shared maps ${maps0}`);
    });
  });

  test('rpmsg remote --vhost-user serves the sample to a guest and refuses a live socket', async (t) => {
    if ('missing' in uml) return t.skip(uml.missing);
    const socket = join(dir, 'cli.sock');
    const bin = join(repoRoot(), 'bin', 'rpmsg.js');
    const cli = spawn(process.execPath, [bin, 'remote', '--vhost-user', socket, '--service', 'sample'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    cli.stdout.on('data', (d: Buffer) => (out += d.toString()));
    cli.stderr.on('data', (d: Buffer) => (out += d.toString()));
    try {
      const deadline = Date.now() + 30_000;
      while (!existsSync(socket)) {
        assert.ok(Date.now() < deadline, `no socket: ${out}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      const second = spawnSync(process.execPath, [bin, 'remote', '--vhost-user', socket], { encoding: 'utf8', timeout: 30_000 });
      assert.equal(second.status, 1, second.stderr);
      assert.match(second.stderr, /already listening.*EADDRINUSE/);
      const run = await bootGuest(uml.dir, socket, 'sample');
      checkSample(run);
      assert.match(out, /guest attached/);
      t.diagnostic(`CLI back-end, guest run ${run.ms} ms`);
    } finally {
      const exited = new Promise((r) => cli.once('exit', r));
      cli.kill('SIGTERM');
      await exited;
    }
    assert.equal(existsSync(socket), false, 'the socket file is removed on exit');
  });
});
