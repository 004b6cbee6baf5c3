/**
 * Benchmark firmware (remote role). Fixed addresses, no announcements:
 *   0x500 sink: counts messages; 0x502 echo; 0x501 control, 16-byte commands [cmd, n, size, dst]:
 *     1 EXPECT n        → reply when the sinks have counted n messages
 *     2 SEND n size dst → send n messages of `size` bytes to dst, reply when all are out
 *     3 SENDZC n size dst → the same with the zero-copy API
 *     4 OPEN n          → open n more sink endpoints at 0x1000.., reply
 *     5 HEAP gc         → reply with this side's heap in use (after a GC when gc is 1 and
 *                         the process runs with --expose-gc)
 * Replies go to the control message's source: [cmd, count].
 */
import { defineFirmware, type Endpoint } from '../src/index.js';

export default defineFirmware((ctx) => {
  let count = 0;
  let expect = -1;
  let ctlSrc = 0;
  const reply = new Uint8Array(8);
  const replyView = new DataView(reply.buffer);
  const sendReply = (cmd: number, n: number): void => {
    replyView.setUint32(0, cmd, true);
    replyView.setUint32(4, n, true);
    void ctl.sendTo(reply, ctlSrc).catch(() => {});
  };
  const sink = (): void => {
    if (++count === expect) {
      expect = -1;
      sendReply(1, count);
    }
  };
  ctx.createEndpoint(sink, { addr: 0x500, announce: false });
  const sinks: Endpoint[] = [];
  ctx.createEndpoint(
    (ep, data, src) => {
      if (ep.poll()) ep.trySendTo(data, src);
      else void ep.sendTo(data.slice(), src).catch(() => {});
    },
    { addr: 0x502, announce: false },
  );
  const ctl: Endpoint = ctx.createEndpoint(
    (_o, data, src) => {
      const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
      const cmd = dv.getUint32(0, true);
      const n = dv.getUint32(4, true);
      const size = dv.getUint32(8, true);
      const dst = dv.getUint32(12, true);
      ctlSrc = src;
      if (cmd === 1) {
        count = 0;
        expect = n;
        if (n === 0) sendReply(1, 0);
      } else if (cmd === 2 || cmd === 3) {
        const payload = new Uint8Array(size).fill(0x5a);
        let sent = 0;
        const zc = cmd === 3;
        const pump = (): void => {
          try {
            while (sent < n) {
              if (zc) {
                const b = ctl.tryGetTxPayloadBuffer();
                b.data[0] = 0x5a;
                ctl.sendNocopyTo(b, size, dst);
              } else {
                ctl.trySendTo(payload, dst);
              }
              sent++;
            }
            sendReply(cmd, sent);
          } catch {
            ctl.waitWritable().then(pump, () => {});
          }
        };
        pump();
      } else if (cmd === 4) {
        for (let i = 0; i < n; i++) sinks.push(ctx.createEndpoint(sink, { addr: 0x1000 + sinks.length, announce: false }));
        sendReply(4, sinks.length);
      } else if (cmd === 5) {
        const collect = (globalThis as { gc?: () => void }).gc;
        if (n === 1 && collect !== undefined) collect();
        sendReply(5, process.memoryUsage().heapUsed);
      }
    },
    { addr: 0x501, announce: false },
  );
});
