// Query kernels: the scalar reference and the SIMD variants, chosen once per process.
#pragma once
#include <cstddef>
#include <cstdint>

namespace engram {

/**
 * Scores one code against a code-major bit matrix: out[c] = number of listed rows whose bit c is set,
 * for c < classes. Rows are `stride` 64-bit words apart; every index in idx must be a valid row.
 * Sums are kept as bit-sliced counters (one 64-bit plane per binary digit) so 64 classes advance per op.
 */
using eg_score_fn = void (*)(const uint64_t* bits, size_t stride, const uint32_t* idx, size_t count, uint32_t classes,
                             int32_t* out);

/**
 * Sums 8-bit counters over the listed rows of a code-major counting plane: out[c] = sum of row[c] over the
 * listed rows, for c < classes. Rows are `row_bytes` apart; every index in idx must be a valid row.
 */
using eg_count_fn = void (*)(const uint8_t* counters, size_t row_bytes, const uint32_t* idx, size_t count,
                             uint32_t classes, int32_t* out);

struct eg_kernels {
  const char* name;  // "scalar", "avx2" or "neon"
  eg_score_fn score;
  eg_count_fn count8;
};

/** Rows summed in 16-bit lanes before they are widened: 257 x 255 is the largest sum that fits in 16 bits. */
constexpr size_t kEgCount16Rows = 257;

/** SIMD count8: rows summed in registers before they are added to the 16-bit line (one load of it per group). */
constexpr size_t kEgCount8Group = 8;

/** SIMD count8: classes per 16-bit line (4 KB, so it stays in L1 beside the rows streaming through). */
constexpr uint32_t kEgCount8Tile = 2048;

/**
 * Classes a SIMD count8 kernel covers with whole vectors of `lanes` bytes: `classes` rounded up to a
 * multiple of lanes (the extra columns are read but never reported), cut to what a row of row_bytes holds.
 */
inline uint32_t eg_count8_vector_classes(uint32_t classes, size_t row_bytes, uint32_t lanes) {
  const uint64_t up = (uint64_t(classes) + lanes - 1) / lanes * lanes;
  const uint64_t fit = uint64_t(row_bytes) / lanes * lanes;
  return uint32_t(up < fit ? up : fit);
}

/** The scalar kernels: the reference every SIMD path is tested against. */
const eg_kernels& eg_kernels_scalar();

/** The SIMD kernels for this build and CPU, or nullptr when there is none. */
const eg_kernels* eg_kernels_simd();

/** The kernels used by Memory: SIMD when available unless ENGRAM_SIMD=scalar; fixed at first call. */
const eg_kernels& eg_kernels_active();

/** Binary digits needed to hold a sum of `count` ones (0 for 0). */
inline unsigned eg_sum_levels(size_t count) {
  unsigned levels = 0;
  while (count) {
    ++levels;
    count >>= 1;
  }
  return levels;
}

/** Adds one 64-bit row word into bit-sliced counter planes (least significant first) by ripple carry. */
inline void eg_add_to_planes(uint64_t* planes, unsigned levels, uint64_t carry) {
  for (unsigned j = 0; carry && j < levels; ++j) {
    const uint64_t next = planes[j] & carry;
    planes[j] ^= carry;
    carry = next;
  }
}

/** Adds the set bits of planes (levels of them, least significant first) into out[0..limit). */
inline void eg_planes_to_scores(const uint64_t* planes, unsigned levels, int32_t* out, uint32_t limit);

}  // namespace engram

#include "eg_port.h"

namespace engram {
inline void eg_planes_to_scores(const uint64_t* planes, unsigned levels, int32_t* out, uint32_t limit) {
  for (unsigned j = 0; j < levels; ++j) {
    uint64_t m = planes[j];
    const int32_t weight = int32_t(1) << j;
    while (m) {
      const uint32_t i = uint32_t(eg_ctz64(m));
      if (i < limit) out[i] += weight;
      m &= m - 1;
    }
  }
}
}  // namespace engram
