/**
 * sysfs reading on a fake tree laid out as Linux 6.1 lays it out, including hostile entries
 * (missing, oversized, non-numeric attributes): they make the entry unusable, never a throw.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { RPMSG_ADDR_ANY } from '../../src/index.js';
import { ctrlParent, listCtrlEndpoints, listDevices, parseAddress, readEndpointDevice } from '../../src/rpmsg-char/sysfs.js';

const root = mkdtempSync(join(tmpdir(), 'rpmsg-sysfs-'));
after(() => rmSync(root, { recursive: true, force: true }));
const devices = join(root, 'bus', 'rpmsg', 'devices');
const cls = join(root, 'class', 'rpmsg');
const drivers = join(root, 'bus', 'rpmsg', 'drivers');

function device(dev: string, attrs: Record<string, string>, driver?: string, children: [string, string][] = []): void {
  const dir = join(devices, dev);
  mkdirSync(dir, { recursive: true });
  for (const [k, v] of Object.entries(attrs)) writeFileSync(join(dir, k), v);
  if (driver !== undefined) {
    mkdirSync(join(drivers, driver), { recursive: true });
    symlinkSync(join(drivers, driver), join(dir, 'driver'));
  }
  for (const [c, node] of children) mkdirSync(join(dir, c, node), { recursive: true });
}

mkdirSync(cls, { recursive: true });
device('virtio0.rpmsg_ns.53.53', { name: 'rpmsg_ns\n', src: '0x35\n', dst: '0x35\n', driver_override: '(null)\n' }, 'rpmsg_ns');
device('virtio0.rpmsg_ctrl.0.0', { name: 'rpmsg_ctrl\n', src: '0\n', dst: '0\n', driver_override: '(null)\n' }, 'rpmsg_ctrl', [['rpmsg', 'rpmsg_ctrl0']]);
device('virtio0.rpmsg-openamp-demo-channel.-1.1024', { name: 'rpmsg-openamp-demo-channel\n', src: '0xffffffff\n', dst: '0x400\n', driver_override: '(null)\n' });
device('virtio0.rpmsg-raw.-1.1025', { name: 'rpmsg-raw\n', src: '0x402\n', dst: '0x401\n', driver_override: '(null)\n' }, 'rpmsg_chrdev', [['rpmsg', 'rpmsg1']]);
device('virtio0.rpmsg-tty.-1.1027', { name: 'rpmsg-tty\n', src: '1028\n', dst: '1027\n', driver_override: 'rpmsg_tty\n' }, 'rpmsg_tty', [['tty', 'ttyRPMSG0']]);
device('virtio1.other.-1.1024', { name: 'other\n', src: '-1\n', dst: '1024\n' });
// hostile entries
device('virtio0.bad-dst.-1.x', { name: 'bad-dst\n', src: '-1\n', dst: 'lots\n' });
device('virtio0.huge.-1.1', { name: 'x'.repeat(5000), src: '-1\n', dst: '1\n' });
device('virtio0.noname.-1.1', { src: '-1\n', dst: '1\n' });
device('virtio0.big.-1.1', { name: 'big\n', src: '-1\n', dst: '99999999999\n' });
// the ctrl class device and one endpoint device made through it
mkdirSync(join(cls, 'rpmsg_ctrl0'), { recursive: true });
symlinkSync(join(devices, 'virtio0.rpmsg_ctrl.0.0'), join(cls, 'rpmsg_ctrl0', 'device'));
mkdirSync(join(cls, 'rpmsg_ctrl0', 'rpmsg2'), { recursive: true });
mkdirSync(join(cls, 'rpmsg2'), { recursive: true });
writeFileSync(join(cls, 'rpmsg2', 'name'), 'mine\n');
writeFileSync(join(cls, 'rpmsg2', 'src'), '1029\n');
writeFileSync(join(cls, 'rpmsg2', 'dst'), '-1\n');

test('addresses print as %d: -1 is ADDR_ANY; junk and out-of-range are rejected', () => {
  assert.equal(parseAddress('-1'), RPMSG_ADDR_ANY);
  assert.equal(parseAddress('53'), 53);
  assert.equal(parseAddress('4294967294'), 0xfffffffe);
  assert.equal(parseAddress('-2'), 0xfffffffe);
  assert.equal(parseAddress('0x400'), 0x400);
  assert.equal(parseAddress('0xffffffff'), RPMSG_ADDR_ANY);
  for (const bad of [undefined, '', 'x', '1.5', '99999999999', '0x', '0x123456789', '0xg', ' 1']) assert.equal(parseAddress(bad), undefined, String(bad));
});

test('devices: name, addresses, driver, override, char devices; hostile entries skipped', () => {
  const list = listDevices(devices);
  const byName = new Map(list.map((d) => [d.name, d]));
  assert.deepEqual(
    [...byName.keys()].sort(),
    ['other', 'rpmsg-openamp-demo-channel', 'rpmsg-raw', 'rpmsg-tty', 'rpmsg_ctrl', 'rpmsg_ns'],
  );
  const demo = byName.get('rpmsg-openamp-demo-channel')!;
  assert.equal(demo.parent, 'virtio0');
  assert.equal(demo.src, RPMSG_ADDR_ANY);
  assert.equal(demo.dst, 1024);
  assert.equal(demo.driver, undefined);
  assert.equal(demo.driverOverride, undefined);
  const raw = byName.get('rpmsg-raw')!;
  assert.equal(raw.driver, 'rpmsg_chrdev');
  assert.deepEqual(raw.chardevs, ['rpmsg1']);
  assert.equal(raw.src, 1026);
  const tty = byName.get('rpmsg-tty')!;
  assert.equal(tty.driverOverride, 'rpmsg_tty');
  assert.deepEqual(tty.chardevs, ['ttyRPMSG0']);
  assert.equal(byName.get('other')!.parent, 'virtio1');
});

test('the ctrl device names its remote processor and its endpoint devices', () => {
  assert.equal(ctrlParent('/dev/rpmsg_ctrl0', cls), 'virtio0');
  assert.equal(ctrlParent('/dev/rpmsg_ctrl7', cls), undefined);
  assert.deepEqual(listCtrlEndpoints('/dev/rpmsg_ctrl0', cls), ['rpmsg2']);
  assert.deepEqual(readEndpointDevice('rpmsg2', cls), { name: 'mine', src: 1029, dst: RPMSG_ADDR_ANY });
  assert.equal(readEndpointDevice('rpmsg9', cls), undefined);
});

test('a missing sysfs is an empty list, not an error', () => {
  assert.deepEqual(listDevices(join(root, 'nowhere')), []);
});
