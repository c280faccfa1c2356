/**
 * Writability of the folders a run writes into (the output folder, the embedding and model caches), checked before
 * any work, so that an unwritable folder ends in a clear message at once rather than after the embedding.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { UserError } from '../errors';

/**
 * Throws a UserError unless `dir` is a folder we can create files in, or can be created: its nearest existing
 * ancestor must be a folder, and a probe file must be creatable there (this also catches read-only mounts and
 * permissions that access() would misjudge). Nothing is left behind. `what` names the folder's role in messages.
 */
export async function checkWritableFolder(dir: string, what: string): Promise<void> {
  const target = path.resolve(dir);
  let existing = target;
  for (;;) {
    const kind = await kindOf(existing, dir, what);
    if (kind === 'folder') break;
    if (kind === 'other') {
      const problem = existing === target ? 'exists and is not a folder' : `${existing} is not a folder`;
      throw new UserError(`${what}: ${problem}`, dir);
    }
    const parent = path.dirname(existing);
    if (parent === existing) throw new UserError(`${what}: no part of this path exists`, dir);
    existing = parent;
  }
  const probe = path.join(existing, `.instruction-lens-probe-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await (await fs.open(probe, 'wx')).close();
  } catch (error) {
    throw new UserError(`${what}: cannot create files in ${existing} (${writeProblem(error)})`, dir);
  }
  await fs.rm(probe, { force: true });
}

async function kindOf(file: string, dir: string, what: string): Promise<'folder' | 'missing' | 'other'> {
  try {
    return (await fs.stat(file)).isDirectory() ? 'folder' : 'other';
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') throw new UserError(`${what}: ${file} is a symbolic link loop`, dir);
    if (code === 'EACCES' || code === 'EPERM') throw new UserError(`${what}: permission denied for ${file}`, dir);
    if (code !== 'ENOENT' && code !== 'ENOTDIR') throw new UserError(`${what}: cannot use ${file} (${code ?? (error as Error).message})`, dir);
    // A symbolic link to nothing: creating the folder would fail.
    const link = await fs.lstat(file).catch(() => undefined);
    if (link?.isSymbolicLink()) throw new UserError(`${what}: ${file} is a symbolic link to a missing target`, dir);
    return 'missing';
  }
}

function writeProblem(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EROFS') return 'read-only file system';
  if (code === 'ENOSPC') return 'no space left on the device';
  if (code === 'EDQUOT') return 'disk quota exceeded';
  return code ?? (error as Error).message;
}
