// The arguments shared by resampleInto and decodeJpegInto: tap tables for both axes and the tensor slot the
// image goes to. Checked once here with the addon's usual messages, and copied, so an async worker owns them.
#pragma once
#include <napi.h>

#include <string>
#include <vector>

#include "args.h"
#include "resample.h"

namespace engram_addon {

struct SlotArgs {
  std::vector<int32_t> h_first, h_count, v_first, v_count;
  std::vector<int16_t> h_weights, v_weights;
  size_t h_taps = 0, v_taps = 0;
  size_t width = 0, height = 0, channels = 0;
  bool nchw = true;
  float scale[3] = {0, 0, 0}, bias[3] = {0, 0, 0};
  uint8_t source[3] = {0, 0, 0};
  size_t offset = 0;

  engram::eg_taps h() const { return {h_first.data(), h_count.data(), h_weights.data(), h_taps}; }
  engram::eg_taps v() const { return {v_first.data(), v_count.data(), v_weights.data(), v_taps}; }
  engram::eg_tensor_slot slot(float* out) const {
    return {width, height, channels, nchw, scale, bias, source, out + offset};
  }
  /** The slot written at the start of `dst` (no offset): where an async job puts its result first. */
  engram::eg_tensor_slot slot_at(float* dst) const { return {width, height, channels, nchw, scale, bias, source, dst}; }
  /** Floats in one slot: width * height * channels. */
  size_t slot_values() const { return width * height * channels; }
  /** int16 values of scratch eg_resample_into needs for a source with `src_channels`. */
  size_t scratch(size_t src_channels) const { return engram::eg_resample_scratch(h(), width, src_channels); }
};

constexpr double kMaxImageSide = 65535;

inline void expect_length(const Napi::Env& env, const Napi::TypedArray& a, size_t want, const char* name,
                          const Napi::Value& v, const char* ctor) {
  if (a.ElementLength() != want) range_error(env, name, std::string("a ") + ctor + " of length " + std::to_string(want), v);
}

template <typename T>
std::vector<T> copy_of(const Napi::TypedArrayOf<T>& a) {
  return std::vector<T>(a.Data(), a.Data() + a.ElementLength());
}

/**
 * Reads (hFirst, hCount, hWeights, hTaps, vFirst, vCount, vWeights, vTaps, width, height, channels, nchw, scale,
 * bias, source, out, offset) from info[at...], checking every tap against a src_width x src_height source.
 * `out` is returned through *out for the caller to keep alive.
 */
inline SlotArgs parse_slot_args(const Napi::CallbackInfo& info, size_t at, size_t src_width, size_t src_height,
                                Napi::Float32Array* out) {
  Napi::Env env = info.Env();
  SlotArgs a;
  a.width = size_t(integer(info[at + 8], "width", 1, kMaxImageSide));
  a.height = size_t(integer(info[at + 9], "height", 1, kMaxImageSide));
  a.channels = size_t(integer(info[at + 10], "channels", 1, 3));
  if (a.channels == 2) range_error(env, "channels", "1 or 3", info[at + 10]);
  if (!info[at + 11].IsBoolean()) type_error(env, "nchw", "a boolean", info[at + 11]);
  a.nchw = info[at + 11].As<Napi::Boolean>().Value();

  Napi::Int32Array hf = typed<int32_t>(info[at], "hFirst", napi_int32_array, "Int32Array");
  Napi::Int32Array hc = typed<int32_t>(info[at + 1], "hCount", napi_int32_array, "Int32Array");
  Napi::Int16Array hw = typed<int16_t>(info[at + 2], "hWeights", napi_int16_array, "Int16Array");
  a.h_taps = size_t(integer(info[at + 3], "hTaps", 1, 4096));
  Napi::Int32Array vf = typed<int32_t>(info[at + 4], "vFirst", napi_int32_array, "Int32Array");
  Napi::Int32Array vc = typed<int32_t>(info[at + 5], "vCount", napi_int32_array, "Int32Array");
  Napi::Int16Array vw = typed<int16_t>(info[at + 6], "vWeights", napi_int16_array, "Int16Array");
  a.v_taps = size_t(integer(info[at + 7], "vTaps", 1, 4096));
  expect_length(env, hf, a.width, "hFirst", info[at], "Int32Array");
  expect_length(env, hc, a.width, "hCount", info[at + 1], "Int32Array");
  expect_length(env, hw, a.width * a.h_taps, "hWeights", info[at + 2], "Int16Array");
  expect_length(env, vf, a.height, "vFirst", info[at + 4], "Int32Array");
  expect_length(env, vc, a.height, "vCount", info[at + 5], "Int32Array");
  expect_length(env, vw, a.height * a.v_taps, "vWeights", info[at + 6], "Int16Array");
  for (size_t i = 0; i < a.width; ++i) {
    if (hf[i] < 0 || hc[i] < 1 || size_t(hc[i]) > a.h_taps || size_t(hf[i]) + size_t(hc[i]) > src_width) {
      throw Napi::RangeError::New(env, "hFirst: tap " + std::to_string(i) + " reads outside the " +
                                           std::to_string(src_width) + "-pixel source (bad index)");
    }
  }
  for (size_t i = 0; i < a.height; ++i) {
    if (vf[i] < 0 || vc[i] < 1 || size_t(vc[i]) > a.v_taps || size_t(vf[i]) + size_t(vc[i]) > src_height) {
      throw Napi::RangeError::New(env, "vFirst: tap " + std::to_string(i) + " reads outside the " +
                                           std::to_string(src_height) + "-pixel source (bad index)");
    }
  }
  // Taps past an output's count must weigh nothing, and an output's weights may add up to at most
  // kMaxTapMass in absolute value (fixed point, 1 << kTapBits is 1): then every sum of the passes fits.
  const auto check_weights = [&](const Napi::Int16Array& w, const Napi::Int32Array& count, size_t n, size_t taps,
                                 const char* name) {
    for (size_t i = 0; i < n; ++i) {
      int32_t mass = 0;
      for (size_t t = 0; t < taps; ++t) {
        const int32_t wt = w[i * taps + t];
        if (t >= size_t(count[i]) && wt != 0) {
          throw Napi::RangeError::New(env, std::string(name) + ": tap " + std::to_string(t) + " of output " +
                                               std::to_string(i) + " is past its count but weighs " +
                                               std::to_string(wt) + " (expected 0)");
        }
        mass += wt < 0 ? -wt : wt;
      }
      if (mass > engram::kMaxTapMass) {
        throw Napi::RangeError::New(env, std::string(name) + ": the weights of output " + std::to_string(i) +
                                             " add up to " + std::to_string(mass) + " in absolute value (the most is " +
                                             std::to_string(engram::kMaxTapMass) + ", with 1 as " +
                                             std::to_string(1 << engram::kTapBits) + ")");
      }
    }
  };
  check_weights(hw, hc, a.width, a.h_taps, "hWeights");
  check_weights(vw, vc, a.height, a.v_taps, "vWeights");
  a.h_first = copy_of(hf);
  a.h_count = copy_of(hc);
  a.h_weights = copy_of(hw);
  a.v_first = copy_of(vf);
  a.v_count = copy_of(vc);
  a.v_weights = copy_of(vw);

  Napi::Float32Array scale = typed<float>(info[at + 12], "scale", napi_float32_array, "Float32Array");
  Napi::Float32Array bias = typed<float>(info[at + 13], "bias", napi_float32_array, "Float32Array");
  Napi::Uint8Array source = typed<uint8_t>(info[at + 14], "source", napi_uint8_array, "Uint8Array");
  expect_length(env, scale, a.channels, "scale", info[at + 12], "Float32Array");
  expect_length(env, bias, a.channels, "bias", info[at + 13], "Float32Array");
  expect_length(env, source, a.channels, "source", info[at + 14], "Uint8Array");
  for (size_t k = 0; k < a.channels; ++k) {
    a.scale[k] = scale[k];
    a.bias[k] = bias[k];
    a.source[k] = source[k];
  }
  *out = typed<float>(info[at + 15], "out", napi_float32_array, "Float32Array");
  const size_t slot = a.width * a.height * a.channels;
  if (out->ElementLength() < slot) {
    range_error(env, "out", "a Float32Array of at least " + std::to_string(slot) + " values", info[at + 15]);
  }
  a.offset = size_t(integer(info[at + 16], "offset", 0, double(out->ElementLength() - slot)));
  return a;
}

}  // namespace engram_addon
