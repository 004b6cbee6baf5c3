/**
 * The cost of observing: the same case with a subscriber on the message channels (each event
 * built and published, nothing done with it), and with traceBus (a record with a copy of the
 * header and payload per message). Without either the core publishes nothing.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { RPMSG_CHANNELS, traceBus, type RpmsgBus } from '../src/index.js';

export async function withSubscriber(fn: () => Promise<void>): Promise<void> {
  let events = 0;
  const h = (): void => void events++;
  subscribe(RPMSG_CHANNELS.send, h);
  subscribe(RPMSG_CHANNELS.receive, h);
  try {
    await fn();
  } finally {
    unsubscribe(RPMSG_CHANNELS.send, h);
    unsubscribe(RPMSG_CHANNELS.receive, h);
  }
  if (events === 0) throw new Error('the subscriber saw no event');
}

export async function withTrace(bus: RpmsgBus, fn: () => Promise<void>): Promise<void> {
  let bytes = 0;
  const trace = traceBus(bus, { write: (r) => void (bytes += r.wire.length) });
  try {
    await fn();
  } finally {
    await trace.close();
  }
  if (trace.count === 0 || bytes === 0) throw new Error('traceBus recorded nothing');
}
