// N-API functions decodeJpeg and jpeg: the JPEG fast path (native/image) on the libuv thread pool, so decoding
// the next images overlaps a model run on the main thread. Built without libjpeg, decodeJpeg checks its
// arguments the same way and always resolves null ("not handled": the caller decodes with sharp).
#include <napi.h>

#include <cstdint>
#include <string>

#include "args.h"

#ifdef ENGRAM_HAVE_JPEG
#include "jpeg.h"
#endif

namespace engram_addon {
namespace {

// JPEG sides are 16-bit: a wanted minimum above this could never be met, so it is a caller's mistake.
constexpr double kMaxSide = 65535;

#ifdef ENGRAM_HAVE_JPEG

// Borrows the caller's bytes (referenced until the promise settles) and hands the pixels to JS without a copy.
class DecodeJpegWorker : public Napi::AsyncWorker {
 public:
  DecodeJpegWorker(Napi::Env env, Napi::Uint8Array data, uint32_t min_width, uint32_t min_height, uint32_t channels)
      : Napi::AsyncWorker(env, "engram:decodeJpeg"),
        deferred_(Napi::Promise::Deferred::New(env)),
        input_(Napi::Persistent(data)),
        bytes_(data.Data()),
        size_(data.ByteLength()),
        min_width_(min_width),
        min_height_(min_height),
        channels_(channels) {}

  Napi::Promise Promise() const { return deferred_.Promise(); }

  void Execute() override {
    status_ = engram::eg_jpeg_decode(bytes_, size_, min_width_, min_height_, channels_, &image_);
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
  Napi::Reference<Napi::Uint8Array> input_;
  const uint8_t* bytes_;
  size_t size_;
  uint32_t min_width_, min_height_, channels_;
  engram::eg_jpeg_status status_ = engram::eg_jpeg_status::failed;
  engram::eg_jpeg_image image_;
};

#endif  // ENGRAM_HAVE_JPEG

// decodeJpeg(data: Uint8Array, minWidth, minHeight, channels: 1 | 3) -> Promise<JpegResult | null>.
// Bad arguments throw synchronously (TypeError / RangeError), as everywhere else in the addon.
Napi::Value DecodeJpeg(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    Napi::Uint8Array data = typed<uint8_t>(info[0], "data", napi_uint8_array, "Uint8Array");
    const uint32_t min_width = uint32_t(integer(info[1], "minWidth", 0, kMaxSide));
    const uint32_t min_height = uint32_t(integer(info[2], "minHeight", 0, kMaxSide));
    const Napi::Value ch = info[3];
    if (!ch.IsNumber()) type_error(env, "channels", "1 or 3", ch);
    const double channels = ch.As<Napi::Number>().DoubleValue();
    if (channels != 1 && channels != 3) range_error(env, "channels", "1 or 3", ch);
#ifdef ENGRAM_HAVE_JPEG
    auto* worker = new DecodeJpegWorker(env, data, min_width, min_height, uint32_t(channels));
    Napi::Promise promise = worker->Promise();
    worker->Queue();  // the worker deletes itself after OnOK / OnError
    return promise;
#else
    (void)data;
    (void)min_width;
    (void)min_height;
    Napi::Promise::Deferred none = Napi::Promise::Deferred::New(env);
    none.Resolve(env.Null());
    return none.Promise();
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
}

}  // namespace engram_addon
