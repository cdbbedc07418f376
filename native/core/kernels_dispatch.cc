// Chooses the query kernels once per process: SIMD when the CPU has it, scalar when forced.
#include <cstdlib>
#include <cstring>

#include "kernels.h"

namespace engram {

#if defined(EG_HAVE_AVX2_PATH)
const eg_kernels* eg_kernels_avx2();
#endif
#if defined(EG_HAVE_NEON_PATH)
const eg_kernels* eg_kernels_neon();
#endif

bool eg_cpu_has_avx2() {
#if defined(EG_X86_64) && (defined(__GNUC__) || defined(__clang__))
  static const bool has = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("popcnt");
  }();
  return has;
#else
  return false;
#endif
}

const eg_kernels* eg_kernels_simd() {
#if defined(EG_HAVE_AVX2_PATH)
  return eg_kernels_avx2();
#elif defined(EG_HAVE_NEON_PATH)
  return eg_kernels_neon();
#else
  return nullptr;
#endif
}

const eg_kernels& eg_kernels_active() {
  static const eg_kernels* chosen = [] {
    const char* force = std::getenv("ENGRAM_SIMD");
    const eg_kernels* simd = eg_kernels_simd();
    if ((force && std::strcmp(force, "scalar") == 0) || !simd) return &eg_kernels_scalar();
    return simd;
  }();
  return *chosen;
}

}  // namespace engram
