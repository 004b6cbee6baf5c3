/**
 * Every error this package raises is an `RpmsgError` (or a subclass) with a stable,
 * Node-style `code`. The full list is in docs/errors.md; tests assert codes, never messages.
 *
 * Mapping to the Linux return values of the seed document:
 *   -ENOMEM      ENOMEM      try-variants: no free tx buffer
 *   -ERESTARTSYS ETIMEDOUT   blocking variants: no tx buffer within the timeout (15 s default)
 *                ABORT_ERR   blocking variants: the caller's AbortSignal fired
 *   -EMSGSIZE    EMSGSIZE    payload larger than getMtu()
 *   -EINVAL      EINVAL      RPMSG_ADDR_ANY as src or dst, bad argument
 *   -ENODEV      ENODEV      the channel, endpoint or remote processor is gone
 *   -EBUSY       EADDRINUSE  a fixed endpoint address is already taken
 *   -ENXIO       ENXIO       the transport lacks an optional operation
 *                ECONNRESET  the host reset the virtio device (the remote starts over)
 *                EPROTO      the peer reported a protocol violation (virtio DEVICE_NEEDS_RESET)
 */
export type RpmsgErrorCode =
  | 'ENOMEM'
  | 'ETIMEDOUT'
  | 'ABORT_ERR'
  | 'EMSGSIZE'
  | 'EINVAL'
  | 'ENODEV'
  | 'EADDRINUSE'
  | 'ENXIO'
  | 'EFAULT'
  | 'EPIPE'
  | 'EBADMSG'
  | 'ENOENT'
  | 'EALREADY'
  | 'ECONNRESET'
  | 'EPROTO'
  | 'EACCES'
  | DaemonErrorCode
  | VirtqueueViolationCode
  | ResourceTableErrorCode
  | VhostUserErrorCode;

/**
 * Codes of the userland daemon and streams (rpmsg_char's terms, docs/daemon-protocol.md):
 * EACCES refused by policy, EAGAIN over the rate limit, EBADF unknown endpoint handle,
 * EMFILE too many open endpoints, EPROTO malformed daemon frame, EBUSY channel or address in
 * use, ECONNREFUSED no daemon listening, ECONNRESET the daemon went away.
 */
export type DaemonErrorCode = 'EACCES' | 'EAGAIN' | 'EBADF' | 'EMFILE' | 'EPROTO' | 'EBUSY' | 'ECONNREFUSED' | 'ECONNRESET';

/** Codes of protocol violations by the peer on a virtqueue (the queue is then broken). */
export type VirtqueueViolationCode =
  | 'ERR_VQ_AVAIL_IDX' // available index ran more than num ahead of what we consumed
  | 'ERR_VQ_USED_IDX' // used index ran ahead of what we have in flight
  | 'ERR_VQ_DESC_ID' // descriptor id >= num
  | 'ERR_VQ_DESC_REUSED' // a descriptor handed to us while we still hold it / not in flight
  | 'ERR_VQ_DESC_CHAIN' // NEXT or INDIRECT flag where rpmsg uses single descriptors
  | 'ERR_VQ_DESC_ADDR' // buffer address/length outside the region or the buffer pool
  | 'ERR_VQ_DESC_LEN'; // descriptor length zero or beyond the limit

export type ResourceTableErrorCode = 'ERR_RSC_TABLE';

/** Codes of a vhost-user front-end breaking the protocol (that connection is closed). */
export type VhostUserErrorCode =
  | 'ERR_VHOST_HEADER' // truncated header, wrong version flags, payload above the limit
  | 'ERR_VHOST_SIZE' // payload size wrong for the request, or fds missing / unexpected
  | 'ERR_VHOST_REQUEST' // unknown or unsupported request
  | 'ERR_VHOST_MEM' // memory table unusable, or an address outside every region
  | 'ERR_VHOST_VRING' // vring index, size, base or layout out of range
  | 'ERR_VHOST_STATE'; // a request out of order (vring used before it is fully set up)

export class RpmsgError extends Error {
  readonly code: RpmsgErrorCode;
  /** Offending values (indices, addresses, lengths) for diagnostics. */
  readonly details: Readonly<Record<string, number | string>> | undefined;

  constructor(
    code: RpmsgErrorCode,
    message: string,
    details?: Readonly<Record<string, number | string>>,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'RpmsgError';
    this.code = code;
    this.details = details;
  }
}

/** The peer broke the virtqueue protocol; the queue is marked broken. */
export class VirtqueueViolation extends RpmsgError {
  readonly queue: string;
  constructor(
    code: VirtqueueViolationCode,
    queue: string,
    message: string,
    details: Readonly<Record<string, number | string>>,
  ) {
    super(code, `${queue}: ${message}`, details);
    this.name = 'VirtqueueViolation';
    this.queue = queue;
  }
}

/** A resource table that does not parse or does not fit its buffer. */
export class ResourceTableError extends RpmsgError {
  constructor(message: string, details?: Readonly<Record<string, number | string>>) {
    super('ERR_RSC_TABLE', message, details);
    this.name = 'ResourceTableError';
  }
}

/** A vhost-user front-end broke the protocol; `request` names the message (0: none yet). */
export class VhostUserError extends RpmsgError {
  readonly request: number;
  constructor(code: VhostUserErrorCode, request: number, message: string, details?: Readonly<Record<string, number | string>>) {
    super(code, message, { request, ...details });
    this.name = 'VhostUserError';
    this.request = request;
  }
}

/** Raised by a bounds-checked memory access outside its region. */
export class MemoryBoundsError extends RpmsgError {
  constructor(message: string, details: Readonly<Record<string, number | string>>) {
    super('EFAULT', message, details);
    this.name = 'MemoryBoundsError';
  }
}

/** Cancellation through an AbortSignal; `cause` is the signal's reason. */
export class RpmsgAbortError extends RpmsgError {
  constructor(reason: unknown) {
    super('ABORT_ERR', 'The operation was aborted', undefined, { cause: reason });
    this.name = 'AbortError';
  }
}

export function isRpmsgError(e: unknown, code?: RpmsgErrorCode): e is RpmsgError {
  return e instanceof RpmsgError && (code === undefined || e.code === code);
}

/** What `reportError` needs of an emitter (an EventEmitter satisfies it). */
export interface ErrorSink {
  listenerCount(event: 'error'): number;
  emit(event: 'error', error: Error): boolean;
}

/**
 * The one place that decides where an error nobody asked for goes (peer misbehaviour, a
 * callback that threw, a failed announcement): to the emitter's 'error' listeners when it has
 * any, else to `process.emitWarning`, which Node prints on stderr. Never thrown: the caller is
 * often a poll loop, and a hostile peer must not be able to crash the host through it.
 */
export function reportError(sink: ErrorSink, error: unknown): void {
  const e = error instanceof Error ? error : new RpmsgError('EINVAL', String(error));
  if (sink.listenerCount('error') > 0) sink.emit('error', e);
  else process.emitWarning(e);
}

/** One line for logs: message, then each cause's code, message and offending values. */
export function describeError(e: unknown): string {
  const parts: string[] = [];
  for (let c: unknown = e, depth = 0; c !== undefined && c !== null && depth < 8; depth++) {
    if (!(c instanceof Error)) {
      parts.push(String(c));
      break;
    }
    const code = (c as { code?: unknown }).code;
    const details = c instanceof RpmsgError && c.details !== undefined ? ` ${JSON.stringify(c.details)}` : '';
    parts.push(`${typeof code === 'string' ? `${code}: ` : ''}${c.message}${details}`);
    c = c.cause;
  }
  return parts.join(' <- ');
}
