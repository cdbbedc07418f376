// Whitening fit products: the dot product's lane order, the scatter applied to directions, Gram-Schmidt.
#include <cmath>
#include <vector>

#include "check.h"
#include "whiten_fit.h"

TEST("eg_dot4 sums in four lanes, t mod 4, added as (l0 + l1) + (l2 + l3)") {
  // Lanes 1, 1e16, -1e16, 1: (1 + 1e16) + (-1e16 + 1) rounds to 1e16 - 1e16 = 0, where a sum from left to
  // right would give 1. The order is what the TypeScript reference uses, so the two agree bit for bit.
  const std::vector<double> a = {1, 1e16, -1e16, 1};
  const std::vector<double> ones = {1, 1, 1, 1};
  CHECK_EQ(engram::eg_dot4(a.data(), ones.data(), 4), 0.0);
  // Lengths that are not a multiple of four: the tail goes to lanes 0, 1, 2.
  const std::vector<double> x = {1, 2, 3, 4, 5, 6, 7};
  CHECK_EQ(engram::eg_dot4(x.data(), x.data(), 7), (1.0 + 25 + 4 + 36) + (9.0 + 49 + 16));
  CHECK_EQ(engram::eg_dot4(x.data(), x.data(), 1), 1.0);
  CHECK_EQ(engram::eg_dot4(x.data(), x.data(), 0), 0.0);
}

TEST("eg_scatter_times applies R^T R / n to each direction, for any number of rows") {
  // R rows e0, 2 e1, 3 e2 (n = 3, not a multiple of four): R^T R / 3 = diag(1/3, 4/3, 3).
  const std::vector<double> R = {1, 0, 0, 0, 2, 0, 0, 0, 3};
  const std::vector<double> Q = {1, 1, 1, 0, 0, 2};
  std::vector<double> out(6, 99.0);
  engram::eg_scatter_times(R.data(), 3, 3, Q.data(), 2, out.data());
  CHECK_EQ(out[0], 1.0 / 3);
  CHECK_EQ(out[1], 4.0 / 3);
  CHECK_EQ(out[2], 3.0);
  CHECK_EQ(out[3], 0.0);
  CHECK_EQ(out[4], 0.0);
  CHECK_EQ(out[5], 6.0);
}

TEST("eg_orthonormalize makes rows orthonormal and a dependent row zero") {
  std::vector<double> Q = {1, 0, 0, 2, 0, 0, 1, 1, 1};  // row 1 = 2 x row 0, exactly
  engram::eg_orthonormalize(Q.data(), 3, 3);
  CHECK_EQ(Q[0], 1.0);
  CHECK_EQ(Q[1], 0.0);
  CHECK_EQ(Q[2], 0.0);
  for (int t = 3; t < 6; ++t) CHECK_EQ(Q[t], 0.0);
  const double n2 = engram::eg_dot4(Q.data() + 6, Q.data() + 6, 3);
  CHECK(std::fabs(n2 - 1) < 1e-12);
  CHECK(std::fabs(engram::eg_dot4(Q.data(), Q.data() + 6, 3)) < 1e-12);
}
