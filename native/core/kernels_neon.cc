// NEON kernels (aarch64): the scalar ripple-carry sum two 64-bit words (128 classes) per step, and counter sums by
// rows.
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

// 8-bit counters, rows outer, as the AVX2 kernel: kEgCount8Group rows at a time summed in 16-bit lanes (16
// classes per pair of vectors), added into a 16-bit line of kEgCount8Tile classes kept in L1 and widened into
// out every kEgCount16Rows rows; only a row too short for the last 16 classes leaves a scalar tail.
void count8_neon(const uint8_t* counters, size_t row_bytes, const uint32_t* idx, size_t count, uint32_t classes,
                 int32_t* out) {
  std::memset(out, 0, sizeof(int32_t) * classes);
  const uint32_t vec = eg_count8_vector_classes(classes, row_bytes, 16);
  alignas(16) uint16_t line[kEgCount8Tile];
  for (uint32_t tile = 0; tile < vec; tile += kEgCount8Tile) {
    const uint32_t width = std::min<uint32_t>(kEgCount8Tile, vec - tile);
    const uint8_t* base = counters + tile;
    for (size_t start = 0; start < count; start += kEgCount16Rows) {
      const size_t stop = std::min(count, start + kEgCount16Rows);
      std::memset(line, 0, sizeof(uint16_t) * width);
      size_t i = start;
      for (; i + kEgCount8Group <= stop; i += kEgCount8Group) {
        const uint8_t* row[kEgCount8Group];
        for (size_t g = 0; g < kEgCount8Group; ++g) row[g] = base + size_t(idx[i + g]) * row_bytes;
        // The next group's rows are scattered over the plane: ask for their lines while this group is summed,
        // one line of each per 64 classes, so memory is busy on them before they are needed.
        const uint8_t* next[kEgCount8Group] = {};
        const bool ahead = i + 2 * kEgCount8Group <= count;
        if (ahead) {
          for (size_t g = 0; g < kEgCount8Group; ++g) next[g] = base + size_t(idx[i + kEgCount8Group + g]) * row_bytes;
        }
        for (uint32_t c = 0; c < width; c += 16) {
          if (ahead && c % 64 == 0) {
            for (size_t g = 0; g < kEgCount8Group; ++g) eg_prefetch(next[g] + c);
          }
          const uint8x16_t first = vld1q_u8(row[0] + c);
          const uint8x16_t second = vld1q_u8(row[1] + c);
          uint16x8_t lo = vaddl_u8(vget_low_u8(first), vget_low_u8(second));
          uint16x8_t hi = vaddl_u8(vget_high_u8(first), vget_high_u8(second));
          for (size_t g = 2; g < kEgCount8Group; ++g) {
            const uint8x16_t v = vld1q_u8(row[g] + c);
            lo = vaddw_u8(lo, vget_low_u8(v));
            hi = vaddw_u8(hi, vget_high_u8(v));
          }
          vst1q_u16(line + c, vaddq_u16(vld1q_u16(line + c), lo));
          vst1q_u16(line + c + 8, vaddq_u16(vld1q_u16(line + c + 8), hi));
        }
      }
      for (; i < stop; ++i) {
        const uint8_t* row = base + size_t(idx[i]) * row_bytes;
        for (uint32_t c = 0; c < width; c += 16) {
          const uint8x16_t v = vld1q_u8(row + c);
          vst1q_u16(line + c, vaddw_u8(vld1q_u16(line + c), vget_low_u8(v)));
          vst1q_u16(line + c + 8, vaddw_u8(vld1q_u16(line + c + 8), vget_high_u8(v)));
        }
      }
      // Widen into out; the classes past `classes` that the last vector read are left out.
      const uint32_t keep = std::min(width, classes - tile);
      int32_t* o = out + tile;
      uint32_t c = 0;
      for (; c + 4 <= keep; c += 4) {
        vst1q_s32(o + c, vreinterpretq_s32_u32(vaddw_u16(vreinterpretq_u32_s32(vld1q_s32(o + c)), vld1_u16(line + c))));
      }
      for (; c < keep; ++c) o[c] += line[c];
    }
  }
  eg_count8_columns(counters, row_bytes, idx, count, vec, classes, out);  // a row too short for the last vector
}

const eg_kernels kNeon = {"neon", score_neon, count8_neon};

}  // namespace

const eg_kernels* eg_kernels_neon() { return &kNeon; }

}  // namespace engram
#endif
