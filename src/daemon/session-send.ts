/**
 * A session's send path: SEND checked against the rule (direction, address pair, size, rate),
 * then the blocking send into a tx buffer. At most `maxInflight` sends wait for tx buffers per
 * client; beyond that the daemon stops reading the socket, so a fast writer is slowed to the
 * remote's pace. `pace: true` sends over the rate wait for the limiter, in order.
 */
import { RpmsgError } from '../errors.js';
import { RPMSG_ADDR_ANY } from '../rpmsg/constants.js';
import type { DaemonContext } from './context.js';
import { TokenBucket, type ClientRule } from './policy.js';
import type { Frame } from './protocol.js';
import type { OpenEndpoint } from './session-endpoints.js';
import { asClientError, type ClientPort } from './session-port.js';

export class SessionSender {
  private readonly bucket: TokenBucket | undefined;
  private inflight = 0;
  private pacing = 0;
  private paceTail: Promise<void> = Promise.resolve();

  constructor(
    private readonly ctx: DaemonContext,
    private readonly port: ClientPort,
    private readonly rule: ClientRule,
  ) {
    if (rule.rate !== undefined) this.bucket = new TokenBucket(rule.rate.messagesPerSecond, rule.rate.burst);
  }

  send(f: Frame, o: OpenEndpoint): void {
    const rule = this.rule;
    if (!rule.send) throw new RpmsgError('EACCES', 'sending is not allowed by the policy');
    const src = (f.fields['src'] as number | undefined) ?? o.src;
    // An endpoint with no fixed peer learns it from the first message (OpenAMP), so its pair is ept.dst.
    const pairDst = o.dst === RPMSG_ADDR_ANY ? o.ept.dst : o.dst;
    const dst = (f.fields['dst'] as number | undefined) ?? pairDst;
    if ((src !== o.src || dst !== pairDst) && !rule.offchannel) {
      throw new RpmsgError('EACCES', 'sending outside the channel\'s address pair (offchannel) is not allowed by the policy');
    }
    if (f.payload.length > rule.maxMessageSize) {
      throw new RpmsgError('EMSGSIZE', `message of ${f.payload.length} bytes exceeds the policy's ${rule.maxMessageSize}`);
    }
    const bucket = this.bucket;
    if (f.fields['pace'] === true && bucket !== undefined && (this.pacing > 0 || bucket.peek() > 0)) {
      // Paced: wait for the limiter instead of failing, keeping this client's send order.
      const data = f.payload.slice();
      this.pacing++;
      this.inflightChanged(+1);
      this.paceTail = this.paceTail
        .then(async () => {
          for (let w = bucket.take(); w > 0 && !this.port.closed; w = bucket.take()) {
            this.ctx.counters.rateLimited++;
            await new Promise((r) => setTimeout(r, w));
          }
          if (!this.port.closed) this.transmit(f.id, o, src, dst, data);
        })
        .finally(() => {
          this.pacing--;
          this.inflightChanged(-1);
        });
      return;
    }
    const wait = bucket?.take() ?? 0;
    if (wait > 0) {
      this.ctx.counters.rateLimited++;
      return this.port.refuse(f.id, 'EAGAIN', 'over the rate limit', { retryAfterMs: wait });
    }
    this.transmit(f.id, o, src, dst, f.payload);
  }

  /** The frame's payload is a view of socket bytes; the link copies it into a tx buffer. */
  private transmit(id: number, o: OpenEndpoint, src: number, dst: number, data: Uint8Array): void {
    this.inflightChanged(+1);
    o.ept.sendOffchannel(src, dst, data, { timeout: this.ctx.limits.sendTimeoutMs }).then(
      () => this.port.reply(id),
      (e: unknown) => {
        const err = asClientError(e);
        this.port.refuse(id, err.code, err.message);
      },
    ).finally(() => this.inflightChanged(-1));
  }

  /** Stop reading a client whose sends pile up (its writes then wait in its own socket buffer). */
  private inflightChanged(delta: number): void {
    this.inflight += delta;
    if (this.port.closed) return;
    this.port.pauseReading(this.inflight >= this.ctx.limits.maxInflight);
  }
}
