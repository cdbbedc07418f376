// NEON kernel (aarch64): the scalar ripple-carry sum, two 64-bit words (128 classes) per step.
#include "kernels-inl.h"

#if defined(EG_HAVE_NEON_PATH)
#include <arm_neon.h>

#include <algorithm>
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
  // Tail word (an odd count): the scalar sum.
  uint64_t tail[64];
  for (; w < words; ++w) eg_score_word(bits, stride, idx, count, w, levels, tail, classes, out);
}

// 8-bit counters summed 16 classes per vector in 16-bit lanes, widened to int32 every kEgCount16Rows rows.
void count8_neon(const uint8_t* counters, size_t row_bytes, const uint32_t* idx, size_t count, uint32_t classes,
                 int32_t* out) {
  std::memset(out, 0, sizeof(int32_t) * classes);
  uint32_t c = 0;
  for (; c + 16 <= classes; c += 16) {
    uint32x4_t acc[4] = {vdupq_n_u32(0), vdupq_n_u32(0), vdupq_n_u32(0), vdupq_n_u32(0)};
    for (size_t start = 0; start < count; start += kEgCount16Rows) {
      const size_t stop = std::min(count, start + kEgCount16Rows);
      uint16x8_t lo = vdupq_n_u16(0);
      uint16x8_t hi = vdupq_n_u16(0);
      for (size_t i = start; i < stop; ++i) {
        const uint8x16_t v = vld1q_u8(counters + size_t(idx[i]) * row_bytes + c);
        lo = vaddw_u8(lo, vget_low_u8(v));
        hi = vaddw_u8(hi, vget_high_u8(v));
      }
      acc[0] = vaddw_u16(acc[0], vget_low_u16(lo));
      acc[1] = vaddw_u16(acc[1], vget_high_u16(lo));
      acc[2] = vaddw_u16(acc[2], vget_low_u16(hi));
      acc[3] = vaddw_u16(acc[3], vget_high_u16(hi));
    }
    for (int g = 0; g < 4; ++g) vst1q_s32(out + c + 4 * g, vreinterpretq_s32_u32(acc[g]));
  }
  eg_count8_columns(counters, row_bytes, idx, count, c, classes, out);  // the last classes % 16
}

const eg_kernels kNeon = {"neon", score_neon, count8_neon};

}  // namespace

const eg_kernels* eg_kernels_neon() { return &kNeon; }

}  // namespace engram
#endif
