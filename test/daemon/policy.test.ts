/** Policy file: validation, rule matching, channel patterns, the token bucket. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TokenBucket, channelAllowed, findRule, parsePolicy } from '../../src/daemon/policy.js';

const who = (uid?: number, gid?: number, token?: string) => ({ uid, gid, pid: 1, token });

describe('daemon policy', () => {
  it('parses a full rule with defaults', () => {
    const p = parsePolicy({
      version: 1,
      socketMode: '0660',
      clients: [{ name: 'app', match: { uid: 1000 }, channels: ['rpmsg-*'], rate: { messagesPerSecond: 10 } }],
    });
    assert.equal(p.socketMode, 0o660);
    const r = p.clients[0]!;
    assert.deepEqual([r.send, r.receive, r.offchannel, r.control, r.maxEndpoints], [true, true, false, false, 16]);
    assert.deepEqual(r.rate, { messagesPerSecond: 10, burst: 10 });
  });

  it('rejects bad documents with EINVAL naming the key', () => {
    const bad: unknown[] = [
      null,
      { version: 2, clients: [] },
      { version: 1, clients: [] },
      { version: 1, clients: [{ match: {}, channels: ['a'], extra: 1 }] },
      { version: 1, clients: [{ match: { user: 'x' }, channels: ['a'] }] },
      { version: 1, clients: [{ match: {}, channels: 'a' }] },
      { version: 1, clients: [{ match: {}, channels: ['a b'] }] },
      { version: 1, clients: [{ match: {}, channels: ['a'], rate: { messagesPerSecond: 0 } }] },
      { version: 1, clients: [{ match: { token: 'short' }, channels: ['a'] }] },
      { version: 1, socketMode: '777', clients: [{ match: {}, channels: ['a'] }], x: 1 },
      { version: 1, socketMode: 'rw', clients: [{ match: {}, channels: ['a'] }] },
    ];
    for (const d of bad) assert.throws(() => parsePolicy(d), { code: 'EINVAL' }, JSON.stringify(d));
    assert.throws(() => parsePolicy({ version: 1, clients: [{ match: {}, channels: ['a'], send: 'yes' }] }), /clients\[0\]\.send/);
  });

  it('first matching rule wins; uid, gid and token all must hold', () => {
    const p = parsePolicy({
      version: 1,
      clients: [
        { name: 'tok', match: { token: 'a-long-enough-secret' }, channels: ['x'] },
        { name: 'u1000', match: { uid: 1000, gid: 100 }, channels: ['y'] },
        { name: 'root', match: { uid: 0 }, channels: ['*'] },
      ],
    });
    assert.equal(findRule(p, who(1000, 100, 'a-long-enough-secret'))?.name, 'tok');
    assert.equal(findRule(p, who(1000, 100))?.name, 'u1000');
    assert.equal(findRule(p, who(1000, 101)), undefined);
    assert.equal(findRule(p, who(0, 0, 'wrong-secret-xxxxxxxx'))?.name, 'root');
    assert.equal(findRule(p, who(undefined, undefined)), undefined);
  });

  it('channel names and patterns', () => {
    const r = parsePolicy({ version: 1, clients: [{ match: {}, channels: ['exact', 'rpmsg-*', 'a?c', 'dot.x'] }] }).clients[0]!;
    for (const n of ['exact', 'rpmsg-openamp-demo-channel', 'rpmsg-', 'abc', 'dot.x']) assert.ok(channelAllowed(r, n), n);
    for (const n of ['exac', 'xrpmsg-a', 'ac', 'abbc', 'dotxx', 'dotax']) assert.ok(!channelAllowed(r, n), n);
  });

  it('token bucket: burst, then the rate', () => {
    const b = new TokenBucket(100, 5, 0);
    let ok = 0;
    for (let i = 0; i < 20; i++) if (b.take(0) === 0) ok++;
    assert.equal(ok, 5);
    assert.equal(b.take(0), 10);
    assert.equal(b.take(10), 0); // one token back after 10 ms at 100/s
    assert.ok(b.take(10) > 0);
    let later = 0;
    for (let i = 0; i < 100; i++) if (b.take(1010) === 0) later++;
    assert.equal(later, 5); // capped at burst
  });
});
