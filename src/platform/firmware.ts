/**
 * What a firmware module sees. A firmware is an ES module whose default export is
 * `(ctx: FirmwareContext) => void | Promise<void>`; it runs in the remote role (like OpenAMP
 * firmware) in a worker thread or a child process, against the same bus API as the host.
 */
import type { Region } from '../memory/region.js';
import type { NameService } from '../ns/name-service.js';
import type { RpmsgBus } from '../rpmsg/bus.js';
import type { Endpoint, RxCallback } from '../rpmsg/endpoint.js';
import type { RpmsgLink } from '../rpmsg/link.js';
import type { CreateEndpointOptions } from '../rpmsg/types.js';

export interface FirmwareContext {
  /** Name of this remote processor (e.g. "rproc0"). */
  readonly name: string;
  /** The remote-side bus: register drivers for services the host announces. */
  readonly bus: RpmsgBus;
  /** The link to the host. */
  readonly link: RpmsgLink;
  /** The name service, when negotiated. */
  readonly ns: NameService | undefined;
  /** Options given by the host when it booted this firmware (structured-cloned). */
  readonly options: Readonly<Record<string, unknown>>;
  /** OpenAMP rpmsg_create_ept: a named endpoint with dst ADDR_ANY is announced to the host. */
  createEndpoint(cb: RxCallback, options?: CreateEndpointOptions): Endpoint;
  /** Log a line on the host's console, prefixed with the remote's name. */
  log(line: string): void;
  /** The shared memory, for fault-injection and test firmwares (a real firmware never needs it). */
  readonly region?: Region;
  /** Kick the host (after writing to `region` behind the transport's back). */
  notify?(): void;
  /** Run `fn` when the host stops this remote (graceful stop), or resets the device. */
  onStop(fn: () => void | Promise<void>): void;
}

export type Firmware = (ctx: FirmwareContext) => void | Promise<void>;

/** Where a remote-side server (process, vhost-user) takes its firmware from, and its name. */
export interface FirmwareSourceOptions {
  /** Firmware module run for each host that attaches (its default export), or `setup`. */
  firmware?: string;
  setup?: Firmware;
  /** Given to the firmware as `ctx.options`. */
  options?: Record<string, unknown>;
  /** Remote processor name. */
  name?: string;
  /** Where the firmware's ctx.log lines go. */
  log?: (line: string) => void;
}

/** Identity helper that types a firmware's default export. */
export function defineFirmware(fn: Firmware): Firmware {
  return fn;
}
