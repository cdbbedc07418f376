// The scalar loops of the query kernels, written once: the scalar reference is built from them, and the AVX2 and
// NEON kernels run them on the words and columns their vectors leave over (as faiss's per-SIMD hamming files
// share one -inl.h). Included only by the kernels_*.cc files.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels.h"

namespace engram {

/**
 * Adds the scores of 64-bit word w (classes w*64 .. w*64+63, cut at `classes`) of every listed row into out,
 * one word at a time. `planes` is scratch for `levels` words (eg_sum_levels(count)).
 */
inline void eg_score_word(const uint64_t* bits, size_t stride, const uint32_t* idx, size_t count, size_t w,
                          unsigned levels, uint64_t* planes, uint32_t classes, int32_t* out) {
  std::memset(planes, 0, sizeof(uint64_t) * levels);
  for (size_t i = 0; i < count; ++i) eg_add_to_planes(planes, levels, bits[size_t(idx[i]) * stride + w]);
  const uint32_t base = uint32_t(w * 64);
  eg_planes_to_scores(planes, levels, out + base, classes - base);
}

/** Adds the 8-bit counters of columns [begin, classes) of every listed row into out[begin, classes). */
inline void eg_count8_columns(const uint8_t* counters, size_t row_bytes, const uint32_t* idx, size_t count,
                              uint32_t begin, uint32_t classes, int32_t* out) {
  if (begin >= classes) return;
  for (size_t i = 0; i < count; ++i) {
    const uint8_t* row = counters + size_t(idx[i]) * row_bytes;
    for (uint32_t c = begin; c < classes; ++c) out[c] += row[c];
  }
}

}  // namespace engram
