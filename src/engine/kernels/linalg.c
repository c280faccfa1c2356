/*
 * The O(n^3) loops of the engine's dense linear algebra that cannot be phrased as matrix products (see linalg.ts,
 * which calls them through wasm.ts): Householder tridiagonalisation, the tridiagonal's eigenvalues (all by QL, or
 * the top k by bisection) and eigenvectors (inverse iteration), and the full SVD. Compiled to WebAssembly with 128-bit SIMD (two doubles per operation) by scripts/build-wasm.sh; V8's
 * code for the same loops in JavaScript runs about 4x slower (no SIMD, bounds checks).
 *
 * No libc: only arithmetic and sqrt. No fused multiply-add (wasm has none), so results depend only on the input:
 * the same bits on every thread and machine. Every array is a flat double array in the module's memory, laid out by
 * the caller.
 */
#include <wasm_simd128.h>

typedef double f64;
typedef unsigned int u32;

#define EPS 2.220446049250313e-16 /* 2^-52 */
#define ABS(x) __builtin_fabs(x)
#define SQRT(x) __builtin_sqrt(x)
#define MAX(a, b) ((a) > (b) ? (a) : (b))

/*
 * sum x[i] * y[i]: four two-lane accumulators (eight products a step: one accumulator waits on each addition's
 * latency, and this dot product is most of the SVD's and the tridiagonalisation's time), then two lanes, then the
 * tail.
 */
static f64 dot(const f64 *x, const f64 *y, int len) {
  v128_t a0 = wasm_f64x2_splat(0), a1 = a0, a2 = a0, a3 = a0;
  int i = 0;
  for (; i + 7 < len; i += 8) {
    a0 = wasm_f64x2_add(a0, wasm_f64x2_mul(wasm_v128_load(x + i), wasm_v128_load(y + i)));
    a1 = wasm_f64x2_add(a1, wasm_f64x2_mul(wasm_v128_load(x + i + 2), wasm_v128_load(y + i + 2)));
    a2 = wasm_f64x2_add(a2, wasm_f64x2_mul(wasm_v128_load(x + i + 4), wasm_v128_load(y + i + 4)));
    a3 = wasm_f64x2_add(a3, wasm_f64x2_mul(wasm_v128_load(x + i + 6), wasm_v128_load(y + i + 6)));
  }
  for (; i + 1 < len; i += 2) a0 = wasm_f64x2_add(a0, wasm_f64x2_mul(wasm_v128_load(x + i), wasm_v128_load(y + i)));
  v128_t acc = wasm_f64x2_add(wasm_f64x2_add(a0, a1), wasm_f64x2_add(a2, a3));
  f64 s = wasm_f64x2_extract_lane(acc, 0) + wasm_f64x2_extract_lane(acc, 1);
  for (; i < len; i++) s += x[i] * y[i];
  return s;
}

/* y += t * x */
static void axpy(f64 t, const f64 *x, f64 *y, int len) {
  v128_t tt = wasm_f64x2_splat(t);
  int i = 0;
  for (; i + 1 < len; i += 2) wasm_v128_store(y + i, wasm_f64x2_add(wasm_v128_load(y + i), wasm_f64x2_mul(tt, wasm_v128_load(x + i))));
  for (; i < len; i++) y[i] += t * x[i];
}

/* (x, y) <- (c x + s y, -s x + c y) */
static void rotate(f64 *x, f64 *y, int len, f64 c, f64 s) {
  v128_t cc = wasm_f64x2_splat(c), ss = wasm_f64x2_splat(s);
  int i = 0;
  for (; i + 1 < len; i += 2) {
    v128_t a = wasm_v128_load(x + i), b = wasm_v128_load(y + i);
    wasm_v128_store(x + i, wasm_f64x2_add(wasm_f64x2_mul(cc, a), wasm_f64x2_mul(ss, b)));
    wasm_v128_store(y + i, wasm_f64x2_sub(wasm_f64x2_mul(cc, b), wasm_f64x2_mul(ss, a)));
  }
  for (; i < len; i++) {
    f64 a = x[i], b = y[i];
    x[i] = c * a + s * b;
    y[i] = c * b - s * a;
  }
}

/* sqrt(a^2 + b^2) without overflow or harmful underflow. */
static f64 hypot2(f64 a, f64 b) {
  a = ABS(a);
  b = ABS(b);
  f64 big = MAX(a, b);
  if (big == 0) return 0;
  f64 small = a + b - big;
  f64 r = small / big;
  return big * SQRT(1 + r * r);
}

/* Euclidean norm of x, scaled by its largest |entry| (no overflow for any finite input). */
static f64 norm2(const f64 *x, int len) {
  f64 big = 0;
  for (int i = 0; i < len; i++) big = MAX(big, ABS(x[i]));
  if (big == 0) return 0;
  f64 inv = 1 / big, s = 0;
  for (int i = 0; i < len; i++) {
    f64 t = x[i] * inv;
    s += t * t;
  }
  return big * SQRT(s);
}

/*
 * Step k's Householder reflector, from column k (rows k+1..n-1) of the row-major n x n `a`: v (rows k+1..n-1) and
 * *beta with (I - beta v v^T) mapping the column onto off[k] e_{k+1}. Returns 0, leaving v and *beta alone, when the
 * column is zero below row k+1 (then H_k = I and off[k] = a[k+1][k]).
 */
static int reflector(const f64 *a, int n, int k, f64 *v, f64 *off, f64 *beta) {
  int s = k + 1;
  f64 tail = 0;
  for (int i = s + 1; i < n; i++) tail += a[i * n + k] * a[i * n + k];
  f64 x0 = a[s * n + k];
  if (tail == 0) {
    off[k] = x0;
    return 0;
  }
  f64 norm = SQRT(x0 * x0 + tail);
  f64 alpha = x0 >= 0 ? -norm : norm;
  v[s] = x0 - alpha;
  for (int i = s + 1; i < n; i++) v[i] = a[i * n + k];
  off[k] = alpha;
  *beta = 1 / (alpha * (alpha - x0));
  return 1;
}

/* From y = A v (rows s..n-1): w = b y - (b^2 / 2) (y^T v) v in place, the w of the rank-2 update A - v w^T - w v^T. */
static void rank2_w(f64 *y, const f64 *v, int s, int n, f64 b) {
  f64 pv = 0;
  for (int r = s; r < n; r++) {
    y[r] *= b;
    pv += y[r] * v[r];
  }
  f64 half = 0.5 * b * pv;
  for (int r = s; r < n; r++) y[r] -= half * v[r];
}

/* T's last 2 x 2 block, once every step's update is done (tridiagonalize, or the last panel's). */
void tridiagonal_finish(const f64 *a, int n, f64 *diag, f64 *off) {
  if (n >= 2) {
    diag[n - 2] = a[(n - 2) * n + n - 2];
    off[n - 2] = a[(n - 1) * n + n - 2];
  }
  diag[n - 1] = a[(n - 1) * n + n - 1];
  off[n - 1] = 0;
}

/*
 * Lower triangle of the symmetric n x n row-major `a` -> tridiagonal T (diag, off; off[i] = T[i+1][i]). Reflector k
 * (H_k = I - beta[k] v v^T) is stored in row k, columns k+1..n-1. The rank-2 update of step k is applied lazily,
 * fused with the matrix-vector product of step k+1, so the trailing triangle is streamed once per step.
 * work: 4n doubles.
 */
void tridiagonalize(f64 *a, int n, f64 *diag, f64 *off, f64 *beta, f64 *work) {
  f64 *v = work, *w = work + n, *vp = work + 2 * n, *wp = work + 3 * n;
  for (int i = 0; i < 4 * n; i++) work[i] = 0;
  for (int k = 0; k < n - 2; k++) {
    int s = k + 1;
    for (int i = k; i < n; i++) a[i * n + k] -= vp[i] * wp[k] + wp[i] * vp[k];
    diag[k] = a[k * n + k];
    beta[k] = 0;
    if (!reflector(a, n, k, v, off, beta + k)) {
      for (int i = s; i < n; i++)
        for (int j = s; j <= i; j++) a[i * n + j] -= vp[i] * wp[j] + wp[i] * vp[j];
      for (int i = 0; i < n; i++) vp[i] = wp[i] = 0;
      continue;
    }
    f64 b = beta[k];
    /* w = b * A' v over the trailing lower triangle, applying the pending update on the way; rows in pairs. */
    for (int i = s; i < n; i++) w[i] = 0;
    int i = s;
    for (; i + 1 < n; i += 2) {
      f64 *r1 = a + i * n, *r2 = r1 + n;
      f64 v1 = v[i], pv1 = vp[i], pw1 = wp[i], v2 = v[i + 1], pv2 = vp[i + 1], pw2 = wp[i + 1];
      v128_t V1 = wasm_f64x2_splat(v1), PV1 = wasm_f64x2_splat(pv1), PW1 = wasm_f64x2_splat(pw1);
      v128_t V2 = wasm_f64x2_splat(v2), PV2 = wasm_f64x2_splat(pv2), PW2 = wasm_f64x2_splat(pw2);
      v128_t acc1v = wasm_f64x2_splat(0), acc2v = wasm_f64x2_splat(0);
      int j = s;
      for (; j + 1 < i; j += 2) {
        v128_t pwj = wasm_v128_load(wp + j), pvj = wasm_v128_load(vp + j), vj = wasm_v128_load(v + j);
        v128_t a1 = wasm_f64x2_sub(wasm_v128_load(r1 + j), wasm_f64x2_add(wasm_f64x2_mul(PV1, pwj), wasm_f64x2_mul(PW1, pvj)));
        v128_t a2 = wasm_f64x2_sub(wasm_v128_load(r2 + j), wasm_f64x2_add(wasm_f64x2_mul(PV2, pwj), wasm_f64x2_mul(PW2, pvj)));
        wasm_v128_store(r1 + j, a1);
        wasm_v128_store(r2 + j, a2);
        acc1v = wasm_f64x2_add(acc1v, wasm_f64x2_mul(a1, vj));
        acc2v = wasm_f64x2_add(acc2v, wasm_f64x2_mul(a2, vj));
        wasm_v128_store(w + j, wasm_f64x2_add(wasm_v128_load(w + j), wasm_f64x2_add(wasm_f64x2_mul(a1, V1), wasm_f64x2_mul(a2, V2))));
      }
      f64 acc1 = wasm_f64x2_extract_lane(acc1v, 0) + wasm_f64x2_extract_lane(acc1v, 1);
      f64 acc2 = wasm_f64x2_extract_lane(acc2v, 0) + wasm_f64x2_extract_lane(acc2v, 1);
      for (; j < i; j++) {
        f64 a1 = r1[j] - (pv1 * wp[j] + pw1 * vp[j]);
        f64 a2 = r2[j] - (pv2 * wp[j] + pw2 * vp[j]);
        r1[j] = a1;
        r2[j] = a2;
        acc1 += a1 * v[j];
        acc2 += a2 * v[j];
        w[j] = w[j] + a1 * v1 + a2 * v2;
      }
      f64 d1 = r1[i] - (pv1 * pw1 + pw1 * pv1);
      r1[i] = d1;
      w[i] += acc1 + d1 * v1;
      f64 o2 = r2[i] - (pv2 * pw1 + pw2 * pv1);
      r2[i] = o2;
      acc2 += o2 * v1;
      w[i] += o2 * v2;
      f64 d2 = r2[i + 1] - (pv2 * pw2 + pw2 * pv2);
      r2[i + 1] = d2;
      w[i + 1] += acc2 + d2 * v2;
    }
    for (; i < n; i++) {
      f64 *row = a + i * n;
      f64 vi = v[i], pvi = vp[i], pwi = wp[i], acc = 0;
      for (int j = s; j < i; j++) {
        f64 aij = row[j] - (pvi * wp[j] + pwi * vp[j]);
        row[j] = aij;
        acc += aij * v[j];
        w[j] += aij * vi;
      }
      f64 aii = row[i] - (pvi * wp[i] + pwi * vp[i]);
      row[i] = aii;
      w[i] += acc + aii * vi;
    }
    rank2_w(w, v, s, n, b);
    for (int r = s; r < n; r++) a[k * n + r] = v[r];
    f64 *t = vp;
    vp = v;
    v = t;
    t = wp;
    wp = w;
    w = t;
  }
  int s = n - 2 > 0 ? n - 2 : 0;
  for (int i = s; i < n; i++)
    for (int j = s; j <= i; j++) a[i * n + j] -= vp[i] * wp[j] + wp[i] * vp[j];
  tridiagonal_finish(a, n, diag, off);
}

/* y(s..n-1) = A(s.., s..) v, A symmetric, its lower triangle read (row-major n x n); rows four at a time. */
static void symv_lower(const f64 *a, int n, int s, const f64 *v, f64 *y) {
  for (int i = s; i < n; i++) y[i] = 0;
  int i = s;
  for (; i + 3 < n; i += 4) {
    const f64 *r0 = a + i * n, *r1 = r0 + n, *r2 = r1 + n, *r3 = r2 + n;
    v128_t V0 = wasm_f64x2_splat(v[i]), V1 = wasm_f64x2_splat(v[i + 1]), V2 = wasm_f64x2_splat(v[i + 2]), V3 = wasm_f64x2_splat(v[i + 3]);
    v128_t c0 = wasm_f64x2_splat(0), c1 = c0, c2 = c0, c3 = c0;
    int j = s;
    for (; j + 1 < i; j += 2) {
      v128_t vj = wasm_v128_load(v + j);
      v128_t a0 = wasm_v128_load(r0 + j), a1 = wasm_v128_load(r1 + j), a2 = wasm_v128_load(r2 + j), a3 = wasm_v128_load(r3 + j);
      c0 = wasm_f64x2_add(c0, wasm_f64x2_mul(a0, vj));
      c1 = wasm_f64x2_add(c1, wasm_f64x2_mul(a1, vj));
      c2 = wasm_f64x2_add(c2, wasm_f64x2_mul(a2, vj));
      c3 = wasm_f64x2_add(c3, wasm_f64x2_mul(a3, vj));
      v128_t t = wasm_f64x2_add(wasm_f64x2_add(wasm_f64x2_mul(a0, V0), wasm_f64x2_mul(a1, V1)), wasm_f64x2_add(wasm_f64x2_mul(a2, V2), wasm_f64x2_mul(a3, V3)));
      wasm_v128_store(y + j, wasm_f64x2_add(wasm_v128_load(y + j), t));
    }
    f64 acc[4] = {wasm_f64x2_extract_lane(c0, 0) + wasm_f64x2_extract_lane(c0, 1), wasm_f64x2_extract_lane(c1, 0) + wasm_f64x2_extract_lane(c1, 1),
                  wasm_f64x2_extract_lane(c2, 0) + wasm_f64x2_extract_lane(c2, 1), wasm_f64x2_extract_lane(c3, 0) + wasm_f64x2_extract_lane(c3, 1)};
    const f64 *rows[4] = {r0, r1, r2, r3};
    /* the rest of each row up to the block's diagonal: columns j..i+3 */
    for (int x = 0; x < 4; x++) {
      const f64 *row = rows[x];
      f64 vx = v[i + x];
      for (int c = j; c < i + x; c++) {
        acc[x] += row[c] * v[c];
        y[c] += row[c] * vx;
      }
      y[i + x] += acc[x] + row[i + x] * vx;
    }
  }
  for (; i < n; i++) {
    const f64 *row = a + i * n;
    f64 vi = v[i], acc = 0;
    for (int j = s; j < i; j++) {
      acc += row[j] * v[j];
      y[j] += row[j] * vi;
    }
    y[i] += acc + row[i] * vi;
  }
}

/*
 * The blocked form of tridiagonalize for large matrices, LAPACK dsytrd / dlatrd style (gemmEigen.ts drives it): a
 * panel of b columns is reduced with the trailing matrix left as it was at the panel's start (each column is brought
 * up to date first, each matrix-vector product corrected by the panel's earlier reflectors), then the trailing lower
 * triangle gets the panel's whole rank-2b update A <- A - V W^T - W V^T at once, as a matrix product on onnxruntime's
 * Gemm, subtracted here (tridiagonal_subtract). The matrix is then read once per column and written once per panel,
 * where tridiagonalize reads and writes it once per column: the difference once it no longer fits in cache. The
 * same reflectors and T as tridiagonalize, to rounding.
 *
 * tridiagonal_panel reduces columns k0 .. k0+jb-1 (jb = min(b, n-2-k0), returned) and leaves the panel's V and W in
 * vw = [V W] and wv = [W V] (n x 2b row-major; rows below k0 unused), so that V W^T + W V^T = vw wv^T.
 * work: 2n + 2b doubles.
 */
int tridiagonal_panel(f64 *a, int n, int k0, int b, f64 *diag, f64 *off, f64 *beta, f64 *vw, f64 *wv, f64 *work) {
  int b2 = 2 * b;
  int jb = n - 2 - k0 < b ? n - 2 - k0 : b;
  f64 *v = work, *y = work + n, *pq = work + 2 * n;
  for (int i = k0 * b2; i < n * b2; i++) vw[i] = wv[i] = 0;
  for (int j = 0; j < jb; j++) {
    int k = k0 + j, s = k + 1;
    /* (V W^T + W V^T)[i][k] = vw[i] . wv[k], over the panel's j columns of V and of W */
    const f64 *wvk = wv + k * b2;
    for (int i = k; i < n; i++) {
      const f64 *vi = vw + i * b2;
      a[i * n + k] -= dot(vi, wvk, j) + dot(vi + b, wvk + b, j);
    }
    diag[k] = a[k * n + k];
    beta[k] = 0;
    if (!reflector(a, n, k, v, off, beta + k)) continue; /* H_k = I: its columns of V and W stay zero */
    f64 bk = beta[k];
    /* y = (A - V W^T - W V^T) v on rows s..: pq = wv^T v = [W^T v, V^T v], then y -= vw pq */
    symv_lower(a, n, s, v, y);
    for (int l = 0; l < b2; l++) pq[l] = 0;
    for (int i = s; i < n; i++) {
      axpy(v[i], wv + i * b2, pq, j);
      axpy(v[i], wv + i * b2 + b, pq + b, j);
    }
    for (int i = s; i < n; i++) {
      const f64 *vi = vw + i * b2;
      y[i] -= dot(vi, pq, j) + dot(vi + b, pq + b, j);
    }
    rank2_w(y, v, s, n, bk);
    for (int r = s; r < n; r++) {
      a[k * n + r] = v[r];
      vw[r * b2 + j] = wv[r * b2 + b + j] = v[r];
      vw[r * b2 + b + j] = wv[r * b2 + j] = y[r];
    }
  }
  return jb;
}

/* A panel's trailing update here, for the small trailing matrices: rows and columns r0..n-1, A -= vw wv^T. */
void tridiagonal_update(f64 *a, int n, int r0, const f64 *vw, const f64 *wv, int b2) {
  for (int i = r0; i < n; i++)
    for (int j = r0; j <= i; j++) a[i * n + j] -= dot(vw + i * b2, wv + j * b2, b2);
}

/* The same from a product computed on Gemm: rows ra..rb-1, columns r0..i, minus p ((rb - ra) x (rb - r0)). */
void tridiagonal_subtract(f64 *a, int n, int ra, int rb, int r0, const f64 *p) {
  int width = rb - r0;
  for (int i = ra; i < rb; i++) {
    f64 *row = a + i * n + r0;
    const f64 *pr = p + (i - ra) * width;
    for (int j = 0; j <= i - r0; j++) row[j] -= pr[j];
  }
}

/*
 * The power of two that scales the tridiagonal (d, e) to a largest entry in [0.5, 2], or 0 for a zero T. Scaling by
 * it is exact, and squares of the scaled entries neither overflow nor underflow (nor do sums of a few of them, beside
 * entries near the largest double): the eigenvalue kernels run on the scaled T. At most 2^1000: a subnormal largest
 * entry would need up to 2^1074, which overflows.
 */
static f64 unit_scale(const f64 *d, const f64 *e, int n) {
  f64 big = 0;
  for (int i = 0; i < n; i++) big = MAX(big, MAX(ABS(d[i]), ABS(e[i])));
  if (big == 0) return 0;
  f64 scale = 1;
  while (big * scale > 2) scale *= 0.5;
  while (big * scale < 0.5 && scale < 0x1p1000) scale *= 2;
  return scale;
}

/*
 * All eigenvalues of the symmetric tridiagonal (d: diagonal, e: e[i] = T[i+1][i], e[n-1] = 0), by implicit QL
 * (EISPACK tql1 as in JAMA's tql2), in place in d (unsorted); e is destroyed. Returns 0, or 1 when an eigenvalue
 * took more than 100 iterations.
 */
int tridiagonal_eigenvalues(f64 *d, f64 *e, int n) {
  /* On T scaled by unit_scale (the same bits wherever nothing underflows or overflows unscaled). */
  f64 scale = unit_scale(d, e, n);
  if (scale == 0) return 0;
  for (int i = 0; i < n; i++) {
    d[i] *= scale;
    e[i] *= scale;
  }
  /*
   * Off-diagonals below eps ||T|| are negligible. (tql1 measures against the rows seen so far, which lets a
   * subnormal e[0] beside d[0] = 0 be iterated on: a shift of 1e-12 / 5e-324 overflows and every value becomes NaN.)
   */
  f64 f = 0, tst1 = 0;
  for (int l = 0; l < n; l++) tst1 = MAX(tst1, ABS(d[l]) + ABS(e[l]));
  for (int l = 0; l < n; l++) {
    int m = l;
    while (m < n) {
      if (ABS(e[m]) <= EPS * tst1) break;
      m++;
    }
    if (m > l) {
      int iter = 0;
      do {
        if (++iter > 100) return 1;
        f64 g = d[l];
        f64 p = (d[l + 1] - g) / (2 * e[l]);
        f64 r = hypot2(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l] / (p + r);
        d[l + 1] = e[l] * (p + r);
        f64 dl1 = d[l + 1];
        f64 h = g - d[l];
        for (int i = l + 2; i < n; i++) d[i] -= h;
        f += h;
        p = d[m];
        f64 c = 1, c2 = 1, c3 = 1, s = 0, s2 = 0;
        f64 el1 = e[l + 1];
        for (int i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i];
          h = c * p;
          r = hypot2(p, e[i]);
          e[i + 1] = s * r;
          s = e[i] / r;
          c = p / r;
          p = c * d[i] - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]);
        }
        p = (-s * s2 * c3 * el1 * e[l]) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (ABS(e[l]) > EPS * tst1);
    }
    d[l] += f;
    e[l] = 0;
  }
  for (int i = 0; i < n; i++) d[i] /= scale;
  return 0;
}

/* A Sturm pivot q (two lanes) within pivmin of zero taken as -pivmin; each lane's count gains 1 where it is negative. */
static inline v128_t sturm_pivot(v128_t q, v128_t pivmin, v128_t *count) {
  q = wasm_v128_bitselect(wasm_f64x2_neg(pivmin), q, wasm_f64x2_le(wasm_f64x2_abs(q), pivmin));
  *count = wasm_i64x2_sub(*count, wasm_f64x2_lt(q, wasm_f64x2_splat(0)));
  return q;
}

/*
 * The k largest eigenvalues of the symmetric tridiagonal (d, e; e[i] = T[i+1][i]), descending, into `values`, by
 * bisection on Sturm counts (LAPACK dstebz): eigenvalue j (0-based from the largest) is the one of ascending index
 * m = n-1-j, and count(x), the number of eigenvalues below x, is the number of negative pivots of the LDL^T of
 * T - x I (a pivot within pivmin of zero taken as -pivmin), on T scaled by unit_scale. Every eigenvalue starts from
 * the Gershgorin interval and halves it the same number of times, down to eps ||T|| (the absolute accuracy of QL) or
 * pivmin (about 1e-308), the larger; count is monotone in x, so the values come out in order. Eight eigenvalues are
 * bisected at once, two per SIMD operation and four independent chains, so that the divisions overlap: each
 * eigenvalue costs n divisions per halving, where QL costs all n eigenvalues about n steps of two divisions and a
 * square root each, so for k well below n this is faster.
 * work: 2n doubles (T's diagonal scaled, its off-diagonal scaled and squared).
 */
void tridiagonal_top_eigenvalues(const f64 *d, const f64 *e, int n, int k, f64 *values, f64 *work) {
  f64 *sd = work, *e2 = work + n;
  f64 scale = unit_scale(d, e, n);
  if (scale == 0) {
    for (int j = 0; j < k; j++) values[j] = 0;
    return;
  }
  f64 lo = 0, hi = 0, emax = 0;
  for (int i = 0; i < n; i++) {
    sd[i] = d[i] * scale;
    f64 radius = (i > 0 ? ABS(e[i - 1]) : 0) + (i < n - 1 ? ABS(e[i]) : 0);
    radius *= scale;
    if (i == 0 || sd[i] - radius < lo) lo = sd[i] - radius;
    if (i == 0 || sd[i] + radius > hi) hi = sd[i] + radius;
    if (i < n - 1) {
      f64 se = e[i] * scale;
      e2[i] = se * se;
      emax = MAX(emax, e2[i]);
    }
  }
  const f64 safmin = 2.2250738585072014e-308; /* 2^-1022 */
  f64 pivmin = safmin * MAX(1, emax);
  f64 tnorm = MAX(ABS(lo), ABS(hi));
  lo -= 2.1 * EPS * tnorm * n + 4.2 * pivmin;
  hi += 2.1 * EPS * tnorm * n + 4.2 * pivmin;
  /* Halvings from the interval's width down to eps ||T||, or pivmin (a bound that needs no special case). */
  int halvings = 2;
  for (f64 w = hi - lo; w > MAX(EPS * tnorm, pivmin); w *= 0.5) halvings++;
  const v128_t vpivmin = wasm_f64x2_splat(pivmin), half = wasm_f64x2_splat(0.5);
  for (int j0 = 0; j0 < k; j0 += 8) {
    v128_t a[4], b[4], target[4];
    for (int g = 0; g < 4; g++) {
      a[g] = wasm_f64x2_splat(lo);
      b[g] = wasm_f64x2_splat(hi);
      /* Ascending index of each lane's eigenvalue (lanes past k repeat the last one). */
      int j = j0 + 2 * g, m0 = n - 1 - (j < k ? j : k - 1), m1 = n - 1 - (j + 1 < k ? j + 1 : k - 1);
      target[g] = wasm_i64x2_make(m0, m1);
    }
    for (int h = 0; h < halvings; h++) {
      v128_t x[4], q[4], count[4];
      for (int g = 0; g < 4; g++) {
        x[g] = wasm_f64x2_mul(wasm_f64x2_add(a[g], b[g]), half);
        count[g] = wasm_i64x2_splat(0);
      }
      v128_t dd = wasm_f64x2_splat(sd[0]);
      for (int g = 0; g < 4; g++) q[g] = sturm_pivot(wasm_f64x2_sub(dd, x[g]), vpivmin, &count[g]);
      for (int i = 1; i < n; i++) {
        dd = wasm_f64x2_splat(sd[i]);
        v128_t ee = wasm_f64x2_splat(e2[i - 1]);
        for (int g = 0; g < 4; g++) q[g] = sturm_pivot(wasm_f64x2_sub(wasm_f64x2_sub(dd, x[g]), wasm_f64x2_div(ee, q[g])), vpivmin, &count[g]);
      }
      /* count(x) <= m: the eigenvalue is at or above x. */
      for (int g = 0; g < 4; g++) {
        v128_t above = wasm_i64x2_le(count[g], target[g]);
        a[g] = wasm_v128_bitselect(x[g], a[g], above);
        b[g] = wasm_v128_bitselect(b[g], x[g], above);
      }
    }
    for (int g = 0; g < 4; g++) {
      v128_t mid = wasm_f64x2_mul(wasm_f64x2_add(a[g], b[g]), half);
      int j = j0 + 2 * g;
      if (j < k) values[j] = wasm_f64x2_extract_lane(mid, 0) / scale;
      if (j + 1 < k) values[j + 1] = wasm_f64x2_extract_lane(mid, 1) / scale;
    }
  }
}

/* mulberry32, as linalg.ts's: floats in [0, 1). */
static f64 mulberry32(u32 *state) {
  u32 a = (*state += 0x6d2b79f5u);
  u32 t = (a ^ (a >> 15)) * (1u | a);
  t = (t + ((t ^ (t >> 7)) * (61u | t))) ^ t;
  return (f64)(t ^ (t >> 14)) / 4294967296.0;
}

#define INVERSE_ITERATIONS 4
/*
 * The first iteration's Gram-Schmidt is needed only where the previous eigenvalue is this close (relative to
 * ||T||_1): a solve shifted by lambda (within a few eps ||T||_1 of its eigenvalue) damps an eigenvalue gap away by
 * about eps ||T||_1 / gap, 1e-5 a solve or less, so a farther previous vector cannot take over the iterate and the last
 * pass removes what is left.
 */
#define FIRST_PASS_GAP 1e-10

/*
 * Unit eigenvectors of the tridiagonal (diag, off; n) for the k given eigenvalues (descending), by inverse iteration
 * from a seeded start, with modified Gram-Schmidt against the earlier vectors of the same cluster (eigenvalues
 * closer than 1e-3 ||T||_1) and a tiny perturbation of coincident eigenvalues, as LAPACK dstein does. The
 * Gram-Schmidt runs in the last iteration, and in the first where the previous eigenvalue is within FIRST_PASS_GAP,
 * not in every one (dstein): in between, a solve amplifies the components a vector has in a cluster of exactly equal
 * eigenvalues all alike (so those removed stay removed), and damps those of distinct eigenvalues by their gap; the
 * last pass removes what rounding left. The same residuals and orthogonality to rounding (1e-15, also on 50-fold
 * repeated and 1e-14-split eigenvalues); a PCA's top 200 of 1200 form one cluster of about 190, whose eigenvalues are
 * far apart on this scale, so the first pass is skipped there (it was half of this function's time).
 * zt: k x n, vector c in row c. work: 6n doubles (the last n hold the pivot flags).
 */
void tridiagonal_eigenvectors(const f64 *diag, const f64 *off, int n, const f64 *values, int k, f64 *zt, f64 *work) {
  f64 *dd = work, *du = work + n, *du2 = work + 2 * n, *dl = work + 3 * n, *x = work + 4 * n, *swap = work + 5 * n;
  f64 norm1 = 0;
  for (int i = 0; i < n; i++) {
    f64 t = ABS(diag[i]) + ABS(off[i]) + (i > 0 ? ABS(off[i - 1]) : 0);
    if (t > norm1) norm1 = t;
  }
  if (norm1 == 0) norm1 = 1;
  f64 ortol = 1e-3 * norm1, pertol = 10 * EPS * norm1, pivot_floor = EPS * norm1;
  int cluster_start = 0;
  f64 previous = 0;
  for (int c = 0; c < k; c++) {
    f64 lambda = values[c];
    if (c > 0) {
      if (values[c - 1] - values[c] > ortol) cluster_start = c;
      if (previous - lambda < pertol) lambda = previous - pertol;
    }
    previous = lambda;
    int near_previous = c > cluster_start && values[c - 1] - values[c] <= FIRST_PASS_GAP * norm1;
    /* LU with partial pivoting of T - lambda I (LAPACK dgttrf). */
    for (int i = 0; i < n; i++) {
      dd[i] = diag[i] - lambda;
      du[i] = off[i];
      dl[i] = off[i];
      du2[i] = 0;
      swap[i] = 0;
    }
    for (int i = 0; i < n - 1; i++) {
      if (ABS(dd[i]) >= ABS(dl[i])) {
        if (dd[i] != 0) {
          f64 fact = dl[i] / dd[i];
          dl[i] = fact;
          dd[i + 1] -= fact * du[i];
        } else dl[i] = 0;
      } else {
        f64 fact = dd[i] / dl[i];
        dd[i] = dl[i];
        dl[i] = fact;
        f64 temp = du[i];
        du[i] = dd[i + 1];
        dd[i + 1] = temp - fact * dd[i + 1];
        if (i < n - 2) {
          du2[i] = du[i + 1];
          du[i + 1] = -fact * du[i + 1];
        }
        swap[i] = 1;
      }
    }
    for (int i = 0; i < n; i++)
      if (ABS(dd[i]) < pivot_floor) dd[i] = dd[i] < 0 ? -pivot_floor : pivot_floor;
    u32 state = (u32)(c + 1);
    for (int i = 0; i < n; i++) x[i] = 2 * mulberry32(&state) - 1;
    for (int iter = 0; iter < INVERSE_ITERATIONS; iter++) {
      for (int i = 0; i < n - 1; i++) {
        if (swap[i] == 0) x[i + 1] -= dl[i] * x[i];
        else {
          f64 temp = x[i];
          x[i] = x[i + 1];
          x[i + 1] = temp - dl[i] * x[i];
        }
      }
      x[n - 1] /= dd[n - 1];
      if (n > 1) x[n - 2] = (x[n - 2] - du[n - 2] * x[n - 1]) / dd[n - 2];
      for (int i = n - 3; i >= 0; i--) x[i] = (x[i] - du[i] * x[i + 1] - du2[i] * x[i + 2]) / dd[i];
      if ((iter == 0 && near_previous) || iter == INVERSE_ITERATIONS - 1)
        for (int o = cluster_start; o < c; o++) axpy(-dot(zt + o * n, x, n), zt + o * n, x, n);
      f64 scale = 0;
      for (int i = 0; i < n; i++) scale = MAX(scale, ABS(x[i]));
      f64 ss = 0;
      for (int i = 0; i < n; i++) {
        x[i] /= scale;
        ss += x[i] * x[i];
      }
      f64 inv = 1 / SQRT(ss);
      for (int i = 0; i < n; i++) x[i] *= inv;
    }
    for (int i = 0; i < n; i++) zt[c * n + i] = x[i];
  }
}

/*
 * Full SVD A = U diag(s) V^T of an m x n matrix (m >= n), column-major; `a` is overwritten. Householder
 * bidiagonalisation and implicit-shift QR (LINPACK dsvdc, as in JAMA), column-major so that every inner loop runs over
 * contiguous memory. U (m x n) and V (n x n) column-major; U and V stay orthogonal when A is rank-deficient: null
 * directions are completed by the Householder reflectors, deterministically. With wantu = 0, U is neither formed nor
 * rotated (about half the work; `u` is untouched): the same s and V bit for bit. s: n + 1 doubles (the last is
 * scratch), e: n, work: m. Returns 0, or 1 when the QR iteration did not converge.
 */
int svd(f64 *a, int m, int n, f64 *s, f64 *u, f64 *v, f64 *e, f64 *work, int wantu) {
  int nu = n;
  int nct = m - 1 < n ? m - 1 : n;
  int nrt = n - 2 < m ? n - 2 : m;
  if (nrt < 0) nrt = 0;
  int kmax = nct > nrt ? nct : nrt;
  for (int k = 0; k < kmax; k++) {
    f64 *ak = a + k * m;
    if (k < nct) {
      s[k] = norm2(ak + k, m - k);
      if (s[k] != 0) {
        if (ak[k] < 0) s[k] = -s[k];
        for (int i = k; i < m; i++) ak[i] /= s[k];
        ak[k] += 1;
      }
      s[k] = -s[k];
    }
    for (int j = k + 1; j < n; j++) {
      f64 *aj = a + j * m;
      if (k < nct && s[k] != 0) {
        f64 t = -dot(ak + k, aj + k, m - k) / ak[k];
        axpy(t, ak + k, aj + k, m - k);
      }
      e[j] = aj[k];
    }
    if (wantu && k < nct)
      for (int i = k; i < m; i++) u[k * m + i] = ak[i];
    if (k < nrt) {
      e[k] = norm2(e + k + 1, n - k - 1);
      if (e[k] != 0) {
        if (e[k + 1] < 0) e[k] = -e[k];
        for (int i = k + 1; i < n; i++) e[i] /= e[k];
        e[k + 1] += 1;
      }
      e[k] = -e[k];
      if (k + 1 < m && e[k] != 0) {
        for (int i = k + 1; i < m; i++) work[i] = 0;
        for (int j = k + 1; j < n; j++) axpy(e[j], a + j * m + k + 1, work + k + 1, m - k - 1);
        for (int j = k + 1; j < n; j++) axpy(-e[j] / e[k + 1], work + k + 1, a + j * m + k + 1, m - k - 1);
      }
      for (int i = k + 1; i < n; i++) v[k * n + i] = e[i];
    }
  }
  int p = n < m + 1 ? n : m + 1;
  if (nct < n) s[nct] = a[nct * m + nct];
  if (m < p) s[p - 1] = 0;
  if (nrt + 1 < p) e[nrt] = a[(p - 1) * m + nrt];
  e[p - 1] = 0;

  for (int j = nct; wantu && j < nu; j++) {
    for (int i = 0; i < m; i++) u[j * m + i] = 0;
    u[j * m + j] = 1;
  }
  for (int k = wantu ? nct - 1 : -1; k >= 0; k--) {
    f64 *uk = u + k * m;
    if (s[k] != 0) {
      for (int j = k + 1; j < nu; j++) {
        f64 *uj = u + j * m;
        f64 t = -dot(uk + k, uj + k, m - k) / uk[k];
        axpy(t, uk + k, uj + k, m - k);
      }
      for (int i = k; i < m; i++) uk[i] = -uk[i];
      uk[k] = 1 + uk[k];
      for (int i = 0; i < k - 1; i++) uk[i] = 0;
    } else {
      for (int i = 0; i < m; i++) uk[i] = 0;
      uk[k] = 1;
    }
  }
  for (int k = n - 1; k >= 0; k--) {
    f64 *vk = v + k * n;
    if (k < nrt && e[k] != 0) {
      for (int j = k + 1; j < n; j++) {
        f64 *vj = v + j * n;
        f64 t = -dot(vk + k + 1, vj + k + 1, n - k - 1) / vk[k + 1];
        axpy(t, vk + k + 1, vj + k + 1, n - k - 1);
      }
    }
    for (int i = 0; i < n; i++) vk[i] = 0;
    vk[k] = 1;
  }

  int pp = p - 1;
  const f64 tiny = 1.0020841800044864e-291; /* 2^-966 */
  int iterations = 0;
  while (p > 0) {
    if (++iterations > 75 * n + 100) return 1;
    int k, kase;
    for (k = p - 2; k >= -1; k--) {
      if (k == -1) break;
      if (ABS(e[k]) <= tiny + EPS * (ABS(s[k]) + ABS(s[k + 1]))) {
        e[k] = 0;
        break;
      }
    }
    if (k == p - 2) kase = 4;
    else {
      int ks;
      for (ks = p - 1; ks >= k; ks--) {
        if (ks == k) break;
        f64 t = (ks != p ? ABS(e[ks]) : 0) + (ks != k + 1 ? ABS(e[ks - 1]) : 0);
        if (ABS(s[ks]) <= tiny + EPS * t) {
          s[ks] = 0;
          break;
        }
      }
      if (ks == k) kase = 3;
      else if (ks == p - 1) kase = 1;
      else {
        kase = 2;
        k = ks;
      }
    }
    k++;
    if (kase == 1) {
      f64 f = e[p - 2];
      e[p - 2] = 0;
      for (int j = p - 2; j >= k; j--) {
        f64 t = hypot2(s[j], f);
        f64 cs = s[j] / t, sn = f / t;
        s[j] = t;
        if (j != k) {
          f = -sn * e[j - 1];
          e[j - 1] = cs * e[j - 1];
        }
        rotate(v + j * n, v + (p - 1) * n, n, cs, sn);
      }
    } else if (kase == 2) {
      f64 f = e[k - 1];
      e[k - 1] = 0;
      for (int j = k; j < p; j++) {
        f64 t = hypot2(s[j], f);
        f64 cs = s[j] / t, sn = f / t;
        s[j] = t;
        f = -sn * e[j];
        e[j] = cs * e[j];
        if (wantu) rotate(u + j * m, u + (k - 1) * m, m, cs, sn);
      }
    } else if (kase == 3) {
      f64 scale = MAX(MAX(MAX(ABS(s[p - 1]), ABS(s[p - 2])), MAX(ABS(e[p - 2]), ABS(s[k]))), ABS(e[k]));
      f64 sp = s[p - 1] / scale, spm1 = s[p - 2] / scale, epm1 = e[p - 2] / scale, sk = s[k] / scale, ek = e[k] / scale;
      f64 b = ((spm1 + sp) * (spm1 - sp) + epm1 * epm1) / 2;
      f64 c = sp * epm1 * (sp * epm1);
      f64 shift = 0;
      if (b != 0 || c != 0) {
        shift = SQRT(b * b + c);
        if (b < 0) shift = -shift;
        shift = c / (b + shift);
      }
      f64 f = (sk + sp) * (sk - sp) + shift;
      f64 g = sk * ek;
      for (int j = k; j < p - 1; j++) {
        f64 t = hypot2(f, g);
        f64 cs = f / t, sn = g / t;
        if (j != k) e[j - 1] = t;
        f = cs * s[j] + sn * e[j];
        e[j] = cs * e[j] - sn * s[j];
        g = sn * s[j + 1];
        s[j + 1] = cs * s[j + 1];
        rotate(v + j * n, v + (j + 1) * n, n, cs, sn);
        t = hypot2(f, g);
        cs = f / t;
        sn = g / t;
        s[j] = t;
        f = cs * e[j] + sn * s[j + 1];
        s[j + 1] = -sn * e[j] + cs * s[j + 1];
        g = sn * e[j + 1];
        e[j + 1] = cs * e[j + 1];
        if (wantu && j < m - 1) rotate(u + j * m, u + (j + 1) * m, m, cs, sn);
      }
      e[p - 2] = f;
    } else {
      if (s[k] <= 0) {
        s[k] = s[k] < 0 ? -s[k] : 0;
        for (int i = 0; i <= pp; i++) v[k * n + i] = -v[k * n + i];
      }
      while (k < pp) {
        if (s[k] >= s[k + 1]) break;
        f64 t = s[k];
        s[k] = s[k + 1];
        s[k + 1] = t;
        if (k < n - 1)
          for (int i = 0; i < n; i++) {
            f64 x = v[k * n + i];
            v[k * n + i] = v[(k + 1) * n + i];
            v[(k + 1) * n + i] = x;
          }
        if (wantu && k < m - 1)
          for (int i = 0; i < m; i++) {
            f64 x = u[k * m + i];
            u[k * m + i] = u[(k + 1) * m + i];
            u[(k + 1) * m + i] = x;
          }
        k++;
      }
      p--;
    }
  }
  return 0;
}
