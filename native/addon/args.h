// Argument checks for the N-API glue. They repeat the TypeScript validation (src/util/validate.ts) with the
// same messages, "<name>: expected <what>, got <describe(value)>", so a direct call into the binding with
// bad arguments gets the same TypeError / RangeError and never reaches the core unchecked.
#pragma once
#include <napi.h>

#include <cmath>
#include <exception>
#include <new>
#include <string>

#include "status.h"

namespace engram_addon {

inline const char* typed_array_name(napi_typedarray_type type) {
  switch (type) {
    case napi_int8_array: return "Int8Array";
    case napi_uint8_array: return "Uint8Array";
    case napi_uint8_clamped_array: return "Uint8ClampedArray";
    case napi_int16_array: return "Int16Array";
    case napi_uint16_array: return "Uint16Array";
    case napi_int32_array: return "Int32Array";
    case napi_uint32_array: return "Uint32Array";
    case napi_float32_array: return "Float32Array";
    case napi_float64_array: return "Float64Array";
    case napi_bigint64_array: return "BigInt64Array";
    case napi_biguint64_array: return "BigUint64Array";
    default: return "a typed array";
  }
}

inline std::string describe(const Napi::Value& v) {
  if (v.IsNull()) return "null";
  if (v.IsUndefined()) return "undefined";
  if (v.IsNumber()) {
    const double d = v.As<Napi::Number>().DoubleValue();
    if (std::isnan(d)) return "NaN";
    return "number " + v.ToString().Utf8Value();
  }
  if (v.IsString()) {
    std::string s = v.As<Napi::String>().Utf8Value();
    if (s.size() > 40) s = s.substr(0, 37) + "...";
    return "string \"" + s + "\"";
  }
  if (v.IsBoolean()) return std::string("boolean ") + (v.As<Napi::Boolean>().Value() ? "true" : "false");
  if (v.IsFunction()) return "a function";
  if (v.IsArray()) return "an array of length " + std::to_string(v.As<Napi::Array>().Length());
  if (v.IsTypedArray()) {
    // Named from the element type, not from .constructor.name: a getter there is the caller's code, which
    // could throw, return a non-object or detach buffers in the middle of a check.
    Napi::TypedArray t = v.As<Napi::TypedArray>();
    return std::string(typed_array_name(t.TypedArrayType())) + " of length " + std::to_string(t.ElementLength());
  }
  if (v.IsArrayBuffer()) return "ArrayBuffer of " + std::to_string(v.As<Napi::ArrayBuffer>().ByteLength()) + " bytes";
  return "an object";
}

[[noreturn]] inline void type_error(const Napi::Env& env, const char* name, const std::string& expected,
                                    const Napi::Value& got) {
  throw Napi::TypeError::New(env, std::string(name) + ": expected " + expected + ", got " + describe(got));
}

[[noreturn]] inline void range_error(const Napi::Env& env, const char* name, const std::string& expected,
                                     const Napi::Value& got) {
  throw Napi::RangeError::New(env, std::string(name) + ": expected " + expected + ", got " + describe(got));
}

/** An integer in [min, max], same wording as validate.int. */
inline double integer(const Napi::Value& v, const char* name, double min, double max) {
  const std::string expected = "an integer in [" + Napi::Number::New(v.Env(), min).ToString().Utf8Value() + ", " +
                               Napi::Number::New(v.Env(), max).ToString().Utf8Value() + "]";
  if (!v.IsNumber()) type_error(v.Env(), name, expected, v);
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || std::floor(d) != d || d < min || d > max) range_error(v.Env(), name, expected, v);
  return d;
}

/** A TypedArray of exactly the given element type, borrowed (its byteOffset is respected by Data()). */
template <typename T>
Napi::TypedArrayOf<T> typed(const Napi::Value& v, const char* name, napi_typedarray_type type, const char* ctor) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != type) {
    type_error(v.Env(), name, std::string("a ") + ctor, v);
  }
  return v.As<Napi::TypedArrayOf<T>>();
}

/** Throws the JS error for a core status; name says which argument or operation it concerns. */
[[noreturn]] inline void status_error(const Napi::Env& env, const char* name, engram::eg_status s) {
  const std::string msg = std::string(name) + ": " + engram::eg_status_message(s);
  switch (s) {
    case engram::eg_status::bad_index:
    case engram::eg_status::bad_label:
    case engram::eg_status::bad_geometry:
    case engram::eg_status::bad_codes:
    case engram::eg_status::bad_value:
    case engram::eg_status::too_large: throw Napi::RangeError::New(env, msg);
    default: throw Napi::Error::New(env, msg);
  }
}

/** Runs body, turning C++ exceptions other than Napi::Error into JS errors instead of aborting. */
template <typename F>
auto guarded(const Napi::Env& env, F&& body) -> decltype(body()) {
  try {
    return body();
  } catch (const Napi::Error&) {
    throw;
  } catch (const std::bad_alloc&) {
    throw Napi::Error::New(env, "engram: out of memory");
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, std::string("engram: ") + e.what());
  }
}

}  // namespace engram_addon
