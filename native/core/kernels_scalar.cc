// Scalar reference kernel: ripple-carry addition of each row into bit-sliced counter planes.
#include <cstring>

#include "kernels-inl.h"

namespace engram {
namespace {

void score_scalar(const uint64_t* bits, size_t stride, const uint32_t* idx, size_t count, uint32_t classes,
                  int32_t* out) {
  std::memset(out, 0, sizeof(int32_t) * classes);
  const unsigned levels = eg_sum_levels(count);
  const size_t words = (size_t(classes) + 63) / 64;
  uint64_t planes[64];
  for (size_t w = 0; w < words; ++w) eg_score_word(bits, stride, idx, count, w, levels, planes, classes, out);
}

void count8_scalar(const uint8_t* counters, size_t row_bytes, const uint32_t* idx, size_t count, uint32_t classes,
                   int32_t* out) {
  std::memset(out, 0, sizeof(int32_t) * classes);
  eg_count8_columns(counters, row_bytes, idx, count, 0, classes, out);
}

const eg_kernels kScalar = {"scalar", score_scalar, count8_scalar};

}  // namespace

const eg_kernels& eg_kernels_scalar() { return kScalar; }

}  // namespace engram
