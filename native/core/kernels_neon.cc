// NEON kernel (aarch64): the scalar ripple-carry sum, two 64-bit words (128 classes) per step.
#include "kernels.h"

#if defined(EG_HAVE_NEON_PATH)
#include <arm_neon.h>

#include <cstring>

namespace engram {
namespace {

void score_neon(const uint64_t* bits, size_t stride, const uint32_t* idx, size_t count, uint32_t classes,
                int32_t* out) {
  std::memset(out, 0, sizeof(int32_t) * classes);
  const unsigned levels = eg_sum_levels(count);
  const size_t words = (size_t(classes) + 63) / 64;
  uint64x2_t planes[64];
  size_t w = 0;
  for (; w + 2 <= words; w += 2) {
    for (unsigned j = 0; j < levels; ++j) planes[j] = vdupq_n_u64(0);
    for (size_t i = 0; i < count; ++i) {
      uint64x2_t carry = vld1q_u64(bits + size_t(idx[i]) * stride + w);
      for (unsigned j = 0; j < levels; ++j) {
        if ((vgetq_lane_u64(carry, 0) | vgetq_lane_u64(carry, 1)) == 0) break;
        const uint64x2_t next = vandq_u64(planes[j], carry);
        planes[j] = veorq_u64(planes[j], carry);
        carry = next;
      }
    }
    for (unsigned lane = 0; lane < 2; ++lane) {
      uint64_t lane_planes[64];
      for (unsigned j = 0; j < levels; ++j) {
        lane_planes[j] = lane == 0 ? vgetq_lane_u64(planes[j], 0) : vgetq_lane_u64(planes[j], 1);
      }
      const uint32_t base = uint32_t((w + lane) * 64);
      eg_planes_to_scores(lane_planes, levels, out + base, classes - base);
    }
  }
  uint64_t tail[64];
  for (; w < words; ++w) {
    std::memset(tail, 0, sizeof(uint64_t) * levels);
    for (size_t i = 0; i < count; ++i) {
      eg_add_to_planes(tail, levels, bits[size_t(idx[i]) * stride + w]);
    }
    const uint32_t base = uint32_t(w * 64);
    eg_planes_to_scores(tail, levels, out + base, classes - base);
  }
}

const eg_kernels kNeon = {"neon", score_neon};

}  // namespace

const eg_kernels* eg_kernels_neon() { return &kNeon; }

}  // namespace engram
#endif
