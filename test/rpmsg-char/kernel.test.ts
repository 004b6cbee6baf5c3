/**
 * The kernel transport against the real Linux rpmsg stack: the UML guest's kernel is the host
 * (virtio_rpmsg_bus, rpmsg_char, rpmsg_ctrl, rpmsg_tty), this package's vhost-user back-end is
 * the remote, and Node in the guest drives the kernel's char devices. Skipped with the reason
 * where ../shared/uml or the vhost-user back-end is absent.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { join } from 'node:path';
import { repoRoot } from '../helpers.js';
import { runGuest, skipReason, type GuestRun } from './uml.js';

const reason = skipReason();
const firmware = join(repoRoot(), 'dist', 'test', 'fixtures', 'kernel-all-firmware.js');
const guest = 'node dist/test/rpmsg-char/guest.js';
const find = (run: GuestRun, key: string, value: string): Record<string, unknown> | undefined =>
  run.reports.find((r) => r[key] === value);

function explain(run: GuestRun): string {
  return `guest console:\n${run.lines.slice(-60).join('\n')}\nremote:\n${run.remoteLog.slice(-30).join('\n')}`;
}

describe('kernel transport: ping, driver, tty, host announcement (one boot)', () => {
  let run: GuestRun;
  before(async () => {
    if (reason !== undefined) return;
    run = await runGuest({
      firmware,
      timeoutMs: 240_000,
      commands: [
        'node bin/rpmsg.js host --kernel --timeout 60000; echo "@@ {\\"hostExit\\": $?}"',
        `${guest} driver`,
        `${guest} tty`,
        `${guest} announce`,
      ],
    });
    console.log(`# boot with 4 scenarios: ${run.ms} ms`);
  });

  test('rpmsg host --kernel: the ping test passes, every size 17..496, 0 errors', (t) => {
    if (reason !== undefined) return t.skip(reason);
    const exit = run.reports.find((r) => 'hostExit' in r);
    assert.ok(run.lines.some((l) => l.endsWith('480 messages, 0 errors')), explain(run));
    assert.equal(exit?.hostExit, 0, explain(run));
    const timing = run.lines.find((l) => l.includes('round trips'));
    if (timing !== undefined) console.log(`# ${timing.trim()}`);
  });

  test('a driver on a kernel-transport bus: probe, messages on its endpoint, remove on NS destroy', (t) => {
    if (reason !== undefined) return t.skip(reason);
    const r = find(run, 'result', 'driver');
    assert.ok(r !== undefined, explain(run));
    assert.equal(r.probed, 1);
    assert.deepEqual(r.got, ['one', 'two', 'three']);
    assert.equal(r.removed, 1);
    const probe = find(run, 'event', 'probe');
    assert.equal(probe?.name, 'rpmsg-kernel-test');
  });

  test('our tty service: /dev/ttyRPMSG0 carries bytes both ways, byte-exact, writes above one message', (t) => {
    if (reason !== undefined) return t.skip(reason);
    const r = find(run, 'result', 'tty');
    assert.ok(r !== undefined, explain(run));
    assert.equal(r.received, r.total);
    assert.equal(r.firstDiff, -1);
    assert.ok((r.sizes as number[]).some((n) => n > 496));
    console.log(`# tty: ${String(r.total)} bytes each way in ${String(r.ms)} ms`);
  });
  test('a channel the host announces (RPMSG_CREATE_DEV_IOCTL, fixed src): the remote probes, both directions, NS destroy on release', (t) => {
    if (reason !== undefined) return t.skip(reason);
    const r = find(run, 'result', 'announce');
    assert.ok(r !== undefined, explain(run));
    assert.deepEqual(r.got, ['hello from the remote', 'one', 'two']);
    assert.equal(r.duplicate, 'EADDRINUSE', 'the same channel twice is refused (the kernel says ENXIO)');
    assert.equal(r.removed, 1);
    assert.equal(r.channelsLeft, 0);
    const probe = find(run, 'event', 'announce-probe');
    assert.equal(probe?.src, 0x500);
    assert.equal(probe?.dst, 0x600);
    // The remote learnt of the channel only from the kernel's NS announcement (addr 0x500),
    // and of its end only from the kernel's NS destroy on release.
    assert.ok(run.remoteLog.some((l) => l.includes('announced probe name=rpmsg-raw dst=0x500')), explain(run));
    assert.ok(run.remoteLog.some((l) => l.includes('announced remove name=rpmsg-raw dst=0x500')), explain(run));
  });
});

describe('kernel transport: full ring and the remote going away (one boot)', () => {
  let run: GuestRun;
  before(async () => {
    if (reason !== undefined) return;
    run = await runGuest({
      firmware,
      timeoutMs: 240_000,
      commands: [`${guest} full`],
      onReport: (r, killRemote) => {
        if (r.mark === 'kill-remote') setTimeout(killRemote, 500);
      },
    });
    console.log(`# boot with the full-ring scenario: ${run.ms} ms`);
  });

  test('try-send into a full ring: ENOMEM at once; a blocking send completes when the remote drains', (t) => {
    if (reason !== undefined) return t.skip(reason);
    const r = find(run, 'result', 'full');
    assert.ok(r !== undefined, explain(run));
    assert.equal(r.code, 'ENOMEM');
    assert.ok((r.sent as number) >= 1 && (r.sent as number) <= 256, `sent ${String(r.sent)}`);
    assert.ok((r.refusalMs as number) < 50, `refusal took ${String(r.refusalMs)} ms`);
    assert.ok((r.blockedMs as number) >= 500, `blocking send returned after ${String(r.blockedMs)} ms`);
    assert.ok((r.ticks as number) >= 10, 'the event loop ran while the send waited');
    console.log(`# full ring after ${String(r.sent)} messages; blocking send waited ${String(r.blockedMs)} ms`);
  });

  test('the remote going away fails the waiting sender with ENODEV', (t) => {
    if (reason !== undefined) return t.skip(reason);
    const r = find(run, 'result', 'gone');
    assert.ok(r !== undefined, explain(run));
    assert.equal(r.outcome, 'ENODEV');
    assert.equal(r.linkUp, false);
  });
});
