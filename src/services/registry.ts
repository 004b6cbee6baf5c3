/**
 * The demo services, one entry per name: what the remote runs and what the host tests. The
 * CLI (`rpmsg remote|host --service NAME`), the firmware modules under samples/firmware/ and
 * the tests all take them from here.
 */
import type { Firmware } from '../platform/firmware.js';
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

export const SERVICES = {
  echo: {
    name: 'echo',
    channel: OPENAMP_DEMO_SERVICE,
    openamp: { remote: 'rpmsg-echo', host: 'msg-test-rpmsg-ping, rpmsg-echo-ping' },
    count: 'payloads, default one per size 1..MTU-16 (480)',
    remote: (ctx) => void serveEcho(ctx),
    host: (ctx) => runEchoPing(ctx),
  },
  sample: {
    name: 'sample',
    channel: SAMPLE_SERVICE,
    openamp: { remote: 'rpmsg-sample-echo', host: 'rpmsg-sample-ping' },
    count: 'messages, default 100 (the last is "goodbye!")',
    remote: (ctx) => void serveSample(ctx),
    host: (ctx) => runSamplePing(ctx),
  },
  matrix: {
    name: 'matrix',
    channel: OPENAMP_DEMO_SERVICE,
    openamp: { remote: 'matrix_multiplyd', host: 'matrix_multiply' },
    count: 'multiplications, default 200',
    remote: (ctx) => void serveMatrix(ctx),
    host: (ctx) => runMatrixMultiply(ctx),
  },
  nocopy: {
    name: 'nocopy',
    channel: OPENAMP_DEMO_SERVICE,
    openamp: { remote: 'rpmsg-nocopy-echo, msg-test-rpmsg-nocopy-echo', host: 'rpmsg-nocopy-ping, msg-test-rpmsg-nocopy-ping' },
    count: 'payloads, default one per size 1..MTU-16 (480)',
    remote: (ctx) => void serveNocopyEcho(ctx),
    host: (ctx) => runNocopyPing(ctx),
  },
  flood: {
    name: 'flood',
    channel: OPENAMP_DEMO_SERVICE,
    openamp: { remote: 'rpmsg-echo', host: 'msg-test-rpmsg-flood-ping' },
    count: 'packets per size, default 32 (OpenAMP: 0x100000)',
    remote: (ctx) => void serveEcho(ctx),
    host: (ctx) => runFloodPing(ctx),
  },
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
