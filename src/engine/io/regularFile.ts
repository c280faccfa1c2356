/**
 * The one way user files are read: regular files only (a FIFO would block for ever, /dev/zero never ends), each
 * kind with a size limit, and every file-system failure a UserError naming the file. Documented in README.md.
 */
import { accessSync, constants, type Stats, statSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import { UserError } from '../errors';

/** Largest query file, instruction set, queries.txt, order file or instructions.json: 256 MiB. */
export const MAX_TEXT_FILE_BYTES = 256 * 1024 * 1024;
/** Largest .npy array: 2 GiB (a paper-scale bundle's arrays are a few MB each). */
export const MAX_ARRAY_FILE_BYTES = 2 * 1024 * 1024 * 1024;

/**
 * Reads a whole regular file of at most `maxBytes` bytes. With `shared`, the bytes are read straight into shared
 * memory (a Buffer over a SharedArrayBuffer), so that arrays parsed from it can be views the analysis workers read in
 * place, with no second copy and no file-sized garbage per file.
 */
export async function readRegularFile(file: string, maxBytes: number, options: { shared?: boolean } = {}): Promise<Buffer> {
  await checkRegularFile(file, maxBytes);
  let handle: fs.FileHandle;
  try {
    // Non-blocking: should the file have been swapped for a FIFO since the check, opening it does not wait for a writer.
    handle = await fs.open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    throw fileSystemError(error, file);
  }
  try {
    const stat = await handle.stat();
    checkStat(stat, file, maxBytes);
    const bytes = options.shared ? await readIntoShared(handle, stat.size) : await handle.readFile();
    if (bytes.length > maxBytes) throw new UserError(tooLarge(bytes.length, maxBytes), file);
    return bytes;
  } catch (error) {
    throw fileSystemError(error, file);
  } finally {
    await handle.close();
  }
}

/**
 * The file's bytes in a SharedArrayBuffer of its size at open time. A file that grew since then is read to its new
 * end (into a larger buffer, so nothing is cut off); one that shrank gives the bytes it still has.
 */
async function readIntoShared(handle: fs.FileHandle, size: number): Promise<Buffer> {
  let bytes = Buffer.from(new SharedArrayBuffer(size));
  let filled = 0;
  for (;;) {
    if (filled === bytes.length) {
      // Full: at the end of the file, or the file grew.
      const probe = Buffer.alloc(1);
      if ((await handle.read(probe, 0, 1, filled)).bytesRead === 0) return bytes;
      const larger = Buffer.from(new SharedArrayBuffer(Math.max(2 * bytes.length, 1 << 16)));
      bytes.copy(larger);
      larger[filled++] = probe[0];
      bytes = larger;
    }
    const { bytesRead } = await handle.read(bytes, filled, bytes.length - filled, filled);
    if (bytesRead === 0) return bytes.subarray(0, filled);
    filled += bytesRead;
  }
}

/** Throws a UserError unless `file` is a regular file (symbolic links followed) of at most `maxBytes` bytes. */
export async function checkRegularFile(file: string, maxBytes: number): Promise<void> {
  let stat: Stats;
  try {
    stat = await fs.stat(file);
  } catch (error) {
    throw fileSystemError(error, file);
  }
  checkStat(stat, file, maxBytes);
}

function checkStat(stat: Stats, file: string, maxBytes: number): void {
  const problem = statProblem(stat, maxBytes);
  if (problem !== undefined) throw new UserError(problem, file);
}

function statProblem(stat: Stats, maxBytes: number): string | undefined {
  if (stat.isDirectory()) return 'this is a folder; expected a file';
  if (!stat.isFile()) return `this is ${specialKind(stat)}, not a regular file; only regular files are read`;
  if (stat.size > maxBytes) return tooLarge(stat.size, maxBytes);
  return undefined;
}

/**
 * Why `file` could not be read as readRegularFile reads it (missing, not a regular file, too large, not readable),
 * or undefined when it can. Synchronous and without reading, for checks as the user types (diagnostics).
 */
export function regularFileProblem(file: string, maxBytes: number): string | undefined {
  try {
    const problem = statProblem(statSync(file), maxBytes);
    if (problem !== undefined) return problem;
    accessSync(file, constants.R_OK);
    return undefined;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return FILE_SYSTEM_PROBLEMS.get(code ?? '') ?? (error as Error).message;
  }
}

function specialKind(stat: Stats): string {
  if (stat.isFIFO()) return 'a named pipe (FIFO)';
  if (stat.isCharacterDevice()) return 'a character device';
  if (stat.isBlockDevice()) return 'a block device';
  if (stat.isSocket()) return 'a socket';
  return 'a special file';
}

function tooLarge(size: number, maxBytes: number): string {
  const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(bytes < 1024 * 1024 ? 3 : 0)} MiB`;
  return `the file is ${mib(size)}; the limit is ${mib(maxBytes)}`;
}

/** A file-system error as a UserError naming the file and what is wrong; UserErrors pass through. */
export function fileSystemError(error: unknown, file: string): Error {
  if (error instanceof UserError) return error;
  const code = (error as NodeJS.ErrnoException).code;
  const problem = FILE_SYSTEM_PROBLEMS.get(code ?? '');
  return problem === undefined ? (error as Error) : new UserError(problem, file);
}

const FILE_SYSTEM_PROBLEMS: ReadonlyMap<string, string> = new Map([
  ['ENOENT', 'file not found'],
  ['EACCES', 'permission denied'],
  ['EPERM', 'permission denied'],
  ['EISDIR', 'this is a folder; expected a file'],
  ['ENOTDIR', 'a part of this path is not a folder'],
  ['ELOOP', 'too many symbolic links (a symbolic link loop?)'],
  ['ENAMETOOLONG', 'the path is too long'],
  ['EMFILE', 'too many open files'],
  ['EIO', 'input/output error'],
]);
