// Portability layer: bit intrinsics, restrict and CPU feature detection for each compiler and target.
// Everything bit-level in the core goes through these so that one file knows about compilers.
#pragma once
#include <cstdint>
#include <cstring>

#if defined(_MSC_VER) && !defined(__clang__)
#include <intrin.h>
#define EG_RESTRICT __restrict
#else
#define EG_RESTRICT __restrict__
#endif

#if defined(__x86_64__) || defined(_M_X64)
#define EG_X86_64 1
#endif
#if defined(__aarch64__) || defined(_M_ARM64)
#define EG_AARCH64 1
#endif

// Functions compiled for AVX2 without building the whole file with -mavx2 (so the same sources build
// identically under cmake-js and node-gyp, and the binary still runs on CPUs without AVX2).
#if defined(EG_X86_64) && (defined(__GNUC__) || defined(__clang__))
#define EG_HAVE_AVX2_PATH 1
#define EG_TARGET_AVX2 __attribute__((target("avx2,popcnt")))
#endif
#if defined(EG_AARCH64)
#define EG_HAVE_NEON_PATH 1
#endif

namespace engram {

/** Number of set bits in x. */
inline int eg_popcount64(uint64_t x) {
#if defined(_MSC_VER) && !defined(__clang__)
  return static_cast<int>(__popcnt64(x));
#else
  return __builtin_popcountll(x);
#endif
}

/** Index of the lowest set bit of x; x must not be 0. */
inline int eg_ctz64(uint64_t x) {
#if defined(_MSC_VER) && !defined(__clang__)
  unsigned long i;
  _BitScanForward64(&i, x);
  return static_cast<int>(i);
#else
  return __builtin_ctzll(x);
#endif
}

/** Asks for the cache line holding p ahead of a read (a hint: no fault, no effect on results). */
inline void eg_prefetch(const void* p) {
#if defined(__GNUC__) || defined(__clang__)
  __builtin_prefetch(p, 0, 3);
#elif defined(_MSC_VER) && defined(EG_X86_64)
  _mm_prefetch(static_cast<const char*>(p), _MM_HINT_T0);
#else
  (void)p;
#endif
}

/** Little-endian load/store through memcpy: byte buffers are never reinterpret_cast. */
inline uint32_t eg_load_u32le(const uint8_t* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}
inline uint64_t eg_load_u64le(const uint8_t* p) {
  return uint64_t(eg_load_u32le(p)) | uint64_t(eg_load_u32le(p + 4)) << 32;
}
inline void eg_store_u32le(uint8_t* p, uint32_t v) {
  p[0] = uint8_t(v);
  p[1] = uint8_t(v >> 8);
  p[2] = uint8_t(v >> 16);
  p[3] = uint8_t(v >> 24);
}
inline void eg_store_u64le(uint8_t* p, uint64_t v) {
  eg_store_u32le(p, uint32_t(v));
  eg_store_u32le(p + 4, uint32_t(v >> 32));
}

/** True when this CPU can run the AVX2 kernels (checked once by the dispatcher). */
bool eg_cpu_has_avx2();

}  // namespace engram
