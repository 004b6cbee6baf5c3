/**
 * The seed document's sample driver (Linux samples/rpmsg/rpmsg_client_sample.c), host side:
 * on probe it logs the channel and sends "hello world!"; every incoming message is logged with
 * its count and source, hex-dumped, and answered with "hello world!" until `count` (100)
 * messages have arrived; then it says goodbye and stops answering.
 */
import type { Channel, RpmsgDriver } from '../src/index.js';

export const SAMPLE_SERVICE = 'rpmsg-client-sample';
const MSG = new TextEncoder().encode('hello world!');

export interface SampleResult {
  channel: Channel;
  messages: number;
  bytes: number;
  elapsedMs: number;
}

export interface ClientSampleOptions {
  log?: (line: string) => void;
  /** Messages to receive before saying goodbye (default 100). */
  count?: number;
  /** Called once per channel after the goodbye. */
  onDone?: (result: SampleResult) => void;
}

/** print_hex_dump(DUMP_PREFIX_NONE, rowsize 16, groupsize 1, ascii) */
export function hexDump(data: Uint8Array): string[] {
  const lines: string[] = [];
  for (let i = 0; i < data.length; i += 16) {
    const row = data.subarray(i, Math.min(i + 16, data.length));
    const hex = [...row].map((b) => b.toString(16).padStart(2, '0')).join(' ');
    const ascii = [...row].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    lines.push(`${hex.padEnd(16 * 3 - 1)}  ${ascii}`);
  }
  return lines;
}

export function createClientSampleDriver(options: ClientSampleOptions = {}): RpmsgDriver {
  const log = options.log ?? ((line: string) => console.log(line));
  const count = options.count ?? 100;
  const state = new Map<Channel, { rx: number; bytes: number; start: number }>();
  const hex = (n: number): string => `0x${n.toString(16)}`;
  return {
    name: 'rpmsg_client_sample',
    idTable: [SAMPLE_SERVICE],
    probe(ch) {
      state.set(ch, { rx: 0, bytes: 0, start: performance.now() });
      log(`${ch.link.name}: new channel: ${hex(ch.src)} -> ${hex(ch.dst)}!`);
      return ch.send(MSG);
    },
    callback(ch, data, src) {
      const st = state.get(ch);
      if (st === undefined || st.rx >= count) return;
      st.rx++;
      st.bytes += data.length;
      log(`${ch.link.name}: incoming msg ${st.rx} (src: ${hex(src)})`);
      for (const line of hexDump(data)) log(`${ch.link.name}: ${line}`);
      if (st.rx >= count) {
        log(`${ch.link.name}: goodbye!`);
        options.onDone?.({ channel: ch, messages: st.rx, bytes: st.bytes, elapsedMs: performance.now() - st.start });
        return;
      }
      ch.send(MSG).catch((e: unknown) => log(`${ch.link.name}: rpmsg_send failed: ${String(e)}`));
    },
    remove(ch) {
      state.delete(ch);
      log(`${ch.link.name}: rpmsg sample client driver is removed`);
    },
  };
}
