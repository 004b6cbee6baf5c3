/**
 * `rpmsg ctrl create|destroy`: rpmsg_ctrl's RPMSG_CREATE_DEV_IOCTL / RPMSG_RELEASE_DEV_IOCTL
 * through the daemon: a static channel by name and addresses (the seed notes Linux never
 * offered one). Needs the policy's `control`.
 */
import { ADDR_MAX, defineClientCommand, hex } from './daemon-flags.js';
import { UsageError, flag } from './flags.js';

export const ctrlCommand = defineClientCommand({
  name: 'ctrl',
  summary: 'create or destroy a static channel by name and addresses through the daemon (rpmsg_ctrl)',
  description: 'rpmsg ctrl create NAME --dst ADDR [--src ADDR]: a channel no announcement created.\nrpmsg ctrl destroy NAME: only channels created this way. Needs "control" in the policy.',
  args: { usage: 'create|destroy NAME', min: 2, max: 2 },
  flags: {
    src: flag.int({ help: 'local address (default: allocated when opened)', metavar: 'ADDR', min: 0, max: ADDR_MAX, hex: true }),
    dst: flag.int({ help: 'remote address (create: required)', metavar: 'ADDR', min: 0, max: ADDR_MAX, hex: true }),
    link: flag.string({ help: 'the link (default: the first that is up)', metavar: 'NAME' }),
    announce: flag.boolean({ help: 'announce the channel to the remote (NS CREATE) when bound' }),
  },
  check(values, [verb]) {
    if (verb !== 'create' && verb !== 'destroy') throw new UsageError(`expected create or destroy, not '${verb}'`);
    if (verb === 'create' && values.dst === undefined) throw new UsageError('ctrl create needs --dst');
  },
  async run(client, values, ctx, [verb, name]) {
    const { src, dst, link } = values;
    if (verb === 'create') {
      const ch = await client.createChannel({ name: name!, dst: dst!, ...(src !== undefined ? { src } : {}), ...(link !== undefined ? { link } : {}), announce: values.announce });
      if (values.json) ctx.json(ch);
      else ctx.log(`created ${ch.name} on ${ch.link}: ${ch.src === 0xffffffff ? 'any' : hex(ch.src)} -> ${hex(ch.dst)}`);
    } else {
      await client.destroyChannel({ name: name!, ...(src !== undefined ? { src } : {}), ...(dst !== undefined ? { dst } : {}), ...(link !== undefined ? { link } : {}) });
      if (values.json) ctx.json({ destroyed: name });
      else ctx.log(`destroyed ${name}`);
    }
    return 0;
  },
});
