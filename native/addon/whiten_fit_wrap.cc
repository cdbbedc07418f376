// N-API functions scatterTimes and orthonormalize: the products of a whitening fit (native/core/whiten_fit.h),
// bit for bit the TypeScript reference in src/quantize/whitening.ts. Synchronous: the arrays are borrowed, not
// copied, and nothing else runs while they are read.
#include <napi.h>

#include <string>

#include "args.h"
#include "slot_args.h"
#include "whiten_fit.h"

namespace engram_addon {
namespace {

// Large enough for any backbone the catalogue holds; small enough that n * dim and l * dim never overflow.
constexpr double kMaxSide = double(1u << 24);

// scatterTimes(R: Float64Array (n x dim), n, dim, Q: Float64Array (l x dim), l) -> Float64Array (l x dim)
Napi::Value ScatterTimes(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    Napi::Float64Array R = typed<double>(info[0], "R", napi_float64_array, "Float64Array");
    const size_t n = size_t(integer(info[1], "n", 1, kMaxSide));
    const size_t dim = size_t(integer(info[2], "dim", 1, kMaxSide));
    Napi::Float64Array Q = typed<double>(info[3], "Q", napi_float64_array, "Float64Array");
    const size_t l = size_t(integer(info[4], "l", 1, double(dim)));
    expect_length(env, R, n * dim, "R", info[0], "Float64Array");
    expect_length(env, Q, l * dim, "Q", info[3], "Float64Array");
    Napi::Float64Array out = Napi::Float64Array::New(env, l * dim);
    engram::eg_scatter_times(R.Data(), n, dim, Q.Data(), l, out.Data());
    return out;
  });
}

// orthonormalize(Q: Float64Array (l x dim), l, dim): in place.
Napi::Value Orthonormalize(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    Napi::Float64Array Q = typed<double>(info[0], "Q", napi_float64_array, "Float64Array");
    const size_t l = size_t(integer(info[1], "l", 1, kMaxSide));
    const size_t dim = size_t(integer(info[2], "dim", 1, kMaxSide));
    expect_length(env, Q, l * dim, "Q", info[0], "Float64Array");
    engram::eg_orthonormalize(Q.Data(), l, dim);
    return env.Undefined();
  });
}

}  // namespace

void eg_register_whiten_fit(Napi::Env env, Napi::Object exports) {
  exports.Set("scatterTimes", Napi::Function::New(env, ScatterTimes, "scatterTimes"));
  exports.Set("orthonormalize", Napi::Function::New(env, Orthonormalize, "orthonormalize"));
}

}  // namespace engram_addon
