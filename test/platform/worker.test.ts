/** Remote processors in worker threads: host on the main thread, firmware in workers. */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { RpmsgBus, RpmsgError, startWorkerRemote, type Channel, type RpmsgDriver } from '../../src/index.js';
import { firmwarePath, repoRoot, until } from '../helpers.js';

const ECHO = 'rpmsg-openamp-demo-channel';
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b.slice());
const faulty = join(repoRoot(), 'dist', 'test', 'fixtures', 'faulty-firmware.js');

function echoDriver(rx: Map<Channel, string[]>, log: string[] = []): RpmsgDriver {
  return {
    name: 'echo-client',
    idTable: [ECHO],
    probe: (ch) => {
      rx.set(ch, []);
      log.push(`probe ${ch.link.name}`);
    },
    remove: (ch) => void log.push(`remove ${ch.link.name}`),
    callback: (ch, data) => void rx.get(ch)?.push(dec(data)),
  };
}

describe('worker remotes', () => {
  it('two remotes at once, each its own link; messages echoed in order', async () => {
    const bus = new RpmsgBus();
    const rx = new Map<Channel, string[]>();
    bus.registerDriver(echoDriver(rx));
    const a = await startWorkerRemote(bus, { firmware: firmwarePath('echo'), name: 'a', log: () => {} });
    const b = await startWorkerRemote(bus, { firmware: firmwarePath('echo'), name: 'b', log: () => {} });
    try {
      await until(() => rx.size === 2);
      const chans = [...rx.keys()];
      assert.deepEqual(chans.map((c) => c.link.name).sort(), ['a', 'b']);
      for (let i = 0; i < 1000; i++) for (const ch of chans) await ch.send(enc(`${ch.link.name}${i}`));
      await until(() => chans.every((c) => rx.get(c)!.length === 1000));
      for (const ch of chans) assert.deepEqual(rx.get(ch), Array.from({ length: 1000 }, (_, i) => `${ch.link.name}${i}`));
    } finally {
      await a.close();
      await b.close();
    }
    assert.equal(bus.channels.length, 0);
  });

  it('a crashing remote is reported, its channel removed, its blocked sender rejected; restart brings it back', async () => {
    const bus = new RpmsgBus();
    const rx = new Map<Channel, string[]>();
    const log: string[] = [];
    bus.registerDriver(echoDriver(rx, log));
    const rp = await startWorkerRemote(bus, { firmware: faulty, name: 'f', host: { txBuffers: 2 }, log: () => {} });
    const crashed = once(rp, 'crash');
    await until(() => rx.size === 1);
    const ch = [...rx.keys()][0]!;
    await ch.send(enc('hold'));
    await ch.send(enc('crash'));
    const blocked = ch.send(enc('never'));
    const [err] = (await crashed) as [RpmsgError];
    assert.equal(err.code, 'ENODEV');
    await assert.rejects(blocked, { code: 'ENODEV' });
    assert.equal(rp.state, 'crashed');
    assert.deepEqual(log, ['probe f', 'remove f']);
    assert.equal(bus.channels.length, 0);

    rx.clear();
    await rp.restart();
    await until(() => rx.size === 1);
    const ch2 = [...rx.keys()][0]!;
    await ch2.send(enc('again'));
    await until(() => rx.get(ch2)!.length === 1);
    assert.deepEqual(rx.get(ch2), ['again']);
    await rp.close();
    assert.equal(rp.state, 'stopped');
  });

  it('a remote that exits is reported and the host keeps running', async () => {
    const bus = new RpmsgBus();
    const rx = new Map<Channel, string[]>();
    bus.registerDriver(echoDriver(rx));
    const rp = await startWorkerRemote(bus, { firmware: faulty, name: 'e', log: () => {} });
    const crashed = once(rp, 'crash');
    await until(() => rx.size === 1);
    await [...rx.keys()][0]!.send(enc('exit'));
    const [err] = (await crashed) as [RpmsgError];
    assert.match(err.message, /exited with code 3/);
    assert.equal(bus.channels.length, 0);
  });

  it('a graceful stop runs the firmware stop handlers', async () => {
    const bus = new RpmsgBus();
    const lines: string[] = [];
    const rp = await startWorkerRemote(bus, { firmware: faulty, name: 's', log: (l) => lines.push(l) });
    await until(() => bus.channels.length === 1);
    await rp.close();
    assert.deepEqual(lines, ['stopping']);
    assert.equal(bus.channels.length, 0);
  });
});
