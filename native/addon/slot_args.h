// The option objects shared by resampleInto and decodeJpegInto: the tap tables of both axes ({ h, v }) and the
// tensor slot the image goes to. Every property is read once, before any check (a getter runs at most once and
// cannot change what was already checked), then checked with the addon's usual messages, naming the property
// path ("taps.h.first", "slot.offset"), and copied, so an async worker owns what it reads.
#pragma once
#include <napi.h>

#include <initializer_list>
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

/**
 * A plain object whose own enumerable keys are all in `known` (a misspelled option is an error), with the
 * wording of validate.options: "<name>: expected an options object, got ..." (TypeError),
 * "<name>: unknown option "<key>" (known: a, b)" (RangeError).
 */
inline Napi::Object options_object(const Napi::Value& v, const std::string& name,
                                   std::initializer_list<const char*> known) {
  Napi::Env env = v.Env();
  if (!v.IsObject() || v.IsArray() || v.IsFunction() || v.IsTypedArray() || v.IsArrayBuffer()) {
    type_error(env, name.c_str(), "an options object", v);
  }
  Napi::Object o = v.As<Napi::Object>();
  napi_value keys_value;
  NAPI_THROW_IF_FAILED(
      env,
      napi_get_all_property_names(env, o, napi_key_own_only,
                                  static_cast<napi_key_filter>(napi_key_enumerable | napi_key_skip_symbols),
                                  napi_key_numbers_to_strings, &keys_value),
      Napi::Object());
  Napi::Array keys(env, keys_value);
  for (uint32_t i = 0; i < keys.Length(); ++i) {
    const std::string key = keys.Get(i).As<Napi::String>().Utf8Value();
    bool found = false;
    std::string list;
    for (const char* k : known) {
      found = found || key == k;
      list += (list.empty() ? "" : ", ") + std::string(k);
    }
    if (!found) throw Napi::RangeError::New(env, name + ": unknown option \"" + key + "\" (known: " + list + ")");
  }
  return o;
}

inline void expect_length(const Napi::Env& env, const Napi::TypedArray& a, size_t want, const std::string& name,
                          const Napi::Value& v, const char* ctor) {
  if (a.ElementLength() != want) {
    range_error(env, name.c_str(), std::string("a ") + ctor + " of length " + std::to_string(want), v);
  }
}

template <typename T>
std::vector<T> copy_of(const Napi::TypedArrayOf<T>& a) {
  return std::vector<T>(a.Data(), a.Data() + a.ElementLength());
}

/** One axis's tap table as read from JS: { first, count, weights, taps }. */
struct TapValues {
  std::string name;  // "taps.h" or "taps.v"
  Napi::Value first, count, weights, taps;
};

/** The tap tables and the slot of one call, read (not yet checked) from its `taps` and `slot` arguments. */
struct SlotValues {
  TapValues h, v;
  Napi::Value width, height, channels, nchw, scale, bias, source, out, offset;
};

inline TapValues read_taps(const Napi::Object& pair, const char* axis) {
  TapValues t;
  t.name = std::string("taps.") + axis;
  const Napi::Object o = options_object(pair.Get(axis), t.name, {"first", "count", "weights", "taps"});
  t.first = o.Get("first");
  t.count = o.Get("count");
  t.weights = o.Get("weights");
  t.taps = o.Get("taps");
  return t;
}

/** Reads every property of taps = { h, v } and slot = { width, height, channels, nchw, scale, bias, source, out,
 *  offset } before anything is checked. */
inline SlotValues read_slot_values(const Napi::Value& taps, const Napi::Value& slot) {
  SlotValues s;
  const Napi::Object pair = options_object(taps, "taps", {"h", "v"});
  s.h = read_taps(pair, "h");
  s.v = read_taps(pair, "v");
  const Napi::Object o =
      options_object(slot, "slot", {"width", "height", "channels", "nchw", "scale", "bias", "source", "out", "offset"});
  s.width = o.Get("width");
  s.height = o.Get("height");
  s.channels = o.Get("channels");
  s.nchw = o.Get("nchw");
  s.scale = o.Get("scale");
  s.bias = o.Get("bias");
  s.source = o.Get("source");
  s.out = o.Get("out");
  s.offset = o.Get("offset");
  return s;
}

/** Checks one axis: `outputs` entries, every tap inside a `src_side`-pixel source, weights within kMaxTapMass. */
inline void check_taps(const Napi::Env& env, const TapValues& t, size_t outputs, size_t src_side,
                       std::vector<int32_t>* first_out, std::vector<int32_t>* count_out,
                       std::vector<int16_t>* weights_out, size_t* taps_out) {
  const std::string first_name = t.name + ".first", count_name = t.name + ".count", weights_name = t.name + ".weights",
                    taps_name = t.name + ".taps";
  Napi::Int32Array first = typed<int32_t>(t.first, first_name.c_str(), napi_int32_array, "Int32Array");
  Napi::Int32Array count = typed<int32_t>(t.count, count_name.c_str(), napi_int32_array, "Int32Array");
  Napi::Int16Array w = typed<int16_t>(t.weights, weights_name.c_str(), napi_int16_array, "Int16Array");
  const size_t taps = size_t(integer(t.taps, taps_name.c_str(), 1, 4096));
  expect_length(env, first, outputs, first_name, t.first, "Int32Array");
  expect_length(env, count, outputs, count_name, t.count, "Int32Array");
  expect_length(env, w, outputs * taps, weights_name, t.weights, "Int16Array");
  for (size_t i = 0; i < outputs; ++i) {
    if (first[i] < 0 || count[i] < 1 || size_t(count[i]) > taps || size_t(first[i]) + size_t(count[i]) > src_side) {
      throw Napi::RangeError::New(env, first_name + ": tap " + std::to_string(i) + " reads outside the " +
                                           std::to_string(src_side) + "-pixel source (bad index)");
    }
  }
  // Taps past an output's count must weigh nothing, and an output's weights may add up to at most
  // kMaxTapMass in absolute value (fixed point, 1 << kTapBits is 1): then every sum of the passes fits.
  for (size_t i = 0; i < outputs; ++i) {
    int32_t mass = 0;
    for (size_t k = 0; k < taps; ++k) {
      const int32_t wt = w[i * taps + k];
      if (k >= size_t(count[i]) && wt != 0) {
        throw Napi::RangeError::New(env, weights_name + ": tap " + std::to_string(k) + " of output " +
                                             std::to_string(i) + " is past its count but weighs " + std::to_string(wt) +
                                             " (expected 0)");
      }
      mass += wt < 0 ? -wt : wt;
    }
    if (mass > engram::kMaxTapMass) {
      throw Napi::RangeError::New(env, weights_name + ": the weights of output " + std::to_string(i) + " add up to " +
                                           std::to_string(mass) + " in absolute value (the most is " +
                                           std::to_string(engram::kMaxTapMass) + ", with 1 as " +
                                           std::to_string(1 << engram::kTapBits) + ")");
    }
  }
  *first_out = copy_of(first);
  *count_out = copy_of(count);
  *weights_out = copy_of(w);
  *taps_out = taps;
}

/**
 * Checks what read_slot_values read against a src_width x src_height source: every tap inside it, each table
 * as long as the slot's side, and the slot inside `out`. `out` is returned through *out for the caller to keep
 * alive.
 */
inline SlotArgs check_slot_args(const Napi::Env& env, const SlotValues& s, size_t src_width, size_t src_height,
                                Napi::Float32Array* out) {
  SlotArgs a;
  a.width = size_t(integer(s.width, "slot.width", 1, kMaxImageSide));
  a.height = size_t(integer(s.height, "slot.height", 1, kMaxImageSide));
  a.channels = size_t(integer(s.channels, "slot.channels", 1, 3));
  if (a.channels == 2) range_error(env, "slot.channels", "1 or 3", s.channels);
  if (!s.nchw.IsBoolean()) type_error(env, "slot.nchw", "a boolean", s.nchw);
  a.nchw = s.nchw.As<Napi::Boolean>().Value();

  check_taps(env, s.h, a.width, src_width, &a.h_first, &a.h_count, &a.h_weights, &a.h_taps);
  check_taps(env, s.v, a.height, src_height, &a.v_first, &a.v_count, &a.v_weights, &a.v_taps);

  Napi::Float32Array scale = typed<float>(s.scale, "slot.scale", napi_float32_array, "Float32Array");
  Napi::Float32Array bias = typed<float>(s.bias, "slot.bias", napi_float32_array, "Float32Array");
  Napi::Uint8Array source = typed<uint8_t>(s.source, "slot.source", napi_uint8_array, "Uint8Array");
  expect_length(env, scale, a.channels, "slot.scale", s.scale, "Float32Array");
  expect_length(env, bias, a.channels, "slot.bias", s.bias, "Float32Array");
  expect_length(env, source, a.channels, "slot.source", s.source, "Uint8Array");
  for (size_t k = 0; k < a.channels; ++k) {
    a.scale[k] = scale[k];
    a.bias[k] = bias[k];
    a.source[k] = source[k];
  }
  *out = typed<float>(s.out, "slot.out", napi_float32_array, "Float32Array");
  const size_t slot = a.width * a.height * a.channels;
  if (out->ElementLength() < slot) {
    range_error(env, "slot.out", "a Float32Array of at least " + std::to_string(slot) + " values", s.out);
  }
  a.offset = size_t(integer(s.offset, "slot.offset", 0, double(out->ElementLength() - slot)));
  return a;
}

}  // namespace engram_addon
