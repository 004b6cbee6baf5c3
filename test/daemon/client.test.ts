/**
 * The daemon from the outside: many clients at once, a client killed mid-write, a daemon
 * killed and restarted, another uid under the policy.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { RpmsgClient } from '../../src/daemon/client.js';
import { repoRoot, until } from '../helpers.js';
import { ECHO, dec, enc, startRig, tempSocket } from './daemon-helpers.js';

const CLI = join(repoRoot(), 'bin', 'rpmsg.js');
const PROTOCOL = join(repoRoot(), 'dist', 'src', 'daemon', 'protocol.js');
const CLIENT = join(repoRoot(), 'dist', 'src', 'daemon', 'client.js');

async function startServe(socketPath: string, extra: string[] = []): Promise<ChildProcess> {
  const child = spawn(process.execPath, [CLI, 'serve', '--socket', socketPath, '--remotes', '1', ...extra], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  await until(() => out.includes('listening on') || child.exitCode !== null, 30_000);
  assert.equal(child.exitCode, null, out);
  return child;
}

async function echoVia(c: RpmsgClient, text: string): Promise<string> {
  const ept = await c.open(ECHO);
  const got = once(ept, 'message');
  await ept.send(enc(text));
  const [m] = (await got) as [Uint8Array];
  await ept.destroy();
  return dec(m);
}

describe('rpmsg daemon clients', () => {
  it('50 concurrent clients, each with its own endpoint, all echoed in order', async () => {
    const rig = await startRig({ remotes: 2 });
    try {
      const clients = await Promise.all(Array.from({ length: 50 }, () => RpmsgClient.connect({ socketPath: rig.socketPath })));
      assert.equal(rig.daemon.clientCount, 50);
      const per = 20;
      await Promise.all(
        clients.map(async (c, k) => {
          const links = await c.list();
          const ept = await c.open(ECHO, { link: links[k % links.length]!.link });
          const got: string[] = [];
          ept.on('message', (m: Uint8Array) => got.push(dec(m)));
          for (let i = 0; i < per; i++) await ept.send(enc(`${k}:${i}`));
          await until(() => got.length === per, 60_000);
          assert.deepEqual(got, Array.from({ length: per }, (_, i) => `${k}:${i}`));
        }),
      );
      for (const c of clients) c.close();
      await until(() => rig.daemon.clientCount === 0);
      assert.equal(rig.bus.listLinks().reduce((n, l) => n + l.endpointCount, 0), 2); // only the remotes' own
    } finally {
      await rig.stop();
    }
  });

  it('a stream over the daemon: for await reads echoes; the rate limit paces writes instead of failing them', async () => {
    const rig = await startRig({
      policy: { version: 1, clients: [{ match: {}, channels: [ECHO], rate: { messagesPerSecond: 40, burst: 5 } }] },
    });
    try {
      const c = await RpmsgClient.connect({ socketPath: rig.socketPath });
      const s = await c.openStream(ECHO, { highWaterMark: 4 });
      const n = 45;
      const t0 = performance.now();
      const writer = (async () => {
        for (let i = 0; i < n; i++) if (!s.write(enc(`r${i}`))) await once(s, 'drain');
      })();
      const got: string[] = [];
      for await (const m of s) {
        got.push(dec(m as Uint8Array));
        if (got.length === n) break;
      }
      await writer;
      const ms = performance.now() - t0;
      assert.deepEqual(got, Array.from({ length: n }, (_, i) => `r${i}`));
      assert.ok(ms >= 900, `45 messages at 40/s after a burst of 5 took ${ms.toFixed(0)} ms`);
      assert.ok(rig.daemon.counters.rateLimited > 0);
      await until(() => rig.bus.listLinks()[0]!.endpointCount === 1); // break destroyed the daemon's endpoint
      c.close();
    } finally {
      await rig.stop();
    }
  });

  it('a client killed mid-write leaves the daemon and other clients untouched', async () => {
    const rig = await startRig({});
    try {
      const other = await RpmsgClient.connect({ socketPath: rig.socketPath });
      const ept = await other.open(ECHO);
      const script = `
        import { connect } from 'node:net';
        import { encodeFrame, Op } from ${JSON.stringify(PROTOCOL)};
        const s = connect(${JSON.stringify(rig.socketPath)}, () => {
          s.write(encodeFrame(Op.HELLO, 1, { version: 1 }));
          s.write(encodeFrame(Op.OPEN, 2, { channel: ${JSON.stringify(ECHO)} }));
          const big = encodeFrame(Op.SEND, 3, { ept: 1 }, new Uint8Array(400));
          s.write(big.subarray(0, 100), () => { process.stdout.write('half'); process.kill(process.pid, 'SIGKILL'); });
        });`;
      for (let round = 0; round < 3; round++) {
        const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
        let out = '';
        child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
        const [, signal] = (await once(child, 'exit')) as [number | null, string | null];
        assert.equal(signal, 'SIGKILL');
        assert.equal(out, 'half');
      }
      await until(() => rig.daemon.clientCount === 1);
      const got = once(ept, 'message');
      await ept.send(enc('unharmed'));
      assert.equal(dec(((await got) as [Uint8Array])[0]), 'unharmed');
      assert.equal(rig.daemon.counters.malformed, 0); // a cut connection is not a protocol error
      other.close();
    } finally {
      await rig.stop();
    }
  });

  it('daemon killed: clients get ECONNRESET/EPIPE at once; a new daemon replaces the stale socket; clients reconnect', async () => {
    const path = tempSocket();
    let serve = await startServe(path);
    try {
      const c = await RpmsgClient.connect({ socketPath: path });
      assert.equal(await echoVia(c, 'before'), 'before');
      const ept = await c.open(ECHO);
      const gone = once(ept, 'gone');
      const closed = once(c, 'close');
      serve.kill('SIGKILL');
      await once(serve, 'exit');
      const [err] = (await gone) as [{ code: string }];
      assert.equal(err.code, 'EPIPE');
      const [why] = (await closed) as [{ code: string }];
      assert.equal(why.code, 'ECONNRESET');
      await assert.rejects(c.list(), { code: 'ECONNRESET' });
      await assert.rejects(ept.send(enc('x')), { code: 'EPIPE' });
      // the socket file is stale now: connecting is refused, a new daemon takes its place
      await assert.rejects(RpmsgClient.connect({ socketPath: path }), { code: 'ECONNREFUSED' });
      serve = await startServe(path);
      const c2 = await RpmsgClient.connect({ socketPath: path });
      assert.equal(await echoVia(c2, 'after'), 'after');
      // graceful stop: same clear error
      const closed2 = once(c2, 'close');
      serve.kill('SIGTERM');
      await once(serve, 'exit');
      assert.equal(((await closed2) as [{ code: string }])[0].code, 'ECONNRESET');
      assert.equal(serve.exitCode, 0);
    } finally {
      if (serve.exitCode === null) serve.kill('SIGKILL');
    }
  });

  it('another uid (nobody) gets only what its rule allows', async (t) => {
    if (process.getuid?.() !== 0) return t.skip('needs root to run a client as another uid (setpriv)');
    if (spawnSync('setpriv', ['--version']).status !== 0) return t.skip('setpriv not available');
    const dir = mkdtempSync(join(tmpdir(), 'rpmsgd-uid-'));
    chmodSync(dir, 0o755);
    const policyFile = join(dir, 'policy.json');
    writeFileSync(
      policyFile,
      JSON.stringify({
        version: 1,
        socketMode: '0666',
        clients: [
          { name: 'root', match: { uid: 0 }, channels: ['*'], control: true },
          { name: 'nobody', match: { uid: 65534 }, channels: ['rpmsg-openamp-*'], send: false },
        ],
      }),
    );
    const path = join(dir, 'rpmsg.sock');
    const serve = await startServe(path, ['--policy', policyFile]);
    try {
      const script = `
        import { RpmsgClient } from ${JSON.stringify(CLIENT)};
        let c;
        try { c = await RpmsgClient.connect({ socketPath: ${JSON.stringify(path)} }); } catch (e) { console.log(JSON.stringify({ connect: e.code })); process.exit(0); }
        const out = { uid: c.info.uid, client: c.info.client, list: (await c.list()).map((x) => x.name) };
        const ept = await c.open(${JSON.stringify(ECHO)});
        try { await ept.send(new Uint8Array([1])); out.send = 'ok'; } catch (e) { out.send = e.code; }
        c.close();
        console.log(JSON.stringify(out));`;
      const as = (uid: number): unknown => {
        const r = spawnSync('setpriv', [`--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', process.execPath, '--input-type=module', '-e', script], {
          encoding: 'utf8',
          cwd: dirname(path),
        });
        assert.equal(r.status, 0, r.stderr);
        return JSON.parse(r.stdout);
      };
      assert.deepEqual(as(65534), { uid: 65534, client: 'nobody', list: [ECHO], send: 'EACCES' });
      assert.deepEqual(as(65533), { connect: 'EACCES' }); // no rule for this uid
      const root = await RpmsgClient.connect({ socketPath: path });
      assert.equal(root.info.client, 'root');
      assert.equal((await root.list()).length, 1);
      root.close();
    } finally {
      serve.kill('SIGTERM');
      await once(serve, 'exit');
    }
  });
});
