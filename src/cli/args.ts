/** What every subcommand implements, and the argument helpers they share. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
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
  /** Full help text, printed by `instruction-lens <name> --help` and after a usage error. */
  usage: string;
  /** Throws UserError for bad input (exit 2) and UsageError for bad arguments (exit 2, usage printed). */
  run(args: string[], io: CliIo): Promise<void>;
}

/** Bad command-line arguments: the CLI prints the message and the command's usage, exit code 2. */
export class UsageError extends UserError {
  constructor(problem: string) {
    super(problem);
    this.name = 'UsageError';
  }
}

type OptionsConfig = NonNullable<ParseArgsConfig['options']>;

/** node:util parseArgs in strict mode, with its errors turned into UsageErrors. */
export function parseCommandArgs<T extends OptionsConfig>(args: string[], options: T) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    const message = (error as Error).message;
    // Node's messages are long ("... To specify a positional argument starting with a '-' ..."): keep the first sentence.
    throw new UsageError(message.split(/\.\s/)[0].replace(/^Unknown option/, 'unknown option').replace(/^Option/, 'option'));
  }
}

/** An integer option; undefined when absent. */
export function intOption(value: string | undefined, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (value === undefined) return undefined;
  const parsed = /^[+-]?\d+$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer from ${min} to ${max}`;
    throw new UsageError(`${name} must be ${range} (got '${value}')`);
  }
  return parsed;
}

/** An option with a fixed set of values; undefined when absent. */
export function choiceOption<T extends string>(value: string | undefined, name: string, choices: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (!(choices as readonly string[]).includes(value)) {
    throw new UsageError(`${name} must be one of ${choices.join(', ')} (got '${value}')`);
  }
  return value as T;
}
