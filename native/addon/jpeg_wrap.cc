// N-API functions decodeJpeg, decodeJpegInto, jpegPlan and jpeg: the JPEG fast path (native/image) on the libuv
// thread pool, so decoding the next images overlaps a model run on the main thread. Built without libjpeg, decodeJpeg
// checks its arguments the same way and always resolves null ("not handled": the caller decodes with sharp).
#include <napi.h>

#include <cstdint>
#include <string>

#include "args.h"

#include "slot_args.h"

#ifdef ENGRAM_HAVE_JPEG
#include <algorithm>
#include <memory>
#include <new>
#include <vector>

#include "jpeg.h"
#include "orient.h"
#endif

namespace engram_addon {
namespace {

// JPEG sides are 16-bit: a wanted minimum above this could never be met, so it is a caller's mistake.
constexpr double kMaxSide = 65535;

#ifdef ENGRAM_HAVE_JPEG

// Why the workers copy instead of borrowing: a reference keeps the typed array object alive, not its memory.
// While a job runs on the thread pool the caller can still detach the ArrayBuffer (transfer it to a worker,
// structuredClone(ab, { transfer: [ab] })) or shrink a resizable one, and the memory is freed under the job.
// N-API offers no way to pin a backing store, so a job reads its own copy of the JPEG bytes (taken on the main
// thread, a few microseconds next to the decode) and writes into its own buffer; the main thread copies that
// into the caller's tensor once the job is done, after checking the tensor is still there.

/** The caller's bytes, copied while we are still on the main thread (see above). */
inline std::vector<uint8_t> own_copy(const Napi::Uint8Array& data) {
  return std::vector<uint8_t>(data.Data(), data.Data() + data.ByteLength());
}

// Decodes a private copy of the caller's bytes and hands the pixels to JS without a further copy.
class DecodeJpegWorker : public Napi::AsyncWorker {
 public:
  DecodeJpegWorker(Napi::Env env, std::vector<uint8_t> bytes, uint32_t min_width, uint32_t min_height,
                   uint32_t channels)
      : Napi::AsyncWorker(env, "engram:decodeJpeg"),
        deferred_(Napi::Promise::Deferred::New(env)),
        bytes_(std::move(bytes)),
        min_width_(min_width),
        min_height_(min_height),
        channels_(channels) {}

  Napi::Promise Promise() const { return deferred_.Promise(); }

  void Execute() override {
    status_ = engram::eg_jpeg_decode(bytes_.data(), bytes_.size(), min_width_, min_height_, channels_, &image_);
    if (status_ == engram::eg_jpeg_status::no_memory) SetError("decodeJpeg: out of memory");
  }

  void OnOK() override {
    Napi::Env env = Env();
    if (status_ != engram::eg_jpeg_status::ok) {
      deferred_.Resolve(env.Null());
      return;
    }
    const size_t bytes = size_t(image_.width) * image_.height * image_.channels;
    Napi::Buffer<uint8_t> pixels = Napi::Buffer<uint8_t>::NewOrCopy(
        env, image_.pixels.release(), bytes, [](Napi::Env, uint8_t* p) { std::default_delete<uint8_t[]>()(p); });
    Napi::Object out = Napi::Object::New(env);
    out.Set("data", pixels);
    out.Set("width", Napi::Number::New(env, image_.width));
    out.Set("height", Napi::Number::New(env, image_.height));
    out.Set("channels", Napi::Number::New(env, image_.channels));
    out.Set("orientation", Napi::Number::New(env, image_.orientation));
    out.Set("scale", Napi::Number::New(env, image_.scale_eighths / 8.0));
    deferred_.Resolve(out);
  }

  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  std::vector<uint8_t> bytes_;
  uint32_t min_width_, min_height_, channels_;
  engram::eg_jpeg_status status_ = engram::eg_jpeg_status::failed;
  engram::eg_jpeg_image image_;
};

// Decodes, orients and resamples one JPEG into a slot-sized buffer of its own, all on the thread pool: nothing
// of the image's preparation waits for the main thread, which a model run may be holding. The main thread then
// copies the slot into the caller's tensor (a memcpy), or rejects when the tensor was detached or shrunk.
class DecodeJpegIntoWorker : public Napi::AsyncWorker {
 public:
  DecodeJpegIntoWorker(Napi::Env env, std::vector<uint8_t> bytes, uint32_t min_width, uint32_t min_height,
                       uint32_t channels, uint32_t expect_width, uint32_t expect_height, SlotArgs args,
                       Napi::Float32Array out)
      : Napi::AsyncWorker(env, "engram:decodeJpegInto"),
        deferred_(Napi::Promise::Deferred::New(env)),
        output_(Napi::Persistent(out)),
        bytes_(std::move(bytes)),
        min_width_(min_width),
        min_height_(min_height),
        channels_(channels),
        expect_width_(expect_width),
        expect_height_(expect_height),
        args_(std::move(args)) {}

  Napi::Promise Promise() const { return deferred_.Promise(); }

  void Execute() override {
    // Per thread-pool thread, reused from image to image: no page faults for fresh buffers on each one.
    thread_local std::vector<uint8_t> decoded, turned;
    thread_local std::vector<int16_t> scratch;
    engram::eg_jpeg_image image;
    if (engram::eg_jpeg_decode_reuse(bytes_.data(), bytes_.size(), min_width_, min_height_, channels_, &decoded,
                                     &image) != engram::eg_jpeg_status::ok) {
      return;  // not handled: the caller takes the general path
    }
    const bool transposed = image.orientation >= 5;
    const uint32_t dw = transposed ? image.height : image.width;
    const uint32_t dh = transposed ? image.width : image.height;
    if (dw != expect_width_ || dh != expect_height_) return;  // the file is not what its header promised
    const uint8_t* pixels = decoded.data();
    try {
      if (image.orientation != 1) {
        turned.resize(std::max(turned.size(), size_t(image.width) * image.height * image.channels));
        engram::eg_orient(pixels, image.width, image.height, image.channels, image.orientation, turned.data());
        pixels = turned.data();
      }
      scratch.resize(std::max(scratch.size(), args_.scratch(image.channels)));
      result_.resize(args_.slot_values());
    } catch (const std::bad_alloc&) {
      return SetError("decodeJpegInto: out of memory");
    }
    done_ = engram::eg_resample_into(pixels, dw, dh, image.channels, args_.h(), args_.v(), scratch.data(),
                                     scratch.size(), args_.slot_at(result_.data())) == engram::eg_status::ok;
    // A very large photo should not stay pinned in every thread's buffers.
    constexpr size_t kKeep = size_t(16) << 20;
    if (decoded.capacity() > kKeep) std::vector<uint8_t>().swap(decoded);
    if (turned.capacity() > kKeep) std::vector<uint8_t>().swap(turned);
  }

  void OnOK() override {
    Napi::Env env = Env();
    if (!done_) {
      deferred_.Resolve(Napi::Boolean::New(env, false));
      return;
    }
    // A fresh look at the tensor: its length is 0 once detached, smaller once a resizable buffer shrank.
    Napi::Float32Array out = output_.Value();
    const size_t need = args_.offset + result_.size();
    if (out.ElementLength() < need || out.Data() == nullptr) {
      deferred_.Reject(Napi::Error::New(env,
                                        "slot.out: the Float32Array was detached or shrunk while decodeJpegInto ran "
                                        "(it holds " +
                                            std::to_string(out.ElementLength()) +
                                            " values, the slot "
                                            "needs " +
                                            std::to_string(need) + "); nothing was written")
                           .Value());
      return;
    }
    std::copy(result_.begin(), result_.end(), out.Data() + args_.offset);
    deferred_.Resolve(Napi::Boolean::New(env, true));
  }

  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  Napi::Reference<Napi::Float32Array> output_;
  std::vector<uint8_t> bytes_;
  uint32_t min_width_, min_height_, channels_, expect_width_, expect_height_;
  SlotArgs args_;
  std::vector<float> result_;
  bool done_ = false;
};

#endif  // ENGRAM_HAVE_JPEG

// What every JPEG function is asked: the bytes, the smallest displayed size wanted and the channels.
struct JpegArgs {
  Napi::Uint8Array data;
  uint32_t min_width;
  uint32_t min_height;
  uint32_t channels;
};

// Checks (data, minWidth, minHeight, channels); `prefix` is prepended to the three numbers' names ("decode.").
JpegArgs check_jpeg_args(const Napi::Value& data, const Napi::Value& min_width, const Napi::Value& min_height,
                         const Napi::Value& ch, const std::string& prefix) {
  Napi::Env env = data.Env();
  JpegArgs a;
  a.data = typed<uint8_t>(data, "data", napi_uint8_array, "Uint8Array");
  a.min_width = uint32_t(integer(min_width, (prefix + "minWidth").c_str(), 0, kMaxSide));
  a.min_height = uint32_t(integer(min_height, (prefix + "minHeight").c_str(), 0, kMaxSide));
  const std::string channels_name = prefix + "channels";
  if (!ch.IsNumber()) type_error(env, channels_name.c_str(), "1 or 3", ch);
  const double channels = ch.As<Napi::Number>().DoubleValue();
  if (channels != 1 && channels != 3) range_error(env, channels_name.c_str(), "1 or 3", ch);
  a.channels = uint32_t(channels);
  return a;
}

// The positional (data, minWidth, minHeight, channels) of decodeJpeg and jpegPlan.
JpegArgs parse_jpeg_args(const Napi::CallbackInfo& info) {
  return check_jpeg_args(info[0], info[1], info[2], info[3], "");
}

#ifndef ENGRAM_HAVE_JPEG
// A promise already settled with `value`: the answer of a build without libjpeg.
Napi::Promise settled(Napi::Env env, Napi::Value value) {
  Napi::Promise::Deferred d = Napi::Promise::Deferred::New(env);
  d.Resolve(value);
  return d.Promise();
}
#endif

// jpegPlan(data, minWidth, minHeight, channels) -> { width, height, orientation, scale } | null: what
// decodeJpeg would produce (displayed size), from the header alone. Synchronous: a header parse.
Napi::Value JpegPlan(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    const JpegArgs a = parse_jpeg_args(info);
#ifdef ENGRAM_HAVE_JPEG
    engram::eg_jpeg_plan plan;
    if (engram::eg_jpeg_plan_decode(a.data.Data(), a.data.ByteLength(), a.min_width, a.min_height, a.channels, &plan) !=
        engram::eg_jpeg_status::ok) {
      return env.Null();
    }
    Napi::Object out = Napi::Object::New(env);
    out.Set("width", Napi::Number::New(env, plan.display_width));
    out.Set("height", Napi::Number::New(env, plan.display_height));
    out.Set("orientation", Napi::Number::New(env, plan.orientation));
    out.Set("scale", Napi::Number::New(env, plan.scale_eighths / 8.0));
    return out;
#else
    (void)a;
    return env.Null();
#endif
  });
}

// decodeJpegInto(data, decode: { minWidth, minHeight, channels, width, height }, taps: { h, v }, slot: { width,
//                height, channels, nchw, scale, bias, source, out, offset }) -> Promise<boolean>: true when the
// image was written, false when not handled. decode.width x decode.height is the displayed size jpegPlan
// announced; the taps are for that size. Every property is read before any is checked.
Napi::Value DecodeJpegInto(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    const Napi::Object decode =
        options_object(info[1], "decode", {"minWidth", "minHeight", "channels", "width", "height"});
    const Napi::Value min_width = decode.Get("minWidth");
    const Napi::Value min_height = decode.Get("minHeight");
    const Napi::Value channels = decode.Get("channels");
    const Napi::Value width = decode.Get("width");
    const Napi::Value height = decode.Get("height");
    const SlotValues values = read_slot_values(info[2], info[3]);

    const JpegArgs a = check_jpeg_args(info[0], min_width, min_height, channels, "decode.");
    const uint32_t sw = uint32_t(integer(width, "decode.width", 1, kMaxSide));
    const uint32_t sh = uint32_t(integer(height, "decode.height", 1, kMaxSide));
    Napi::Float32Array out;
    SlotArgs slot = check_slot_args(env, values, sw, sh, &out);
    if (a.channels == 3 && slot.channels == 1) range_error(env, "decode.channels", "1 for a 1-channel model", channels);
#ifdef ENGRAM_HAVE_JPEG
    auto* worker = new DecodeJpegIntoWorker(env, own_copy(a.data), a.min_width, a.min_height, a.channels, sw, sh,
                                            std::move(slot), out);
    Napi::Promise promise = worker->Promise();
    worker->Queue();  // the worker deletes itself after OnOK / OnError
    return promise;
#else
    return settled(env, Napi::Boolean::New(env, false));
#endif
  });
}

// decodeJpeg(data: Uint8Array, minWidth, minHeight, channels: 1 | 3) -> Promise<JpegResult | null>.
// Bad arguments throw synchronously (TypeError / RangeError), as everywhere else in the addon.
Napi::Value DecodeJpeg(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    const JpegArgs a = parse_jpeg_args(info);
#ifdef ENGRAM_HAVE_JPEG
    auto* worker = new DecodeJpegWorker(env, own_copy(a.data), a.min_width, a.min_height, a.channels);
    Napi::Promise promise = worker->Promise();
    worker->Queue();  // the worker deletes itself after OnOK / OnError
    return promise;
#else
    (void)a;
    return settled(env, env.Null());
#endif
  });
}

// jpeg() -> { available, version }: whether this build has the fast path, and the libjpeg it was built with.
Napi::Value Jpeg(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
#ifdef ENGRAM_HAVE_JPEG
  out.Set("available", Napi::Boolean::New(env, true));
  out.Set("version", Napi::String::New(env, engram::eg_jpeg_version()));
#else
  out.Set("available", Napi::Boolean::New(env, false));
  out.Set("version", env.Null());
#endif
  return out;
}

}  // namespace

void eg_register_jpeg(Napi::Env env, Napi::Object exports) {
  exports.Set("decodeJpeg", Napi::Function::New(env, DecodeJpeg, "decodeJpeg"));
  exports.Set("jpeg", Napi::Function::New(env, Jpeg, "jpeg"));
  exports.Set("jpegPlan", Napi::Function::New(env, JpegPlan, "jpegPlan"));
  exports.Set("decodeJpegInto", Napi::Function::New(env, DecodeJpegInto, "decodeJpegInto"));
}

}  // namespace engram_addon
