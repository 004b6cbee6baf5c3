/**
 * The `rpmsg` command as a user runs it (bin/rpmsg.js in a child process): help, version,
 * flag validation with exit status 2, --json, a live socket never taken over, a missing
 * firmware file noticed at start. Plus the flag parser itself, in process.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError, flag, formatFlags, parseFlags } from '../../src/cli/flags.js';
import { repoRoot, until } from '../helpers.js';

const cli = join(repoRoot(), 'bin', 'rpmsg.js');

function rpmsg(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('flag parser: typed values, defaults, ranges in decimal and hex', () => {
  const specs = {
    count: flag.int({ help: 'n', min: 1, max: 10, default: 3 }),
    size: flag.int({ help: 's', min: 0x10, max: 0x100, hex: true }),
    mode: flag.choice(['a', 'b'], { help: 'm', default: 'a' }),
    name: flag.string({ help: 'x' }),
    tag: flag.strings({ help: 't' }),
    quiet: flag.boolean({ help: 'q', short: 'q' }),
  };
  const p = parseFlags(specs, ['--size', '0x20', '--tag', 'x', '--tag', 'y', '-q']);
  assert.deepEqual(p.values, { count: 3, size: 32, mode: 'a', name: undefined, tag: ['x', 'y'], quiet: true });
  assert.equal(parseFlags(specs, ['--count=10']).values.count, 10);
  for (const [args, msg] of [
    [['--count', '0'], /--count must be an integer from 1 to 10, not '0'/],
    [['--count', '1.5'], /--count must be an integer/],
    [['--count', ''], /--count must be an integer/],
    [['--count', '1e1'], /--count must be an integer/],
    [['--size', '0x101'], /--size must be an integer from 0x10 to 0x100, not '0x101'/],
    [['--mode', 'c'], /--mode must be one of a, b, not 'c'/],
    [['--name', ''], /--name must not be empty/],
    [['--nope'], /Unknown option '--nope'/],
    [['--count'], /--count/],
    [['extra'], /unexpected argument 'extra'/],
  ] as const) {
    assert.throws(() => parseFlags(specs, [...args]), (e: unknown) => e instanceof UsageError && msg.test(e.message), args.join(' '));
  }
  assert.equal(parseFlags(specs, ['-h']).help, true);
  assert.deepEqual(parseFlags({}, ['a', 'b'], { min: 1, max: 2 }).positionals, ['a', 'b']);
  assert.throws(() => parseFlags({}, [], { min: 1, max: 2 }), /expected 1 to 2 arguments, got 0/);
  const help = formatFlags(specs);
  assert.match(help, /--count N +n \(1\.\.10, default 3\)/);
  assert.match(help, /--size N +s \(0x10\.\.0x100\)/);
  assert.match(help, /-q, --quiet/);
});

test('--version prints package.json version; help per command; usage errors exit 2', () => {
  const pkg = JSON.parse(readFileSync(join(repoRoot(), 'package.json'), 'utf8')) as { version: string };
  assert.deepEqual(rpmsg('--version'), { status: 0, stdout: `${pkg.version}\n`, stderr: '' });
  for (const c of ['demo', 'remote', 'host']) {
    const h = rpmsg(c, '--help');
    assert.equal(h.status, 0, c);
    assert.match(h.stdout, new RegExp(`^usage: rpmsg ${c} \\[options\\]`), c);
    assert.deepEqual(rpmsg('help', c).stdout, h.stdout);
  }
  const none = rpmsg();
  assert.equal(none.status, 2);
  assert.match(none.stderr, /commands:\n {2}demo/);
  const cases: [string[], RegExp][] = [
    [['demo', '--remotes', '0'], /--remotes must be an integer from 1 to 64, not '0'/],
    [['host', '--timeout', 'abc'], /--timeout must be an integer from 1 to 86400000, not 'abc'/],
    [['host', '--service', 'x'], /--service must be one of echo, sample/],
    [['remote', '--size', '0x10'], /--size must be an integer from 0x10000/],
    [['remote', '--firmware', '/nonexistent/fw.js'], /--firmware: no such file '\/nonexistent\/fw\.js'/],
    [['demo', '--frob'], /Unknown option '--frob'/],
    [['frob'], /unknown command 'frob'/],
  ];
  for (const [args, msg] of cases) {
    const r = rpmsg(...args);
    assert.equal(r.status, 2, args.join(' '));
    assert.match(r.stderr, msg, args.join(' '));
    assert.equal(r.stdout, '', args.join(' '));
  }
});

test('demo --json: stdout is one JSON document with every remote', () => {
  const r = rpmsg('demo', '--remotes', '2', '--count', '5', '--json');
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { ok: boolean; remotes: { remote: string; messages: number; bytes: number }[] };
  assert.equal(out.ok, true);
  assert.deepEqual(
    out.remotes.map((x) => [x.remote, x.messages, x.bytes]),
    [
      ['rproc0', 5, 60],
      ['rproc1', 5, 60],
    ],
  );
  assert.match(r.stderr, /goodbye!/); // the log moved to stderr
});

test('a live socket is never taken over; a stale one is replaced', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rpmsg-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const paths = ['--shm', join(dir, 'shm'), '--socket', join(dir, 'sock')];
  // A stale socket file: its server was killed without unlinking it.
  const stale = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(join(dir, 'sock'))}, () => console.log('up'))`]);
  await new Promise((r) => stale.stdout.once('data', r));
  stale.kill('SIGKILL');
  await new Promise((r) => stale.once('close', r));
  assert.ok(existsSync(join(dir, 'sock')));
  const first = spawn(process.execPath, [cli, 'remote', '--once', ...paths], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  first.stdout.on('data', (d: Buffer) => (log += d.toString()));
  const firstExit = new Promise<number | null>((r) => first.once('close', r));
  t.after(() => first.kill('SIGKILL'));
  await until(() => log.includes('serving'), 30_000);
  const second = rpmsg('remote', ...paths);
  assert.equal(second.status, 1);
  assert.match(second.stderr, /is served by another remote.*\[EADDRINUSE\]/);
  // The probe was no host: the first remote (--once) still serves, and a host completes against it.
  const host = rpmsg('host', ...paths, '--json', '--timeout', '30000');
  assert.equal(host.status, 0, host.stderr);
  assert.deepEqual(JSON.parse(host.stdout), { service: 'rpmsg-openamp-demo-channel', messages: 480, errors: 0, ok: true });
  assert.equal(await firstExit, 0);
  assert.equal((log.match(/host attached/g) ?? []).length, 1);
});

test('remote: a firmware that fails to load makes the exit status 1', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rpmsg-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const bad = join(dir, 'bad.mjs');
  // A regular file that is no firmware module: it throws at import.
  writeFileSync(bad, 'throw new Error("firmware does not load");\n');
  const paths = ['--shm', join(dir, 'shm'), '--socket', join(dir, 'sock')];
  const remote = spawn(process.execPath, [cli, 'remote', '--once', '--firmware', bad, ...paths], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  remote.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exit = new Promise<number | null>((r) => remote.once('close', r));
  t.after(() => remote.kill('SIGKILL'));
  const host = rpmsg('host', ...paths, '--timeout', '5000');
  assert.equal(host.status, 1);
  assert.equal(await exit, 1);
  assert.match(err, /firmware does not load/);
});

test('remote: a firmware callback that throws is printed and makes the exit status 1', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rpmsg-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const fw = join(dir, 'throws.mjs');
  writeFileSync(
    fw,
    'export default (ctx) => { ctx.createEndpoint(() => { throw new Error("callback bug"); }, { name: "rpmsg-openamp-demo-channel" }); };\n',
  );
  const paths = ['--shm', join(dir, 'shm'), '--socket', join(dir, 'sock')];
  const remote = spawn(process.execPath, [cli, 'remote', '--once', '--firmware', fw, ...paths], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  remote.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exit = new Promise<number | null>((r) => remote.once('close', r));
  t.after(() => remote.kill('SIGKILL'));
  const host = rpmsg('host', ...paths, '--timeout', '5000');
  assert.equal(host.status, 1); // no echo: the ping test times out
  assert.match(host.stderr, /timed out after 5000 ms/);
  assert.equal(await exit, 1);
  assert.match(err, /^rpmsg remote: callback bug$/m);
  assert.doesNotMatch(err, /\(node:\d+\)/); // printed by the CLI, not as a Node warning
});
