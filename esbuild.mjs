// Bundles every program that runs outside tsc's out/ tree: the extension host, the CLI, the worker threads and
// the browser-side code (webview and the self-contained report). Output goes to dist/.
import * as esbuild from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';

const production = process.argv.includes('--production');
const common = { bundle: true, sourcemap: !production, minify: production, logLevel: 'warning' };

// Node programs. Native and heavy runtime packages stay external: they are loaded from node_modules at run time.
const nodeExternal = ['vscode', '@huggingface/transformers', 'onnxruntime-node'];
const nodeEntries = {
  extension: 'src/extension/extension.ts',
  cli: 'src/cli/main.ts',
  analysisWorker: 'src/engine/method/analysisWorker.ts',
  embedWorker: 'src/models/embedWorker.ts',
};
// Browser programs: the webview UI and the chart code inlined into report.html share webview/charts.ts.
const browserEntries = {
  webview: 'webview/main.ts',
  report: 'webview/reportMain.ts',
};

mkdirSync('dist', { recursive: true });
await Promise.all([
  esbuild.build({
    ...common,
    entryPoints: nodeEntries,
    outdir: 'dist',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: nodeExternal,
  }),
  esbuild.build({
    ...common,
    entryPoints: browserEntries,
    outdir: 'dist',
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
  }),
]);
// The engine's WebAssembly kernels (committed, rebuilt by scripts/build-wasm.sh), next to the workers that load them.
copyFileSync('src/engine/kernels/linalg.wasm', 'dist/linalg.wasm');
// Plotly is loaded by the webview and inlined into report.html from this copy.
copyFileSync('node_modules/plotly.js-dist/plotly.js', 'dist/plotly.js');
// report.html inlines a minified Plotly (about half the size). Minified once; redone only when plotly changes.
if (!existsSync('dist/plotly.min.js') || statSync('dist/plotly.min.js').mtimeMs < statSync('node_modules/plotly.js-dist/plotly.js').mtimeMs) {
  const minified = await esbuild.transform(readFileSync('dist/plotly.js', 'utf8'), { loader: 'js', minify: true });
  writeFileSync('dist/plotly.min.js', minified.code);
}
