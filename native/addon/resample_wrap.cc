// N-API function resampleInto: checks every table against the sizes it claims, borrows the typed arrays,
// and runs the core resampler into a slot of the caller's tensor (synchronously: ~0.2 ms for 224x224x3).
#include <napi.h>

#include <string>
#include <vector>

#include "args.h"
#include "resample.h"

namespace engram_addon {
namespace {

constexpr double kMaxSide = 65535;

void expect_length(const Napi::Env& env, const Napi::TypedArray& a, size_t want, const char* name, const Napi::Value& v,
                   const char* ctor) {
  if (a.ElementLength() != want) range_error(env, name, std::string("a ") + ctor + " of length " + std::to_string(want), v);
}

// resampleInto(src, srcWidth, srcHeight, srcChannels, hFirst, hCount, hWeights, hTaps, vFirst, vCount, vWeights,
//              vTaps, width, height, channels, nchw, scale, bias, source, out, offset)
Napi::Value ResampleInto(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    Napi::Uint8Array src = typed<uint8_t>(info[0], "src", napi_uint8_array, "Uint8Array");
    const size_t sw = size_t(integer(info[1], "srcWidth", 1, kMaxSide));
    const size_t sh = size_t(integer(info[2], "srcHeight", 1, kMaxSide));
    const size_t sc = size_t(integer(info[3], "srcChannels", 1, 3));
    if (sc == 2) range_error(env, "srcChannels", "1 or 3", info[3]);
    expect_length(env, src, sw * sh * sc, "src", info[0], "Uint8Array");
    const size_t width = size_t(integer(info[12], "width", 1, kMaxSide));
    const size_t height = size_t(integer(info[13], "height", 1, kMaxSide));
    const size_t c = size_t(integer(info[14], "channels", 1, 3));
    if (c == 2) range_error(env, "channels", "1 or 3", info[14]);
    if (!info[15].IsBoolean()) type_error(env, "nchw", "a boolean", info[15]);

    Napi::Int32Array hf = typed<int32_t>(info[4], "hFirst", napi_int32_array, "Int32Array");
    Napi::Int32Array hc = typed<int32_t>(info[5], "hCount", napi_int32_array, "Int32Array");
    Napi::Float32Array hw = typed<float>(info[6], "hWeights", napi_float32_array, "Float32Array");
    const size_t ht = size_t(integer(info[7], "hTaps", 1, 4096));
    Napi::Int32Array vf = typed<int32_t>(info[8], "vFirst", napi_int32_array, "Int32Array");
    Napi::Int32Array vc = typed<int32_t>(info[9], "vCount", napi_int32_array, "Int32Array");
    Napi::Float32Array vw = typed<float>(info[10], "vWeights", napi_float32_array, "Float32Array");
    const size_t vt = size_t(integer(info[11], "vTaps", 1, 4096));
    expect_length(env, hf, width, "hFirst", info[4], "Int32Array");
    expect_length(env, hc, width, "hCount", info[5], "Int32Array");
    expect_length(env, hw, width * ht, "hWeights", info[6], "Float32Array");
    expect_length(env, vf, height, "vFirst", info[8], "Int32Array");
    expect_length(env, vc, height, "vCount", info[9], "Int32Array");
    expect_length(env, vw, height * vt, "vWeights", info[10], "Float32Array");

    Napi::Float32Array scale = typed<float>(info[16], "scale", napi_float32_array, "Float32Array");
    Napi::Float32Array bias = typed<float>(info[17], "bias", napi_float32_array, "Float32Array");
    Napi::Uint8Array source = typed<uint8_t>(info[18], "source", napi_uint8_array, "Uint8Array");
    expect_length(env, scale, c, "scale", info[16], "Float32Array");
    expect_length(env, bias, c, "bias", info[17], "Float32Array");
    expect_length(env, source, c, "source", info[18], "Uint8Array");
    Napi::Float32Array out = typed<float>(info[19], "out", napi_float32_array, "Float32Array");
    const size_t slot = width * height * c;
    const size_t offset = size_t(integer(info[20], "offset", 0, double(out.ElementLength() >= slot ? out.ElementLength() - slot : 0)));
    if (out.ElementLength() < slot) range_error(env, "out", "a Float32Array of at least " + std::to_string(slot) + " values", info[19]);

    const engram::eg_taps h{hf.Data(), hc.Data(), hw.Data(), ht};
    const engram::eg_taps v{vf.Data(), vc.Data(), vw.Data(), vt};
    // Checked before the scratch size is derived from them.
    for (size_t i = 0; i < width; ++i) {
      if (hf[i] < 0 || hc[i] < 1 || size_t(hc[i]) > ht || size_t(hf[i]) + size_t(hc[i]) > sw) {
        status_error(env, "resampleInto", engram::eg_status::bad_index);
      }
    }
    std::vector<float> scratch(engram::eg_resample_scratch(h, width, sc));
    const engram::eg_tensor_slot dst{width, height, c, info[15].As<Napi::Boolean>().Value(), scale.Data(), bias.Data(),
                                     source.Data(), out.Data() + offset};
    const engram::eg_status s = engram::eg_resample_into(src.Data(), sw, sh, sc, h, v, scratch.data(), scratch.size(), dst);
    if (s != engram::eg_status::ok) status_error(env, "resampleInto", s);
    return env.Undefined();
  });
}

}  // namespace

void eg_register_resample(Napi::Env env, Napi::Object exports) {
  exports.Set("resampleInto", Napi::Function::New(env, ResampleInto, "resampleInto"));
}

}  // namespace engram_addon
