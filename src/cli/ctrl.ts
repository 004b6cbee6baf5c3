/**
 * `rpmsg ctrl create|destroy`: rpmsg_ctrl's RPMSG_CREATE_DEV_IOCTL / RPMSG_RELEASE_DEV_IOCTL
 * through the daemon: a static channel by name and addresses (the seed notes Linux never
 * offered one). Needs the policy's `control`.
 */
import { parseArgs } from 'node:util';
import { CLIENT_FLAGS, connectFrom, hex, intFlag, runCommand, UsageError } from './daemon-common.js';

export const CTRL_USAGE = `usage: rpmsg ctrl create NAME --dst ADDR [--src ADDR] [--link NAME] [--announce] [--socket PATH] [--token T] [--json]
       rpmsg ctrl destroy NAME [--src ADDR] [--dst ADDR] [--link NAME] [--socket PATH] [--token T]`;

export function runCtrl(args: string[]): Promise<number> {
  return runCommand(CTRL_USAGE, async () => {
    const { values, positionals } = parseArgs({ args, options: { ...CLIENT_FLAGS, ...{
      src: { type: 'string' },
      dst: { type: 'string' },
      link: { type: 'string' },
      announce: { type: 'boolean', default: false },
    } }, allowPositionals: true });
    if (values.help) {
      console.log(CTRL_USAGE);
      return 0;
    }
    const [verb, name, ...extra] = positionals;
    if ((verb !== 'create' && verb !== 'destroy') || name === undefined || extra.length > 0) throw new UsageError('ctrl takes create|destroy and a NAME');
    const src = values.src === undefined ? undefined : intFlag(values.src, 'src', 0, 0, 0xfffffffe);
    const dst = values.dst === undefined ? undefined : intFlag(values.dst, 'dst', 0, 0, 0xfffffffe);
    const link = values.link;
    const client = await connectFrom(values);
    try {
      if (verb === 'create') {
        if (dst === undefined) throw new UsageError('ctrl create needs --dst');
        const ch = await client.createChannel({ name, dst, ...(src !== undefined ? { src } : {}), ...(link !== undefined ? { link } : {}), announce: values.announce });
        if (values.json) console.log(JSON.stringify(ch));
        else console.log(`created ${ch.name} on ${ch.link}: ${ch.src === 0xffffffff ? 'any' : hex(ch.src)} -> ${hex(ch.dst)}`);
      } else {
        await client.destroyChannel({ name, ...(src !== undefined ? { src } : {}), ...(dst !== undefined ? { dst } : {}), ...(link !== undefined ? { link } : {}) });
        if (!values.json) console.log(`destroyed ${name}`);
      }
      return 0;
    } finally {
      client.close();
    }
  });
}
