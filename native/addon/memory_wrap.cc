// N-API class "Memory": thin glue from JS to engram::Memory. Every argument is checked here again (the
// TypeScript wrapper checks first) so that no call from JS can reach the core with bad input.
#include <napi.h>

#include <memory>
#include <string>

#include "args.h"
#include "memory.h"

namespace engram_addon {
namespace {

using engram::eg_codes;
using engram::eg_status;
using engram::Memory;

// Upper bound used for integer arguments that count connections.
constexpr double kMaxSafe = 9007199254740991.0;

class MemoryWrap : public Napi::ObjectWrap<MemoryWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Memory", {StaticMethod<&MemoryWrap::Deserialize>("deserialize")});
  }

  /**
   * Methods and getters, on the prototype. Not ObjectWrap's: their `this` check ends in V8's "Illegal
   * invocation" (a method) or a bare "Invalid argument" (a getter) for a call on anything but a Memory
   * (Object.create(Memory.prototype), another object); these name the member and say what `this` should be.
   */
  static void DefineMembers(Napi::Env env, Napi::Function ctor) {
    Napi::Object proto = ctor.Get("prototype").As<Napi::Object>();
    const auto method = [&](const char* name, Napi::Value (*cb)(const Napi::CallbackInfo&)) {
      return Napi::PropertyDescriptor::Function(env, proto, name, cb, napi_default_method, const_cast<char*>(name));
    };
    const auto getter = [&](const char* name, Napi::Value (*cb)(const Napi::CallbackInfo&)) {
      return Napi::PropertyDescriptor::Accessor(env, proto, name, cb, napi_configurable, const_cast<char*>(name));
    };
    proto.DefineProperties({
        getter("neurons", Member<&MemoryWrap::Neurons>),
        getter("classes", Member<&MemoryWrap::Classes>),
        getter("counterBits", Member<&MemoryWrap::CounterBits>),
        getter("capacity", Member<&MemoryWrap::Capacity>),
        method("addClasses", Member<&MemoryWrap::AddClasses>),
        method("store", Member<&MemoryWrap::Store>),
        method("adjust", Member<&MemoryWrap::Adjust>),
        method("score", Member<&MemoryWrap::Score>),
        method("scoreMinCount", Member<&MemoryWrap::ScoreMinCount>),
        method("scoreCounts", Member<&MemoryWrap::ScoreCounts>),
        method("halveClass", Member<&MemoryWrap::HalveClass>),
        method("classCounterMoments", Member<&MemoryWrap::ClassCounterMoments>),
        method("pruneMinCount", Member<&MemoryWrap::PruneMinCount>),
        method("pruneMinCountPerClass", Member<&MemoryWrap::PruneMinCountPerClass>),
        method("pruneFanIn", Member<&MemoryWrap::PruneFanIn>),
        method("pruneTo", Member<&MemoryWrap::PruneTo>),
        method("clearClass", Member<&MemoryWrap::ClearClass>),
        method("connections", Member<&MemoryWrap::Connections>),
        method("connectionsPerClass", Member<&MemoryWrap::ConnectionsPerClass>),
        method("fanInHistogram", Member<&MemoryWrap::FanInHistogram>),
        method("residentBytes", Member<&MemoryWrap::ResidentBytes>),
        method("merge", Member<&MemoryWrap::Merge>),
        method("clone", Member<&MemoryWrap::Clone>),
        method("serialize", Member<&MemoryWrap::Serialize>),
    });
  }

  // new Memory(neurons, counterBits, classes), or from Adopt with an External holding a ready core. Only the
  // External Adopt is passing right now is taken: any other External (another addon's) is refused, not cast.
  explicit MemoryWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<MemoryWrap>(info) {
    Napi::Env env = info.Env();
    if (info.Length() == 1 && info[0].IsExternal()) {
      std::unique_ptr<Memory>* adopted = info[0].As<Napi::External<std::unique_ptr<Memory>>>().Data();
      if (adopted == nullptr || adopted != adopting_)
        type_error(env, "neurons", "an integer in [1, 16777216]", info[0]);
      adopting_ = nullptr;
      core_ = std::move(*adopted);
      Tag(info);
      return;
    }
    const uint32_t neurons = uint32_t(integer(info[0], "neurons", 1, Memory::kMaxNeurons));
    const Napi::Value bits = info[1];
    if (!bits.IsNumber()) type_error(env, "counterBits", "one of 0, 4, 8", bits);
    const double b = bits.As<Napi::Number>().DoubleValue();
    if (b != 0 && b != 4 && b != 8) range_error(env, "counterBits", "one of 0, 4, 8", bits);
    const uint32_t classes = uint32_t(integer(info[2], "classes", 0, Memory::kMaxClasses));
    const eg_status s = Memory::create(neurons, uint32_t(b), classes, &core_);
    if (s != eg_status::ok) status_error(env, "BinaryMemory", s);
    Tag(info);
  }

  static void Tag(const Napi::CallbackInfo& info) {
    if (napi_type_tag_object(info.Env(), info.This(), &kTag) != napi_ok) {
      throw Napi::Error::New(info.Env(), "BinaryMemory: could not mark the new object as a Memory");
    }
  }

  static Napi::Object Adopt(Napi::Env env, std::unique_ptr<Memory> core) {
    Napi::Function ctor = env.GetInstanceData<Napi::FunctionReference>()->Value();
    auto external = Napi::External<std::unique_ptr<Memory>>::New(env, &core);
    adopting_ = &core;
    Napi::Object made = ctor.New({external});  // the constructor moves the core out of `core`
    adopting_ = nullptr;
    return made;
  }

 private:
  // The core Adopt is handing to the constructor (main thread only), so the constructor can tell it from a
  // stranger's External.
  static inline std::unique_ptr<Memory>* adopting_ = nullptr;

  // Marks every Memory this addon constructs, so an object wrapped by another addon (whose pointer means
  // something else) is never taken for one, whatever its prototype says.
  static constexpr napi_type_tag kTag = {0x656e6772616d4d65ULL, 0x6d6f72795772617dULL};

  /** The MemoryWrap behind v, or nullptr when v is not a Memory made by this addon. */
  static MemoryWrap* FromValue(const Napi::Value& v) {
    if (!v.IsObject()) return nullptr;
    bool tagged = false;
    if (napi_check_object_type_tag(v.Env(), v, &kTag, &tagged) != napi_ok || !tagged) return nullptr;
    void* self = nullptr;
    if (napi_unwrap(v.Env(), v, &self) != napi_ok) return nullptr;
    return static_cast<MemoryWrap*>(self);
  }

  // Calls a member on `this` once it is known to be a Memory; info.Data() is the member's name.
  template <Napi::Value (MemoryWrap::*M)(const Napi::CallbackInfo&)>
  static Napi::Value Member(const Napi::CallbackInfo& info) {
    MemoryWrap* wrap = FromValue(info.This());
    if (wrap == nullptr || !wrap->core_) {
      const Napi::Value that = info.This();
      throw Napi::TypeError::New(
          info.Env(), std::string(static_cast<const char*>(info.Data())) + ": expected `this` to be a Memory, got " +
                          (that.IsObject() ? std::string("an object that is not one") : describe(that)));
    }
    return guarded(info.Env(), [&]() -> Napi::Value { return (wrap->*M)(info); });
  }

  Napi::Value Neurons(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), core_->neurons()); }
  Napi::Value Classes(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), core_->classes()); }
  Napi::Value CounterBits(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), core_->counter_bits());
  }
  Napi::Value Capacity(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), core_->capacity()); }

  // Reads (codes, offsets, active) starting at argument i into a batch view that borrows JS memory.
  eg_codes Codes(const Napi::CallbackInfo& info, size_t i) {
    Napi::Env env = info.Env();
    Napi::Uint32Array idx = typed<uint32_t>(info[i], "codes", napi_uint32_array, "Uint32Array");
    eg_codes codes;
    codes.idx = idx.Data();
    codes.len = idx.ElementLength();
    const Napi::Value off = info[i + 1];
    if (!off.IsNull() && !off.IsUndefined()) {
      Napi::Uint32Array o = typed<uint32_t>(off, "codes.offsets", napi_uint32_array, "Uint32Array");
      const std::string expected = "ascending offsets from 0 to " + std::to_string(codes.len) + " (codes.length)";
      const uint32_t* d = o.Data();
      const size_t n = o.ElementLength();
      if (n < 1 || d[0] != 0 || d[n - 1] != codes.len) range_error(env, "codes.offsets", expected, off);
      for (size_t k = 1; k < n; ++k) {
        if (d[k] < d[k - 1]) range_error(env, "codes.offsets", expected, off);
      }
      codes.offsets = d;
      codes.batch = n - 1;
    } else {
      codes.active = uint32_t(integer(info[i + 2], "codes.active", 1, Memory::kMaxNeurons));
      if (codes.len % codes.active != 0) {
        range_error(env, "codes", "a length that is a multiple of codes.active (" + std::to_string(codes.active) + ")",
                    info[i]);
      }
      codes.batch = codes.len / codes.active;
    }
    const uint32_t neurons = core_->neurons();
    for (size_t k = 0; k < codes.len; ++k) {
      if (codes.idx[k] >= neurons) {
        throw Napi::RangeError::New(env, "codes: expected neuron indices below " + std::to_string(neurons) +
                                             ", got number " + std::to_string(codes.idx[k]) + " at index " +
                                             std::to_string(k));
      }
    }
    return codes;
  }

  const uint32_t* Labels(const Napi::Value& v, size_t batch) {
    Napi::Env env = v.Env();
    Napi::Uint32Array labels = typed<uint32_t>(v, "labels", napi_uint32_array, "Uint32Array");
    if (labels.ElementLength() != batch) {
      range_error(env, "labels", "a Uint32Array of length " + std::to_string(batch) + " (one per code)", v);
    }
    const uint32_t classes = core_->classes();
    for (size_t k = 0; k < batch; ++k) {
      if (labels[k] >= classes) {
        throw Napi::RangeError::New(env, "labels: expected class ids below " + std::to_string(classes) +
                                             ", got number " + std::to_string(labels[k]) + " at index " +
                                             std::to_string(k));
      }
    }
    return labels.Data();
  }

  Napi::Value AddClasses(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      const uint32_t count = uint32_t(integer(info[0], "count", 1, Memory::kMaxClasses));
      uint32_t first = 0;
      const eg_status s = core_->add_classes(count, &first);
      if (s != eg_status::ok) status_error(info.Env(), "addClass", s);
      return Napi::Number::New(info.Env(), first);
    });
  }

  // store(codes, offsets, active, labels)
  Napi::Value Store(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      const eg_codes codes = Codes(info, 0);
      const uint32_t* labels = Labels(info[3], codes.batch);
      const eg_status s = core_->store(codes, labels);
      if (s != eg_status::ok) status_error(info.Env(), "store", s);
      return info.Env().Undefined();
    });
  }

  // adjust(codes, offsets, active, labels, delta) -> { added, removed }
  Napi::Value Adjust(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      const eg_codes codes = Codes(info, 0);
      const uint32_t* labels = Labels(info[3], codes.batch);
      const int32_t delta = int32_t(integer(info[4], "delta", -255, 255));
      engram::eg_adjust_result r;
      const eg_status s = core_->adjust(codes, labels, delta, &r);
      if (s != eg_status::ok) status_error(info.Env(), "adjust", s);
      Napi::Object out = Napi::Object::New(info.Env());
      out.Set("added", Napi::Number::New(info.Env(), double(r.added)));
      out.Set("removed", Napi::Number::New(info.Env(), double(r.removed)));
      return out;
    });
  }

  // The kernels a score call asks for: "active" (default, undefined) or "scalar" (tests compare the two).
  static const engram::eg_kernels& KernelsArg(Napi::Env env, const Napi::Value& v) {
    if (v.IsUndefined()) return engram::eg_kernels_active();
    if (!v.IsString()) type_error(env, "kernel", "one of active, scalar", v);
    const std::string k = v.As<Napi::String>().Utf8Value();
    if (k == "scalar") return engram::eg_kernels_scalar();
    if (k != "active") range_error(env, "kernel", "one of active, scalar", v);
    return engram::eg_kernels_active();
  }

  // score(codes, offsets, active, kernel) -> Int32Array [batch x classes]; kernel "active" or "scalar".
  Napi::Value Score(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      Napi::Env env = info.Env();
      const eg_codes codes = Codes(info, 0);
      const engram::eg_kernels& kernels = KernelsArg(env, info[3]);
      Napi::Int32Array out = Napi::Int32Array::New(env, codes.batch * core_->classes());
      const eg_status s = core_->score_with(kernels, codes, out.Data());
      if (s != eg_status::ok) status_error(env, "score", s);
      return out;
    });
  }

  // scoreMinCount(codes, offsets, active, minCount) -> Int32Array [batch x classes]
  Napi::Value ScoreMinCount(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      Napi::Env env = info.Env();
      const eg_codes codes = Codes(info, 0);
      const uint32_t min_count = uint32_t(integer(info[3], "minCount", 0, 255));
      Napi::Int32Array out = Napi::Int32Array::New(env, codes.batch * core_->classes());
      const eg_status s = core_->score_min_count(codes, min_count, out.Data());
      if (s != eg_status::ok) status_error(env, "scoreMinCount", s);
      return out;
    });
  }

  // scoreCounts(codes, offsets, active, kernel) -> Int32Array [batch x classes] of counter sums.
  Napi::Value ScoreCounts(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      Napi::Env env = info.Env();
      const eg_codes codes = Codes(info, 0);
      const engram::eg_kernels& kernels = KernelsArg(env, info[3]);
      Napi::Int32Array out = Napi::Int32Array::New(env, codes.batch * core_->classes());
      const eg_status s = core_->score_counts_with(kernels, codes, out.Data());
      if (s != eg_status::ok) status_error(env, "scoreCounts", s);
      return out;
    });
  }

  // halveClass(classId): every counter of the class halved, rounded up.
  Napi::Value HalveClass(const Napi::CallbackInfo& info) {
    const uint32_t classes = core_->classes();
    if (classes == 0) range_error(info.Env(), "classId", "an existing class id (the memory has no classes)", info[0]);
    const uint32_t cls = uint32_t(integer(info[0], "classId", 0, classes - 1));
    const eg_status s = core_->halve_class(cls);
    if (s != eg_status::ok) status_error(info.Env(), "halveClass", s);
    return info.Env().Undefined();
  }

  // classCounterMoments(classId, begin, end) -> { sum, sumSq, max } over neurons [begin, end).
  Napi::Value ClassCounterMoments(const Napi::CallbackInfo& info) {
    const uint32_t classes = core_->classes();
    if (classes == 0) range_error(info.Env(), "classId", "an existing class id (the memory has no classes)", info[0]);
    const uint32_t cls = uint32_t(integer(info[0], "classId", 0, classes - 1));
    const uint32_t begin = uint32_t(integer(info[1], "begin", 0, core_->neurons()));
    const uint32_t end = uint32_t(integer(info[2], "end", begin, core_->neurons()));
    uint64_t sum = 0;
    uint64_t sum_sq = 0;
    uint32_t max = 0;
    const eg_status s = core_->class_counter_moments(cls, begin, end, &sum, &sum_sq, &max);
    if (s != eg_status::ok) status_error(info.Env(), "classCounterMoments", s);
    Napi::Object out = Napi::Object::New(info.Env());
    out.Set("sum", Napi::Number::New(info.Env(), double(sum)));
    out.Set("sumSq", Napi::Number::New(info.Env(), double(sum_sq)));
    out.Set("max", Napi::Number::New(info.Env(), double(max)));
    return out;
  }

  Napi::Value PruneMinCount(const Napi::CallbackInfo& info) {
    const uint32_t min_count = uint32_t(integer(info[0], "minCount", 0, 255));
    uint64_t removed = 0;
    const eg_status s = core_->prune_min_count(min_count, &removed);
    if (s != eg_status::ok) status_error(info.Env(), "prune", s);
    return Napi::Number::New(info.Env(), double(removed));
  }

  // pruneMinCountPerClass(minCounts: Uint32Array, one threshold per class in [1, counterMax]) -> removed
  Napi::Value PruneMinCountPerClass(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      Napi::Env env = info.Env();
      if (core_->counter_bits() == 0) status_error(env, "prune", eg_status::no_counters);
      Napi::Uint32Array mins = typed<uint32_t>(info[0], "minCountPerClass", napi_uint32_array, "Uint32Array");
      const uint32_t classes = core_->classes();
      if (mins.ElementLength() != classes) {
        range_error(env, "minCountPerClass", "a Uint32Array of length " + std::to_string(classes) + " (one per class)",
                    info[0]);
      }
      const uint32_t max = core_->counter_max();
      for (size_t c = 0; c < classes; ++c) {
        if (mins[c] < 1 || mins[c] > max) {
          throw Napi::RangeError::New(env, "minCountPerClass: expected integers in [1, " + std::to_string(max) +
                                               "], got number " + std::to_string(mins[c]) + " at index " +
                                               std::to_string(c));
        }
      }
      uint64_t removed = 0;
      const eg_status s = core_->prune_min_count_per_class(mins.Data(), classes, &removed);
      if (s != eg_status::ok) status_error(env, "prune", s);
      return Napi::Number::New(env, double(removed));
    });
  }

  Napi::Value PruneFanIn(const Napi::CallbackInfo& info) {
    const uint32_t max_fan_in = uint32_t(integer(info[0], "maxFanIn", 0, Memory::kMaxClasses));
    uint64_t removed = 0;
    const eg_status s = core_->prune_fan_in(max_fan_in, &removed);
    if (s != eg_status::ok) status_error(info.Env(), "prune", s);
    return Napi::Number::New(info.Env(), double(removed));
  }

  Napi::Value PruneTo(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      const uint64_t keep = uint64_t(integer(info[0], "keep", 0, kMaxSafe));
      uint64_t removed = 0;
      const eg_status s = core_->prune_to(keep, &removed);
      if (s != eg_status::ok) status_error(info.Env(), "prune", s);
      return Napi::Number::New(info.Env(), double(removed));
    });
  }

  Napi::Value ClearClass(const Napi::CallbackInfo& info) {
    const uint32_t classes = core_->classes();
    if (classes == 0) range_error(info.Env(), "classId", "an existing class id (the memory has no classes)", info[0]);
    const uint32_t cls = uint32_t(integer(info[0], "classId", 0, classes - 1));
    uint64_t removed = 0;
    const eg_status s = core_->clear_class(cls, &removed);
    if (s != eg_status::ok) status_error(info.Env(), "clearClass", s);
    return Napi::Number::New(info.Env(), double(removed));
  }

  Napi::Value Connections(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), double(core_->connections()));
  }

  Napi::Value ConnectionsPerClass(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      std::vector<uint64_t> counts(core_->classes());
      core_->connections_per_class(counts.data());
      Napi::Float64Array out = Napi::Float64Array::New(info.Env(), counts.size());
      for (size_t c = 0; c < counts.size(); ++c) out[c] = double(counts[c]);
      return out;
    });
  }

  Napi::Value FanInHistogram(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      std::vector<uint64_t> hist(size_t(core_->classes()) + 1);
      core_->fan_in_histogram(hist.data());
      Napi::Float64Array out = Napi::Float64Array::New(info.Env(), hist.size());
      for (size_t f = 0; f < hist.size(); ++f) out[f] = double(hist[f]);
      return out;
    });
  }

  Napi::Value ResidentBytes(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), double(core_->resident_bytes()));
  }

  Napi::Value Merge(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      Napi::Env env = info.Env();
      const MemoryWrap* other = FromValue(info[0]);
      if (other == nullptr || !other->core_) type_error(env, "other", "a BinaryMemory", info[0]);
      if (other->core_->neurons() != core_->neurons() || other->core_->counter_bits() != core_->counter_bits()) {
        throw Napi::RangeError::New(env, "other: expected a memory with neurons " + std::to_string(core_->neurons()) +
                                             " and counterBits " + std::to_string(core_->counter_bits()) +
                                             ", got neurons " + std::to_string(other->core_->neurons()) +
                                             " and counterBits " + std::to_string(other->core_->counter_bits()));
      }
      const eg_status s = core_->merge(*other->core_);
      if (s != eg_status::ok) status_error(env, "merge", s);
      return env.Undefined();
    });
  }

  Napi::Value Clone(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      std::unique_ptr<Memory> copy;
      const eg_status s = core_->clone(&copy);
      if (s != eg_status::ok) status_error(info.Env(), "clone", s);
      return Adopt(info.Env(), std::move(copy));
    });
  }

  Napi::Value Serialize(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      Napi::Env env = info.Env();
      const uint64_t size = core_->serialized_size();
      if (size > uint64_t(2147483647)) {
        throw Napi::RangeError::New(env,
                                    "serialize: memory too large for one Buffer (" + std::to_string(size) + " bytes)");
      }
      Napi::Buffer<uint8_t> out = Napi::Buffer<uint8_t>::New(env, size_t(size));
      const eg_status s = core_->serialize(out.Data(), size);
      if (s != eg_status::ok) status_error(env, "serialize", s);
      return out;
    });
  }

  static Napi::Value Deserialize(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      Napi::Env env = info.Env();
      Napi::Uint8Array buf = typed<uint8_t>(info[0], "buffer", napi_uint8_array, "Uint8Array");
      std::unique_ptr<Memory> core;
      const eg_status s = Memory::deserialize(buf.Data(), buf.ElementLength(), &core);
      if (s != eg_status::ok) throw Napi::Error::New(env, std::string("buffer: ") + engram::eg_status_message(s));
      return Adopt(env, std::move(core));
    });
  }

  std::unique_ptr<Memory> core_;
};

}  // namespace

void eg_register_memory(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor = MemoryWrap::Define(env);
  MemoryWrap::DefineMembers(env, ctor);
  env.SetInstanceData(new Napi::FunctionReference(Napi::Persistent(ctor)));
  exports.Set("Memory", ctor);
}

}  // namespace engram_addon
