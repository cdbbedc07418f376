// N-API function resampleInto: checks every table against the sizes it claims, then runs the core resampler
// into a slot of the caller's tensor (synchronously: a fraction of a millisecond for 224x224x3).
#include <napi.h>

#include <vector>

#include "args.h"
#include "slot_args.h"

namespace engram_addon {
namespace {

// resampleInto(src, srcWidth, srcHeight, srcChannels, hFirst, hCount, hWeights, hTaps, vFirst, vCount, vWeights,
//              vTaps, width, height, channels, nchw, scale, bias, source, out, offset)
Napi::Value ResampleInto(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    Napi::Uint8Array src = typed<uint8_t>(info[0], "src", napi_uint8_array, "Uint8Array");
    const size_t sw = size_t(integer(info[1], "srcWidth", 1, kMaxImageSide));
    const size_t sh = size_t(integer(info[2], "srcHeight", 1, kMaxImageSide));
    const size_t sc = size_t(integer(info[3], "srcChannels", 1, 3));
    if (sc == 2) range_error(env, "srcChannels", "1 or 3", info[3]);
    expect_length(env, src, sw * sh * sc, "src", info[0], "Uint8Array");
    Napi::Float32Array out;
    const SlotArgs a = parse_slot_args(info, 4, sw, sh, &out);
    std::vector<int16_t> scratch(a.scratch(sc));
    const engram::eg_status s =
        engram::eg_resample_into(src.Data(), sw, sh, sc, a.h(), a.v(), scratch.data(), scratch.size(), a.slot(out.Data()));
    if (s != engram::eg_status::ok) status_error(env, "resampleInto", s);
    return env.Undefined();
  });
}

}  // namespace

void eg_register_resample(Napi::Env env, Napi::Object exports) {
  exports.Set("resampleInto", Napi::Function::New(env, ResampleInto, "resampleInto"));
}

}  // namespace engram_addon
