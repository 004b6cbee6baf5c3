/**
 * What a host-side demo test gets, and the start-up every OpenAMP host app shares: create an
 * endpoint with the service name and no destination (so it is announced to the remote), then
 * wait until it is bound — by the remote's announcement or by its first message
 * (`while (!is_rpmsg_ept_ready(&lept)) platform_poll()`).
 */
import { RpmsgError } from '../errors.js';
import type { RpmsgBus } from '../rpmsg/bus.js';
import { RPMSG_ADDR_ANY } from '../rpmsg/constants.js';
import type { Endpoint, RxCallback } from '../rpmsg/endpoint.js';
import type { RpmsgLink } from '../rpmsg/link.js';

export interface HostTestContext {
  bus: RpmsgBus;
  /** The link to the remote under test. */
  link: RpmsgLink;
  log: (line: string) => void;
  /** Aborts the test (timeout, remote gone). */
  signal: AbortSignal;
  /** The service's repetition count (messages, iterations, packets per size); default per service. */
  count?: number | undefined;
}

export interface HostTestResult {
  /** Replies received and checked. */
  messages: number;
  /** Errors, counted as the OpenAMP host app counts them. */
  errors: number;
  /** Whether the test ran to its end with no error. */
  passed: boolean;
  /** Why it did not pass, when it did not. */
  reason?: string;
}

/** The OpenAMP result line: "<n> messages, <e> errors". */
export function resultLine(r: HostTestResult): string {
  return `${r.messages} messages, ${r.errors} errors`;
}

/** Resolve when `cond()` holds (checked every `stepMs`), reject with the signal's abort. */
export async function waitFor(cond: () => boolean, signal: AbortSignal, stepMs = 1): Promise<void> {
  while (!cond()) {
    if (signal.aborted) throw new RpmsgError('ABORT_ERR', 'aborted', undefined, { cause: signal.reason });
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

export interface ServiceEndpointOptions {
  /** Called when the remote destroys its endpoint (OpenAMP's ns_unbind_cb). */
  onUnbind?: () => void;
}

/**
 * Create the host's endpoint for `name` (announced when the name service is negotiated) and
 * wait until it knows the remote's address. A remote that announced before this endpoint
 * existed left a channel on the bus: its address is taken from there (the name service binds
 * named endpoints only when they exist at announcement time).
 */
export async function openServiceEndpoint(
  ctx: HostTestContext,
  name: string,
  cb: RxCallback,
  options: ServiceEndpointOptions = {},
): Promise<Endpoint> {
  const ept = ctx.link.createEndpoint(cb, { name, ...(options.onUnbind ? { onUnbind: options.onUnbind } : {}) });
  const early = ctx.bus.findChannel(ctx.link, name);
  if (early !== undefined && ept.dst === RPMSG_ADDR_ANY) ept.dst = early.dst;
  try {
    await waitFor(() => ept.dst !== RPMSG_ADDR_ANY || ept.destroyed, ctx.signal);
  } catch (e) {
    ept.destroy();
    throw e;
  }
  if (ept.destroyed) throw new RpmsgError('ENODEV', `endpoint for ${name} destroyed before it was bound`);
  ctx.log(`rpmsg host: endpoint 0x${ept.addr.toString(16)} bound to "${name}" at 0x${ept.dst.toString(16)}`);
  return ept;
}

/** Wakes one async waiter whenever something it waits for may have changed. */
export class Waker {
  private waiter: (() => void) | undefined;
  /** Set by `end()`: what the waiter waits for will not come (the remote destroyed its endpoint). */
  ended = false;

  /** Marks the wait as over and wakes the waiter (an `onUnbind` callback). */
  readonly end = (): void => {
    this.ended = true;
    this.notify();
  };

  notify(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  /** Resolve once `cond()` holds, re-checking on every notify; reject when `signal` aborts. */
  async until(cond: () => boolean, signal: AbortSignal): Promise<void> {
    while (!cond()) {
      if (signal.aborted) throw new RpmsgError('ABORT_ERR', 'aborted', undefined, { cause: signal.reason });
      await new Promise<void>((resolve) => {
        const onAbort = (): void => resolve();
        signal.addEventListener('abort', onAbort, { once: true });
        this.waiter = () => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        };
      });
    }
  }
}

/**
 * Replies for request/reply tests: the rx callback copies each message in (the view is only
 * valid during the callback); `next()` waits for the next one.
 */
export class Mailbox {
  private readonly queue: Uint8Array[] = [];
  readonly waker = new Waker();

  readonly put = (_owner: unknown, data: Uint8Array): void => {
    this.queue.push(data.slice());
    this.waker.notify();
  };

  /** Whether the remote destroyed its endpoint (`waker.end()`): no more replies will come. */
  get ended(): boolean {
    return this.waker.ended;
  }

  /** The next message, or null once the mailbox ended or `stop()` holds first. Rejects when `signal` aborts. */
  async next(signal: AbortSignal, stop: () => boolean = () => false): Promise<Uint8Array | null> {
    await this.waker.until(() => this.queue.length > 0 || this.waker.ended || stop(), signal);
    return this.queue.shift() ?? null;
  }
}

/** `openServiceEndpoint` whose replies go to a new Mailbox, which ends when the remote unbinds. */
export async function openMailbox(ctx: HostTestContext, name: string): Promise<{ ept: Endpoint; box: Mailbox }> {
  const box = new Mailbox();
  const ept = await openServiceEndpoint(ctx, name, box.put, { onUnbind: box.waker.end });
  return { ept, box };
}
