// AVX2 kernel: the scalar ripple-carry sum, four 64-bit words (256 classes) per step.
#include "kernels.h"

#if defined(EG_HAVE_AVX2_PATH)
#include <immintrin.h>

#include <cstring>

namespace engram {
namespace {

EG_TARGET_AVX2 void score_avx2(const uint64_t* bits, size_t stride, const uint32_t* idx, size_t count,
                               uint32_t classes, int32_t* out) {
  std::memset(out, 0, sizeof(int32_t) * classes);
  const unsigned levels = eg_sum_levels(count);
  const size_t words = (size_t(classes) + 63) / 64;
  __m256i planes[64];
  alignas(32) uint64_t lanes[64 * 4];
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
      uint64_t lane_planes[64];
      for (unsigned j = 0; j < levels; ++j) lane_planes[j] = lanes[4 * j + lane];
      const uint32_t base = uint32_t((w + lane) * 64);
      eg_planes_to_scores(lane_planes, levels, out + base, classes - base);
    }
  }
  // Tail words (fewer than four): the same sum one word at a time.
  uint64_t tail[64];
  for (; w < words; ++w) {
    std::memset(tail, 0, sizeof(uint64_t) * levels);
    for (size_t i = 0; i < count; ++i) {
      uint64_t carry = bits[size_t(idx[i]) * stride + w];
      for (unsigned j = 0; carry && j < levels; ++j) {
        const uint64_t next = tail[j] & carry;
        tail[j] ^= carry;
        carry = next;
      }
    }
    const uint32_t base = uint32_t(w * 64);
    eg_planes_to_scores(tail, levels, out + base, classes - base);
  }
}

const eg_kernels kAvx2 = {"avx2", score_avx2};

}  // namespace

const eg_kernels* eg_kernels_avx2() { return eg_cpu_has_avx2() ? &kAvx2 : nullptr; }

}  // namespace engram
#endif
