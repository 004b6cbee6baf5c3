/**
 * Entry of a worker thread running a remote processor. The host set up the memory (resource
 * table, rings, DRIVER_OK) before starting it; the remote serves it, and starts over after
 * each reset (remote-runtime.ts serveRemote). Messages from the host: {type: 'stop'}.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Region } from '../memory/region.js';
import { AtomicsDoorbell, CTRL_REMOTE_STATE, CTRL_WORDS } from './atomics-doorbell.js';
import type { MemoryLayout } from './layout.js';
import type { PollLoopOptions } from './poll-loop.js';
import { describeError } from '../errors.js';
import { isReset, runFirmware, serveRemote } from './remote-runtime.js';

export interface WorkerBootData {
  name: string;
  sab: SharedArrayBuffer;
  layout: MemoryLayout;
  firmware: string;
  options: Record<string, unknown>;
  poll: PollLoopOptions;
}

const data = workerData as WorkerBootData;
const port = parentPort!;
const region = new Region(data.sab);
const ctrl = new Int32Array(data.sab, data.layout.control!, CTRL_WORDS);
const bell = new AtomicsDoorbell(ctrl, 'remote');
const stop = new AbortController();
let ready = false;

port.on('message', (m: { type?: string }) => {
  if (m.type === 'stop') stop.abort();
});
await serveRemote({
  name: data.name,
  region,
  layout: data.layout,
  bell,
  notify: () => bell.kick(),
  options: data.options,
  log: (line) => port.postMessage({ type: 'log', line }),
  poll: data.poll,
  run: (ctx) => runFirmware(data.firmware, ctx),
  signal: stop.signal,
  stop: 'close',
  bootTimeoutMs: 10_000,
  // A violation this side saw: reported at once on the host's console (the host sees EPROTO).
  onDown: (reason) => {
    if (!stop.signal.aborted && !isReset(reason)) port.postMessage({ type: 'log', line: `link down: ${describeError(reason)}` });
  },
  onUp: () => {
    Atomics.store(ctrl, CTRL_REMOTE_STATE, 1);
    if (!ready) port.postMessage({ type: 'ready' });
    ready = true;
  },
});
Atomics.store(ctrl, CTRL_REMOTE_STATE, 2);
port.postMessage({ type: 'stopped' });
port.close();
