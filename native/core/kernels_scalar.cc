// Scalar reference kernel: ripple-carry addition of each row into bit-sliced counter planes.
#include <cstring>

#include "kernels.h"

namespace engram {
namespace {

void score_scalar(const uint64_t* bits, size_t stride, const uint32_t* idx, size_t count, uint32_t classes,
                  int32_t* out) {
  std::memset(out, 0, sizeof(int32_t) * classes);
  const unsigned levels = eg_sum_levels(count);
  const size_t words = (size_t(classes) + 63) / 64;
  uint64_t planes[64];
  for (size_t w = 0; w < words; ++w) {
    std::memset(planes, 0, sizeof(uint64_t) * levels);
    for (size_t i = 0; i < count; ++i) {
      eg_add_to_planes(planes, levels, bits[size_t(idx[i]) * stride + w]);
    }
    const uint32_t base = uint32_t(w * 64);
    eg_planes_to_scores(planes, levels, out + base, classes - base);
  }
}

void count8_scalar(const uint8_t* counters, size_t row_bytes, const uint32_t* idx, size_t count, uint32_t classes,
                   int32_t* out) {
  std::memset(out, 0, sizeof(int32_t) * classes);
  for (size_t i = 0; i < count; ++i) {
    const uint8_t* row = counters + size_t(idx[i]) * row_bytes;
    for (uint32_t c = 0; c < classes; ++c) out[c] += row[c];
  }
}

const eg_kernels kScalar = {"scalar", score_scalar, count8_scalar};

}  // namespace

const eg_kernels& eg_kernels_scalar() { return kScalar; }

}  // namespace engram
