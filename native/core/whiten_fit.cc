// Whitening fit products (whiten_fit.h): the same operations, in the same order, as src/quantize/whitening.ts.
#include "whiten_fit.h"

#include <cmath>
#include <cstring>

namespace engram {

double eg_dot4(const double* a, const double* b, size_t len) {
  double l0 = 0, l1 = 0, l2 = 0, l3 = 0;
  size_t t = 0;
  for (; t + 4 <= len; t += 4) {
    l0 += a[t] * b[t];
    l1 += a[t + 1] * b[t + 1];
    l2 += a[t + 2] * b[t + 2];
    l3 += a[t + 3] * b[t + 3];
  }
  if (t < len) l0 += a[t] * b[t];
  if (t + 1 < len) l1 += a[t + 1] * b[t + 1];
  if (t + 2 < len) l2 += a[t + 2] * b[t + 2];
  return (l0 + l1) + (l2 + l3);
}

void eg_scatter_times(const double* R, size_t n, size_t dim, const double* Q, size_t l, double* out) {
  std::memset(out, 0, l * dim * sizeof(double));
  const double nd = double(n);
  for (size_t r = 0; r < n; r += 4) {
    const size_t rows = n - r < 4 ? n - r : 4;
    const double* r0 = R + r * dim;
    const double* r1 = rows > 1 ? r0 + dim : r0;
    const double* r2 = rows > 2 ? r0 + 2 * dim : r0;
    const double* r3 = rows > 3 ? r0 + 3 * dim : r0;
    for (size_t j = 0; j < l; ++j) {
      const double* q = Q + j * dim;
      const double c0 = eg_dot4(r0, q, dim) / nd;
      const double c1 = rows > 1 ? eg_dot4(r1, q, dim) / nd : 0.0;
      const double c2 = rows > 2 ? eg_dot4(r2, q, dim) / nd : 0.0;
      const double c3 = rows > 3 ? eg_dot4(r3, q, dim) / nd : 0.0;
      double* o = out + j * dim;
      for (size_t t = 0; t < dim; ++t) o[t] += ((c0 * r0[t] + c1 * r1[t]) + c2 * r2[t]) + c3 * r3[t];
    }
  }
}

void eg_orthonormalize(double* Q, size_t l, size_t dim) {
  for (int pass = 0; pass < 2; ++pass) {
    for (size_t i = 0; i < l; ++i) {
      double* qi = Q + i * dim;
      for (size_t j = 0; j < i; ++j) {
        const double* qj = Q + j * dim;
        const double p = eg_dot4(qi, qj, dim);
        for (size_t t = 0; t < dim; ++t) qi[t] -= p * qj[t];
      }
      const double norm = std::sqrt(eg_dot4(qi, qi, dim));
      for (size_t t = 0; t < dim; ++t) qi[t] = norm > 1e-300 ? qi[t] / norm : 0.0;
    }
  }
}

}  // namespace engram
