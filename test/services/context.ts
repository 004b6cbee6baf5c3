/** The FirmwareContext a loopback's remote side gives a service (what the platforms build). */
import type { FirmwareContext, Loopback } from '../../src/index.js';

export function loopbackContext(lb: Loopback, options: Record<string, unknown> = {}, log: string[] = []): FirmwareContext {
  return {
    name: 'loopback-remote',
    bus: lb.remote.bus,
    link: lb.remote.link,
    ns: lb.remote.ns,
    options,
    createEndpoint: (cb, o) => lb.remote.link.createEndpoint(cb, o),
    log: (l) => void log.push(l),
    onStop: () => {},
  };
}
