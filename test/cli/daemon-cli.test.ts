/**
 * The daemon's commands as a user runs them: bin/rpmsg.js in a child process against a daemon
 * (with a worker echo remote) in this process. Output, exit status, and refusals by the policy
 * (exit 1 with the daemon's reason). The children run asynchronously: the daemon they talk to
 * lives on this event loop.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RpmsgClient } from '../../src/daemon/client.js';
import type { TraceRecord } from '../../src/trace/record.js';
import { repoRoot, until } from '../helpers.js';
import { ECHO, dec, enc, startRig, type Rig } from '../daemon/daemon-helpers.js';

const cli = join(repoRoot(), 'bin', 'rpmsg.js');
const SAMPLE = 'rpmsg-client-sample';
const ADMIN = 'admin-client-token-xx';
const LIMITED = 'limited-client-token';

const POLICY = {
  version: 1,
  clients: [
    { name: 'limited', match: { token: LIMITED }, channels: ['rpmsg-openamp-*'], maxMessageSize: 64 },
    { name: 'admin', match: { token: ADMIN }, channels: ['*'], control: true, observe: true },
  ],
};

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Run the CLI; the child's environment has no RPMSG_SOCKET or RPMSG_TOKEN of the caller's. */
function rpmsg(args: string[], onSpawn?: () => void): Promise<Run> {
  const env = { ...process.env };
  delete env['RPMSG_SOCKET'];
  delete env['RPMSG_TOKEN'];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
    onSpawn?.();
  });
}

describe('rpmsg CLI against a daemon', () => {
  let rig: Rig;
  let sock: string[];
  const as = (token: string): string[] => ['--socket', rig.socketPath, '--token', token];

  before(async () => {
    rig = await startRig({ firmware: ['echo', 'client-sample'], policy: POLICY });
    sock = as(ADMIN);
  });
  after(async () => {
    await rig.stop();
  });

  it('ls: the channels the rule allows, as a table or JSON', async () => {
    const all = await rpmsg(['ls', ...sock]);
    assert.equal(all.status, 0, all.stderr);
    const lines = all.stdout.trim().split('\n');
    assert.match(lines[0]!, /^LINK +CHANNEL +SRC +DST$/);
    assert.deepEqual(lines.slice(1).map((l) => l.split(/ +/)[1]).sort(), [SAMPLE, ECHO].sort());
    const echo = rig.bus.channels.find((c) => c.name === ECHO)!;
    assert.ok(lines.some((l) => l.split(/ +/).join(' ') === `${echo.link.name} ${ECHO} any 0x${echo.dst.toString(16)}`), all.stdout);
    const limited = await rpmsg(['ls', '--json', ...as(LIMITED)]);
    assert.equal(limited.status, 0, limited.stderr);
    assert.deepEqual(JSON.parse(limited.stdout), [{ name: ECHO, link: echo.link.name, src: 0xffffffff, dst: echo.dst }]);
  });

  it('send: the message crosses the bus (seen by a trace in this process)', async () => {
    const watcher = await RpmsgClient.connect({ socketPath: rig.socketPath, token: ADMIN });
    try {
      const t = await watcher.trace();
      const seen: TraceRecord[] = [];
      t.on('record', (r: TraceRecord) => seen.push(r));
      const r = await rpmsg(['send', ECHO, 'hello from send', '--json', ...sock]);
      assert.equal(r.status, 0, r.stderr);
      const out = JSON.parse(r.stdout) as { channel: string; bytes: number; dst: number };
      assert.deepEqual([out.channel, out.bytes, out.dst], [ECHO, 15, rig.bus.channels.find((c) => c.name === ECHO)!.dst]);
      await until(() => seen.some((x) => x.dir === 'h2r' && dec(x.wire.subarray(16)) === 'hello from send'), 20_000);
      const hexed = await rpmsg(['send', ECHO, '68690a', '--hex', ...sock]);
      assert.equal(hexed.status, 0, hexed.stderr);
      await until(() => seen.some((x) => x.dir === 'h2r' && dec(x.wire.subarray(16)) === 'hi\n'), 20_000);
    } finally {
      watcher.close();
    }
  });

  it('listen: what arrives, as JSON lines or the kernel sample\'s hex dump', async () => {
    const j = await rpmsg(['listen', ECHO, '--send', 'hi there', '--count', '1', '--json', ...sock]);
    assert.equal(j.status, 0, j.stderr);
    const msg = JSON.parse(j.stdout.trim()) as { src: number; len: number; hex: string };
    assert.deepEqual([msg.len, Buffer.from(msg.hex, 'hex').toString()], [8, 'hi there']);
    assert.equal(msg.src, rig.bus.channels.find((c) => c.name === ECHO)!.dst);
    const d = await rpmsg(['listen', ECHO, '--send', 'ABCDEFGHIJKLMNOPQR', '--count', '1', ...sock]);
    assert.equal(d.status, 0, d.stderr);
    const lines = d.stdout.trim().split('\n');
    assert.match(lines[0]!, new RegExp(`^\\S+ ${ECHO}: 18 bytes from 0x[0-9a-f]+$`));
    assert.equal(lines[1], '00000000: 41 42 43 44 45 46 47 48 49 4a 4b 4c 4d 4e 4f 50  ABCDEFGHIJKLMNOP');
    assert.equal(lines[2], '00000010: 51 52                                            QR');
  });

  it('ping: round trips checked byte for byte', async () => {
    const r = await rpmsg(['ping', ECHO, '--count', '3', '--size', '40', ...sock]);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.match(lines[0]!, new RegExp(`^PING ${ECHO} on \\S+: 40 bytes, 3 messages$`));
    assert.deepEqual(lines.slice(1, 4).map((l) => l.replace(/time=[\d.]+/, 'time=T')), [0, 1, 2].map((i) => `40 bytes from ${lines[0]!.split(' ')[3]!.replace(':', '')}: seq=${i} time=T ms`));
    assert.match(lines[4]!, /^3 messages, 0 errors; rtt min\/avg\/max = /);
    const j = await rpmsg(['ping', ECHO, '--count', '2', '--json', ...sock]);
    assert.equal(j.status, 0, j.stderr);
    const s = JSON.parse(j.stdout) as { count: number; errors: number; size: number };
    assert.deepEqual([s.count, s.errors, s.size], [2, 0, 32]);
  });

  it('ctrl: a static channel is created, listed, used and destroyed', async () => {
    const echo = rig.bus.channels.find((c) => c.name === ECHO)!;
    const c = await rpmsg(['ctrl', 'create', 'rpmsg-static-x', '--dst', `0x${echo.dst.toString(16)}`, '--link', echo.link.name, '--json', ...sock]);
    assert.equal(c.status, 0, c.stderr);
    assert.deepEqual(JSON.parse(c.stdout), { name: 'rpmsg-static-x', link: echo.link.name, src: 0xffffffff, dst: echo.dst });
    const ls = JSON.parse((await rpmsg(['ls', '--json', ...sock])).stdout) as { name: string }[];
    assert.ok(ls.some((x) => x.name === 'rpmsg-static-x'));
    // the static channel reaches the echo service at its address
    const l = await rpmsg(['listen', 'rpmsg-static-x', '--send', 'via static', '--count', '1', '--json', ...sock]);
    assert.equal(l.status, 0, l.stderr);
    assert.equal(Buffer.from((JSON.parse(l.stdout) as { hex: string }).hex, 'hex').toString(), 'via static');
    const d = await rpmsg(['ctrl', 'destroy', 'rpmsg-static-x', ...sock]);
    assert.deepEqual([d.status, d.stdout], [0, 'destroyed rpmsg-static-x\n']);
    assert.ok(!rig.bus.channels.some((x) => x.name === 'rpmsg-static-x'));
    const again = await rpmsg(['ctrl', 'destroy', 'rpmsg-static-x', ...sock]);
    assert.equal(again.status, 1);
    assert.match(again.stderr, /^rpmsg ctrl: no static channel "rpmsg-static-x".*\[ENOENT\]$/m);
  });

  it('policy refusals: exit 1 with the reason; usage errors exit 2 without a daemon', async () => {
    const cases: [string[], RegExp][] = [
      [['send', SAMPLE, 'x', ...as(LIMITED)], /^rpmsg send: channel "rpmsg-client-sample" is not allowed by the policy \[EACCES\]$/m],
      [['ping', ECHO, '--size', '100', '--count', '1', ...as(LIMITED)], /^rpmsg ping: message of 100 bytes exceeds the policy's 64 \[EMSGSIZE\]$/m],
      [['ctrl', 'create', 'rpmsg-openamp-x', '--dst', '0x400', ...as(LIMITED)], /^rpmsg ctrl: creating channels is not allowed by the policy \[EACCES\]$/m],
      [['ls', ...as('no-such-token-at-all')], /^rpmsg ls: no policy rule admits this client \[EACCES\]$/m],
      [['stats', '--daemon', rig.socketPath, '--token', LIMITED], /^rpmsg stats: statistics and tracing are not allowed by the policy \(observe\) \[EACCES\]$/m],
      [['trace', '--daemon', rig.socketPath, '--token', LIMITED], /^rpmsg trace: statistics and tracing are not allowed by the policy \(observe\) \[EACCES\]$/m],
      [['ls', '--socket', join(rig.socketPath, '..', 'none.sock')], /^rpmsg ls: no rpmsg daemon at .*none\.sock.*\[ENOENT\]$/m],
    ];
    for (const [args, msg] of cases) {
      const r = await rpmsg(args);
      assert.equal(r.status, 1, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, msg, args.join(' '));
    }
    const usage: [string[], RegExp][] = [
      [['send', ECHO, 'zz', '--hex', '--socket', '/nonexistent.sock'], /with --hex, DATA must be pairs of hex digits/],
      [['listen', ECHO, '--raw', '--json', '--socket', '/nonexistent.sock'], /--raw and --json exclude each other/],
      [['ctrl', 'create', 'x', '--socket', '/nonexistent.sock'], /ctrl create needs --dst/],
      [['trace', '--demo', '--daemon'], /give exactly one of --shm PATH, --demo and --daemon/],
      [['stats', '--demo', '/some.sock'], /SOCKET, --socket and --token go with --daemon/],
    ];
    for (const [args, msg] of usage) {
      const r = await rpmsg(args);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, msg, args.join(' '));
    }
  });

  it('stats --daemon: the daemon bus\'s counters, the same report as --demo', async () => {
    const c = await RpmsgClient.connect({ socketPath: rig.socketPath, token: ADMIN });
    try {
      const ept = await c.open(SAMPLE);
      const got = new Promise((r) => ept.once('message', r));
      await ept.send(enc('count me'));
      await got;
      const r = await rpmsg(['stats', '--daemon', '--json', ...sock]);
      assert.equal(r.status, 0, r.stderr);
      const report = JSON.parse(r.stdout) as { name: string; txMessages: number; rxMessages: number; endpoints: { addr: number; txMessages: number; txBytes: number }[] }[];
      const link = rig.bus.channels.find((x) => x.name === SAMPLE)!.link;
      const l = report.find((x) => x.name === link.name)!;
      assert.deepEqual([l.txMessages, l.rxMessages], [link.stats.txMessages, link.stats.rxMessages]);
      assert.deepEqual(l.endpoints.find((e) => e.addr === ept.addr)?.txBytes, 8);
      const text = await rpmsg(['stats', '--daemon', rig.socketPath, '--token', ADMIN]);
      assert.equal(text.status, 0, text.stderr);
      assert.match(text.stdout, new RegExp(`^${link.name} \\(host, up\\), mtu \\d+$`, 'm'));
      assert.match(text.stdout, new RegExp(`^  channel ${SAMPLE}: 0xffffffff -> 0x[0-9a-f]+$`, 'm'));
      await ept.destroy();
    } finally {
      c.close();
    }
  });

  it('trace --daemon: records of the traffic, in the chosen format, until --count', async () => {
    await until(() => rig.daemon.observer.subscribers === 0, 20_000); // the earlier tests' subscriptions are gone
    const before = 0;
    const run = rpmsg(['trace', '--daemon', rig.socketPath, '--token', ADMIN, '--format', 'json', '--count', '4']);
    await until(() => rig.daemon.observer.subscribers > before, 30_000);
    const c = await RpmsgClient.connect({ socketPath: rig.socketPath, token: ADMIN });
    try {
      const ept = await c.open(ECHO);
      for (const text of ['first', 'second']) {
        const got = new Promise((r) => ept.once('message', r));
        await ept.send(enc(text));
        await got;
      }
      const r = await run;
      assert.equal(r.status, 0, r.stderr);
      const recs = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { dir: string; src: number; dst: number; len: number; payload: string });
      assert.deepEqual(recs.map((x) => [x.dir, Buffer.from(x.payload, 'hex').toString()]), [['h2r', 'first'], ['r2h', 'first'], ['h2r', 'second'], ['r2h', 'second']]);
      assert.deepEqual([recs[0]!.src, recs[0]!.dst, recs[1]!.src, recs[1]!.dst], [ept.addr, ept.dst, ept.dst, ept.addr]);
      await ept.destroy();
    } finally {
      c.close();
    }
    await until(() => rig.daemon.observer.subscribers === before);
  });
});
