import { type EngineMessage, messageText } from './messages';

/**
 * A problem with what the user gave us (a file, an option, a model id). The CLI prints its message and exits with
 * code 2, the extension shows it as a notification: never a stack trace. The message names the file and, where it
 * applies, the line (or array / field) and what is wrong.
 */
export class UserError extends Error {
  /** The structured form, when the engine raised it (the extension shows it localised). */
  detail?: EngineMessage;

  /** A UserError from a structured engine message, worded in English. */
  static of(detail: EngineMessage, file?: string): UserError {
    const error = new UserError(messageText(detail), file);
    error.detail = detail;
    return error;
  }

  constructor(
    problem: string,
    readonly file?: string,
    readonly line?: number,
  ) {
    super(file === undefined ? problem : `${file}${line === undefined ? '' : `:${line}`}: ${problem}`);
    this.name = 'UserError';
  }
}

/** Raised when work is cancelled (AbortSignal). Not an error to report to the user. */
export class CancelledError extends Error {
  constructor() {
    super('cancelled');
    this.name = 'CancelledError';
  }
}
