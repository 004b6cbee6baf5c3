/**
 * Flags of the `rpmsg` commands, declared once per command (kind, range, default, help text):
 * `parseFlags` turns argv into typed values or a `UsageError` that names the flag and what it
 * accepts, and `formatFlags` renders the same declarations as the command's --help, so help
 * and validation cannot disagree. Built on node:util parseArgs in strict mode.
 *
 *   const flags = { count: flag.int({ min: 1, max: 1e6, default: 100, help: 'messages' }) };
 *   const { values } = parseFlags(flags, argv); // values.count: number
 */
import { statSync } from 'node:fs';
import { parseArgs } from 'node:util';

/** A wrong command line (exit status 2): the message says which flag and what it accepts. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** One flag: how it appears on the command line and how its text becomes a value. */
export interface Flag<T> {
  readonly kind: 'string' | 'boolean';
  /** Whether it may be given more than once (the value is then an array). */
  readonly multiple: boolean;
  readonly short: string | undefined;
  /** After the flag in help: `--count N`; empty for booleans. */
  readonly metavar: string;
  /** Help line, with the accepted range and the default appended. */
  readonly help: string;
  /** `raw` is undefined when the flag is absent (the default applies). */
  parse(raw: string | boolean | (string | boolean)[] | undefined, name: string): T;
}

export type FlagSpecs = Record<string, Flag<unknown>>;
export type FlagValues<F extends FlagSpecs> = { [K in keyof F]: F[K] extends Flag<infer T> ? T : never };

interface Common {
  help: string;
  metavar?: string;
  /** One-letter alias, e.g. 'n' for -n. */
  short?: string;
}

function make<T>(kind: 'string' | 'boolean', c: Common, metavar: string, help: string, parse: Flag<T>['parse'], multiple = false): Flag<T> {
  return { kind, multiple, short: c.short, metavar: c.metavar ?? metavar, help, parse };
}

const INT = /^(?:\d+|0[xX][0-9a-fA-F]+)$/;

function show(n: number, hex: boolean): string {
  return hex ? `0x${n.toString(16)}` : String(n);
}

function int(o: Common & { min: number; max: number; default: number; hex?: boolean }): Flag<number>;
function int(o: Common & { min: number; max: number; hex?: boolean }): Flag<number | undefined>;
/** An integer in [min, max], decimal or 0x hex. */
function int(o: Common & { min: number; max: number; default?: number; hex?: boolean }): Flag<number | undefined> {
  const hex = o.hex ?? false;
  const range = `an integer from ${show(o.min, hex)} to ${show(o.max, hex)}`;
  const dflt = o.default === undefined ? '' : `, default ${show(o.default, hex)}`;
  return make('string', o, 'N', `${o.help} (${show(o.min, hex)}..${show(o.max, hex)}${dflt})`, (raw, name) => {
    if (raw === undefined) return o.default;
    const text = String(raw);
    const n = INT.test(text) ? Number(text) : NaN;
    if (!(n >= o.min && n <= o.max)) throw new UsageError(`--${name} must be ${range}, not '${text}'`);
    return n;
  });
}

function string(o: Common & { default: string }): Flag<string>;
function string(o: Common): Flag<string | undefined>;
/** Any non-empty text. */
function string(o: Common & { default?: string }): Flag<string | undefined> {
  const dflt = o.default === undefined ? '' : ` (default ${o.default})`;
  return make('string', o, 'TEXT', `${o.help}${dflt}`, (raw, name) => {
    if (raw === undefined) return o.default;
    if (raw === '') throw new UsageError(`--${name} must not be empty`);
    return String(raw);
  });
}

/** Text given any number of times, in order (e.g. `--service a --service b`). */
function strings(o: Common): Flag<string[]> {
  return make('string', o, 'TEXT', `${o.help} (repeatable)`, (raw) => (Array.isArray(raw) ? raw.map(String) : []), true);
}

function choice<const C extends string>(values: readonly C[], o: Common & { default: C }): Flag<C>;
function choice<const C extends string>(values: readonly C[], o: Common): Flag<C | undefined>;
/** One of a fixed list of words. */
function choice<const C extends string>(values: readonly C[], o: Common & { default?: C }): Flag<C | undefined> {
  const list = values.join(', ');
  const dflt = o.default === undefined ? '' : `, default ${o.default}`;
  return make('string', o, values.join('|'), `${o.help} (${list}${dflt})`, (raw, name) => {
    if (raw === undefined) return o.default;
    const text = String(raw);
    if (!(values as readonly string[]).includes(text)) throw new UsageError(`--${name} must be one of ${list}, not '${text}'`);
    return text as C;
  });
}

/** Present or not. */
function boolean(o: Common): Flag<boolean> {
  return make('boolean', o, '', o.help, (raw) => raw === true);
}

/** A path to an existing regular file, checked when the command line is parsed (not later, at first use). */
function file(o: Common): Flag<string | undefined> {
  return make('string', o, 'FILE', o.help, (raw, name) => {
    if (raw === undefined) return undefined;
    const path = String(raw);
    const st = statSync(path, { throwIfNoEntry: false });
    if (st === undefined) throw new UsageError(`--${name}: no such file '${path}'`);
    if (!st.isFile()) throw new UsageError(`--${name}: '${path}' is not a regular file`);
    return path;
  });
}

/** The flag kinds; commands build their flag tables from these. */
export const flag = { int, string, strings, choice, boolean, file };

/** `--json`, for every command that prints results: one JSON document on stdout, logs on stderr. */
export const jsonFlag = flag.boolean({ help: 'print the results as one JSON document on stdout (logs go to stderr)' });

export interface Parsed<F extends FlagSpecs> {
  values: FlagValues<F>;
  positionals: string[];
  help: boolean;
}

/**
 * Parse `args` against `specs` (plus -h/--help). Unknown flags, missing values, positionals
 * outside [min, max] and values out of range are `UsageError`s.
 */
export function parseFlags<F extends FlagSpecs>(specs: F, args: string[], positionals: { min: number; max: number } = { min: 0, max: 0 }): Parsed<F> {
  const options: Record<string, { type: 'string' | 'boolean'; multiple: boolean; short?: string }> = {
    help: { type: 'boolean', multiple: false, short: 'h' },
  };
  for (const [name, f] of Object.entries(specs)) {
    options[name] = { type: f.kind, multiple: f.multiple, ...(f.short !== undefined ? { short: f.short } : {}) };
  }
  let raw: ReturnType<typeof parseArgs>;
  try {
    raw = parseArgs({ args, options, strict: true, allowPositionals: true });
  } catch (e) {
    // parseArgs' own messages name the option ("Unknown option '--x'"); keep only the first sentence.
    throw new UsageError(e instanceof Error ? e.message.split('. ')[0]!.replace(/\.$/, '') : String(e));
  }
  if (raw.values['help'] === true) return { values: {} as FlagValues<F>, positionals: [], help: true };
  const n = raw.positionals.length;
  if (n < positionals.min || n > positionals.max) {
    throw new UsageError(
      positionals.max === 0 ? `unexpected argument '${raw.positionals[0]}'` : `expected ${positionals.min === positionals.max ? positionals.min : `${positionals.min} to ${positionals.max}`} arguments, got ${n}`,
    );
  }
  const values: Record<string, unknown> = {};
  for (const [name, f] of Object.entries(specs)) values[name] = f.parse(raw.values[name], name);
  return { values: values as FlagValues<F>, positionals: raw.positionals, help: false };
}

/** The options part of a command's --help. */
export function formatFlags(specs: FlagSpecs): string {
  const rows: [string, string][] = Object.entries(specs).map(([name, f]) => [
    `${f.short !== undefined ? `-${f.short}, ` : '    '}--${name}${f.metavar !== '' ? ` ${f.metavar}` : ''}`,
    f.help,
  ]);
  rows.push(['-h, --help', 'this help']);
  const width = Math.min(28, Math.max(...rows.map(([l]) => l.length)));
  return rows.map(([l, h]) => (l.length > width ? `  ${l}\n  ${' '.repeat(width)}  ${h}` : `  ${l.padEnd(width)}  ${h}`)).join('\n');
}
