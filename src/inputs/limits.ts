/**
 * Limits on what users give us, so that a hostile or mistaken file ends in a clear message rather than a tokeniser
 * stack overflow, minutes of work or gigabytes of memory. Documented in README.md ("Limits").
 */
import { UserError } from '../engine/errors';

/**
 * Longest query or instruction, in characters (UTF-16 code units, as JavaScript counts them). 32,768 is above what
 * the longest model window (8192 tokens) can read, so no model loses text to it; a 1 MB single word no longer reaches
 * the tokeniser.
 */
export const MAX_TEXT_CHARS = 32_768;

/** The problem with a text longer than MAX_TEXT_CHARS, or undefined when it fits. */
export function textLengthProblem(text: string, what: string): string | undefined {
  if (text.length <= MAX_TEXT_CHARS) return undefined;
  return `${what} is ${text.length.toLocaleString('en-US')} characters long; the limit is ${MAX_TEXT_CHARS.toLocaleString('en-US')} (models read at most a few thousand tokens): shorten it`;
}

/** Throws a UserError naming `file` and `line` when `text` is longer than MAX_TEXT_CHARS. */
export function checkTextLength(text: string, what: string, file?: string, line?: number): void {
  const problem = textLengthProblem(text, what);
  if (problem !== undefined) throw new UserError(problem, file, line);
}
