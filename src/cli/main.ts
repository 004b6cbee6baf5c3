#!/usr/bin/env node
/**
 * The `rpmsg` command: a dispatcher over one file per command. To add a command, define it with
 * defineCommand (src/cli/command.ts, flags from src/cli/flags.ts) in its own file and add it
 * to COMMANDS. Exit status: 0 done, 1 failed, 2 usage error; 130 when interrupted.
 */
import { readFileSync } from 'node:fs';
import { getEventListeners } from 'node:events';
import { RpmsgError } from '../errors.js';
import type { Command, CommandContext } from './command.js';
import { UsageError, formatFlags, parseFlags } from './flags.js';
import { demoCommand } from './demo.js';
import { hostCommand } from './host.js';
import { remoteCommand } from './remote.js';
import { statsCommand } from './stats.js';
import { traceCommand } from './trace.js';
import { DAEMON_COMMANDS } from './daemon-commands.js';

// `ls` is the daemon's; its --kernel (kernel-commands.ts) lists the kernel's devices instead.
const COMMANDS: readonly Command[] = [demoCommand, remoteCommand, hostCommand, traceCommand, statsCommand, ...DAEMON_COMMANDS];

function version(): string {
  // dist/src/cli/main.js → the package root
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

function overview(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'usage: rpmsg <command> [options]',
    '',
    'commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'rpmsg <command> --help  the command\'s options',
    'rpmsg --version         the package version',
  ].join('\n');
}

function commandHelp(c: Command): string {
  const args = c.args !== undefined ? ` ${c.args.usage}` : '';
  const body = c.description !== undefined ? `\n\n${c.description}` : `\n\n${c.summary}`;
  return `usage: rpmsg ${c.name} [options]${args}${body}\n\noptions:\n${formatFlags(c.flags)}`;
}

function describe(e: unknown): string {
  if (e instanceof RpmsgError) return `${e.message} [${e.code}]`;
  return e instanceof Error ? e.message : String(e);
}

/** Run one command line; returns the exit status. */
async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    console.error(overview());
    return 2;
  }
  if (name === '--version' || name === '-v') {
    console.log(version());
    return 0;
  }
  if (name === 'help' || name === '--help' || name === '-h') {
    const c = COMMANDS.find((x) => x.name === rest[0]);
    console.log(c !== undefined ? commandHelp(c) : overview());
    return c !== undefined || rest.length === 0 ? 0 : 2;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (command === undefined) {
    console.error(`rpmsg: unknown command '${name}' (commands: ${COMMANDS.map((c) => c.name).join(', ')}; see rpmsg --help)`);
    return 2;
  }
  let parsed;
  try {
    parsed = parseFlags(command.flags, rest, command.args ?? { min: 0, max: 0 });
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`rpmsg ${name}: ${e.message} (see rpmsg ${name} --help)`);
    return 2;
  }
  if (parsed.help) {
    console.log(commandHelp(command));
    return 0;
  }
  const jsonMode = (parsed.values as { json?: unknown }).json === true;
  let failed = false;
  const report = (e: unknown): void => {
    failed = true;
    if (process.exitCode === undefined || process.exitCode === 0) process.exitCode = 1; // also after run returned
    console.error(`rpmsg ${name}: ${describe(e)}`);
  };
  // Errors that nothing listened to become process warnings (errors.ts reportError): print them
  // as this command's errors and fail, instead of Node's "(node:pid) ..." lines; real warnings
  // (DeprecationWarning, ...) are only printed.
  process.removeAllListeners('warning');
  process.on('warning', (w: Error) => {
    if (/Warning$/.test(w.name)) console.error(`rpmsg ${name}: ${w.name}: ${w.message}`);
    else report(w);
  });
  const stop = new AbortController();
  const onSignal = (): void => {
    // A second signal, or one that no part of the command listens to, ends the process now.
    if (stop.signal.aborted || getEventListeners(stop.signal, 'abort').length === 0) process.exit(130);
    stop.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const ctx: CommandContext = {
    log: jsonMode ? (l) => console.error(l) : (l) => console.log(l),
    warn: (l) => console.error(l),
    json: (v) => console.log(JSON.stringify(v, null, 2)),
    signal: stop.signal,
    report,
  };
  try {
    const code = await command.run(parsed.values, ctx, parsed.positionals);
    return failed ? Math.max(code, 1) : code;
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`rpmsg ${name}: ${e.message} (see rpmsg ${name} --help)`);
      return 2;
    }
    console.error(`rpmsg ${name}: ${describe(e)}`);
    return 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = Math.max(code, typeof process.exitCode === 'number' ? process.exitCode : 0);
  },
  (e: unknown) => {
    console.error(`rpmsg: ${describe(e)}`);
    process.exitCode = 1;
  },
);
