// Module entry: registers the memory class, the PQ and sparse encoders, the whitening fit's products and
// build/runtime information.
#include <napi.h>

#include "kernels.h"

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

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("version", Napi::Function::New(env, Version, "version"));
  exports.Set("simd", Napi::Function::New(env, Simd, "simd"));
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
