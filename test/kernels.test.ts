/**
 * The WebAssembly kernels (src/engine/kernels/linalg.c) through linalg.ts: the committed binary is the build of the
 * committed source, and the SVD and the symmetric eigensolver satisfy their defining equations on shapes that take
 * every branch (odd sizes for the SIMD tails, m > n, rank-deficient, repeated eigenvalues).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { firstNonFinite } from '../src/engine/kernels/finite';
import { eigenOfTridiagonal, mulberry32, svd, svdWithoutU, symmetricEigenTop } from '../src/engine/kernels/linalg';
import { distPath, packageRoot } from '../src/engine/io/paths';

const KERNELS = path.join(packageRoot(), 'src', 'engine', 'kernels');

describe('WebAssembly kernels', () => {
  it('linalg.wasm was built from the committed linalg.c and is the one in dist/', () => {
    const source = fs.readFileSync(path.join(KERNELS, 'linalg.c'));
    const recorded = fs.readFileSync(path.join(KERNELS, 'linalg.wasm.source-sha256'), 'utf8').trim();
    assert.equal(createHash('sha256').update(source).digest('hex'), recorded, 'linalg.c changed: run scripts/build-wasm.sh');
    assert.ok(fs.readFileSync(distPath('linalg.wasm')).equals(fs.readFileSync(path.join(KERNELS, 'linalg.wasm'))));
  });

  it('svd: A = U S V^T with orthonormal U and V, descending s, for square, tall, odd and rank-deficient A', () => {
    const rng = mulberry32(11);
    const cases: [number, number, number][] = [
      [1, 1, 1],
      [2, 2, 2],
      [5, 5, 5],
      [9, 4, 4],
      [33, 17, 17],
      [64, 64, 64],
      [41, 41, 7], // rank 7
      [30, 12, 0], // zero matrix
    ];
    for (const [m, n, rank] of cases) {
      // Column-major A = L R with L m x rank, R rank x n.
      const l = Float64Array.from({ length: m * rank }, () => rng() - 0.5);
      const r = Float64Array.from({ length: rank * n }, () => rng() - 0.5);
      const a = new Float64Array(m * n);
      for (let j = 0; j < n; j++)
        for (let i = 0; i < m; i++) {
          let t = 0;
          for (let x = 0; x < rank; x++) t += l[x * m + i] * r[j * rank + x];
          a[j * m + i] = t;
        }
      const before = a.slice();
      const { u, s, v } = svd(a, m, n);
      const label = `${m} x ${n}, rank ${rank}`;
      assert.deepEqual(a, before, `${label}: input unchanged`);
      for (let x = 1; x < n; x++) assert.ok(s[x] <= s[x - 1] && s[x] >= 0, `${label}: s descending, non-negative`);
      for (let x = rank; x < n; x++) assert.ok(s[x] <= 1e-13 * Math.max(1, s[0]), `${label}: s[${x}] = ${s[x]} should vanish`);
      const scale = Math.max(1, s[0]);
      for (let i = 0; i < m; i++)
        for (let j = 0; j < n; j++) {
          let t = 0;
          for (let x = 0; x < n; x++) t += u[x * m + i] * s[x] * v[x * n + j];
          assert.ok(Math.abs(t - a[j * m + i]) <= 1e-13 * scale, `${label}: (U S V^T)[${i}][${j}]`);
        }
      const orthonormal = (q: Float64Array, rows: number, name: string): void => {
        for (let p = 0; p < n; p++)
          for (let c = 0; c < n; c++) {
            let t = 0;
            for (let i = 0; i < rows; i++) t += q[p * rows + i] * q[c * rows + i];
            assert.ok(Math.abs(t - (p === c ? 1 : 0)) <= 1e-13, `${label}: ${name}^T ${name} [${p}][${c}] = ${t}`);
          }
      };
      orthonormal(u, m, 'U');
      orthonormal(v, n, 'V');
      // Without U: the same singular values and V, bit for bit (the QR iteration's rotations of V do not depend on U).
      const without = svdWithoutU(a, m, n, { s: new Float64Array(n), v: new Float64Array(n * n) });
      assert.deepEqual(without.s, s, `${label}: s without U`);
      assert.deepEqual(without.v, v, `${label}: V without U`);
    }
  });

  it('symmetric eigensolver: A v = lambda v and orthonormal vectors, also for a repeated eigenvalue', () => {
    const rng = mulberry32(12);
    for (const n of [3, 8, 57, 120]) {
      // A = Q diag(lambda) Q^T with a repeated eigenvalue (a cluster), Q from the SVD of a random matrix.
      const { u: q } = svd(Float64Array.from({ length: n * n }, () => rng() - 0.5), n, n);
      const lambda = Float64Array.from({ length: n }, (_, i) => (i % 3 === 1 ? 2 : 1 + i / n));
      const a = new Float64Array(n * n);
      for (let i = 0; i < n; i++)
        for (let j = 0; j < n; j++) {
          let t = 0;
          for (let x = 0; x < n; x++) t += q[x * n + i] * lambda[x] * q[x * n + j];
          a[i * n + j] = t;
        }
      const k = Math.min(n, 25);
      const { values, vectors } = symmetricEigenTop(a.slice(), n, k);
      const sorted = Float64Array.from(lambda).sort().reverse();
      for (let c = 0; c < k; c++) {
        assert.ok(Math.abs(values[c] - sorted[c]) <= 1e-13 * 2, `n ${n}: value ${c}: ${values[c]} vs ${sorted[c]}`);
        for (let i = 0; i < n; i++) {
          let t = 0;
          for (let j = 0; j < n; j++) t += a[i * n + j] * vectors[j * k + c];
          assert.ok(Math.abs(t - values[c] * vectors[i * k + c]) <= 1e-12, `n ${n}: (A v - lambda v)[${i}] of vector ${c}`);
        }
        for (let d = 0; d <= c; d++) {
          let t = 0;
          for (let i = 0; i < n; i++) t += vectors[i * k + c] * vectors[i * k + d];
          assert.ok(Math.abs(t - (c === d ? 1 : 0)) <= 1e-12, `n ${n}: v${c} . v${d} = ${t}`);
        }
      }
    }
  });
});

describe('tridiagonal eigenvectors (inverse iteration, Gram-Schmidt in the last iteration and for close eigenvalues in the first)', () => {
  /** Largest |T z - lambda z| / ||T||_1 and largest |Z^T Z - I| of the top-k eigenpairs of (diag, off). */
  function quality(diag: Float64Array, off: Float64Array, k: number): { residual: number; orthogonality: number } {
    const n = diag.length;
    const { values, tridiagonalVectors: z } = eigenOfTridiagonal({ diag, off, beta: new Float64Array(n) }, k);
    const kk = values.length;
    let norm = 0;
    for (let i = 0; i < n; i++) norm = Math.max(norm, Math.abs(diag[i]) + Math.abs(off[i]) + (i > 0 ? Math.abs(off[i - 1]) : 0));
    let residual = 0;
    let orthogonality = 0;
    for (let c = 0; c < kk; c++) {
      for (let i = 0; i < n; i++) {
        const tz = diag[i] * z[i * kk + c] + (i + 1 < n ? off[i] * z[(i + 1) * kk + c] : 0) + (i > 0 ? off[i - 1] * z[(i - 1) * kk + c] : 0);
        residual = Math.max(residual, Math.abs(tz - values[c] * z[i * kk + c]) / norm);
      }
      for (let d = 0; d <= c; d++) {
        let t = 0;
        for (let i = 0; i < n; i++) t += z[i * kk + c] * z[i * kk + d];
        orthogonality = Math.max(orthogonality, Math.abs(t - (c === d ? 1 : 0)));
      }
    }
    return { residual, orthogonality };
  }

  /** 50 copies of one 4 x 4 tridiagonal, coupled by `coupling(i)` (0: each eigenvalue exactly 50 times). */
  function repeatedBlocks(coupling: () => number): { diag: Float64Array; off: Float64Array } {
    const n = 200;
    const diag = Float64Array.from({ length: n }, (_, i) => [1, 2, 3, 4][i % 4]);
    const off = Float64Array.from({ length: n }, (_, i) => (i === n - 1 ? 0 : i % 4 === 3 ? coupling() : 0.5));
    return { diag, off };
  }

  const rng = mulberry32(21);
  const cases: [string, () => { diag: Float64Array; off: Float64Array }, number][] = [
    ['each eigenvalue 50 times', () => repeatedBlocks(() => 0), 200],
    ['eigenvalues split by 1e-14', () => repeatedBlocks(() => 1e-14 * rng()), 200],
    ['eigenvalues split by 1e-9', () => repeatedBlocks(() => 1e-9 * rng()), 200],
    // k <= n / 3: the eigenvalues by bisection, 50 copies of the largest among them.
    ['each eigenvalue 50 times, top 60 (by bisection)', () => repeatedBlocks(() => 0), 60],
    ['eigenvalues split by 1e-14, top 60 (by bisection)', () => repeatedBlocks(() => 1e-14 * rng()), 60],
    [
      'a PCA-like decaying spectrum, top 200 of 1200 (one cluster of about 190)',
      () => ({
        diag: Float64Array.from({ length: 1200 }, (_, i) => Math.exp(-i / 50) * (1 + 0.1 * rng())),
        off: Float64Array.from({ length: 1200 }, (_, i) => (i < 1199 ? 1e-3 * Math.exp(-i / 50) * rng() : 0)),
      }),
      200,
    ],
    ['rank 5 of 300 (195 zero eigenvalues among the top 200)', () => ({ diag: Float64Array.from({ length: 300 }, (_, i) => (i < 5 ? i + 1 : 0)), off: new Float64Array(300) }), 200],
  ];
  for (const [name, make, k] of cases) {
    it(`${name}: residuals and orthogonality to rounding`, () => {
      const { diag, off } = make();
      const { residual, orthogonality } = quality(diag, off, k);
      assert.ok(residual <= 1e-13, `residual ${residual}`);
      assert.ok(orthogonality <= 1e-13, `orthogonality ${orthogonality}`);
    });
  }

  it('the top k eigenvalues by bisection (n >= 3k) are QL\'s to 1e-14 ||T||_1 (+1e-306), descending, on arbitrary tridiagonals', () => {
    const entry = fc.oneof(fc.double({ min: -1e3, max: 1e3, noNaN: true }), fc.constantFrom(0, 1, -1, 1e-300, 1e-12, 5e-324));
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 90 }), fc.array(entry, { minLength: 180, maxLength: 180 }), fc.nat(), (n, entries, kSeed) => {
        const diag = Float64Array.from(entries.slice(0, n));
        const off = Float64Array.from({ length: n }, (_, i) => (i < n - 1 ? entries[90 + i] : 0));
        const k = 1 + (kSeed % Math.max(1, Math.floor(n / 3)));
        const beta = new Float64Array(n);
        const all = eigenOfTridiagonal({ diag, off, beta }, n).values; // k = n: QL
        const top = eigenOfTridiagonal({ diag, off, beta }, k).values; // bisection when n >= 3k
        let norm = 0;
        for (let i = 0; i < n; i++) norm = Math.max(norm, Math.abs(diag[i]) + Math.abs(off[i]) + (i > 0 ? Math.abs(off[i - 1]) : 0));
        assert.equal(top.length, k);
        for (let c = 0; c < k; c++) {
          // Both are accurate to eps ||T||; the absolute 1e-306 covers T of subnormal entries (drawn here), whose
          // values carry no more than absolute precision near the least double.
          assert.ok(Math.abs(top[c] - all[c]) <= 1e-14 * norm + 1e-306, `eigenvalue ${c}: ${top[c]} vs ${all[c]}`);
          if (c > 0) assert.ok(top[c] <= top[c - 1], 'descending');
        }
      }),
      { numRuns: 300 },
    );
  });

  it('bisection scales exactly: the top k of 2^p T are 2^p times those of T, for p from -900 to 900', () => {
    // Entries 0 or of magnitude 1e-3..1e3, so that 2^p T is exact (no subnormals, no overflow).
    const entry = fc.oneof(fc.constant(0), fc.double({ min: 1e-3, max: 1e3, noNaN: true }), fc.double({ min: -1e3, max: -1e-3, noNaN: true }));
    fc.assert(
      fc.property(fc.integer({ min: 3, max: 60 }), fc.array(entry, { minLength: 120, maxLength: 120 }), fc.integer({ min: -900, max: 900 }), (n, entries, p) => {
        const diag = Float64Array.from(entries.slice(0, n));
        const off = Float64Array.from({ length: n }, (_, i) => (i < n - 1 ? entries[60 + i] : 0));
        const k = Math.max(1, Math.floor(n / 3));
        const factor = 2 ** p;
        const top = eigenOfTridiagonal({ diag, off, beta: new Float64Array(n) }, k).values;
        const scaled = eigenOfTridiagonal({ diag: diag.map((v) => v * factor), off: off.map((v) => v * factor), beta: new Float64Array(n) }, k).values;
        assert.deepEqual(Array.from(scaled), Array.from(top, (v) => v * factor));
      }),
      { numRuns: 200 },
    );
  });
});

describe('firstNonFinite', () => {
  // Any bit pattern (fast-check favours small integers, so the edges are named too): NaNs of every payload and sign,
  // both infinities, the largest finite values, subnormals, signed zeros.
  const float32Edges = [0x7f800000, -0x00800000, 0x7f800001, -0x00400000, 0x7f7fffff, -0x00800001, 0x7f000000, 1, -0x80000000];
  const float32Bits = fc.oneof(fc.integer({ min: -0x80000000, max: 0x7fffffff }), fc.constantFrom(...float32Edges), fc.float().map((v) => new Int32Array(Float32Array.of(v).buffer)[0]));
  const high64Edges = [0x7ff00000, 0xfff00000, 0x7ff80000, 0x7fefffff, 0xffefffff, 0x7fe00000, 0, 0x80000000];
  const float64Halves = fc.tuple(fc.integer({ min: 0, max: 0xffffffff }), fc.oneof(fc.integer({ min: 0, max: 0xffffffff }), fc.constantFrom(...high64Edges)));

  it('float32: the index of the first NaN or infinity, -1 when every value is finite, on arbitrary bit patterns', () => {
    fc.assert(
      fc.property(fc.array(float32Bits, { maxLength: 64 }), (words) => {
        const values = new Float32Array(Int32Array.from(words).buffer);
        assert.equal(firstNonFinite(values), values.findIndex((v) => !Number.isFinite(v)));
      }),
    );
  });

  it('float64: the same on arbitrary bit patterns, and on views that start inside a larger buffer', () => {
    fc.assert(
      fc.property(fc.array(float64Halves, { maxLength: 64 }), fc.nat(3), (halves, skip) => {
        const words = new Uint32Array(halves.flat());
        const all = new Float64Array(words.buffer);
        const values = all.subarray(Math.min(skip, all.length));
        assert.equal(firstNonFinite(values), values.findIndex((v) => !Number.isFinite(v)));
      }),
    );
    const view = new Float32Array([Number.NaN, 1, 2, Number.POSITIVE_INFINITY]).subarray(1);
    assert.equal(firstNonFinite(view), 2);
  });
});
