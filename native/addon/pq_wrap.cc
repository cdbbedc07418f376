// N-API function pqEncode: checks shapes, borrows the Float32Arrays, and runs the core encoder.
#include <napi.h>

#include <cmath>
#include <string>

#include "args.h"
#include "pq.h"

namespace engram_addon {
namespace {

constexpr double kMaxDim = 1 << 24;

// pqEncode(features, anchors, batch, dims, parts, anchorCount, probes) -> Uint32Array [batch x parts*probes]
Napi::Value PqEncode(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    Napi::Float32Array features = typed<float>(info[0], "features", napi_float32_array, "Float32Array");
    Napi::Float32Array anchors = typed<float>(info[1], "anchors", napi_float32_array, "Float32Array");
    const size_t batch = size_t(integer(info[2], "batch", 0, kMaxDim));
    const size_t dims = size_t(integer(info[3], "dims", 1, kMaxDim));
    const size_t parts = size_t(integer(info[4], "parts", 1, double(dims)));
    if (dims % parts != 0) range_error(env, "parts", "a divisor of dims (" + std::to_string(dims) + ")", info[4]);
    const size_t anchor_count = size_t(integer(info[5], "anchorCount", 1, kMaxDim));
    const size_t probes = size_t(integer(info[6], "probes", 1, double(anchor_count)));
    if (features.ElementLength() != batch * dims) {
      range_error(env, "features", "a Float32Array of length " + std::to_string(batch * dims) + " (batch x dims)",
                  info[0]);
    }
    if (anchors.ElementLength() != anchor_count * dims) {
      range_error(
          env, "anchors",
          "a Float32Array of length " + std::to_string(anchor_count * dims) + " (parts x anchorCount x dims/parts)",
          info[1]);
    }
    const float* f = features.Data();
    for (size_t i = 0; i < batch * dims; ++i) {
      if (!std::isfinite(f[i])) {
        throw Napi::RangeError::New(env, "features: expected finite numbers, got " +
                                             Napi::Number::New(env, f[i]).ToString().Utf8Value() + " at index " +
                                             std::to_string(i));
      }
    }
    const float* a = anchors.Data();
    for (size_t i = 0; i < anchor_count * dims; ++i) {
      if (!std::isfinite(a[i])) {
        throw Napi::RangeError::New(env, "anchors: expected finite numbers, got " +
                                             Napi::Number::New(env, a[i]).ToString().Utf8Value() + " at index " +
                                             std::to_string(i));
      }
    }
    Napi::Uint32Array out = Napi::Uint32Array::New(env, batch * parts * probes);
    const engram::eg_status s = engram::eg_pq_encode(f, a, batch, dims, parts, anchor_count, probes, out.Data());
    if (s != engram::eg_status::ok) status_error(env, "pqEncode", s);
    return out;
  });
}

}  // namespace

void eg_register_pq(Napi::Env env, Napi::Object exports) {
  exports.Set("pqEncode", Napi::Function::New(env, PqEncode, "pqEncode"));
}

}  // namespace engram_addon
