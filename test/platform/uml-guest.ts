/**
 * Boots the User-Mode Linux kernel of ../shared/uml (or $RPMSG_UML_DIR) against a vhost-user
 * socket, with test/fixtures/uml-init.sh as PID 1, and collects its console. Asynchronous
 * (the back-end under test runs on this process's event loop), bounded by `timeout`.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { repoRoot } from '../helpers.js';

/** The UML directory, or undefined (with the reason) when it is absent. */
export function umlDir(): { dir: string } | { missing: string } {
  const dir = process.env.RPMSG_UML_DIR ?? resolve(repoRoot(), '..', 'shared', 'uml');
  for (const f of ['linux', 'umlutil', 'rpmsg_client_sample.ko']) {
    if (!existsSync(join(dir, f))) return { missing: `User-Mode Linux kernel not found (${join(dir, f)}); set RPMSG_UML_DIR` };
  }
  return { dir };
}

export interface GuestRun {
  /** Console output, ANSI colours removed. */
  output: string;
  /** The guest's kernel log as printed by the init script. */
  dmesg: string[];
  /** "@@" lines of the init script and its helpers. */
  marks: string[];
  code: number | null;
  ms: number;
}

export function bootGuest(dir: string, socket: string, task: string, arg = '', timeoutS = 120): Promise<GuestRun> {
  const fixtures = join(repoRoot(), 'test', 'fixtures');
  const args = [
    '-k', '5', String(timeoutS), join(dir, 'linux'),
    'mem=256M', 'rootfstype=hostfs', 'rootflags=/', 'rw',
    `init=${join(fixtures, 'uml-init.sh')}`,
    `virtio_uml.device=${socket}:7`,
    'con0=fd:0,fd:1', 'con=null',
    `UML_DIR=${dir}`, `UML_TASK=${task}`, `UML_ARG=${arg}`, `UML_SCRIPT=${fixtures}`,
  ];
  const t0 = Date.now();
  return new Promise((resolvePromise, reject) => {
    const p = spawn('timeout', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (out += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => {
      // eslint-disable-next-line no-control-regex
      const output = out.replace(/\x1b\[[0-9;]*m/g, '').replace(/\r/g, '');
      const lines = output.split('\n');
      const b = lines.indexOf('@@dmesg-begin');
      const e = lines.indexOf('@@dmesg-end');
      resolvePromise({
        output,
        dmesg: b >= 0 && e > b ? lines.slice(b + 1, e) : [],
        marks: lines.filter((l) => l.startsWith('@@')),
        code,
        ms: Date.now() - t0,
      });
    });
  });
}
