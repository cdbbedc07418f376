// The two products that take the time of a whitening fit (src/quantize/whitening.ts, fitWhitening): the
// scatter of n residual rows applied to l directions, and the Gram-Schmidt that keeps those directions
// orthonormal. The TypeScript reference computes the same values in the same order (dot products in four
// lanes, t mod 4, added as (l0 + l1) + (l2 + l3); rows of R four at a time), and the build turns FMA
// contraction off (-ffp-contract=off), so the two agree bit for bit.
#pragma once
#include <cstddef>

namespace engram {

/** Sum of a[t] * b[t] over t < len, in four lanes (t mod 4) added as (l0 + l1) + (l2 + l3). */
double eg_dot4(const double* a, const double* b, size_t len);

/**
 * out (l x dim, overwritten) = rows of Q (l x dim) times R^T R / n, R being n x dim: out_j = sum over rows r of
 * (R_r . Q_j / n) R_r, the rows of R taken four at a time (a last group of fewer repeats its first row with
 * weight 0).
 */
void eg_scatter_times(const double* R, size_t n, size_t dim, const double* Q, size_t l, double* out);

/** Modified Gram-Schmidt on the l rows of Q (l x dim), in place, twice; a row of norm <= 1e-300 becomes zero. */
void eg_orthonormalize(double* Q, size_t l, size_t dim);

}  // namespace engram
