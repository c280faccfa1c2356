/** The package's version (package.json), for --version and the provenance of results. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { packageRoot } from '../engine/io/paths';

export function version(): string {
  return JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')).version as string;
}
