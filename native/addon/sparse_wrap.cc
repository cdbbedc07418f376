// N-API class "SparseEncoder": the sparse quantizer's encode (src/quantize/sparse.ts) in C++. Built once per
// quantizer from the rotation parameters TypeScript generated, then encode(features, rows) per batch. Every
// property is read before it is checked and copied, so later changes to the JS arrays do not reach the core.
#include <napi.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "args.h"
#include "slot_args.h"
#include "sparse.h"

namespace engram_addon {
namespace {

using engram::eg_sparse_block;
using engram::eg_status;
using engram::eg_whitening;
using engram::SparseEncoder;

template <typename T>
std::vector<T> checked_copy(const Napi::Value& v, const std::string& name, napi_typedarray_type type, const char* ctor,
                            size_t want) {
  Napi::TypedArrayOf<T> a = typed<T>(v, name.c_str(), type, ctor);
  expect_length(v.Env(), a, want, name, v, ctor);
  return copy_of(a);
}

eg_sparse_block read_block(const Napi::Value& v, const std::string& name, size_t dim, size_t size) {
  const Napi::Object o = options_object(v, name, {"begin", "neurons", "k", "white", "inSign", "perm", "midSign"});
  const Napi::Value begin = o.Get("begin"), neurons = o.Get("neurons"), k = o.Get("k"), white = o.Get("white");
  const Napi::Value in_sign = o.Get("inSign"), perm = o.Get("perm"), mid_sign = o.Get("midSign");
  eg_sparse_block b;
  b.begin = uint32_t(integer(begin, (name + ".begin").c_str(), 0, 4294967295.0));
  b.neurons = uint32_t(integer(neurons, (name + ".neurons").c_str(), 2, SparseEncoder::kMaxNeurons));
  b.k = uint32_t(integer(k, (name + ".k").c_str(), 1, b.neurons - 1));
  if (!white.IsBoolean()) type_error(v.Env(), (name + ".white").c_str(), "a boolean", white);
  b.white = white.As<Napi::Boolean>().Value();
  const size_t rounds = (size_t(b.neurons) + size - 1) / size;
  b.in_sign = checked_copy<double>(in_sign, name + ".inSign", napi_float64_array, "Float64Array", rounds * dim);
  b.perm = checked_copy<uint32_t>(perm, name + ".perm", napi_uint32_array, "Uint32Array", rounds * size);
  b.mid_sign = checked_copy<double>(mid_sign, name + ".midSign", napi_float64_array, "Float64Array", rounds * size);
  return b;
}

std::unique_ptr<eg_whitening> read_whitening(const Napi::Value& v, size_t dim) {
  if (v.IsNull()) return nullptr;
  if (!v.IsObject()) type_error(v.Env(), "whitening", "a whitening object or null", v);
  const Napi::Object o = options_object(v, "whitening", {"d", "mean", "f", "g", "basis"});
  const Napi::Value d = o.Get("d"), mean = o.Get("mean"), f = o.Get("f"), g = o.Get("g"), basis = o.Get("basis");
  auto w = std::make_unique<eg_whitening>();
  w->d = uint32_t(integer(d, "whitening.d", 0, double(dim)));
  w->mean = checked_copy<float>(mean, "whitening.mean", napi_float32_array, "Float32Array", dim);
  w->f = checked_copy<float>(f, "whitening.f", napi_float32_array, "Float32Array", w->d);
  if (!g.IsNumber()) type_error(v.Env(), "whitening.g", "a finite number", g);
  w->g = g.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(w->g)) range_error(v.Env(), "whitening.g", "a finite number", g);
  w->basis = checked_copy<float>(basis, "whitening.basis", napi_float32_array, "Float32Array", size_t(w->d) * dim);
  return w;
}

class SparseEncoderWrap : public Napi::ObjectWrap<SparseEncoderWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(
        env, "SparseEncoder",
        {InstanceMethod<&SparseEncoderWrap::Encode>("encode"), InstanceMethod<&SparseEncoderWrap::Whiten>("whiten")});
  }

  // new SparseEncoder(dim, blocks: [{ begin, neurons, k, white, inSign, perm, midSign }], whitening | null)
  explicit SparseEncoderWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<SparseEncoderWrap>(info) {
    guarded(info.Env(), [&]() {
      Napi::Env env = info.Env();
      const size_t dim = size_t(integer(info[0], "dim", 1, SparseEncoder::kMaxDim));
      size_t size = 1;
      while (size < dim) size *= 2;
      if (!info[1].IsArray()) type_error(env, "blocks", "an array of blocks", info[1]);
      const Napi::Array list = info[1].As<Napi::Array>();
      if (list.Length() == 0 || list.Length() > 16) range_error(env, "blocks", "1 to 16 blocks", info[1]);
      std::vector<eg_sparse_block> blocks;
      for (uint32_t i = 0; i < list.Length(); ++i) {
        blocks.push_back(read_block(list.Get(i), "blocks[" + std::to_string(i) + "]", dim, size));
      }
      std::unique_ptr<eg_whitening> whitening = read_whitening(info[2], dim);
      const eg_status s = SparseEncoder::create(uint32_t(dim), std::move(blocks), std::move(whitening), &core_);
      if (s != eg_status::ok) status_error(env, "SparseEncoder", s);
      return 0;
    });
  }

 private:
  const float* checked_features(const Napi::CallbackInfo& info, size_t* rows) {
    Napi::Env env = info.Env();
    Napi::Float32Array features = typed<float>(info[0], "features", napi_float32_array, "Float32Array");
    *rows = size_t(integer(info[1], "rows", 0, 9007199254740991.0));
    const size_t dim = core_->dim();
    const size_t n = features.ElementLength();
    if (n / dim != *rows || n % dim != 0) {
      throw Napi::RangeError::New(env, "features: expected " + std::to_string(*rows) + " x " + std::to_string(dim) +
                                           " = " + std::to_string(*rows * dim) +
                                           " values, got Float32Array of length " + std::to_string(n));
    }
    const float* f = features.Data();
    for (size_t i = 0; i < n; ++i) {
      if (!std::isfinite(f[i])) {
        throw Napi::RangeError::New(env, "features: value " + std::to_string(i) + " is not finite (" +
                                             Napi::Number::New(env, f[i]).ToString().Utf8Value() + ")");
      }
    }
    return f;
  }

  // encode(features: Float32Array, rows) -> Uint32Array [rows x active]
  Napi::Value Encode(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      Napi::Env env = info.Env();
      size_t rows = 0;
      const float* f = checked_features(info, &rows);
      Napi::Uint32Array out = Napi::Uint32Array::New(env, rows * core_->active());
      size_t bad_row = 0;
      const eg_status s = core_->encode(f, rows, out.Data(), &bad_row);
      if (s == eg_status::bad_value) {
        throw Napi::RangeError::New(
            env, "features: row " + std::to_string(bad_row) + " whitens to a value that is not finite in float32");
      }
      if (s != eg_status::ok) status_error(env, "encode", s);
      return out;
    });
  }

  // whiten(features: Float32Array, rows) -> Float32Array [rows x dim]
  Napi::Value Whiten(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      Napi::Env env = info.Env();
      if (!core_->has_whitening()) throw Napi::Error::New(env, "whiten: this encoder has no whitening");
      size_t rows = 0;
      const float* f = checked_features(info, &rows);
      Napi::Float32Array out = Napi::Float32Array::New(env, rows * core_->dim());
      const eg_status s = core_->whiten(f, rows, out.Data());
      if (s != eg_status::ok) status_error(env, "whiten", s);
      return out;
    });
  }

  std::unique_ptr<SparseEncoder> core_;
};

}  // namespace

void eg_register_sparse(Napi::Env env, Napi::Object exports) {
  exports.Set("SparseEncoder", SparseEncoderWrap::Define(env));
}

}  // namespace engram_addon
