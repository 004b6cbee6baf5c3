/**
 * Boots the UML kernel of ../shared/uml (or $RPMSG_UML_DIR) against this package's vhost-user
 * remote, runs shell commands in the guest (Node from the host's filesystem), and collects the
 * guest's console: lines "@@ <json>" are reports from test/rpmsg-char/guest.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { repoRoot } from '../helpers.js';

export function umlDir(): string {
  return process.env.RPMSG_UML_DIR ?? resolve(repoRoot(), '..', 'shared', 'uml');
}

/** Why the kernel tests cannot run here, or undefined when they can. */
export function skipReason(): string | undefined {
  const dir = umlDir();
  if (!existsSync(join(dir, 'linux')) || !existsSync(join(dir, 'umlutil'))) return `no UML kernel at ${dir} (../shared/uml or RPMSG_UML_DIR)`;
  if (!existsSync(join(repoRoot(), 'dist', 'src', 'platform', 'vhost-user-server.js'))) return 'no vhost-user back-end (src/platform/vhost-user-server.ts) in this build';
  if (!existsSync(join(repoRoot(), 'build', 'Release', 'rpmsg_native.node'))) return 'native addon not built';
  return undefined;
}

export interface GuestRun {
  /** Every console line of the guest. */
  lines: string[];
  /** Parsed "@@" reports. */
  reports: Record<string, unknown>[];
  remoteLog: string[];
  kernelExit: number | null;
  ms: number;
}

export interface GuestOptions {
  /** Shell lines run in the guest from the repository root, after mounting proc/sys/dev. */
  commands: string[];
  /** Firmware module for the remote (compiled .js path). */
  firmware: string;
  timeoutMs: number;
  /** Called for each "@@" report; `killRemote` ends the remote process (SIGKILL). */
  onReport?: (r: Record<string, unknown>, killRemote: () => void) => void;
}

export async function runGuest(o: GuestOptions): Promise<GuestRun> {
  const root = repoRoot();
  const dir = mkdtempSync(join(tmpdir(), 'rpmsg-uml-'));
  const sock = join(dir, 'vhost.sock');
  const init = join(dir, 'init.sh');
  writeFileSync(
    init,
    ['#!/bin/sh', `export PATH=${dirname(process.execPath)}:$PATH`, 'mount -t proc proc /proc', 'mount -t sysfs sysfs /sys', 'mount -t devtmpfs devtmpfs /dev 2>/dev/null', `cd ${root}`]
      .concat(o.commands)
      .concat([`exec ${join(umlDir(), 'umlutil')} poweroff`, ''])
      .join('\n'),
    { mode: 0o755 },
  );
  const t0 = Date.now();
  const remoteLog: string[] = [];
  const remote = spawn(process.execPath, [join(root, 'bin', 'rpmsg.js'), 'remote', '--vhost-user', sock, '--firmware', o.firmware], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const collect = (p: ChildProcess, out: string[]): void => {
    for (const s of [p.stdout, p.stderr]) s?.on('data', (b: Buffer) => out.push(...b.toString().split('\n').filter((l) => l !== '')));
  };
  collect(remote, remoteLog);
  let kernel: ChildProcess | undefined;
  try {
    const deadline = Date.now() + 15_000;
    while (!existsSync(sock)) {
      if (remote.exitCode !== null || Date.now() > deadline) throw new Error(`vhost-user remote did not listen on ${sock}: ${remoteLog.join('\n')}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const lines: string[] = [];
    const reports: Record<string, unknown>[] = [];
    const killRemote = (): void => void remote.kill('SIGKILL');
    kernel = spawn(
      join(umlDir(), 'linux'),
      ['mem=256M', 'rootfstype=hostfs', 'rootflags=/', 'rw', `init=${init}`, `virtio_uml.device=${sock}:7`, 'con0=fd:0,fd:1', 'con=null', 'quiet'],
      { stdio: ['ignore', 'pipe', 'pipe'], cwd: dir },
    );
    let partial = '';
    kernel.stdout!.on('data', (b: Buffer) => {
      const parts = (partial + b.toString()).split('\n');
      partial = parts.pop()!;
      for (const raw of parts) {
        const line = raw.replace(/\r$/, '');
        lines.push(line);
        const at = line.indexOf('@@ ');
        if (at < 0) continue;
        try {
          const r = JSON.parse(line.slice(at + 3)) as Record<string, unknown>;
          reports.push(r);
          o.onReport?.(r, killRemote);
        } catch {
          // a report cut by kernel output: ignored (the test then misses it and fails)
        }
      }
    });
    kernel.stderr!.on('data', (b: Buffer) => lines.push(...b.toString().split('\n')));
    const kernelExit = await new Promise<number | null>((resolveExit) => {
      const timer = setTimeout(() => kernel!.kill('SIGKILL'), o.timeoutMs);
      kernel!.on('exit', (code) => {
        clearTimeout(timer);
        resolveExit(code);
      });
    });
    return { lines, reports, remoteLog, kernelExit, ms: Date.now() - t0 };
  } finally {
    kernel?.kill('SIGKILL');
    remote.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}
