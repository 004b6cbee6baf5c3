/**
 * The live view's page: one document with its CSS, script and SVG inline (no external asset,
 * works offline). Names shown come from peers (service names): the script only ever sets
 * textContent, never HTML.
 */
export const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>__TITLE__</title>
<link rel="icon" href="data:,">
<style>
:root { --bg:#0f1419; --panel:#182028; --fg:#d7dde3; --dim:#7d8a96; --tx:#4fb3ff; --rx:#ffb347; --bad:#ff5c5c; --ok:#5cd65c; }
* { box-sizing: border-box; }
body { margin:0; font:13px/1.4 ui-monospace, Menlo, Consolas, monospace; background:var(--bg); color:var(--fg); }
header { display:flex; gap:16px; align-items:baseline; padding:10px 16px; border-bottom:1px solid #26313b; }
header h1 { font-size:16px; margin:0; }
#status.live { color:var(--ok); } #status.down { color:var(--bad); }
main { display:grid; grid-template-columns: minmax(420px, 1fr) minmax(420px, 1fr); gap:12px; padding:12px 16px; }
section { background:var(--panel); border-radius:6px; padding:10px 12px; min-width:0; }
section h2 { font-size:12px; text-transform:uppercase; letter-spacing:.08em; color:var(--dim); margin:0 0 8px; }
table { border-collapse:collapse; width:100%; }
th, td { text-align:right; padding:2px 6px; white-space:nowrap; }
th:first-child, td:first-child { text-align:left; }
th { color:var(--dim); font-weight:normal; }
.up { color:var(--ok); } .down { color:var(--bad); }
.tx { color:var(--tx); } .rx { color:var(--rx); }
ul { margin:2px 0 8px; padding-left:18px; }
.bar { position:relative; height:16px; background:#0c1116; border-radius:3px; margin:3px 0 7px; overflow:hidden; }
.fill { position:absolute; left:0; top:0; bottom:0; background:linear-gradient(90deg, #2f7dbd, #4fb3ff); }
.bar span { position:relative; padding-left:6px; font-size:11px; }
svg text { fill:var(--fg); font:11px ui-monospace, monospace; }
#sequence-panel { grid-column: 1 / span 2; }
.wide { grid-column: 1 / span 2; }
</style></head>
<body>
<header><h1>__TITLE__</h1><span id="status" class="down">connecting</span><span id="clock"></span><span id="total"></span></header>
<main>
<section id="remotes-panel" class="wide"><h2>Remotes</h2>
<table id="links"><thead><tr><th>link</th><th>role</th><th>state</th><th>mtu</th><th>tx msgs</th><th>rx msgs</th><th>tx bytes</th><th>rx bytes</th><th>drops</th><th>waits</th><th>violations</th></tr></thead><tbody></tbody></table>
</section>
<section id="rates-panel"><h2>Messages per second</h2>
<svg id="rates" viewBox="0 0 480 180" width="100%" height="180" preserveAspectRatio="none"></svg>
<div id="legend"></div>
</section>
<section id="vrings-panel"><h2>Vring occupancy</h2><div id="vrings"></div></section>
<section id="topology-panel" class="wide"><h2>Channels and endpoints</h2><div id="topology"></div></section>
<section id="sequence-panel"><h2>Recent messages</h2><svg id="sequence" width="100%" height="360"></svg></section>
</main>
<script>
"use strict";
const NS = 'http://www.w3.org/2000/svg';
const COLORS = ['#4fb3ff', '#ffb347', '#b48cff', '#5cd65c', '#ff7eb6', '#e6db74'];
const hex = (v) => '0x' + (v >>> 0).toString(16);
const el = (tag, attrs, text) => { const e = document.createElement(tag); for (const k in attrs || {}) e.setAttribute(k, attrs[k]); if (text !== undefined) e.textContent = String(text); return e; };
const sv = (tag, attrs, text) => { const e = document.createElementNS(NS, tag); for (const k in attrs || {}) e.setAttribute(k, attrs[k]); if (text !== undefined) e.textContent = String(text); return e; };
const history = new Map(); // link -> [{t, rate}]
const prev = new Map();    // link -> {t, n}
let recent = [];
let total = 0;

function linkRows(links) {
  const body = document.querySelector('#links tbody');
  body.replaceChildren();
  for (const l of links) {
    const drops = l.rxDroppedNoEndpoint + l.rxInvalid;
    const tr = el('tr', { 'data-link': l.name });
    tr.append(el('td', {}, l.name), el('td', {}, l.role), el('td', { class: l.up ? 'up' : 'down' }, l.up ? 'up' : 'down'),
      el('td', {}, l.mtu === undefined ? '' : l.mtu), el('td', { class: 'tx tx-msgs' }, l.txMessages), el('td', { class: 'rx rx-msgs' }, l.rxMessages),
      el('td', { class: 'tx' }, l.txBytes), el('td', { class: 'rx' }, l.rxBytes), el('td', { class: drops ? 'down' : '' }, drops),
      el('td', {}, l.waits), el('td', { class: l.violations.length ? 'down' : '' }, l.violations.length));
    body.append(tr);
  }
}

function topology(links) {
  const root = document.getElementById('topology');
  root.replaceChildren();
  for (const l of links) {
    const box = el('div', { class: 'link', 'data-link': l.name });
    box.append(el('strong', {}, l.name + ' (' + l.role + ')'));
    const ch = el('ul', { class: 'channels' });
    for (const c of l.channels) ch.append(el('li', {}, 'channel ' + c.name + ': ' + hex(c.src) + ' -> ' + hex(c.dst) + (c.driver ? ' [' + c.driver + ']' : '')));
    const ep = el('ul', { class: 'endpoints' });
    for (const e of l.endpoints) if (!e.destroyed) ep.append(el('li', {}, 'endpoint ' + hex(e.addr) + (e.name ? ' ' + e.name : '') + ': tx ' + e.txMessages + ', rx ' + e.rxMessages));
    box.append(ch, ep);
    root.append(box);
  }
}

function vrings(links) {
  const root = document.getElementById('vrings');
  root.replaceChildren();
  for (const l of links) for (const v of l.vrings) {
    // vring1 holds the host's messages until the remote takes them; vring0 holds empty rx
    // buffers for the remote, so what is not with the remote is filled, waiting for the host.
    const h2r = v.name === 'vring1';
    const filled = h2r ? v.inFlight : Math.max(0, v.num - v.inFlight);
    const pct = v.num ? Math.min(100, (100 * filled) / v.num) : 0;
    const bar = el('div', { class: 'bar', 'data-vring': l.name + ':' + v.name });
    bar.append(el('div', { class: 'fill', style: 'width:' + pct.toFixed(1) + '%' }));
    const what = h2r ? ' h2r: ' + filled + '/' + v.num + ' not yet taken' : ' r2h: ' + filled + '/' + v.num + ' filled';
    bar.title = h2r ? 'host -> remote: messages the remote has not taken yet' : 'remote -> host: buffers not with the remote (filled, or being read by the host)';
    bar.append(el('span', {}, l.name + ' ' + v.name + what + '  (avail ' + v.availIdx + ', used ' + v.usedIdx + ')'));
    root.append(bar);
  }
}

function rates(state) {
  for (const l of state.links) {
    const n = l.txMessages + l.rxMessages;
    const p = prev.get(l.name);
    prev.set(l.name, { t: state.t, n });
    if (!p || state.t <= p.t) continue;
    const h = history.get(l.name) || [];
    h.push({ t: state.t, rate: ((n - p.n) * 1000) / (state.t - p.t) });
    while (h.length > 120) h.shift();
    history.set(l.name, h);
  }
  const svg = document.getElementById('rates');
  svg.replaceChildren();
  let max = 10;
  for (const h of history.values()) for (const s of h) max = Math.max(max, s.rate);
  const W = 480, H = 180, now = state.t, span = 30000;
  for (let i = 1; i <= 3; i++) svg.append(sv('line', { x1: 0, x2: W, y1: H - (H * i) / 4, y2: H - (H * i) / 4, stroke: '#26313b' }));
  svg.append(sv('text', { x: 4, y: 12 }, Math.round(max) + '/s'));
  const legend = document.getElementById('legend');
  legend.replaceChildren();
  let i = 0;
  for (const [name, h] of history) {
    const color = COLORS[i++ % COLORS.length];
    const pts = h.filter((s) => now - s.t <= span).map((s) => (W - ((now - s.t) / span) * W).toFixed(1) + ',' + (H - 2 - (s.rate / max) * (H - 16)).toFixed(1));
    if (pts.length) svg.append(sv('polyline', { points: pts.join(' '), fill: 'none', stroke: color, 'stroke-width': 2, 'data-link': name }));
    const last = h.length ? h[h.length - 1].rate : 0;
    legend.append(el('span', { style: 'color:' + color + ';margin-right:14px', class: 'rate', 'data-link': name }, name + ' ' + Math.round(last) + '/s'));
  }
}

function sequence(state) {
  recent = recent.concat(state.messages).slice(-18);
  const svg = document.getElementById('sequence');
  svg.replaceChildren();
  const names = state.links.map((l) => l.name);
  for (const m of recent) if (!names.includes(m.link)) names.push(m.link);
  const W = svg.clientWidth || 900, top = 30, row = 18;
  const xHost = 90;
  const xs = new Map(names.map((n, i) => [n, xHost + ((i + 1) * (W - xHost - 60)) / Math.max(1, names.length)]));
  svg.append(sv('text', { x: xHost - 14, y: 16 }, 'host'), sv('line', { x1: xHost, x2: xHost, y1: 22, y2: 350, stroke: '#3a4753' }));
  for (const [n, x] of xs) svg.append(sv('text', { x: x - 20, y: 16 }, n), sv('line', { x1: x, x2: x, y1: 22, y2: 350, stroke: '#3a4753' }));
  recent.forEach((m, i) => {
    const y = top + i * row, x = xs.get(m.link);
    const h2r = m.dir === 'h2r';
    const [x1, x2] = h2r ? [xHost, x] : [x, xHost];
    const color = m.drop ? '#ff5c5c' : h2r ? '#4fb3ff' : '#ffb347';
    const g = sv('g', { class: 'msg' });
    g.append(sv('line', { x1, x2: x2 + (h2r ? -6 : 6), y1: y, y2: y, stroke: color, 'stroke-width': 1.5 }));
    g.append(sv('polygon', { points: x2 + ',' + y + ' ' + (x2 + (h2r ? -7 : 7)) + ',' + (y - 4) + ' ' + (x2 + (h2r ? -7 : 7)) + ',' + (y + 4), fill: color }));
    const label = (m.ns ? 'NS ' : '') + hex(m.src) + ' -> ' + hex(m.dst) + ' len ' + m.len + (m.drop ? ' dropped: ' + m.drop : '');
    g.append(sv('text', { x: Math.min(x1, x2) + 10, y: y - 3 }, label));
    g.append(sv('text', { x: 4, y: y + 3, fill: '#7d8a96' }, new Date(m.t).toISOString().slice(17, 23)));
    svg.append(g);
  });
}

function render(state) {
  total = state.links.reduce((s, l) => s + l.txMessages + l.rxMessages, 0);
  document.getElementById('clock').textContent = new Date(state.t).toISOString().slice(11, 19) + ' UTC';
  document.getElementById('total').textContent = total + ' messages' + (state.unsampled ? ' (' + state.unsampled + ' not drawn)' : '');
  linkRows(state.links);
  topology(state.links);
  vrings(state.links);
  rates(state);
  sequence(state);
}

const es = new EventSource('/events');
es.addEventListener('state', (ev) => render(JSON.parse(ev.data)));
es.onopen = () => { const s = document.getElementById('status'); s.textContent = 'live'; s.className = 'live'; };
es.onerror = () => { const s = document.getElementById('status'); s.textContent = 'disconnected'; s.className = 'down'; };
</script>
</body></html>
`;
