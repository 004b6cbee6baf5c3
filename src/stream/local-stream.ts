/**
 * Streams over this process's own bus: a new endpoint on a link or channel
 * (`openEndpointStream`), or a channel's default endpoint through a driver
 * (`createStreamDriver`, as rpmsg_char binds "rpmsg-raw" channels).
 */
import { RpmsgBus } from '../rpmsg/bus.js';
import type { Channel } from '../rpmsg/channel.js';
import type { RpmsgDriver } from '../rpmsg/driver.js';
import type { Endpoint } from '../rpmsg/endpoint.js';
import { RpmsgLink } from '../rpmsg/link.js';
import { EndpointStream, type EndpointStreamOptions, type StreamPort } from './endpoint-stream.js';

export interface LocalStreamOptions extends EndpointStreamOptions {
  /** Local address (default: allocated). */
  addr?: number;
  /** Destination (default: the channel's; on a bare link, learned from the first message). */
  dst?: number;
  /** Service name of a new endpoint on a link. */
  name?: string;
  /** Hand received messages as held zero-copy buffers (ENXIO when the transport cannot hold). */
  zeroCopy?: boolean;
  /** Wait for a tx buffer per message, ms (default 15000). */
  sendTimeoutMs?: number;
}

function endpointPort(ept: Endpoint, timeout: number | undefined): StreamPort {
  return {
    send: (data, signal) => ept.send(data, { ...(timeout !== undefined ? { timeout } : {}), ...(signal !== undefined ? { signal } : {}) }),
    getMtu: () => ept.getMtu(),
    close: () => ept.destroy(),
  };
}

/**
 * A new endpoint on `target` (a channel: its dst by default; a link) as a stream. The stream
 * errors with EPIPE when the link goes down or the channel is removed.
 */
export function openEndpointStream(target: Channel | RpmsgLink, options: LocalStreamOptions = {}): EndpointStream {
  let stream: EndpointStream | undefined;
  let ept: Endpoint | undefined;
  const onRx = rxHandler(() => stream, () => ept, options.zeroCopy === true);
  const common = { ...(options.addr !== undefined ? { addr: options.addr } : {}), ...(options.dst !== undefined ? { dst: options.dst } : {}) };
  ept =
    target instanceof RpmsgLink
      ? target.createEndpoint(onRx, { ...common, ...(options.name !== undefined ? { name: options.name } : {}), announce: false })
      : target.createEndpoint(onRx, common);
  stream = new EndpointStream(endpointPort(ept, options.sendTimeoutMs), options);
  const link = target instanceof RpmsgLink ? target : target.link;
  const onDown = (e: unknown): void => stream?.gone('the remote processor is gone', e);
  link.once('down', onDown);
  const channel = target instanceof RpmsgLink ? undefined : target;
  const bus = link.bus instanceof RpmsgBus ? link.bus : undefined;
  const onRemoved = (c: Channel): void => {
    if (c === channel) stream?.gone(`channel ${c.name} was removed`);
  };
  if (channel !== undefined) bus?.on('channel-removed', onRemoved);
  stream.once('close', () => {
    link.off('down', onDown);
    bus?.off('channel-removed', onRemoved);
  });
  return stream;
}

type Rx = (owner: unknown, data: Uint8Array, src: number) => void;

function rxHandler(getStream: () => EndpointStream | undefined, getEpt: () => Endpoint | undefined, zeroCopy: boolean): Rx {
  if (!zeroCopy) return (_o, data, src) => getStream()?.deliver(data, src);
  return (_o, data, src) => {
    const s = getStream();
    const e = getEpt();
    if (s === undefined || e === undefined) return;
    const hold = e.holdRxBuffer(data);
    s.deliverHeld(hold.data, src, () => e.releaseRxBuffer(hold));
  };
}

export interface StreamDriverOptions extends EndpointStreamOptions {
  name: string;
  idTable: readonly string[];
  /** Called for each bound channel with a stream over its default endpoint. */
  onStream(stream: EndpointStream, channel: Channel): void;
  zeroCopy?: boolean;
  sendTimeoutMs?: number;
}

/**
 * A driver that gives each matching channel's default endpoint as a stream (Linux's
 * rpmsg_char binds channels the same way). When the channel goes, the stream errors with EPIPE.
 */
export function createStreamDriver(o: StreamDriverOptions): RpmsgDriver {
  const streams = new Map<Channel, EndpointStream>();
  const rx = rxHandlerFor(streams, o.zeroCopy === true);
  return {
    name: o.name,
    idTable: o.idTable,
    probe(ch) {
      const port: StreamPort = {
        send: (data, signal) =>
          ch.send(data, { ...(o.sendTimeoutMs !== undefined ? { timeout: o.sendTimeoutMs } : {}), ...(signal !== undefined ? { signal } : {}) }),
        getMtu: () => ch.getMtu(),
        close: () => ch.ept?.destroy(),
      };
      const s = new EndpointStream(port, o);
      streams.set(ch, s);
      s.once('close', () => streams.delete(ch));
      o.onStream(s, ch);
    },
    remove(ch) {
      streams.get(ch)?.gone(`channel ${ch.name} was removed`);
    },
    callback(ch, data, src) {
      rx(ch, data, src);
    },
  };
}

function rxHandlerFor(streams: Map<Channel, EndpointStream>, zeroCopy: boolean): (ch: Channel, data: Uint8Array, src: number) => void {
  return (ch, data, src) => {
    const s = streams.get(ch);
    if (s === undefined) return;
    if (!zeroCopy) return s.deliver(data, src);
    const hold = ch.holdRxBuffer(data);
    s.deliverHeld(hold.data, src, () => ch.releaseRxBuffer(hold));
  };
}
