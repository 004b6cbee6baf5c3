/**
 * The demo services, one entry per name: what the remote runs and what the host tests. The
 * CLI (`rpmsg remote|host --service NAME`), the firmware modules under samples/firmware/ and
 * the tests all take them from here.
 */
import type { Firmware, FirmwareContext } from '../platform/firmware.js';
import { OPENAMP_DEMO_SERVICE, runEchoPing, serveEcho } from './echo.js';
import { runFloodPing } from './flood.js';
import type { HostTestContext, HostTestResult } from './host-test.js';
import { runMatrixMultiply, serveMatrix } from './matrix.js';
import { runNocopyPing, serveNocopyEcho } from './nocopy.js';
import { SAMPLE_SERVICE, runSamplePing, serveSample } from './sample.js';

/** Linux's rpmsg_tty service name. */
export const TTY_SERVICE = 'rpmsg-tty';

export interface ServiceDefinition {
  /** The CLI name. */
  readonly name: string;
  /** The rpmsg service name the remote announces. */
  readonly channel: string;
  /** OpenAMP's programs this pairs with. */
  readonly openamp: { readonly remote: string; readonly host: string };
  /** What `count` means for the host test, and its default. */
  readonly count: string;
  /** The remote side (a firmware: runs once per host that attaches). */
  readonly remote: Firmware;
  /** The host side's test; none for a remote-only service (tty: the kernel is its host). */
  readonly host?: (ctx: HostTestContext) => Promise<HostTestResult>;
}

type HostTest = (ctx: HostTestContext) => Promise<HostTestResult>;

/** A service with a host test: the remote runs `serve(ctx)` once per host that attaches. */
function hosted(
  name: string,
  channel: string,
  openamp: ServiceDefinition['openamp'],
  count: string,
  serve: (ctx: FirmwareContext) => unknown,
  host: HostTest,
): ServiceDefinition & { readonly host: HostTest } {
  return { name, channel, openamp, count, remote: (ctx) => void serve(ctx), host: (ctx) => host(ctx) };
}

const EACH_SIZE = 'payloads, default one per size 1..MTU-16 (480)';

export const SERVICES = {
  echo: hosted('echo', OPENAMP_DEMO_SERVICE, { remote: 'rpmsg-echo', host: 'msg-test-rpmsg-ping, rpmsg-echo-ping' }, EACH_SIZE, serveEcho, runEchoPing),
  sample: hosted('sample', SAMPLE_SERVICE, { remote: 'rpmsg-sample-echo', host: 'rpmsg-sample-ping' }, 'messages, default 100 (the last is "goodbye!")', serveSample, runSamplePing),
  matrix: hosted('matrix', OPENAMP_DEMO_SERVICE, { remote: 'matrix_multiplyd', host: 'matrix_multiply' }, 'multiplications, default 200', serveMatrix, runMatrixMultiply),
  nocopy: hosted(
    'nocopy',
    OPENAMP_DEMO_SERVICE,
    { remote: 'rpmsg-nocopy-echo, msg-test-rpmsg-nocopy-echo', host: 'rpmsg-nocopy-ping, msg-test-rpmsg-nocopy-ping' },
    EACH_SIZE,
    serveNocopyEcho,
    runNocopyPing,
  ),
  flood: hosted('flood', OPENAMP_DEMO_SERVICE, { remote: 'rpmsg-echo', host: 'msg-test-rpmsg-flood-ping' }, 'packets per size, default 32 (OpenAMP: 0x100000)', serveEcho, runFloodPing),
  tty: {
    name: 'tty',
    channel: TTY_SERVICE,
    openamp: { remote: "vendors' rpmsg-tty examples", host: "Linux's rpmsg_tty (/dev/ttyRPMSGN)" },
    count: 'no host test',
    remote: (ctx) => void serveEcho(ctx, TTY_SERVICE, { shutdown: false }),
  },
} as const satisfies Record<string, ServiceDefinition>;

export type ServiceName = keyof typeof SERVICES;
export const SERVICE_NAMES = Object.keys(SERVICES) as ServiceName[];

export function isServiceName(name: string): name is ServiceName {
  return Object.hasOwn(SERVICES, name);
}

/** The service called `name`, or undefined. */
export function getService(name: string): ServiceDefinition | undefined {
  return isServiceName(name) ? SERVICES[name] : undefined;
}
