/*
 * The engine's float64 kernels on OpenBLAS and its LAPACK, as a Node-API addon (scripts/build-native.mjs builds it,
 * linking OpenBLAS statically, so the addon needs nothing on the user's machine). Exports:
 *
 *   dgemm(transA, transB, m, n, k, a, b, c): C (m x n, row-major) = op(A) op(B), operands row-major as gemm.ts gives
 *   them (A is k x m when transA, B is n x k when transB).
 *   dsyrkLower(n, len, x, g): the lower triangle of G = X X^T (n x n, row-major) for X n x len row-major; G's
 *   upper triangle is left as it was.
 *   dgesdd(m, n, a, s, u, vt): the full SVD A = U Sigma V^T of A (m x n, column-major, as LAPACK has it; a is
 *   overwritten), U m x m and V^T n x n column-major; returns LAPACK's info (0, or > 0 where it did not converge).
 *   dsyevrTop(n, k, a, w, z): the k largest eigenvalues of the symmetric A (n x n; row-major lower triangle read,
 *   which is LAPACK's column-major upper one; a is overwritten) into w, ascending, and their unit eigenvectors into
 *   z (k x n: eigenvector c is z[c n .. c n + n - 1]), by LAPACK's dsyevr (MRRR); returns LAPACK's info. Where
 *   that is not 0, a's lower triangle is as it was, so that the caller can solve it another way.
 *
 * They run synchronously on the calling thread: only the analysis workers multiply, and each is one thread of our
 * parallelism, so OpenBLAS is held to one thread (as onnxruntime's sessions were) and a product of given shapes
 * always takes the same code path and gives the same bits. The arrays are read and written in place, whether their
 * memory is an ArrayBuffer or a SharedArrayBuffer.
 */
#define NAPI_VERSION 8
#include <node_api.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

enum { ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112 };
void cblas_dgemm(int order, int trans_a, int trans_b, int m, int n, int k, double alpha, const double *a, int lda,
                 const double *b, int ldb, double beta, double *c, int ldc);
enum { LOWER = 122 };
void cblas_dsyrk(int order, int uplo, int trans, int n, int k, double alpha, const double *a, int lda, double beta,
                 double *c, int ldc);
void dgesdd_(const char *jobz, const int *m, const int *n, double *a, const int *lda, double *s, double *u,
             const int *ldu, double *vt, const int *ldvt, double *work, const int *lwork, int *iwork, int *info);
void dsyevr_(const char *jobz, const char *range, const char *uplo, const int *n, double *a, const int *lda,
             const double *vl, const double *vu, const int *il, const int *iu, const double *abstol, int *m, double *w,
             double *z, const int *ldz, int *isuppz, double *work, const int *lwork, int *iwork, const int *liwork,
             int *info);
void openblas_set_num_threads(int threads);

/*
 * The one routine of the gfortran runtime that OpenBLAS's LAPACK (compiled from Fortran) calls: Fortran's string
 * concatenation, which its argument checks use to build a routine's name. Defined here so that the addon links no
 * libgfortran (gfortran's ABI: lengths are size_t; the result is padded with blanks, as Fortran pads strings).
 */
void _gfortran_concat_string(size_t dest_length, char *dest, size_t length1, const char *s1, size_t length2,
                             const char *s2) {
  if (length1 >= dest_length) {
    memcpy(dest, s1, dest_length);
    return;
  }
  memcpy(dest, s1, length1);
  dest += length1;
  dest_length -= length1;
  if (length2 >= dest_length) {
    memcpy(dest, s2, dest_length);
    return;
  }
  memcpy(dest, s2, length2);
  memset(dest + length2, ' ', dest_length - length2);
}

static napi_value fail(napi_env env, const char *message) {
  napi_throw_type_error(env, NULL, message);
  return NULL;
}

static bool float64_array(napi_env env, napi_value value, double **data, size_t *length) {
  bool is_typed_array = false;
  if (napi_is_typedarray(env, value, &is_typed_array) != napi_ok || !is_typed_array) return false;
  napi_typedarray_type type;
  void *pointer = NULL;
  if (napi_get_typedarray_info(env, value, &type, length, &pointer, NULL, NULL) != napi_ok) return false;
  if (type != napi_float64_array) return false;
  *data = pointer;
  return true;
}

static bool dimension(napi_env env, napi_value value, int *out) {
  int64_t number = 0;
  if (napi_get_value_int64(env, value, &number) != napi_ok || number < 0 || number > 0x7fffffff) return false;
  *out = (int)number;
  return true;
}

static napi_value dgemm(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 8)
    return fail(env, "dgemm: expected (transA, transB, m, n, k, a, b, c)");
  bool trans_a = false, trans_b = false;
  int m = 0, n = 0, k = 0;
  if (napi_get_value_bool(env, argv[0], &trans_a) != napi_ok || napi_get_value_bool(env, argv[1], &trans_b) != napi_ok)
    return fail(env, "dgemm: transA and transB must be booleans");
  if (!dimension(env, argv[2], &m) || !dimension(env, argv[3], &n) || !dimension(env, argv[4], &k))
    return fail(env, "dgemm: m, n and k must be integers in [0, 2^31)");
  double *a = NULL, *b = NULL, *c = NULL;
  size_t a_length = 0, b_length = 0, c_length = 0;
  if (!float64_array(env, argv[5], &a, &a_length) || !float64_array(env, argv[6], &b, &b_length) ||
      !float64_array(env, argv[7], &c, &c_length))
    return fail(env, "dgemm: a, b and c must be Float64Arrays");
  if (a_length != (size_t)m * k || b_length != (size_t)k * n || c_length != (size_t)m * n)
    return fail(env, "dgemm: operand lengths do not match m, n and k");
  if (m == 0 || n == 0) return NULL;
  if (k == 0) {
    for (size_t x = 0; x < c_length; x++) c[x] = 0;
    return NULL;
  }
  cblas_dgemm(ROW_MAJOR, trans_a ? TRANS : NO_TRANS, trans_b ? TRANS : NO_TRANS, m, n, k, 1.0, a, trans_a ? m : k, b,
              trans_b ? k : n, 0.0, c, n);
  return NULL;
}

static napi_value dsyrk_lower(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 4)
    return fail(env, "dsyrkLower: expected (n, len, x, g)");
  int n = 0, len = 0;
  if (!dimension(env, argv[0], &n) || !dimension(env, argv[1], &len))
    return fail(env, "dsyrkLower: n and len must be integers in [0, 2^31)");
  double *x = NULL, *g = NULL;
  size_t x_length = 0, g_length = 0;
  if (!float64_array(env, argv[2], &x, &x_length) || !float64_array(env, argv[3], &g, &g_length))
    return fail(env, "dsyrkLower: x and g must be Float64Arrays");
  if (x_length != (size_t)n * len || g_length != (size_t)n * n)
    return fail(env, "dsyrkLower: operand lengths do not match n and len");
  if (n == 0) return NULL;
  if (len == 0) {
    for (int i = 0; i < n; i++)
      for (int j = 0; j <= i; j++) g[(size_t)i * n + j] = 0;
    return NULL;
  }
  cblas_dsyrk(ROW_MAJOR, LOWER, NO_TRANS, n, len, 1.0, x, len, 0.0, g, n);
  return NULL;
}

static napi_value dgesdd(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 6)
    return fail(env, "dgesdd: expected (m, n, a, s, u, vt)");
  int m = 0, n = 0;
  if (!dimension(env, argv[0], &m) || !dimension(env, argv[1], &n) || m == 0 || n == 0)
    return fail(env, "dgesdd: m and n must be integers in [1, 2^31)");
  double *a = NULL, *s = NULL, *u = NULL, *vt = NULL;
  size_t a_length = 0, s_length = 0, u_length = 0, vt_length = 0;
  if (!float64_array(env, argv[2], &a, &a_length) || !float64_array(env, argv[3], &s, &s_length) ||
      !float64_array(env, argv[4], &u, &u_length) || !float64_array(env, argv[5], &vt, &vt_length))
    return fail(env, "dgesdd: a, s, u and vt must be Float64Arrays");
  const int smaller = m < n ? m : n;
  if (a_length != (size_t)m * n || s_length != (size_t)smaller || u_length != (size_t)m * m ||
      vt_length != (size_t)n * n)
    return fail(env, "dgesdd: array lengths do not match m and n");
  int status = 0, query = -1;
  double optimal = 0;
  dgesdd_("A", &m, &n, a, &m, s, u, &m, vt, &n, &optimal, &query, NULL, &status);
  int lwork = (int)optimal;
  double *work = status == 0 ? malloc(sizeof(double) * (size_t)lwork) : NULL;
  int *iwork = work ? malloc(sizeof(int) * 8 * (size_t)smaller) : NULL;
  if (!iwork) {
    free(work);
    napi_throw_error(env, NULL, status == 0 ? "dgesdd: out of memory" : "dgesdd: workspace query failed");
    return NULL;
  }
  dgesdd_("A", &m, &n, a, &m, s, u, &m, vt, &n, work, &lwork, iwork, &status);
  free(work);
  free(iwork);
  napi_value result;
  napi_create_int32(env, status, &result);
  return result;
}

static napi_value dsyevr_top(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 5)
    return fail(env, "dsyevrTop: expected (n, k, a, w, z)");
  int n = 0, k = 0;
  if (!dimension(env, argv[0], &n) || !dimension(env, argv[1], &k) || n == 0 || k == 0 || k > n)
    return fail(env, "dsyevrTop: n and k must be integers with 1 <= k <= n < 2^31");
  double *a = NULL, *w = NULL, *z = NULL;
  size_t a_length = 0, w_length = 0, z_length = 0;
  if (!float64_array(env, argv[2], &a, &a_length) || !float64_array(env, argv[3], &w, &w_length) ||
      !float64_array(env, argv[4], &z, &z_length))
    return fail(env, "dsyevrTop: a, w and z must be Float64Arrays");
  if (a_length != (size_t)n * n || w_length != (size_t)k || z_length != (size_t)n * k)
    return fail(env, "dsyevrTop: array lengths do not match n and k");
  const int il = n - k + 1, iu = n, query = -1;
  const double unused = 0, abstol = 0;
  int found = 0, status = 0, liwork = 0;
  double optimal = 0;
  /* dsyevr's W holds n values during the solve, so the k found are staged here; the diagonal is kept beside them. */
  double *values = malloc(sizeof(double) * 2 * (size_t)n);
  int *isuppz = malloc(sizeof(int) * 2 * (size_t)k);
  if (values && isuppz)
    dsyevr_("V", "I", "U", &n, a, &n, &unused, &unused, &il, &iu, &abstol, &found, values, z, &n, isuppz, &optimal,
            &query, &liwork, &query, &status);
  int lwork = (int)optimal;
  double *work = values && isuppz && status == 0 ? malloc(sizeof(double) * (size_t)lwork) : NULL;
  int *iwork = work ? malloc(sizeof(int) * (size_t)liwork) : NULL;
  if (!iwork) {
    free(values);
    free(isuppz);
    free(work);
    napi_throw_error(env, NULL, status == 0 ? "dsyevrTop: out of memory" : "dsyevrTop: workspace query failed");
    return NULL;
  }
  /*
   * The reduction overwrites the triangle it reads (row-major lower) and the diagonal, and never touches the other
   * triangle: a copy of the matrix there, and of the diagonal, lets a failed solve give the matrix back.
   */
  double *diagonal = values + n;
  for (size_t i = 0; i < (size_t)n; i++) {
    diagonal[i] = a[i * n + i];
    for (size_t j = 0; j < i; j++) a[j * n + i] = a[i * n + j];
  }
  dsyevr_("V", "I", "U", &n, a, &n, &unused, &unused, &il, &iu, &abstol, &found, values, z, &n, isuppz, work, &lwork,
          iwork, &liwork, &status);
  if (status == 0 && found != k) status = -1000;
  if (status == 0) memcpy(w, values, sizeof(double) * (size_t)k);
  else
    for (size_t i = 0; i < (size_t)n; i++) {
      a[i * n + i] = diagonal[i];
      for (size_t j = 0; j < i; j++) a[i * n + j] = a[j * n + i];
    }
  free(values);
  free(isuppz);
  free(work);
  free(iwork);
  napi_value result;
  napi_create_int32(env, status, &result);
  return result;
}

static bool export_function(napi_env env, napi_value exports, const char *name, napi_callback callback) {
  napi_value function;
  return napi_create_function(env, name, NAPI_AUTO_LENGTH, callback, NULL, &function) == napi_ok &&
         napi_set_named_property(env, exports, name, function) == napi_ok;
}

NAPI_MODULE_INIT() {
  openblas_set_num_threads(1);
  if (!export_function(env, exports, "dgemm", dgemm) || !export_function(env, exports, "dsyrkLower", dsyrk_lower) ||
      !export_function(env, exports, "dgesdd", dgesdd) || !export_function(env, exports, "dsyevrTop", dsyevr_top))
    return NULL;
  return exports;
}
