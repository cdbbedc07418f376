// AVX2 kernel: the scalar ripple-carry sum, four 64-bit words (256 classes) per step.
#include "kernels-inl.h"

#if defined(EG_HAVE_AVX2_PATH)
#include <immintrin.h>

#include <algorithm>
#include <cstring>

namespace engram {
namespace {

// Turns bit planes (one 64-bit word per level, `step` words apart) into 64 int32 sums, eight classes per
// vector: each byte of a plane is broadcast, tested against {1, 2, ..., 128} and its level weight added.
EG_TARGET_AVX2 void planes_to_scores_avx2(const uint64_t* planes, size_t step, unsigned levels, int32_t* out,
                                          uint32_t limit) {
  const __m256i select = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
  __m256i acc[8];
  for (int g = 0; g < 8; ++g) acc[g] = _mm256_setzero_si256();
  for (unsigned j = 0; j < levels; ++j) {
    const uint64_t plane = planes[j * step];
    if (!plane) continue;
    const __m256i weight = _mm256_set1_epi32(int32_t(1) << j);
    for (int g = 0; g < 8; ++g) {
      const __m256i byte = _mm256_set1_epi32(int32_t((plane >> (8 * g)) & 0xff));
      const __m256i hit = _mm256_cmpeq_epi32(_mm256_and_si256(byte, select), select);
      acc[g] = _mm256_add_epi32(acc[g], _mm256_and_si256(hit, weight));
    }
  }
  if (limit >= 64) {
    for (int g = 0; g < 8; ++g) _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 8 * g), acc[g]);
    return;
  }
  alignas(32) int32_t all[64];
  for (int g = 0; g < 8; ++g) _mm256_store_si256(reinterpret_cast<__m256i*>(all + 8 * g), acc[g]);
  std::memcpy(out, all, sizeof(int32_t) * limit);
}

EG_TARGET_AVX2 void score_avx2(const uint64_t* bits, size_t stride, const uint32_t* idx, size_t count, uint32_t classes,
                               int32_t* out) {
  std::memset(out, 0, sizeof(int32_t) * classes);
  const unsigned levels = eg_sum_levels(count);
  const size_t words = (size_t(classes) + 63) / 64;
  __m256i planes[64];
  alignas(32) uint64_t lanes[64 * 4];
  // The rows of one query are scattered over the matrix: ask for all of them up front so the cache misses
  // overlap instead of arriving one row at a time.
  const size_t row_bytes = words * 8;
  for (size_t i = 0; i < count; ++i) {
    const char* row = reinterpret_cast<const char*>(bits + size_t(idx[i]) * stride);
    for (size_t b = 0; b < row_bytes; b += 64) _mm_prefetch(row + b, _MM_HINT_T0);
  }
  size_t w = 0;
  for (; w + 4 <= words; w += 4) {
    for (unsigned j = 0; j < levels; ++j) planes[j] = _mm256_setzero_si256();
    for (size_t i = 0; i < count; ++i) {
      __m256i carry = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bits + size_t(idx[i]) * stride + w));
      for (unsigned j = 0; j < levels; ++j) {
        if (_mm256_testz_si256(carry, carry)) break;
        const __m256i next = _mm256_and_si256(planes[j], carry);
        planes[j] = _mm256_xor_si256(planes[j], carry);
        carry = next;
      }
    }
    for (unsigned j = 0; j < levels; ++j) _mm256_store_si256(reinterpret_cast<__m256i*>(lanes + 4 * j), planes[j]);
    for (unsigned lane = 0; lane < 4; ++lane) {
      const uint32_t base = uint32_t((w + lane) * 64);
      planes_to_scores_avx2(lanes + lane, 4, levels, out + base, classes - base);
    }
  }
  // Tail words (fewer than four): the scalar sum, one word at a time.
  uint64_t tail[64];
  for (; w < words; ++w) eg_score_word(bits, stride, idx, count, w, levels, tail, classes, out);
}

// 8-bit counters summed 32 classes per vector in 16-bit lanes, widened to int32 every kEgCount16Rows rows.
EG_TARGET_AVX2 void count8_avx2(const uint8_t* counters, size_t row_bytes, const uint32_t* idx, size_t count,
                                uint32_t classes, int32_t* out) {
  std::memset(out, 0, sizeof(int32_t) * classes);
  const __m256i zero = _mm256_setzero_si256();
  uint32_t c = 0;
  for (; c + 32 <= classes; c += 32) {
    __m256i acc32[4] = {zero, zero, zero, zero};
    for (size_t start = 0; start < count; start += kEgCount16Rows) {
      const size_t stop = std::min(count, start + kEgCount16Rows);
      __m256i lo = zero;
      __m256i hi = zero;
      for (size_t i = start; i < stop; ++i) {
        const __m256i v =
            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(counters + size_t(idx[i]) * row_bytes + c));
        lo = _mm256_add_epi16(lo, _mm256_unpacklo_epi8(v, zero));
        hi = _mm256_add_epi16(hi, _mm256_unpackhi_epi8(v, zero));
      }
      // unpack works within 128-bit lanes: lo holds classes 0-7 and 16-23, hi 8-15 and 24-31.
      acc32[0] = _mm256_add_epi32(acc32[0], _mm256_unpacklo_epi16(lo, zero));  // 0-3, 16-19
      acc32[1] = _mm256_add_epi32(acc32[1], _mm256_unpackhi_epi16(lo, zero));  // 4-7, 20-23
      acc32[2] = _mm256_add_epi32(acc32[2], _mm256_unpacklo_epi16(hi, zero));  // 8-11, 24-27
      acc32[3] = _mm256_add_epi32(acc32[3], _mm256_unpackhi_epi16(hi, zero));  // 12-15, 28-31
    }
    alignas(32) int32_t part[4][8];
    for (int g = 0; g < 4; ++g) _mm256_store_si256(reinterpret_cast<__m256i*>(part[g]), acc32[g]);
    for (int g = 0; g < 4; ++g) {
      for (int j = 0; j < 4; ++j) {
        out[c + 4 * g + j] = part[g][j];
        out[c + 16 + 4 * g + j] = part[g][4 + j];
      }
    }
  }
  eg_count8_columns(counters, row_bytes, idx, count, c, classes, out);  // the last classes % 32
}

const eg_kernels kAvx2 = {"avx2", score_avx2, count8_avx2};

}  // namespace

const eg_kernels* eg_kernels_avx2() { return eg_cpu_has_avx2() ? &kAvx2 : nullptr; }

}  // namespace engram
#endif
