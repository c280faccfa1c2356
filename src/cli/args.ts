/** What every subcommand implements, and the argument helpers they share. */
import { UserError } from '../engine/errors';

export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Aborted on Ctrl-C: long work should stop and throw CancelledError. */
  signal: AbortSignal;
}

export interface Command {
  name: string;
  /** One line for the command list in `instruction-lens --help`. */
  summary: string;
  /** Full help text, printed by `instruction-lens <name> --help`. */
  usage: string;
  /** Throws UserError for bad input (exit 2) and UsageError for bad arguments (exit 2, one line and a --help hint). */
  run(args: string[], io: CliIo): Promise<void>;
}

/** Bad command-line arguments: the CLI prints the message and where to find the options, exit code 2. */
export class UsageError extends UserError {
  constructor(problem: string) {
    super(problem);
    this.name = 'UsageError';
  }
}

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
}

export type OptionsConfig = Record<string, OptionSpec>;

export type OptionValues<T extends OptionsConfig> = { [K in keyof T]?: T[K]['type'] extends 'boolean' ? boolean : string };

/** A value as it appears in messages: quoted, with spaces and control characters visible. */
export function quoted(value: string): string {
  return JSON.stringify(value);
}

/**
 * Whether an argument is an option rather than a value: `--`, `--name` or `-x` with x a letter. A value that merely
 * starts with a dash (`-3`, `-0.5`, `-`) is a value, so that `--k -3` is reported as a bad k, not as a parser puzzle.
 */
function looksLikeOption(arg: string): boolean {
  return /^-(-|[A-Za-z])/.test(arg);
}

/** Levenshtein distance, for "did you mean" hints (names are short). */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}

/** The closest of `known` to `given` when it is a likely slip (at most 2 edits, or a part of the name); else undefined. */
export function closestName(given: string, known: readonly string[]): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const name of known) {
    const distance = given.length >= 3 && name.includes(given) ? 0.5 : editDistance(given, name);
    if (distance <= 2 && (best === undefined || distance < best.distance)) best = { name, distance };
  }
  return best?.name;
}

/**
 * The command line's options and positional arguments, strictly: an unknown option, a missing or empty value and a
 * value given to a switch are UsageErrors naming the option. Accepts `--name value`,
 * `--name=value`, `-x value`, `-xvalue` and `--` (everything after it is positional).
 */
export function parseCommandArgs<T extends OptionsConfig>(args: readonly string[], options: T): { values: OptionValues<T>; positionals: string[] } {
  const names = Object.keys(options);
  const byShort = new Map(names.filter((name) => options[name].short !== undefined).map((name) => [options[name].short as string, name]));
  const values = new Map<string, string | boolean>();
  const positionals: string[] = [];
  const unknown = (given: string): never => {
    const guess = given.startsWith('--') ? closestName(given.slice(2), names) : undefined;
    throw new UsageError(`unknown option ${quoted(given)}${guess === undefined ? '' : ` (did you mean --${guess}?)`}`);
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--') {
      positionals.push(...args.slice(i + 1));
      break;
    }
    let name: string | undefined;
    let inline: string | undefined;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const given = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      if (!Object.hasOwn(options, given)) unknown(`--${given}`);
      name = given;
      if (eq >= 0) inline = arg.slice(eq + 1);
    } else if (arg.length > 1 && arg.startsWith('-')) {
      name = byShort.get(arg[1]);
      if (name === undefined) unknown(arg.slice(0, 2));
      const rest = arg.slice(2);
      if (rest !== '') inline = rest.startsWith('=') ? rest.slice(1) : rest;
    } else {
      positionals.push(arg);
      continue;
    }
    const option = `--${name}`;
    if (options[name!].type === 'boolean') {
      if (inline !== undefined) throw new UsageError(`${option} is a switch and takes no value (got ${quoted(arg)})`);
      values.set(name!, true);
      continue;
    }
    let value = inline;
    if (value === undefined) {
      const next = args[i + 1];
      if (next === undefined) throw new UsageError(`${option} needs a value`);
      if (looksLikeOption(next)) throw new UsageError(`${option} needs a value (got the option ${quoted(next)} instead)`);
      value = next;
      i++;
    }
    if (value.trim() === '') throw new UsageError(`${option} needs a value (got ${quoted(value)})`);
    values.set(name!, value); // given twice, the last one counts (scripts append overrides)
  }
  return { values: Object.fromEntries(values) as OptionValues<T>, positionals };
}

/** An integer option; undefined when absent. */
export function intOption(value: string | undefined, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (value === undefined) return undefined;
  const parsed = /^[+-]?\d+$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `from ${min} to ${max}`;
    throw new UsageError(`${name} must be a whole number ${range} (got ${quoted(value)})`);
  }
  return parsed;
}

/** An option with a fixed set of values; undefined when absent. */
export function choiceOption<T extends string>(value: string | undefined, name: string, choices: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (!(choices as readonly string[]).includes(value)) {
    throw new UsageError(`${name} must be one of ${choices.join(', ')} (got ${quoted(value)})`);
  }
  return value as T;
}
