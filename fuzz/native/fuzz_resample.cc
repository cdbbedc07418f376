// libFuzzer harness: the fixed-point resampler with tap tables taken from the input. The core checks every
// table itself (a tap outside the source, a count of 0 or above taps, too much weight); whatever the tables,
// it must return a status, and on ok write only the slot (guard values around it stay untouched).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "resample.h"

namespace {

struct Reader {
  const uint8_t* p;
  size_t n;
  uint8_t u8() {
    if (n == 0) return 0;
    --n;
    return *p++;
  }
  int16_t i16() { return int16_t(uint16_t(u8()) | uint16_t(u8()) << 8); }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Reader r{data, size};
  const size_t sw = 1 + r.u8() % 40, sh = 1 + r.u8() % 40, sc = (r.u8() % 3) + 1;
  const size_t w = 1 + r.u8() % 24, h = 1 + r.u8() % 24, c = (r.u8() & 1) ? 3 : 1;
  const size_t htaps = 1 + r.u8() % 8, vtaps = 1 + r.u8() % 8;
  const bool nchw = r.u8() & 1;
  std::vector<int32_t> hf(w), hc(w), vf(h), vc(h);
  std::vector<int16_t> hw(w * htaps), vw(h * vtaps);
  // Mostly plausible values, sometimes wild ones, so both the checks and the arithmetic are exercised.
  for (size_t i = 0; i < w; ++i) {
    hf[i] = (r.u8() & 0x80) ? int32_t(r.i16()) : int32_t(r.u8() % (sw + 2));
    hc[i] = (r.u8() & 0x80) ? int32_t(r.i16()) : int32_t(r.u8() % (htaps + 2));
  }
  for (size_t i = 0; i < h; ++i) {
    vf[i] = (r.u8() & 0x80) ? int32_t(r.i16()) : int32_t(r.u8() % (sh + 2));
    vc[i] = (r.u8() & 0x80) ? int32_t(r.i16()) : int32_t(r.u8() % (vtaps + 2));
  }
  for (auto& x : hw) x = r.i16();
  for (auto& x : vw) x = r.i16();
  std::vector<uint8_t> src(sw * sh * sc);
  for (auto& x : src) x = r.u8();
  const float scale[3] = {1.0f / 255, 2.0f, -1.0f}, bias[3] = {0, -0.5f, 3};
  const uint8_t source[3] = {uint8_t(r.u8() % 4), uint8_t(r.u8() % 4), uint8_t(r.u8() % 4)};
  const engram::eg_taps ht{hf.data(), hc.data(), hw.data(), htaps}, vt{vf.data(), vc.data(), vw.data(), vtaps};
  constexpr size_t kGuard = 16;
  const size_t slot = w * h * c;
  std::vector<float> out(slot + 2 * kGuard, 12345.0f);
  // eg_resample_scratch is defined for tables whose taps read inside the source (as the addon checks before
  // asking); for others the harness offers a scratch of a size from the input, too short as often as not,
  // which the core must refuse rather than overrun.
  bool inside = true;
  for (size_t i = 0; i < w; ++i)
    inside = inside && hf[i] >= 0 && hc[i] >= 1 && size_t(hc[i]) <= htaps && size_t(hf[i]) + size_t(hc[i]) <= sw;
  const size_t want = inside ? engram::eg_resample_scratch(ht, w, sc) : size_t(r.u8()) * 4;
  std::vector<int16_t> scratch(want - ((r.u8() & 7) == 0 && want > 0 ? 1 : 0));
  const engram::eg_tensor_slot dst{w, h, c, nchw, scale, bias, source, out.data() + kGuard};
  const engram::eg_status s =
      engram::eg_resample_into(src.data(), sw, sh, sc, ht, vt, scratch.data(), scratch.size(), dst);
  for (size_t i = 0; i < kGuard; ++i) {
    if (out[i] != 12345.0f || out[kGuard + slot + i] != 12345.0f) std::abort();  // wrote outside the slot
  }
  (void)s;
  return 0;
}
