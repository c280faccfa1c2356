#!/usr/bin/env bash
# Rebuilds src/engine/kernels/linalg.wasm from linalg.c (needs clang and lld with the wasm32 target: on Debian,
# `apt-get install clang lld`). The .wasm is committed, so that `npm ci && npm run build` works without clang; the
# source's sha256 is recorded beside it and a test fails when the two disagree (linalg.c changed, wasm not rebuilt).
set -euo pipefail
cd "$(dirname "$0")/../src/engine/kernels"
clang --target=wasm32 -O3 -msimd128 -mbulk-memory -nostdlib \
  -Wl,--no-entry -Wl,--export=tridiagonalize -Wl,--export=tridiagonal_panel -Wl,--export=tridiagonal_update -Wl,--export=tridiagonal_subtract -Wl,--export=tridiagonal_finish -Wl,--export=tridiagonal_eigenvalues -Wl,--export=tridiagonal_top_eigenvalues -Wl,--export=tridiagonal_eigenvectors -Wl,--export=svd \
  -Wl,--export=__heap_base -Wl,--max-memory=4294967296 \
  -o linalg.wasm linalg.c
sha256sum linalg.c | cut -d' ' -f1 > linalg.wasm.source-sha256
echo "linalg.wasm: $(wc -c < linalg.wasm) bytes"
