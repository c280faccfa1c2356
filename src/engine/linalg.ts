/**
 * Dense linear algebra on flat Float64Arrays (row-major unless a name says otherwise): a symmetric eigensolver for
 * the top k eigenpairs and a full SVD (matrix products run on onnxruntime: gemm.ts). Every routine is deterministic: the same input gives the
 * same bits, whichever thread runs it.
 */

const EPS = 2 ** -52;

/** B (cols x rows) = A^T for A (rows x cols). */
function transpose(a: Float64Array, rows: number, cols: number): Float64Array {
  const t = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    const ai = i * cols;
    for (let j = 0; j < cols; j++) t[j * rows + i] = a[ai + j];
  }
  return t;
}

/** Deterministic PRNG (mulberry32); returns floats in [0, 1). Mirrored in test/fixtures/make_engine_fixtures.py. */
export function mulberry32(seed: number): () => number {
  let a = seed | 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface TopEigen {
  /** The k largest eigenvalues, descending. */
  values: Float64Array;
  /** n x k row-major; column c is the unit eigenvector of values[c]. */
  vectors: Float64Array;
}

/**
 * Top-k eigenpairs of a symmetric n x n matrix (row-major; only the lower triangle is read; `a` is overwritten).
 * Householder tridiagonalisation (reflectors kept, never accumulated), all eigenvalues by implicit QL without
 * vectors, eigenvectors of the k largest by inverse iteration on the tridiagonal (re-orthogonalised within clusters,
 * as LAPACK dstein), then the k vectors are back-transformed through the reflectors. Cost ~ 2/3 n^3 + 2 n^2 k.
 */
export function symmetricEigenTop(a: Float64Array, n: number, k: number): TopEigen {
  const { values, tridiagonalVectors, beta } = tridiagonalEigenTop(a, n, k);
  return { values, vectors: backTransform(a, n, beta, tridiagonalVectors, values.length) };
}

export interface TridiagonalEigen {
  /** The min(k, n) largest eigenvalues, descending. */
  values: Float64Array;
  /** n x k row-major: eigenvectors of the tridiagonal T (not yet back-transformed). */
  tridiagonalVectors: Float64Array;
  /** Reflector factors; reflector r is stored in `a`'s row r, columns r+1..n-1: H_r = I - beta[r] v v^T. */
  beta: Float64Array;
}

/**
 * symmetricEigenTop up to the back-transformation, which the caller applies: A = H T H^T with H = H_0 ... H_{n-3},
 * so A's eigenvectors are H z for T's eigenvectors z (see gemmEigen.ts for a blocked version on onnxruntime).
 */
export function tridiagonalEigenTop(a: Float64Array, n: number, k: number): TridiagonalEigen {
  const diag = new Float64Array(n);
  const off = new Float64Array(n); // off[i] = T[i+1][i]; off[n-1] = 0
  const beta = new Float64Array(n);
  tridiagonalize(a, n, diag, off, beta);
  const all = tridiagonalEigenvalues(diag, off);
  all.sort((x, y) => y - x);
  const values = all.slice(0, Math.min(k, n));
  return { values, tridiagonalVectors: tridiagonalEigenvectors(diag, off, values), beta };
}

/**
 * Lower triangle of `a` -> T (diag, off); reflector k is stored in row k, columns k+1..n-1, with beta[k]. The
 * rank-2 update of step k is applied lazily, fused with the matrix-vector product of step k+1, so the trailing
 * triangle is streamed once per step.
 */
function tridiagonalize(a: Float64Array, n: number, diag: Float64Array, off: Float64Array, beta: Float64Array): void {
  let v = new Float64Array(n);
  let w = new Float64Array(n);
  let vp = new Float64Array(n); // pending update A -= vp wp^T + wp vp^T on indices >= k (zero at first)
  let wp = new Float64Array(n);
  for (let k = 0; k < n - 2; k++) {
    const s = k + 1;
    for (let i = k; i < n; i++) a[i * n + k] -= vp[i] * wp[k] + wp[i] * vp[k];
    diag[k] = a[k * n + k];
    let tail = 0;
    for (let i = s + 1; i < n; i++) tail += a[i * n + k] * a[i * n + k];
    const x0 = a[s * n + k];
    if (tail === 0) {
      off[k] = x0;
      beta[k] = 0;
      for (let i = s; i < n; i++) {
        const row = i * n;
        const vi = vp[i];
        const wi = wp[i];
        for (let j = s; j <= i; j++) a[row + j] -= vi * wp[j] + wi * vp[j];
      }
      vp.fill(0);
      wp.fill(0);
      continue;
    }
    const norm = Math.sqrt(x0 * x0 + tail);
    const alpha = x0 >= 0 ? -norm : norm;
    v[s] = x0 - alpha;
    for (let i = s + 1; i < n; i++) v[i] = a[i * n + k];
    const b = 1 / (alpha * (alpha - x0));
    off[k] = alpha;
    beta[k] = b;
    // w = b * A' v over the trailing lower triangle, applying the pending update on the way (zero before step 1).
    // Rows go in pairs to share the loads of the vectors; every sum is accumulated in the one-row-at-a-time order.
    w.fill(0, s, n);
    let i = s;
    for (; i + 1 < n; i += 2) {
      const r1 = i * n;
      const r2 = r1 + n;
      const v1 = v[i], pv1 = vp[i], pw1 = wp[i];
      const v2 = v[i + 1], pv2 = vp[i + 1], pw2 = wp[i + 1];
      let acc1 = 0;
      let acc2 = 0;
      for (let j = s; j < i; j++) {
        const pwj = wp[j], pvj = vp[j], vj = v[j];
        const a1 = a[r1 + j] - (pv1 * pwj + pw1 * pvj);
        const a2 = a[r2 + j] - (pv2 * pwj + pw2 * pvj);
        a[r1 + j] = a1;
        a[r2 + j] = a2;
        acc1 += a1 * vj;
        acc2 += a2 * vj;
        w[j] = w[j] + a1 * v1 + a2 * v2;
      }
      const d1 = a[r1 + i] - (pv1 * pw1 + pw1 * pv1);
      a[r1 + i] = d1;
      w[i] += acc1 + d1 * v1;
      const o2 = a[r2 + i] - (pv2 * pw1 + pw2 * pv1);
      a[r2 + i] = o2;
      acc2 += o2 * v1;
      w[i] += o2 * v2;
      const d2 = a[r2 + i + 1] - (pv2 * pw2 + pw2 * pv2);
      a[r2 + i + 1] = d2;
      w[i + 1] += acc2 + d2 * v2;
    }
    for (; i < n; i++) {
      const row = i * n;
      const vi = v[i];
      const pvi = vp[i];
      const pwi = wp[i];
      let acc = 0;
      for (let j = s; j < i; j++) {
        const aij = a[row + j] - (pvi * wp[j] + pwi * vp[j]);
        a[row + j] = aij;
        acc += aij * v[j];
        w[j] += aij * vi;
      }
      const aii = a[row + i] - (pvi * wp[i] + pwi * vp[i]);
      a[row + i] = aii;
      w[i] += acc + aii * vi;
    }
    let pv = 0;
    for (let i = s; i < n; i++) {
      w[i] *= b;
      pv += w[i] * v[i];
    }
    const half = 0.5 * b * pv;
    for (let i = s; i < n; i++) w[i] -= half * v[i];
    const store = k * n;
    for (let i = s; i < n; i++) a[store + i] = v[i];
    [vp, v] = [v, vp];
    [wp, w] = [w, wp];
  }
  {
    const s = Math.max(n - 2, 0);
    for (let i = s; i < n; i++) {
      const row = i * n;
      for (let j = s; j <= i; j++) a[row + j] -= vp[i] * wp[j] + wp[i] * vp[j];
    }
  }
  if (n >= 2) {
    diag[n - 2] = a[(n - 2) * n + n - 2];
    off[n - 2] = a[(n - 1) * n + n - 2];
  }
  diag[n - 1] = a[(n - 1) * n + n - 1];
  off[n - 1] = 0;
}

/** All eigenvalues of the symmetric tridiagonal (diag, off) by implicit QL (EISPACK tql1 as in JAMA's tql2). */
function tridiagonalEigenvalues(diag: Float64Array, off: Float64Array): Float64Array {
  const n = diag.length;
  const d = Float64Array.from(diag);
  const e = Float64Array.from(off);
  let f = 0;
  let tst1 = 0;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l]) + Math.abs(e[l]));
    let m = l;
    while (m < n) {
      if (Math.abs(e[m]) <= EPS * tst1) break;
      m++;
    }
    if (m > l) {
      let iter = 0;
      do {
        if (++iter > 100) throw new Error('tridiagonal QL did not converge');
        let g = d[l];
        let p = (d[l + 1] - g) / (2 * e[l]);
        let r = Math.hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l] / (p + r);
        d[l + 1] = e[l] * (p + r);
        const dl1 = d[l + 1];
        let h = g - d[l];
        for (let i = l + 2; i < n; i++) d[i] -= h;
        f += h;
        p = d[m];
        let c = 1;
        let c2 = c;
        let c3 = c;
        const el1 = e[l + 1];
        let s = 0;
        let s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i];
          h = c * p;
          r = Math.hypot(p, e[i]);
          e[i + 1] = s * r;
          s = e[i] / r;
          c = p / r;
          p = c * d[i] - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]);
        }
        p = (-s * s2 * c3 * el1 * e[l]) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l]) > EPS * tst1);
    }
    d[l] += f;
    e[l] = 0;
  }
  return d;
}

const INVERSE_ITERATIONS = 4;

/**
 * Unit eigenvectors (n x k row-major) of the tridiagonal for the given eigenvalues (descending), by inverse
 * iteration from a seeded start, with modified Gram-Schmidt against the earlier vectors of the same cluster
 * (eigenvalues closer than 1e-3 ||T||_1) and a tiny perturbation of coincident eigenvalues, as LAPACK dstein does.
 */
function tridiagonalEigenvectors(diag: Float64Array, off: Float64Array, values: Float64Array): Float64Array {
  const n = diag.length;
  const k = values.length;
  const zt = new Float64Array(k * n); // vector c in row c while iterating
  let norm1 = 0;
  for (let i = 0; i < n; i++) {
    const t = Math.abs(diag[i]) + Math.abs(off[i]) + (i > 0 ? Math.abs(off[i - 1]) : 0);
    if (t > norm1) norm1 = t;
  }
  if (norm1 === 0) norm1 = 1;
  const ortol = 1e-3 * norm1;
  const pertol = 10 * EPS * norm1;
  const pivotFloor = EPS * norm1;
  const dd = new Float64Array(n);
  const du = new Float64Array(n);
  const du2 = new Float64Array(n);
  const dl = new Float64Array(n);
  const swap = new Uint8Array(n);
  const x = new Float64Array(n);
  let clusterStart = 0;
  let previous = 0;
  for (let c = 0; c < k; c++) {
    let lambda = values[c];
    if (c > 0) {
      if (values[c - 1] - values[c] > ortol) clusterStart = c;
      if (previous - lambda < pertol) lambda = previous - pertol;
    }
    previous = lambda;
    // LU with partial pivoting of T - lambda I (LAPACK dgttrf).
    for (let i = 0; i < n; i++) {
      dd[i] = diag[i] - lambda;
      du[i] = off[i];
      dl[i] = off[i];
      du2[i] = 0;
      swap[i] = 0;
    }
    for (let i = 0; i < n - 1; i++) {
      if (Math.abs(dd[i]) >= Math.abs(dl[i])) {
        if (dd[i] !== 0) {
          const fact = dl[i] / dd[i];
          dl[i] = fact;
          dd[i + 1] -= fact * du[i];
        } else dl[i] = 0;
      } else {
        const fact = dd[i] / dl[i];
        dd[i] = dl[i];
        dl[i] = fact;
        const temp = du[i];
        du[i] = dd[i + 1];
        dd[i + 1] = temp - fact * dd[i + 1];
        if (i < n - 2) {
          du2[i] = du[i + 1];
          du[i + 1] = -fact * du[i + 1];
        }
        swap[i] = 1;
      }
    }
    for (let i = 0; i < n; i++) if (Math.abs(dd[i]) < pivotFloor) dd[i] = dd[i] < 0 ? -pivotFloor : pivotFloor;
    const rng = mulberry32(c + 1);
    for (let i = 0; i < n; i++) x[i] = 2 * rng() - 1;
    for (let iter = 0; iter < INVERSE_ITERATIONS; iter++) {
      for (let i = 0; i < n - 1; i++) {
        if (swap[i] === 0) x[i + 1] -= dl[i] * x[i];
        else {
          const temp = x[i];
          x[i] = x[i + 1];
          x[i + 1] = temp - dl[i] * x[i];
        }
      }
      x[n - 1] /= dd[n - 1];
      if (n > 1) x[n - 2] = (x[n - 2] - du[n - 2] * x[n - 1]) / dd[n - 2];
      for (let i = n - 3; i >= 0; i--) x[i] = (x[i] - du[i] * x[i + 1] - du2[i] * x[i + 2]) / dd[i];
      for (let o = clusterStart; o < c; o++) {
        const zo = o * n;
        let d0 = 0, d1 = 0, d2 = 0, d3 = 0; // four chains: the dot product is latency-bound otherwise
        let i = 0;
        for (; i + 3 < n; i += 4) {
          d0 += zt[zo + i] * x[i];
          d1 += zt[zo + i + 1] * x[i + 1];
          d2 += zt[zo + i + 2] * x[i + 2];
          d3 += zt[zo + i + 3] * x[i + 3];
        }
        for (; i < n; i++) d0 += zt[zo + i] * x[i];
        const dot = d0 + d1 + (d2 + d3);
        for (let j = 0; j < n; j++) x[j] -= dot * zt[zo + j];
      }
      let scale = 0;
      for (let i = 0; i < n; i++) scale = Math.max(scale, Math.abs(x[i]));
      let ss = 0;
      for (let i = 0; i < n; i++) {
        x[i] /= scale;
        ss += x[i] * x[i];
      }
      const inv = 1 / Math.sqrt(ss);
      for (let i = 0; i < n; i++) x[i] *= inv;
    }
    zt.set(x, c * n);
  }
  return transpose(zt, k, n);
}

/**
 * z (n x k) <- H_0 H_1 ... H_{n-3} z, the reflectors stored by tridiagonalize. Works on z^T (one vector per row),
 * four vectors at a time: the four stay in cache while every reflector streams past them once, and their four dot
 * products are independent chains.
 */
function backTransform(a: Float64Array, n: number, beta: Float64Array, z: Float64Array, k: number): Float64Array {
  const zt = transpose(z, n, k);
  const k4 = k - (k % 4);
  for (let c0 = 0; c0 < k4; c0 += 4) {
    const z0 = c0 * n;
    const z1 = z0 + n;
    const z2 = z1 + n;
    const z3 = z2 + n;
    for (let r = n - 3; r >= 0; r--) {
      const b = beta[r];
      if (b === 0) continue;
      const store = r * n;
      let d0 = 0, d1 = 0, d2 = 0, d3 = 0;
      for (let i = r + 1; i < n; i++) {
        const vi = a[store + i];
        d0 += vi * zt[z0 + i];
        d1 += vi * zt[z1 + i];
        d2 += vi * zt[z2 + i];
        d3 += vi * zt[z3 + i];
      }
      d0 *= b;
      d1 *= b;
      d2 *= b;
      d3 *= b;
      for (let i = r + 1; i < n; i++) {
        const vi = a[store + i];
        zt[z0 + i] -= vi * d0;
        zt[z1 + i] -= vi * d1;
        zt[z2 + i] -= vi * d2;
        zt[z3 + i] -= vi * d3;
      }
    }
  }
  for (let c = k4; c < k; c++) {
    const zo = c * n;
    for (let r = n - 3; r >= 0; r--) {
      const b = beta[r];
      if (b === 0) continue;
      const store = r * n;
      let dot = 0;
      for (let i = r + 1; i < n; i++) dot += a[store + i] * zt[zo + i];
      dot *= b;
      for (let i = r + 1; i < n; i++) zt[zo + i] -= a[store + i] * dot;
    }
  }
  return transpose(zt, k, n);
}

export interface Svd {
  /** m x n column-major (thin U). */
  u: Float64Array;
  /** Singular values, descending, length n. */
  s: Float64Array;
  /** n x n column-major. */
  v: Float64Array;
}

/**
 * Full SVD A = U diag(s) V^T of an m x n matrix (m >= n) given column-major (not modified): Householder
 * bidiagonalisation and implicit-shift QR (LINPACK dsvdc, as in JAMA), in column-major storage so the inner loops
 * run over contiguous memory. U and V stay orthogonal when A is rank-deficient: null directions are completed by
 * the Householder reflectors, deterministically.
 */
export function svd(aIn: Float64Array, m: number, n: number): Svd {
  if (m < n) throw new Error('svd needs m >= n');
  const a = Float64Array.from(aIn);
  const nu = Math.min(m, n);
  const s = new Float64Array(Math.min(m + 1, n));
  const u = new Float64Array(m * nu);
  const v = new Float64Array(n * n);
  const e = new Float64Array(n);
  const work = new Float64Array(m);
  const nct = Math.min(m - 1, n);
  const nrt = Math.max(0, Math.min(n - 2, m));
  for (let k = 0; k < Math.max(nct, nrt); k++) {
    const ck = k * m;
    if (k < nct) {
      let norm = 0;
      for (let i = k; i < m; i++) norm = Math.hypot(norm, a[ck + i]);
      s[k] = norm;
      if (s[k] !== 0) {
        if (a[ck + k] < 0) s[k] = -s[k];
        for (let i = k; i < m; i++) a[ck + i] /= s[k];
        a[ck + k] += 1;
      }
      s[k] = -s[k];
    }
    for (let j = k + 1; j < n; j++) {
      const cj = j * m;
      if (k < nct && s[k] !== 0) {
        let t = 0;
        for (let i = k; i < m; i++) t += a[ck + i] * a[cj + i];
        t = -t / a[ck + k];
        for (let i = k; i < m; i++) a[cj + i] += t * a[ck + i];
      }
      e[j] = a[cj + k];
    }
    if (k < nct) for (let i = k; i < m; i++) u[ck + i] = a[ck + i];
    if (k < nrt) {
      let norm = 0;
      for (let i = k + 1; i < n; i++) norm = Math.hypot(norm, e[i]);
      e[k] = norm;
      if (e[k] !== 0) {
        if (e[k + 1] < 0) e[k] = -e[k];
        for (let i = k + 1; i < n; i++) e[i] /= e[k];
        e[k + 1] += 1;
      }
      e[k] = -e[k];
      if (k + 1 < m && e[k] !== 0) {
        work.fill(0, k + 1, m);
        for (let j = k + 1; j < n; j++) {
          const cj = j * m;
          const ej = e[j];
          for (let i = k + 1; i < m; i++) work[i] += ej * a[cj + i];
        }
        for (let j = k + 1; j < n; j++) {
          const cj = j * m;
          const t = -e[j] / e[k + 1];
          for (let i = k + 1; i < m; i++) a[cj + i] += t * work[i];
        }
      }
      for (let i = k + 1; i < n; i++) v[k * n + i] = e[i];
    }
  }
  let p = Math.min(n, m + 1);
  if (nct < n) s[nct] = a[nct * m + nct];
  if (m < p) s[p - 1] = 0;
  if (nrt + 1 < p) e[nrt] = a[(p - 1) * m + nrt];
  e[p - 1] = 0;

  for (let j = nct; j < nu; j++) {
    u.fill(0, j * m, (j + 1) * m);
    u[j * m + j] = 1;
  }
  for (let k = nct - 1; k >= 0; k--) {
    const ck = k * m;
    if (s[k] !== 0) {
      for (let j = k + 1; j < nu; j++) {
        const cj = j * m;
        let t = 0;
        for (let i = k; i < m; i++) t += u[ck + i] * u[cj + i];
        t = -t / u[ck + k];
        for (let i = k; i < m; i++) u[cj + i] += t * u[ck + i];
      }
      for (let i = k; i < m; i++) u[ck + i] = -u[ck + i];
      u[ck + k] = 1 + u[ck + k];
      for (let i = 0; i < k - 1; i++) u[ck + i] = 0;
    } else {
      u.fill(0, ck, ck + m);
      u[ck + k] = 1;
    }
  }
  for (let k = n - 1; k >= 0; k--) {
    const ck = k * n;
    if (k < nrt && e[k] !== 0) {
      for (let j = k + 1; j < n; j++) {
        const cj = j * n;
        let t = 0;
        for (let i = k + 1; i < n; i++) t += v[ck + i] * v[cj + i];
        t = -t / v[ck + k + 1];
        for (let i = k + 1; i < n; i++) v[cj + i] += t * v[ck + i];
      }
    }
    v.fill(0, ck, ck + n);
    v[ck + k] = 1;
  }

  const pp = p - 1;
  const tiny = 2 ** -966;
  let iterations = 0;
  const rotate = (mat: Float64Array, rows: number, j1: number, j2: number, cs: number, sn: number): void => {
    const c1 = j1 * rows;
    const c2 = j2 * rows;
    for (let i = 0; i < rows; i++) {
      const t = cs * mat[c1 + i] + sn * mat[c2 + i];
      mat[c2 + i] = -sn * mat[c1 + i] + cs * mat[c2 + i];
      mat[c1 + i] = t;
    }
  };
  while (p > 0) {
    if (++iterations > 75 * n + 100) throw new Error('svd did not converge');
    let k: number;
    let kase: number;
    for (k = p - 2; k >= -1; k--) {
      if (k === -1) break;
      if (Math.abs(e[k]) <= tiny + EPS * (Math.abs(s[k]) + Math.abs(s[k + 1]))) {
        e[k] = 0;
        break;
      }
    }
    if (k === p - 2) kase = 4;
    else {
      let ks: number;
      for (ks = p - 1; ks >= k; ks--) {
        if (ks === k) break;
        const t = (ks !== p ? Math.abs(e[ks]) : 0) + (ks !== k + 1 ? Math.abs(e[ks - 1]) : 0);
        if (Math.abs(s[ks]) <= tiny + EPS * t) {
          s[ks] = 0;
          break;
        }
      }
      if (ks === k) kase = 3;
      else if (ks === p - 1) kase = 1;
      else {
        kase = 2;
        k = ks;
      }
    }
    k++;
    if (kase === 1) {
      let f = e[p - 2];
      e[p - 2] = 0;
      for (let j = p - 2; j >= k; j--) {
        const t = Math.hypot(s[j], f);
        const cs = s[j] / t;
        const sn = f / t;
        s[j] = t;
        if (j !== k) {
          f = -sn * e[j - 1];
          e[j - 1] = cs * e[j - 1];
        }
        rotate(v, n, j, p - 1, cs, sn);
      }
    } else if (kase === 2) {
      let f = e[k - 1];
      e[k - 1] = 0;
      for (let j = k; j < p; j++) {
        const t = Math.hypot(s[j], f);
        const cs = s[j] / t;
        const sn = f / t;
        s[j] = t;
        f = -sn * e[j];
        e[j] = cs * e[j];
        rotate(u, m, j, k - 1, cs, sn);
      }
    } else if (kase === 3) {
      const scale = Math.max(
        Math.abs(s[p - 1]),
        Math.abs(s[p - 2]),
        Math.abs(e[p - 2]),
        Math.abs(s[k]),
        Math.abs(e[k]),
      );
      const sp = s[p - 1] / scale;
      const spm1 = s[p - 2] / scale;
      const epm1 = e[p - 2] / scale;
      const sk = s[k] / scale;
      const ek = e[k] / scale;
      const b = ((spm1 + sp) * (spm1 - sp) + epm1 * epm1) / 2;
      const c = sp * epm1 * (sp * epm1);
      let shift = 0;
      if (b !== 0 || c !== 0) {
        shift = Math.sqrt(b * b + c);
        if (b < 0) shift = -shift;
        shift = c / (b + shift);
      }
      let f = (sk + sp) * (sk - sp) + shift;
      let g = sk * ek;
      for (let j = k; j < p - 1; j++) {
        let t = Math.hypot(f, g);
        let cs = f / t;
        let sn = g / t;
        if (j !== k) e[j - 1] = t;
        f = cs * s[j] + sn * e[j];
        e[j] = cs * e[j] - sn * s[j];
        g = sn * s[j + 1];
        s[j + 1] = cs * s[j + 1];
        rotate(v, n, j, j + 1, cs, sn);
        t = Math.hypot(f, g);
        cs = f / t;
        sn = g / t;
        s[j] = t;
        f = cs * e[j] + sn * s[j + 1];
        s[j + 1] = -sn * e[j] + cs * s[j + 1];
        g = sn * e[j + 1];
        e[j + 1] = cs * e[j + 1];
        if (j < m - 1) rotate(u, m, j, j + 1, cs, sn);
      }
      e[p - 2] = f;
    } else {
      if (s[k] <= 0) {
        s[k] = s[k] < 0 ? -s[k] : 0;
        for (let i = 0; i <= pp; i++) v[k * n + i] = -v[k * n + i];
      }
      while (k < pp) {
        if (s[k] >= s[k + 1]) break;
        const t = s[k];
        s[k] = s[k + 1];
        s[k + 1] = t;
        if (k < n - 1) swapColumns(v, n, k, k + 1);
        if (k < m - 1) swapColumns(u, m, k, k + 1);
        k++;
      }
      p--;
    }
  }
  return { u, s: s.slice(0, n), v };
}

function swapColumns(mat: Float64Array, rows: number, j1: number, j2: number): void {
  const c1 = j1 * rows;
  const c2 = j2 * rows;
  for (let i = 0; i < rows; i++) {
    const t = mat[c1 + i];
    mat[c1 + i] = mat[c2 + i];
    mat[c2 + i] = t;
  }
}
