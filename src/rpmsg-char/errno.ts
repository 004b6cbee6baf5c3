/**
 * The kernel's errno values, as the char devices return them, mapped to this package's codes
 * (docs/errors.md). The system error stays the `cause`.
 *
 *   EAGAIN              a non-blocking write found no tx buffer: the try variants' ENOMEM
 *                       (handled by the caller, never thrown from here)
 *   EMSGSIZE            payload above the transport's buffer (virtio: 496 bytes)
 *   EPIPE, ENODEV, ENXIO, EIO, ESHUTDOWN
 *                       the endpoint's device or the remote processor is gone: ENODEV
 *   EINVAL on open      rpmsg_create_ept failed: the address is taken in the kernel: EADDRINUSE
 *   EBUSY on open       the channel's device is open elsewhere (Linux -EBUSY): EADDRINUSE
 *   ENOENT              no such device node / sysfs entry: ENOENT
 *   EACCES, EPERM       not allowed (the nodes are root's by default): EACCES
 */
import { RpmsgError, type RpmsgErrorCode } from '../errors.js';

export function errnoOf(e: unknown): string | undefined {
  return e instanceof Error && typeof (e as NodeJS.ErrnoException).code === 'string' ? (e as NodeJS.ErrnoException).code : undefined;
}

const GONE = new Set(['EPIPE', 'ENODEV', 'ENXIO', 'EIO', 'ESHUTDOWN', 'EBADF']);

/** Whether a system error means the device (endpoint or remote) went away. */
export function isGone(e: unknown): boolean {
  const c = errnoOf(e);
  return c !== undefined && GONE.has(c);
}

export function mapKernelError(
  e: unknown,
  what: string,
  details?: Readonly<Record<string, number | string>>,
  opening = false,
): RpmsgError {
  if (e instanceof RpmsgError) return e;
  const c = errnoOf(e);
  let code: RpmsgErrorCode;
  if (c === 'EMSGSIZE') code = 'EMSGSIZE';
  else if (c !== undefined && GONE.has(c)) code = 'ENODEV';
  else if (opening && (c === 'EINVAL' || c === 'EBUSY')) code = 'EADDRINUSE';
  else if (c === 'ENOENT') code = 'ENOENT';
  else if (c === 'EACCES' || c === 'EPERM') code = 'EACCES';
  else if (c === 'EAGAIN') code = 'ENOMEM';
  else code = 'EINVAL';
  const msg = e instanceof Error ? e.message : String(e);
  return new RpmsgError(code, `${what}: ${msg}`, details, { cause: e });
}
