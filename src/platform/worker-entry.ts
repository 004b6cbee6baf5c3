/**
 * Entry of a worker thread running a remote processor. The host set up the memory (resource
 * table, rings, DRIVER_OK) before starting it; messages from the host: {type: 'stop'}.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Region } from '../memory/region.js';
import { bootRemote, runFirmware, waitDriverOk } from './remote-runtime.js';
import { AtomicsDoorbell, CTRL_REMOTE_STATE, CTRL_WORDS } from './atomics-doorbell.js';
import { PollLoop, type PollLoopOptions } from './poll-loop.js';
import type { MemoryLayout } from './layout.js';

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

await waitDriverOk(region, data.layout, 10_000);
const rt = bootRemote({
  name: data.name,
  region,
  layout: data.layout,
  notify: () => bell.kick(),
  options: data.options,
  log: (line) => port.postMessage({ type: 'log', line }),
});
const loop = new PollLoop(rt.transport, bell, data.poll);
loop.start();
Atomics.store(ctrl, CTRL_REMOTE_STATE, 1);
port.on('message', (m: { type?: string }) => {
  if (m.type !== 'stop') return;
  void rt.runStopHandlers().finally(() => {
    loop.stop();
    Atomics.store(ctrl, CTRL_REMOTE_STATE, 2);
    rt.transport.close();
    port.postMessage({ type: 'stopped' });
    port.close();
  });
});
await runFirmware(data.firmware, rt.ctx);
port.postMessage({ type: 'ready' });
