import * as fs from 'node:fs';
import * as path from 'node:path';

let cachedRoot: string | undefined;

/** The package root (the folder with our package.json), found by walking up from this file's location. */
export function packageRoot(): string {
  if (cachedRoot) return cachedRoot;
  let dir = __dirname;
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (fs.existsSync(manifest)) {
      try {
        if (JSON.parse(fs.readFileSync(manifest, 'utf8')).name === 'instruction-lens') return (cachedRoot = dir);
      } catch {
        // not our manifest; keep walking
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`instruction-lens: package root not found above ${__dirname}`);
    dir = parent;
  }
}

/** A file built by esbuild.mjs (workers, browser bundles, plotly). Run `npm run build` first. */
export function distPath(name: string): string {
  return path.join(packageRoot(), 'dist', name);
}
