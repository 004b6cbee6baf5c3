/**
 * The package as a user gets it: the prebuilt addon made as `prepack` makes it, `npm pack`,
 * publint on the tarball, the tarball installed into a temporary project without a C compiler
 * (CC=false: the prebuilt binary must do), the README example run and type-checked there,
 * `npx rpmsg demo`, and a host/remote pair over a mapped file through the prebuilt addon.
 * Then without the prebuilt binary: the fallback build fails, the install does not, the demo
 * still runs, and what needs the addon says what to install.
 * npm installs with --prefer-offline: the registry's packages come from the local cache that
 * the repository's own install filled (CI reaches the registry for anything missing).
 */
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { repoRoot, until } from '../helpers.js';

const root = repoRoot();

/** The environment of a user's shell: none of the npm_* variables of the `npm test` around us. */
function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k) && k !== 'INIT_CWD') env[k] = v;
  return { ...env, ...extra };
}

function run(cmd: string, args: string[], cwd: string, extra: Record<string, string> = {}): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { cwd, env: userEnv(extra), encoding: 'utf8', timeout: 300_000 });
}

let last = performance.now();
function ok(r: SpawnSyncReturns<string>, what: string): string {
  const now = performance.now();
  console.log(`${what}: ${(now - last).toFixed(0)} ms`);
  last = now;
  assert.equal(r.status, 0, `${what} exited ${r.status}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** The README's code blocks that start with `// <name>.mjs`. */
function readmeFiles(): Map<string, string> {
  const files = new Map<string, string>();
  for (const m of readFileSync(join(root, 'README.md'), 'utf8').matchAll(/```js\n(\/\/ ([\w-]+\.mjs)[^\n]*\n[\s\S]*?)```/g)) {
    files.set(m[2]!, m[1]!);
  }
  return files;
}

test('packed, installed without a compiler, the README example and npx rpmsg demo run', { timeout: 600_000 }, async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'rpmsg-pack-'));
  t.after(() => rmSync(work, { recursive: true, force: true }));

  // What prepack does after `npm run build` (which `npm test` has just done).
  ok(run('npm', ['run', 'prebuilds', '--', '--quiet'], root), 'npm run prebuilds');
  const packed = JSON.parse(ok(run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], root), 'npm pack')) as {
    filename: string;
    files: { path: string }[];
  }[];
  const tarball = join(work, packed[0]!.filename);
  const files = packed[0]!.files.map((f) => f.path).sort();
  t.diagnostic(`${files.length} files, ${readFileSync(tarball).length} bytes packed`);
  for (const need of ['LICENSE', 'README.md', 'CHANGELOG.md', 'package.json', 'bin/rpmsg.js', 'dist/src/index.js', 'dist/src/index.d.ts', 'dist/samples/firmware/client-sample.js', 'binding.gyp', 'native/addon.c', 'prebuilds/linux-x64/rpmsg.glibc.node', 'scripts/install-native.js', 'contrib/wireshark/rpmsg.lua']) {
    assert.ok(files.includes(need), `${need} is packed`);
  }
  // scripts/prebuilds.js cross-compiles linux-arm64 where Debian's cross compiler is installed (CI installs it).
  if (spawnSync('sh', ['-c', 'command -v aarch64-linux-gnu-gcc']).status === 0) {
    assert.ok(files.includes('prebuilds/linux-arm64/rpmsg.glibc.node'), 'the linux-arm64 prebuilt binary is packed');
  } else {
    t.diagnostic('no aarch64-linux-gnu-gcc here: no linux-arm64 prebuilt binary in this tarball');
  }
  const allowed = /^(LICENSE|README\.md|CHANGELOG\.md|package\.json|binding\.gyp|bin\/[\w-]+\.js|dist\/(src|samples)\/.+\.(js|d\.ts)|native\/[\w-]+\.[ch]|prebuilds\/[\w-]+\/[\w.+-]+\.node|scripts\/install-native\.js|docs\/[\w-]+\.md|contrib\/wireshark\/[\w-]+\.lua)$/;
  assert.deepEqual(files.filter((f) => !allowed.test(f)), [], 'nothing else is packed (no tests, bench, CI, sources, maps)');

  // publint on the tarball itself, strict (warnings count).
  const { publint } = await import('publint');
  const { formatMessage } = await import('publint/utils');
  const buf = readFileSync(tarball);
  const lint = await publint({ pack: { tarball: buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length) }, strict: true });
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Record<string, unknown>;
  assert.deepEqual(lint.messages.map((m) => `${m.type}: ${formatMessage(m, pkg) ?? m.code}`), []);

  // A user's project; no C compiler (CC=false makes any build fail).
  const app = join(work, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  const noCc = { CC: 'false', CXX: 'false' };
  ok(run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball], app, noCc), 'npm install <tarball>');
  assert.ok(!existsSync(join(app, 'node_modules', 'rpmsg', 'build')), 'nothing was compiled: the prebuilt binary loaded');

  // The README's examples, as shown there: every `// <name>.mjs` block runs (exit 0), the two
  // that print check their output, and all are type-checked against the installed declarations.
  const example = readmeFiles();
  const expected: Record<string, RegExp> = { 'host.mjs': /^upper from 0x[0-9a-f]+: HELLO\n$/, 'stream.mjs': /^ONE\nTWO\nTHREE\n$/ };
  assert.ok(example.has('host.mjs') && example.has('firmware.mjs'), 'the README example is there');
  for (const [name, text] of example) writeFileSync(join(app, name), text);
  for (const name of example.keys()) {
    const out = ok(run(process.execPath, [name], app), `node ${name}`);
    if (expected[name] !== undefined) assert.match(out, expected[name], name);
  }
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const types = ['--typeRoots', join(root, 'node_modules', '@types'), '--types', 'node'];
  const check = ['--noEmit', '--skipLibCheck', '--allowJs', '--checkJs', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', ...types];
  ok(run(process.execPath, [tsc, ...check, ...example.keys()], app), 'tsc --checkJs on the README examples');

  // npx rpmsg demo: the first run does no build of any kind.
  const t0 = performance.now();
  const demo = ok(run('npx', ['rpmsg', 'demo', '--remotes', '1', '--count', '3'], app, noCc), 'npx rpmsg demo');
  t.diagnostic(`first npx rpmsg demo: ${(performance.now() - t0).toFixed(0)} ms`);
  assert.match(demo, /rproc0: goodbye!/);
  assert.match(demo, /total: 3 messages from 1 remotes/);

  // The prebuilt addon at work: rpmsg remote and rpmsg host over a mapped file.
  const paths = ['--shm', join(work, 'shm'), '--socket', join(work, 'sock')];
  const bin = join(app, 'node_modules', '.bin', 'rpmsg');
  const remote = spawn(bin, ['remote', '--once', ...paths], { cwd: app, env: userEnv(), stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => remote.kill('SIGKILL'));
  let log = '';
  remote.stdout.on('data', (d: Buffer) => (log += d.toString()));
  const remoteExit = new Promise<number | null>((r) => remote.once('close', r));
  await until(() => log.includes('serving'), 60_000);
  assert.match(ok(run(bin, ['host', ...paths], app), 'rpmsg host'), /480 messages, 0 errors/);
  assert.equal(await remoteExit, 0);

  // No prebuilt binary for this machine and no compiler: the build fails, the install does not.
  rmSync(join(app, 'node_modules', 'rpmsg', 'prebuilds'), { recursive: true });
  ok(run('npm', ['rebuild', 'rpmsg', '--foreground-scripts'], app, noCc), 'npm rebuild rpmsg without a compiler');
  assert.match(ok(run(bin, ['demo', '--remotes', '1', '--count', '2'], app), 'rpmsg demo without the addon'), /total: 2 messages/);
  const noAddon = run(bin, ['remote', '--once', ...paths], app);
  assert.equal(noAddon.status, 1);
  assert.match(noAddon.stderr, /native addon rpmsg_native is not available.*Install a C compiler, make and python3.*npm rebuild rpmsg.*\[ENXIO\]/);
});
