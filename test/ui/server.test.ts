/**
 * The live view end to end: `rpmsg demo --ui` in a child process, the page opened in headless
 * Chromium (Debian's, driven by playwright-core): the elements are there, the counters move
 * while traffic flows, nothing is fetched from elsewhere, and a screenshot is saved.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Loopback } from '../../src/index.js';
import { startUi, type UiState } from '../../src/ui/server.js';
import { repoRoot, until } from '../helpers.js';

const CHROMIUM = process.env.RPMSG_CHROMIUM ?? '/usr/bin/chromium';
const cli = join(repoRoot(), 'bin', 'rpmsg.js');

describe('live view', () => {
  it('serves the page, the state and an event stream on 127.0.0.1 only', async () => {
    const lb = new Loopback();
    const ui = await startUi({ bus: lb.host.bus, intervalMs: 50 });
    try {
      assert.match(ui.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
      const page = await fetch(ui.url);
      assert.equal(page.status, 200);
      const html = await page.text();
      assert.ok(!/(src|href)=["']https?:/i.test(html), 'no external asset');
      assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'self'/);
      const ept = lb.remote.link.createEndpoint(() => {}, { name: 'svc' });
      await until(() => lb.host.bus.channels.length === 1);
      const ch = lb.host.bus.channels[0]!;
      const hostEpt = lb.host.link.createEndpoint(() => {}, { dst: ept.addr });
      for (let i = 0; i < 5; i++) hostEpt.trySend(new Uint8Array(8));
      await until(() => (ui.state().links[0]?.txMessages ?? 0) >= 5);
      const s: UiState = await (await fetch(new URL('/state', ui.url))).json() as UiState;
      assert.equal(s.links[0]!.name, lb.host.link.name);
      assert.ok(s.links[0]!.vrings.length === 2);
      assert.ok(s.links[0]!.channels.some((c) => c.name === ch.name));
      const ctl = new AbortController();
      const res = await fetch(new URL('/events', ui.url), { signal: ctl.signal });
      assert.equal(res.headers.get('content-type'), 'text/event-stream');
      const reader = res.body!.getReader();
      const { value } = await reader.read();
      assert.match(Buffer.from(value!).toString(), /^retry: 1000\nevent: state\ndata: \{/);
      ctl.abort();
      assert.equal((await fetch(new URL('/nope', ui.url))).status, 404);
    } finally {
      await ui.close();
      lb.close();
    }
  });

  it('shows remotes, channels, rates, vrings and a sequence diagram in headless Chromium', async (t) => {
    if (!existsSync(CHROMIUM)) {
      if (process.env.CI) assert.fail(`${CHROMIUM} is missing in CI (.ci/run installs chromium)`);
      t.skip(`no ${CHROMIUM} (apt-get install chromium)`);
      return;
    }
    const { chromium } = await import('playwright-core');
    const demo = spawn(process.execPath, [cli, 'demo', '--ui', '--remotes', '2', '--count', '20', '--rate', '100'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    demo.stdout.on('data', (d: Buffer) => (out += d.toString()));
    demo.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = once(demo, 'exit');
    const profile = mkdtempSync(join(tmpdir(), 'rpmsg-chromium-'));
    let browser: Awaited<ReturnType<typeof chromium.launchPersistentContext>> | undefined;
    try {
      await until(() => /live view: (http:\/\/127\.0\.0\.1:\d+\/)/.test(out), 30_000);
      const url = /live view: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out)![1]!;
      browser = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        headless: true,
        viewport: { width: 1200, height: 900 },
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      });
      const page = browser.pages()[0] ?? (await browser.newPage());
      const foreign: string[] = [];
      page.on('request', (r) => {
        if (!r.url().startsWith(url) && !r.url().startsWith('data:')) foreign.push(r.url());
      });
      await page.goto(url);
      await page.waitForFunction("document.getElementById('status').textContent === 'live'", undefined, { timeout: 20_000 });
      await page.waitForFunction("document.querySelectorAll('#links tbody tr').length === 2", undefined, { timeout: 30_000 });
      const tx = async (): Promise<number> => Number(await page.textContent('#links tbody tr[data-link="rproc0"] .tx-msgs'));
      // The sample's 20 messages, then paced traffic: the counter keeps moving.
      await page.waitForFunction(`Number(document.querySelector('#links tbody tr[data-link="rproc0"] .tx-msgs')?.textContent) > 20`, undefined, { timeout: 30_000 });
      const a = await tx();
      await page.waitForTimeout(1500);
      const b = await tx();
      assert.ok(b > a, `tx counter moved (${a} -> ${b})`);
      assert.match((await page.textContent('#topology')) ?? '', /channel rpmsg-client-sample: 0x400 -> 0x400 \[rpmsg_client_sample\]/);
      assert.equal(await page.locator('#vrings .bar').count(), 4);
      assert.ok((await page.locator('#rates polyline').count()) >= 1);
      assert.ok((await page.locator('#sequence g.msg').count()) >= 5);
      assert.match((await page.textContent('#legend')) ?? '', /rproc0 \d+\/s/);
      assert.deepEqual(foreign, []);
      const shot = process.env.RPMSG_UI_SCREENSHOT ?? join(profile, 'ui.png');
      await page.screenshot({ path: shot, fullPage: true });
      assert.ok(statSync(shot).size > 10_000);
    } finally {
      await browser?.close();
      demo.kill('SIGINT');
      const [code] = await exited;
      rmSync(profile, { recursive: true, force: true });
      assert.equal(code, 0, out);
    }
  });
});

describe('rpmsg serve --ui', () => {
  it('serves the daemon bus\'s live view', async () => {
    const sock = join(tmpdir(), `rpmsg-ui-${process.pid}.sock`);
    const serve = spawn(process.execPath, [cli, 'serve', '--ui', '--socket', sock, '--remotes', '2'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    serve.stdout.on('data', (d: Buffer) => (out += d.toString()));
    serve.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = once(serve, 'exit');
    try {
      await until(() => /live view: (http:\/\/127\.0\.0\.1:\d+\/)/.test(out) && out.includes('listening on'), 30_000);
      const url = /live view: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out)![1]!;
      let s: UiState | undefined;
      for (let i = 0; i < 100 && !(s !== undefined && s.links.length === 2 && s.links.every((l) => l.channels.length === 1)); i++) {
        s = (await (await fetch(new URL('/state', url))).json()) as UiState;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.deepEqual(s!.links.map((l) => [l.name, l.up, l.channels[0]?.name]), [['rproc0', true, 'rpmsg-openamp-demo-channel'], ['rproc1', true, 'rpmsg-openamp-demo-channel']]);
      assert.equal(s!.title, 'rpmsg serve');
    } finally {
      serve.kill('SIGINT');
      const [code] = await exited;
      rmSync(sock, { force: true });
      assert.equal(code, 0, out);
    }
  });
});
