/**
 * Nothing the user wrote is replaced: before `--force` lets a run replace an earlier bundle folder or output files,
 * the run's own inputs (query file, instruction set, evaluation files, bundle) are checked not to be among them.
 * Paths are compared after resolving symbolic links, so a link into the folder counts as inside it.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { UserError } from '../errors';
import { FRAME_DIR } from './frameFiles';
import { OUTPUT_FILES } from './outputs';

/** What --force would replace: whole folders (a bundle) and single files (results.json, the tables, the report). */
export interface Replaced {
  folders: string[];
  files: string[];
}

/** What `--force` lets an analysis replace in `outDir`: its output files, and the frame folder with --save-frame. */
export function analysisOutputs(outDir: string, saveFrame: boolean): Replaced {
  return { folders: saveFrame ? [path.join(outDir, FRAME_DIR)] : [], files: OUTPUT_FILES.map((name) => path.join(outDir, name)) };
}

/** The path with its links resolved; undefined when nothing is there (nothing to protect, or nothing replaced). */
async function realPath(file: string): Promise<string | undefined> {
  try {
    return await fs.realpath(file);
  } catch {
    return undefined;
  }
}

/**
 * Throws a UserError naming the first input that lies in a replaced folder or is a replaced file. A name that is not
 * a file (a preset such as paper-en) is not an input here.
 */
export async function refuseReplacingInputs(replaced: Replaced, inputs: readonly string[]): Promise<void> {
  const folders = await Promise.all(replaced.folders.map(realPath));
  const files = await Promise.all(replaced.files.map(realPath));
  for (const input of inputs) {
    const real = await realPath(input);
    if (real === undefined) continue;
    const folder = folders.findIndex((dir) => {
      if (dir === undefined) return false;
      const rel = path.relative(dir, real);
      return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
    });
    if (folder >= 0) {
      throw new UserError(
        `this input is inside ${replaced.folders[folder]}, which --force would replace: move it out of that folder or choose another --out`,
        input,
      );
    }
    const file = files.indexOf(real);
    if (file >= 0) throw new UserError(`this input is ${replaced.files[file]}, which --force would replace: choose another --out`, input);
  }
}
