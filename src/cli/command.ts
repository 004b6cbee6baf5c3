/**
 * What one `rpmsg` command is: its flags (src/cli/flags.ts), its help text and its run
 * function. main.ts only dispatches; each command lives in its own file and is added to the
 * list there. Exit status: 0 done, 1 failed (a thrown error or a run that returns 1),
 * 2 usage error (a thrown UsageError, including every flag the parser rejects). An error
 * reported while it runs (ctx.report, or one that nothing listened to) also makes it 1.
 */
import type { FlagSpecs, FlagValues } from './flags.js';

export interface CommandContext {
  /** Human-readable output: stdout, or stderr under --json so that stdout holds only the JSON. */
  log(line: string): void;
  /** Diagnostics, always on stderr. */
  warn(line: string): void;
  /** Print one JSON document on stdout (for --json). */
  json(value: unknown): void;
  /**
   * Print an error that did not stop the command (a callback that threw, a crashed remote)
   * and make the exit status 1. Attach it as an 'error' listener where a command wants to
   * name the source; errors reported with no listener at all (process warnings that carry an
   * Error, errors.ts reportError) come here too.
   */
  report(error: unknown): void;
  /**
   * Aborted on SIGINT/SIGTERM. A long-running command listens to it and returns; a command
   * that does not listen is ended at once (exit status 130), as without a handler.
   */
  signal: AbortSignal;
}

export interface Command<F extends FlagSpecs = FlagSpecs> {
  name: string;
  /** One line for `rpmsg help`. */
  summary: string;
  /** Paragraphs for `rpmsg <name> --help`, after the usage line. */
  description?: string;
  /** Positional arguments in the usage line, e.g. '<addr> <text>'; none by default. */
  args?: { usage: string; min: number; max: number };
  flags: F;
  /** Returns the exit status (0 or 1); throws UsageError for a bad combination of flags. */
  run(values: FlagValues<F>, ctx: CommandContext, args: string[]): Promise<number>;
}

/** Identity helper that infers the flag types for `run`. */
export function defineCommand<F extends FlagSpecs>(c: Command<F>): Command<F> {
  return c;
}
