// Builds dist/blas.node (native/blas.c: the engine's matrix products on OpenBLAS), linking Debian's static OpenBLAS
// (package libopenblas-dev) into the addon so that it runs on a machine without OpenBLAS. Where the static library
// or a C compiler is missing, it says so and builds nothing: the engine then multiplies on onnxruntime's Gemm
// (src/engine/kernels/gemm.ts), slower, with results equal to rounding. Rebuilt only when its inputs are newer.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import path from 'node:path';

const source = 'native/blas.c';
const output = 'dist/blas.node';
const openblas = '/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.a';
const nodeHeaders = path.join(path.dirname(process.execPath), '..', 'include', 'node');

if (!existsSync(openblas) || !existsSync(path.join(nodeHeaders, 'node_api.h'))) {
  const missing = existsSync(openblas) ? `Node's headers (${nodeHeaders})` : `${openblas} (apt-get install libopenblas-dev)`;
  console.warn(`native BLAS not built: ${missing} not found; matrix products run on onnxruntime's Gemm`);
  process.exit(0);
}
const newest = Math.max(...[source, openblas, 'scripts/build-native.mjs'].map((file) => statSync(file).mtimeMs));
if (existsSync(output) && statSync(output).mtimeMs >= newest) process.exit(0);

mkdirSync('dist', { recursive: true });
const partial = `${output}.partial`;
execFileSync(
  'cc',
  [
    '-O2', '-std=c11', '-Wall', '-Werror', '-shared', '-fPIC', '-fvisibility=hidden',
    `-I${nodeHeaders}`, source, openblas,
    // OpenBLAS's own symbols stay inside the addon: nothing else in the process binds to them, nor they to another BLAS.
    '-Wl,--exclude-libs,ALL', '-Wl,--no-undefined-version', '-lpthread', '-lm',
    '-o', partial,
  ],
  { stdio: 'inherit' },
);
renameSync(partial, output);
