/**
 * `rpmsg remote`: the remote role of OpenAMP's Linux-machine demos over a shared-memory file
 * and a UNIX socket. With no flags it uses OpenAMP's defaults, so it pairs with OpenAMP's
 * `rpmsg-ping` host; it serves one host after another until SIGINT/SIGTERM (or, with --once,
 * until the first host leaves).
 */
import { ProcessRemoteServer } from '../platform/process-server.js';
import { SAMPLE_SERVICE } from '../../samples/rpmsg-client-sample.js';
import { TTY_SERVICE } from '../../samples/firmware/tty.js';
import { defineCommand } from './command.js';
import { flag } from './flags.js';
import { ECHO_SERVICE, processFlags, processMemory } from './process-flags.js';

export const remoteCommand = defineCommand({
  name: 'remote',
  summary: 'remote role over a shared-memory file + UNIX socket (pairs with OpenAMP\'s rpmsg-ping)',
  description:
    'Creates the shared-memory file, writes the resource table and listens on the socket; each host\n' +
    'that attaches gets the echo service "rpmsg-openamp-demo-channel" (or --service sample, or a\n' +
    'firmware module). A socket that another remote still serves is never taken over.',
  flags: {
    ...processFlags,
    firmware: flag.file({ help: 'run this firmware module (default export: defineFirmware(...)) instead of a built-in service' }),
    once: flag.boolean({ help: 'exit when the first host leaves' }),
  },
  async run(v, ctx) {
    const name = v.service === 'sample' ? SAMPLE_SERVICE : v.service === 'tty' ? TTY_SERVICE : ECHO_SERVICE;
    let failed = false;
    const server = await ProcessRemoteServer.start({
      ...processMemory(v),
      ...(v.firmware !== undefined
        ? { firmware: v.firmware }
        : {
            setup: (fw) => {
              fw.createEndpoint(
                (ep, data, src) => {
                  if (ep.poll()) ep.trySendTo(data, src);
                  else ep.sendTo(data.slice(), src).catch((e: unknown) => ctx.warn(`echo failed: ${String(e)}`));
                },
                { name },
              );
            },
          }),
      log: (l) => ctx.log(l),
      once: v.once,
    });
    ctx.log(`rpmsg remote: serving ${v.firmware ?? name} on ${v.socket}`);
    server.on('attached', () => ctx.log('rpmsg remote: host attached'));
    server.on('detached', () => ctx.log('rpmsg remote: host detached'));
    server.on('error', (e: unknown) => {
      failed = true;
      ctx.warn(`rpmsg remote: ${e instanceof Error ? e.message : String(e)}`);
    });
    await new Promise<void>((resolve) => {
      server.once('close', resolve);
      ctx.signal.addEventListener('abort', () => void server.close(), { once: true });
    });
    return failed ? 1 : 0;
  },
});
