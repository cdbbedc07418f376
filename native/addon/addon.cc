// Module entry: registers the memory class, the PQ and sparse encoders, the whitening fit's products and
// build/runtime information.
#include <napi.h>

#include "kernels.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#define EG_CPUID_X86 1
#endif

namespace engram_addon {
void eg_register_memory(Napi::Env env, Napi::Object exports);
void eg_register_pq(Napi::Env env, Napi::Object exports);
void eg_register_resample(Napi::Env env, Napi::Object exports);
void eg_register_jpeg(Napi::Env env, Napi::Object exports);
void eg_register_sparse(Napi::Env env, Napi::Object exports);
void eg_register_whiten_fit(Napi::Env env, Napi::Object exports);
}  // namespace engram_addon

// The build passes package.json's version (CMakeLists.txt, binding.gyp), so it is written in one place.
#ifndef ENGRAM_VERSION
#error "ENGRAM_VERSION is not defined: build with cmake-js (CMakeLists.txt) or node-gyp (binding.gyp)"
#endif
#define ENGRAM_STRINGIFY_(x) #x
#define ENGRAM_STRINGIFY(x) ENGRAM_STRINGIFY_(x)

namespace {

Napi::Value Version(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), ENGRAM_STRINGIFY(ENGRAM_VERSION));
}

// { active: kernels used by score(), simd: SIMD kernels this build and CPU offer or null }
Napi::Value Simd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  out.Set("active", Napi::String::New(env, engram::eg_kernels_active().name));
  const engram::eg_kernels* simd = engram::eg_kernels_simd();
  out.Set("simd", simd ? Napi::Value(Napi::String::New(env, simd->name)) : env.Null());
  return out;
}

#if defined(EG_CPUID_X86)
// The int8 dot-product instructions this x86-64 CPU has and the OS lets programs use (their register state
// saved on context switches: XCR0). onnxruntime's int8 kernels sum u8 x s8 products exactly with them; without
// them they pair products in saturating 16-bit sums (vpmaddubsw), which changes an int8 model's features.
const char* Int8DotX86() {
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return "none";
  const bool osxsave = (c >> 27) & 1u;
  const bool avx = (c >> 28) & 1u;
  if (!osxsave || !avx) return "none";
  unsigned lo = 0, hi = 0;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  const bool ymm = (lo & 0x6u) == 0x6u;    // SSE and AVX state
  const bool zmm = (lo & 0xE6u) == 0xE6u;  // and the AVX-512 opmask and upper registers
  if (__get_cpuid_max(0, nullptr) < 7) return "none";
  __cpuid_count(7, 0, a, b, c, d);
  const bool avx512f = (b >> 16) & 1u;
  const bool avx512vnni = (c >> 11) & 1u;
  if (zmm && avx512f && avx512vnni) return "avx512_vnni";
  __cpuid_count(7, 1, a, b, c, d);
  const bool avxvnni = (a >> 4) & 1u;
  if (ymm && avxvnni) return "avx_vnni";
  return "none";
}
#endif

// "avx512_vnni", "avx_vnni" or "none" on x86-64; null on other architectures.
Napi::Value Int8Dot(const Napi::CallbackInfo& info) {
#if defined(EG_CPUID_X86)
  return Napi::String::New(info.Env(), Int8DotX86());
#else
  return info.Env().Null();
#endif
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("version", Napi::Function::New(env, Version, "version"));
  exports.Set("simd", Napi::Function::New(env, Simd, "simd"));
  exports.Set("int8Dot", Napi::Function::New(env, Int8Dot, "int8Dot"));
  engram_addon::eg_register_memory(env, exports);
  engram_addon::eg_register_pq(env, exports);
  engram_addon::eg_register_resample(env, exports);
  engram_addon::eg_register_jpeg(env, exports);
  engram_addon::eg_register_sparse(env, exports);
  engram_addon::eg_register_whiten_fit(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(engram, Init)
