// The resampler and the orientation map of the core: an identity copy, channel mapping, taps that point
// outside the source, and the eight orientations on a small image.
#include <cstdint>
#include <vector>

#include "check.h"
#include "orient.h"
#include "resample.h"

using engram::eg_status;

namespace {

struct Identity {
  std::vector<int32_t> first, count;
  std::vector<float> weights;
  explicit Identity(size_t n) : first(n), count(n, 1), weights(n, 1.0f) {
    for (size_t i = 0; i < n; ++i) first[i] = int32_t(i);
  }
  engram::eg_taps taps() const { return {first.data(), count.data(), weights.data(), 1}; }
};

}  // namespace

TEST("resample: one-tap tables copy the image; a grey source feeds three planes; BGR swaps") {
  const std::vector<uint8_t> src = {10, 20, 30, 40, 50, 60};  // 2x1 RGB
  const Identity h(2), v(1);
  const float scale[3] = {1, 1, 1}, bias[3] = {0, 0, 0};
  const uint8_t bgr[3] = {2, 1, 0};
  std::vector<float> out(6), scratch(engram::eg_resample_scratch(h.taps(), 2, 3));
  CHECK_EQ(int(engram::eg_resample_into(src.data(), 2, 1, 3, h.taps(), v.taps(), scratch.data(), scratch.size(),
                                        {2, 1, 3, false, scale, bias, bgr, out.data()})), int(eg_status::ok));
  CHECK(out == std::vector<float>({30, 20, 10, 60, 50, 40}));
  const std::vector<uint8_t> grey = {7, 9};
  std::vector<float> planes(6), s1(engram::eg_resample_scratch(h.taps(), 2, 1));
  CHECK_EQ(int(engram::eg_resample_into(grey.data(), 2, 1, 1, h.taps(), v.taps(), s1.data(), s1.size(),
                                        {2, 1, 3, true, scale, bias, bgr, planes.data()})), int(eg_status::ok));
  CHECK(planes == std::vector<float>({7, 9, 7, 9, 7, 9}));
}

TEST("resample: taps outside the source, a short scratch and RGB into one channel are refused") {
  const std::vector<uint8_t> src(4 * 3, 1);
  Identity h(2), v(1);
  const float scale[3] = {1, 1, 1}, bias[3] = {0, 0, 0};
  const uint8_t rgb[3] = {0, 1, 2};
  std::vector<float> out(6), scratch(64);
  h.first[1] = 4;  // reads column 4 of a 4-pixel row
  CHECK_EQ(int(engram::eg_resample_into(src.data(), 4, 1, 3, h.taps(), v.taps(), scratch.data(), scratch.size(),
                                        {2, 1, 3, true, scale, bias, rgb, out.data()})), int(eg_status::bad_index));
  h.first[1] = 1;
  h.count[1] = 2;  // more taps than the table holds
  CHECK_EQ(int(engram::eg_resample_into(src.data(), 4, 1, 3, h.taps(), v.taps(), scratch.data(), scratch.size(),
                                        {2, 1, 3, true, scale, bias, rgb, out.data()})), int(eg_status::bad_index));
  h.count[1] = 1;
  CHECK_EQ(int(engram::eg_resample_into(src.data(), 4, 1, 3, h.taps(), v.taps(), scratch.data(), 2,
                                        {2, 1, 3, true, scale, bias, rgb, out.data()})), int(eg_status::bad_geometry));
  CHECK_EQ(int(engram::eg_resample_into(src.data(), 4, 1, 3, h.taps(), v.taps(), scratch.data(), scratch.size(),
                                        {2, 1, 1, true, scale, bias, rgb, out.data()})), int(eg_status::bad_geometry));
}

TEST("orient: the eight EXIF orientations of a 3x2 image; 0 and 9 are refused") {
  // Stored:   0 1 2
  //           3 4 5
  const std::vector<uint8_t> src = {0, 1, 2, 3, 4, 5};
  const std::vector<std::vector<uint8_t>> shown = {
      {0, 1, 2, 3, 4, 5}, {2, 1, 0, 5, 4, 3}, {5, 4, 3, 2, 1, 0}, {3, 4, 5, 0, 1, 2},
      {0, 3, 1, 4, 2, 5}, {3, 0, 4, 1, 5, 2}, {5, 2, 4, 1, 3, 0}, {2, 5, 1, 4, 0, 3},
  };
  for (uint32_t o = 1; o <= 8; ++o) {
    std::vector<uint8_t> out(6);
    CHECK_EQ(int(engram::eg_orient(src.data(), 3, 2, 1, o, out.data())), int(eg_status::ok));
    CHECK(out == shown[o - 1]);
  }
  std::vector<uint8_t> out(6);
  CHECK_EQ(int(engram::eg_orient(src.data(), 3, 2, 1, 0, out.data())), int(eg_status::bad_geometry));
  CHECK_EQ(int(engram::eg_orient(src.data(), 3, 2, 1, 9, out.data())), int(eg_status::bad_geometry));
}
