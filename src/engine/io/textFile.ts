/** Reading user text files: UTF-8 only (a UTF-8 BOM is accepted and removed), anything else is a UserError. */
import { UserError } from '../errors';
import { MAX_TEXT_FILE_BYTES, readRegularFile } from './regularFile';

const SAVE_AS_UTF8 = 'save it as UTF-8';

/** 1-based line of a string offset. */
export function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

function lineOfByte(bytes: Uint8Array, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset; i++) if (bytes[i] === 0x0a) line++;
  return line;
}

/** Decodes file content as UTF-8; rejects UTF-16/32, NUL bytes and invalid byte sequences, naming the line. */
export function decodeUtf8(bytes: Uint8Array, file: string): string {
  const startsWith = (...prefix: number[]): boolean => prefix.every((b, i) => bytes[i] === b);
  if (startsWith(0xff, 0xfe, 0, 0) || startsWith(0, 0, 0xfe, 0xff)) {
    throw new UserError(`the file is UTF-32 encoded; ${SAVE_AS_UTF8}`, file);
  }
  if (startsWith(0xff, 0xfe) || startsWith(0xfe, 0xff)) {
    throw new UserError(`the file is UTF-16 encoded; ${SAVE_AS_UTF8}`, file);
  }
  const body = startsWith(0xef, 0xbb, 0xbf) ? bytes.subarray(3) : bytes;
  const nul = body.indexOf(0);
  if (nul >= 0) {
    throw new UserError(`the file contains NUL bytes (binary, or UTF-16 without a BOM?); ${SAVE_AS_UTF8}`, file, lineOfByte(body, nul));
  }
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  try {
    return decoder.decode(body);
  } catch {
    // Find the first line that does not decode (a newline byte is never part of a multi-byte sequence).
    let start = 0;
    for (let line = 1; start <= body.length; line++) {
      let end = body.indexOf(0x0a, start);
      if (end < 0) end = body.length;
      try {
        decoder.decode(body.subarray(start, end));
      } catch {
        throw new UserError(`the file is not valid UTF-8 (a different encoding?); ${SAVE_AS_UTF8}`, file, line);
      }
      start = end + 1;
    }
    throw new UserError(`the file is not valid UTF-8; ${SAVE_AS_UTF8}`, file);
  }
}

/** Reads a user's text file (a regular file of at most MAX_TEXT_FILE_BYTES) as UTF-8: the one rule for every text file. */
export async function readUtf8File(file: string): Promise<string> {
  return decodeUtf8(await readRegularFile(file, MAX_TEXT_FILE_BYTES), file);
}
