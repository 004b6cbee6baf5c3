/**
 * The soak's traffic, shared by the host (soak.ts) and the remote firmware (soak-firmware.ts).
 *
 * A data message of length L (0 ≤ L ≤ MTU) is the 12-byte header — seq (u32 LE), tag (u32 LE:
 * the endpoint pair's generation), sum (u32 LE: FNV-1a of L and the body) — followed by a
 * pseudo-random body, the whole cut to L bytes. A receiver knows the next seq and its tag, so
 * it checks every message, even one shorter than the header (its bytes must be that prefix of
 * the expected header): a lost, repeated, reordered, misdelivered or corrupted message fails.
 * Markers are exactly 12 bytes with seq HELLO (the host's first message on a new pair: the
 * remote learns its address) or FIN (sum: how many data messages were accepted before it).
 *
 * The Sender mixes, at random: send() (up to WINDOW left pending), trySend() retried after
 * waitWritable() on ENOMEM, zero-copy (tryGetTxPayloadBuffer, else getTxPayloadBuffer, filled in
 * place, sendNocopy; now and then released unsent instead), and sends that are made to fail
 * (aborted at once, or timeout 0, whenever they would have to wait): a failed or unsent message
 * keeps its seq for the next one, so a receiver that got it would see a seq twice.
 */
import { RpmsgError, type TxBuffer } from '../src/index.js';

export const HDR = 12;
export const SEQ_HELLO = 0xfffffffe;
export const SEQ_FIN = 0xffffffff;
/** Sends left pending before the sender waits for the last of them. */
export const WINDOW = 32;

/** What a sender needs of a Channel (host) or an Endpoint (remote). */
export interface SendPort {
  send(data: Uint8Array, options?: { timeout?: number; signal?: AbortSignal }): Promise<void>;
  trySend(data: Uint8Array): void;
  waitWritable(): Promise<void>;
  poll(): boolean;
  getMtu(): number;
  tryGetTxPayloadBuffer(): TxBuffer;
  getTxPayloadBuffer(): Promise<TxBuffer>;
  sendNocopy(buffer: TxBuffer, len: number): void;
  releaseTxBuffer(buffer: TxBuffer): void;
}

/** xorshift32, never 0. */
export function prng(seed: number): () => number {
  let s = seed >>> 0 || 0x9e3779b9;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>>= 0);
  };
}

/** A seed for (run seed, generation, direction). */
export function mixSeed(seed: number, gen: number, dir: number): number {
  let h = Math.imul(seed ^ 0x85ebca6b, 0xc2b2ae35) ^ Math.imul(gen + 1, 0x27d4eb2f) ^ Math.imul(dir + 7, 0x165667b1);
  h ^= h >>> 15;
  return (Math.imul(h, 0x2c1b3c6d) >>> 0) || 1;
}

function put32(b: Uint8Array, o: number, v: number): void {
  b[o] = v & 0xff;
  b[o + 1] = (v >>> 8) & 0xff;
  b[o + 2] = (v >>> 16) & 0xff;
  b[o + 3] = v >>> 24;
}

function get32(b: Uint8Array, o: number): number {
  return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
}

function bodySum(b: Uint8Array, len: number): number {
  let h = (0x811c9dc5 ^ len) >>> 0;
  for (let i = HDR; i < len; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
  return h >>> 0;
}

const scratch = new Uint8Array(HDR);

/** Write data message `seq` of length `len` into `b` (len ≤ b.length). */
export function fillMessage(b: Uint8Array, len: number, seq: number, tag: number, rnd: () => number): void {
  let s = rnd();
  for (let i = HDR; i < len; i += 4) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    b[i] = s;
    if (i + 1 < len) b[i + 1] = s >>> 8;
    if (i + 2 < len) b[i + 2] = s >>> 16;
    if (i + 3 < len) b[i + 3] = s >>> 24;
  }
  if (len >= HDR) {
    put32(b, 0, seq);
    put32(b, 4, tag);
    put32(b, 8, bodySum(b, len));
  } else {
    put32(scratch, 0, seq);
    put32(scratch, 4, tag);
    put32(scratch, 8, bodySum(b, len));
    b.set(scratch.subarray(0, len));
  }
}

export function marker(seq: number, tag: number, value: number): Uint8Array {
  const b = new Uint8Array(HDR);
  put32(b, 0, seq);
  put32(b, 4, tag);
  put32(b, 8, value);
  return b;
}

/** Checks one direction of one endpoint pair. `fail` is called with the first problem. */
export class Receiver {
  /** Data messages received in order so far (= the next seq expected). */
  count = 0;
  bytes = 0;
  hello = false;
  /** The FIN's count, once received. */
  fin: number | undefined;

  constructor(
    readonly tag: number,
    private readonly fail: (why: string) => void,
  ) {}

  accept(b: Uint8Array): void {
    const len = b.length;
    if (len === HDR) {
      const seq = get32(b, 0);
      if (seq === SEQ_HELLO || seq === SEQ_FIN) {
        if (get32(b, 4) !== this.tag) return this.fail(`marker of tag ${get32(b, 4)} on pair ${this.tag}`);
        if (seq === SEQ_HELLO) {
          if (this.hello) return this.fail(`pair ${this.tag}: second HELLO`);
          this.hello = true;
        } else {
          if (this.fin !== undefined) return this.fail(`pair ${this.tag}: second FIN`);
          this.fin = get32(b, 8);
          if (this.fin !== this.count) return this.fail(`pair ${this.tag}: FIN says ${this.fin} messages, ${this.count} arrived`);
        }
        return;
      }
    }
    if (this.fin !== undefined) return this.fail(`pair ${this.tag}: data after FIN`);
    if (len >= HDR) {
      const seq = get32(b, 0);
      if (seq !== this.count) return this.fail(`pair ${this.tag}: seq ${seq} where ${this.count} was due (len ${len})`);
      if (get32(b, 4) !== this.tag) return this.fail(`pair ${this.tag}: message of pair ${get32(b, 4)} (seq ${seq})`);
      if (get32(b, 8) !== bodySum(b, len)) return this.fail(`pair ${this.tag}: checksum mismatch at seq ${seq} (len ${len})`);
    } else {
      put32(scratch, 0, this.count);
      put32(scratch, 4, this.tag);
      put32(scratch, 8, bodySum(b, len));
      for (let i = 0; i < len; i++) {
        if (b[i] !== scratch[i]) return this.fail(`pair ${this.tag}: short message (len ${len}) is not seq ${this.count}`);
      }
    }
    this.count++;
    this.bytes += len;
  }
}

export interface SenderCounts {
  /** Data messages accepted (sent, or queued and then sent). */
  accepted: number;
  send: number;
  trySend: number;
  trySendRetries: number;
  nocopy: number;
  nocopyReleased: number;
  /** Sends made to fail (aborted or timeout 0) and not delivered. */
  rejected: number;
}

export function zeroCounts(): SenderCounts {
  return { accepted: 0, send: 0, trySend: 0, trySendRetries: 0, nocopy: 0, nocopyReleased: 0, rejected: 0 };
}

export function addCounts(into: SenderCounts, c: SenderCounts): void {
  for (const k of Object.keys(into) as Array<keyof SenderCounts>) into[k] += c[k];
}

/** Whether `e` says the endpoint or link went away (the pair was destroyed under the sender). */
export function isGone(e: unknown): boolean {
  return e instanceof RpmsgError && e.code === 'ENODEV';
}

/**
 * Sends `count` data messages then a FIN, in a random mix of the send family. Stops early
 * (without FIN) when the pair is destroyed under it (ENODEV); any other failure is a soak
 * failure. `onSeq` runs before each new seq is sent (the host uses it to trigger kills).
 */
export class Sender {
  readonly counts = zeroCounts();
  /** The pair went away under the sender (ENODEV). */
  gone = false;
  /** The FIN was accepted (on a pair destroyed in mid-traffic it may still find no endpoint). */
  finSent = false;
  /** Seqs accepted above one that failed: must stay 0. */
  outOfOrderAccepts = 0;
  private firstFailed = Infinity;
  private last: Promise<void> | undefined;
  private pending = 0;

  constructor(
    private readonly port: SendPort,
    private readonly count: number,
    private readonly tag: number,
    private readonly rnd: () => number,
    private readonly fail: (why: string) => void,
    private readonly onSeq?: (seq: number) => void,
  ) {}

  async run(): Promise<void> {
    const { port, rnd, counts, tag } = this;
    const mtu = port.getMtu();
    let seq = 0;
    try {
      while (seq < this.count && !this.gone) {
        this.onSeq?.(seq);
        const len = rnd() % (mtu + 1);
        const op = rnd() % 100;
        if (op < 40) {
          // send(), left pending; the window bounds what is queued.
          const b = new Uint8Array(len);
          fillMessage(b, len, seq, tag, rnd);
          this.track(port.send(b), seq);
          seq++;
          counts.send++;
          if (this.pending >= WINDOW) await this.last;
        } else if (op < 70) {
          const b = new Uint8Array(len);
          fillMessage(b, len, seq, tag, rnd);
          for (;;) {
            try {
              port.trySend(b);
              break;
            } catch (e) {
              if (!(e instanceof RpmsgError && e.code === 'ENOMEM')) throw e;
              counts.trySendRetries++;
              await port.waitWritable();
            }
          }
          seq++;
          counts.trySend++;
          counts.accepted++;
        } else if (op < 94) {
          let buf: TxBuffer;
          try {
            buf = port.tryGetTxPayloadBuffer();
          } catch (e) {
            if (!(e instanceof RpmsgError && e.code === 'ENOMEM')) throw e;
            buf = await port.getTxPayloadBuffer();
          }
          if (buf.data.length < len) throw new Error(`tx buffer of ${buf.data.length} bytes below the MTU ${mtu}`);
          fillMessage(buf.data, len, seq, tag, rnd);
          if (rnd() % 16 === 0) {
            port.releaseTxBuffer(buf); // not sent: seq stays for the next message
            counts.nocopyReleased++;
            continue;
          }
          port.sendNocopy(buf, len);
          seq++;
          counts.nocopy++;
          counts.accepted++;
        } else {
          // A send made to fail whenever it would have to wait: not delivered, seq kept.
          const b = new Uint8Array(len);
          fillMessage(b, len, seq, tag, rnd);
          let p: Promise<void>;
          if (op < 97) {
            const ac = new AbortController();
            p = port.send(b, { signal: ac.signal });
            ac.abort();
          } else {
            p = port.send(b, { timeout: 0 });
          }
          try {
            await p;
          } catch (e) {
            if (e instanceof RpmsgError && (e.code === 'ABORT_ERR' || e.code === 'ETIMEDOUT')) {
              counts.rejected++;
              continue;
            }
            throw e;
          }
          seq++;
          counts.send++;
          counts.accepted++;
        }
      }
      await this.last;
      if (!this.gone) {
        await port.send(marker(SEQ_FIN, tag, seq));
        this.finSent = true;
      }
    } catch (e) {
      if (isGone(e)) this.gone = true;
      else this.fail(`pair ${tag}: sender failed: ${e instanceof Error ? `${(e as RpmsgError).code ?? ''} ${e.message}` : String(e)}`);
    }
    await this.last;
  }

  private track(p: Promise<void>, seq: number): void {
    this.pending++;
    this.last = p.then(
      () => {
        this.pending--;
        this.counts.accepted++;
        if (seq > this.firstFailed) this.outOfOrderAccepts++;
      },
      (e: unknown) => {
        this.pending--;
        this.firstFailed = Math.min(this.firstFailed, seq);
        if (isGone(e)) this.gone = true;
        else this.fail(`pair ${this.tag}: send of seq ${seq} failed: ${e instanceof Error ? e.message : String(e)}`);
      },
    );
  }
}
