// AVX2 kernels: the scalar ripple-carry sum four 64-bit words (256 classes) per step, and counter sums by rows.
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

// 8-bit counters, rows outer: each row is read once, front to back (whole cache lines, in the order the
// hardware prefetcher follows), kEgCount8Group rows at a time. Their counters are summed in 16-bit lanes,
// 16 classes per vector, and added into a 16-bit line of kEgCount8Tile classes that stays in L1; the line is
// widened into out every kEgCount16Rows rows. Reading a row to the next multiple of 16 classes stays inside
// the row when row_bytes allows it, so only a row shorter than that leaves a scalar tail.
EG_TARGET_AVX2 void count8_avx2(const uint8_t* counters, size_t row_bytes, const uint32_t* idx, size_t count,
                                uint32_t classes, int32_t* out) {
  std::memset(out, 0, sizeof(int32_t) * classes);
  const uint32_t vec = eg_count8_vector_classes(classes, row_bytes, 16);
  alignas(32) uint16_t line[kEgCount8Tile];
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
          __m256i sum = _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row[0] + c)));
          for (size_t g = 1; g < kEgCount8Group; ++g) {
            sum = _mm256_add_epi16(sum,
                                   _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row[g] + c))));
          }
          __m256i* acc = reinterpret_cast<__m256i*>(line + c);
          _mm256_store_si256(acc, _mm256_add_epi16(_mm256_load_si256(acc), sum));
        }
      }
      for (; i < stop; ++i) {
        const uint8_t* row = base + size_t(idx[i]) * row_bytes;
        for (uint32_t c = 0; c < width; c += 16) {
          __m256i* acc = reinterpret_cast<__m256i*>(line + c);
          const __m256i v = _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row + c)));
          _mm256_store_si256(acc, _mm256_add_epi16(_mm256_load_si256(acc), v));
        }
      }
      // Widen into out; the classes past `classes` that the last vector read are left out.
      const uint32_t keep = std::min(width, classes - tile);
      int32_t* o = out + tile;
      uint32_t c = 0;
      for (; c + 8 <= keep; c += 8) {
        __m256i* dst = reinterpret_cast<__m256i*>(o + c);
        const __m256i wide = _mm256_cvtepu16_epi32(_mm_load_si128(reinterpret_cast<const __m128i*>(line + c)));
        _mm256_storeu_si256(dst, _mm256_add_epi32(_mm256_loadu_si256(dst), wide));
      }
      for (; c < keep; ++c) o[c] += line[c];
    }
  }
  eg_count8_columns(counters, row_bytes, idx, count, vec, classes, out);  // a row too short for the last vector
}

const eg_kernels kAvx2 = {"avx2", score_avx2, count8_avx2};

}  // namespace

const eg_kernels* eg_kernels_avx2() { return eg_cpu_has_avx2() ? &kAvx2 : nullptr; }

}  // namespace engram
#endif
