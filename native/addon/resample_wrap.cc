// N-API function resampleInto: checks every table against the sizes it claims, then runs the core resampler
// into a slot of the caller's tensor (synchronously: a fraction of a millisecond for 224x224x3).
#include <napi.h>

#include <vector>

#include "args.h"
#include "slot_args.h"

namespace engram_addon {
namespace {

// resampleInto(src: { data, width, height, channels }, taps: { h, v }, slot: { width, height, channels, nchw,
//              scale, bias, source, out, offset }): every property is read before any is checked.
Napi::Value ResampleInto(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    const Napi::Object src_options = options_object(info[0], "src", {"data", "width", "height", "channels"});
    const Napi::Value data = src_options.Get("data");
    const Napi::Value width = src_options.Get("width");
    const Napi::Value height = src_options.Get("height");
    const Napi::Value channels = src_options.Get("channels");
    const SlotValues values = read_slot_values(info[1], info[2]);

    Napi::Uint8Array src = typed<uint8_t>(data, "src.data", napi_uint8_array, "Uint8Array");
    const size_t sw = size_t(integer(width, "src.width", 1, kMaxImageSide));
    const size_t sh = size_t(integer(height, "src.height", 1, kMaxImageSide));
    const size_t sc = size_t(integer(channels, "src.channels", 1, 3));
    if (sc == 2) range_error(env, "src.channels", "1 or 3", channels);
    expect_length(env, src, sw * sh * sc, "src.data", data, "Uint8Array");
    Napi::Float32Array out;
    const SlotArgs a = check_slot_args(env, values, sw, sh, &out);
    std::vector<int16_t> scratch(a.scratch(sc));
    const engram::eg_status s = engram::eg_resample_into(src.Data(), sw, sh, sc, a.h(), a.v(), scratch.data(),
                                                         scratch.size(), a.slot(out.Data()));
    if (s != engram::eg_status::ok) status_error(env, "resampleInto", s);
    return env.Undefined();
  });
}

}  // namespace

void eg_register_resample(Napi::Env env, Napi::Object exports) {
  exports.Set("resampleInto", Napi::Function::New(env, ResampleInto, "resampleInto"));
}

}  // namespace engram_addon
