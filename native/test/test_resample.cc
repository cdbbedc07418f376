// The resampler and the orientation map of the core: an identity copy, channel mapping, taps that point
// outside the source, and the eight orientations on a small image.
#include <cstdint>
#include <random>
#include <vector>

#include "check.h"
#include "orient.h"
#include "resample.h"

using engram::eg_status;

namespace {

struct Identity {
  std::vector<int32_t> first, count;
  std::vector<int16_t> weights;
  explicit Identity(size_t n) : first(n), count(n, 1), weights(n, int16_t(1 << engram::kTapBits)) {
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
  std::vector<float> out(6);
  std::vector<int16_t> scratch(engram::eg_resample_scratch(h.taps(), 2, 3));
  CHECK_EQ(int(engram::eg_resample_into(src.data(), 2, 1, 3, h.taps(), v.taps(), scratch.data(), scratch.size(),
                                        {2, 1, 3, false, scale, bias, bgr, out.data()})),
           int(eg_status::ok));
  CHECK(out == std::vector<float>({30, 20, 10, 60, 50, 40}));
  const std::vector<uint8_t> grey = {7, 9};
  std::vector<float> planes(6);
  std::vector<int16_t> s1(engram::eg_resample_scratch(h.taps(), 2, 1));
  CHECK_EQ(int(engram::eg_resample_into(grey.data(), 2, 1, 1, h.taps(), v.taps(), s1.data(), s1.size(),
                                        {2, 1, 3, true, scale, bias, bgr, planes.data()})),
           int(eg_status::ok));
  CHECK(planes == std::vector<float>({7, 9, 7, 9, 7, 9}));
}

TEST("resample: taps outside the source, a short scratch and RGB into one channel are refused") {
  const std::vector<uint8_t> src(4 * 3, 1);
  Identity h(2), v(1);
  const float scale[3] = {1, 1, 1}, bias[3] = {0, 0, 0};
  const uint8_t rgb[3] = {0, 1, 2};
  std::vector<float> out(6);
  std::vector<int16_t> scratch(64);
  h.first[1] = 4;  // reads column 4 of a 4-pixel row
  CHECK_EQ(int(engram::eg_resample_into(src.data(), 4, 1, 3, h.taps(), v.taps(), scratch.data(), scratch.size(),
                                        {2, 1, 3, true, scale, bias, rgb, out.data()})),
           int(eg_status::bad_index));
  h.first[1] = 1;
  h.count[1] = 2;  // more taps than the table holds
  CHECK_EQ(int(engram::eg_resample_into(src.data(), 4, 1, 3, h.taps(), v.taps(), scratch.data(), scratch.size(),
                                        {2, 1, 3, true, scale, bias, rgb, out.data()})),
           int(eg_status::bad_index));
  h.count[1] = 1;
  h.weights[1] = 32767;
  h.weights[0] = 32767;  // each output alone is within the limit
  CHECK_EQ(int(engram::eg_resample_into(src.data(), 4, 1, 3, h.taps(), v.taps(), scratch.data(), scratch.size(),
                                        {2, 1, 3, true, scale, bias, rgb, out.data()})),
           int(eg_status::ok));
  Identity wide_h(2);
  wide_h.count[0] = 2;
  std::vector<int16_t> heavy = {30000, -3000, 0, 0};  // output 0 weighs 33000 in all: over kMaxTapMass
  const engram::eg_taps over = {wide_h.first.data(), wide_h.count.data(), heavy.data(), 2};
  CHECK_EQ(int(engram::eg_resample_into(src.data(), 4, 1, 3, over, v.taps(), scratch.data(), scratch.size(),
                                        {2, 1, 3, true, scale, bias, rgb, out.data()})),
           int(eg_status::bad_index));
  h.weights[0] = h.weights[1] = int16_t(1 << engram::kTapBits);
  CHECK_EQ(int(engram::eg_resample_into(src.data(), 4, 1, 3, h.taps(), v.taps(), scratch.data(), 2,
                                        {2, 1, 3, true, scale, bias, rgb, out.data()})),
           int(eg_status::bad_geometry));
  CHECK_EQ(int(engram::eg_resample_into(src.data(), 4, 1, 3, h.taps(), v.taps(), scratch.data(), scratch.size(),
                                        {2, 1, 1, true, scale, bias, rgb, out.data()})),
           int(eg_status::bad_geometry));
}

namespace {

// The passes written out plainly for one row of 2 source rows (half each) and the horizontal table `h`: the
// values eg_resample_into must produce, whichever of its loops runs.
float expected_value(const std::vector<uint8_t>& src, size_t sw, const engram::eg_taps& h, size_t x, size_t ch,
                     float scale, float bias) {
  int32_t a = 1 << 19;
  for (size_t t = 0; t < size_t(h.count[x]); ++t) {
    const size_t col = size_t(h.first[x]) + t;
    const int32_t column = (int32_t(src[col * 3 + ch]) * 8192 + int32_t(src[(sw + col) * 3 + ch]) * 8192 + 128) >> 8;
    a += column * h.weights[x * h.taps + t];
  }
  int32_t v = a >> 20;
  v = v < 0 ? 0 : v > 255 ? 255 : v;
  return float(v) * scale + bias;
}

}  // namespace

TEST("resample: planes (NCHW) and interleaved (NHWC) outputs hold the plainly computed values, any width") {
  const float scale[3] = {0.5f, 2.0f, -1.0f}, bias[3] = {1.0f, -3.0f, 0.25f};
  const uint8_t sources[3][3] = {{0, 1, 2}, {2, 1, 0}, {1, 1, 1}};  // RGB, BGR, and one channel for all
  for (size_t w = 1; w <= 37; ++w) {                                // past 16: the vector loops of the planar store
    const size_t sw = 2 * w + 1;
    std::vector<uint8_t> src(sw * 2 * 3);
    for (size_t i = 0; i < src.size(); ++i) src[i] = uint8_t((i * 37 + w * 11) % 256);
    // Output x reads 2 or 3 source pixels from 2x; the table is 3 wide, zero-padded past each count.
    std::vector<int32_t> first(w), count(w);
    std::vector<int16_t> weights(w * 3, 0);
    for (size_t x = 0; x < w; ++x) {
      first[x] = int32_t(2 * x);
      count[x] = x % 2 ? 3 : 2;
      // 0.25, 0.75 and 0.2, 0.3, 0.5 in units of 2^-14; the second set also has a negative lobe.
      const int16_t two[3] = {4096, 12288, 0}, three[3] = {-1638, 4915, 13107};
      for (size_t t = 0; t < 3; ++t) weights[x * 3 + t] = x % 2 ? three[t] : two[t];
    }
    const engram::eg_taps h = {first.data(), count.data(), weights.data(), 3};
    const int32_t vf[1] = {0}, vc[1] = {2};
    const int16_t vw[2] = {8192, 8192};
    const engram::eg_taps v = {vf, vc, vw, 2};
    std::vector<int16_t> scratch(engram::eg_resample_scratch(h, w, 3));
    for (const auto& source : sources) {
      std::vector<float> planes(w * 3), pixels(w * 3);
      CHECK_EQ(int(engram::eg_resample_into(src.data(), sw, 2, 3, h, v, scratch.data(), scratch.size(),
                                            {w, 1, 3, true, scale, bias, source, planes.data()})),
               int(eg_status::ok));
      CHECK_EQ(int(engram::eg_resample_into(src.data(), sw, 2, 3, h, v, scratch.data(), scratch.size(),
                                            {w, 1, 3, false, scale, bias, source, pixels.data()})),
               int(eg_status::ok));
      for (size_t x = 0; x < w; ++x) {
        for (size_t k = 0; k < 3; ++k) {
          const float want = expected_value(src, sw, h, x, source[k], scale[k], bias[k]);
          CHECK_EQ(planes[k * w + x], want);
          CHECK_EQ(pixels[x * 3 + k], want);
        }
      }
    }
  }
}

TEST("resample: tables that read one pixel per output (nearest, or a kernel at the source's size) copy values") {
  const std::vector<uint8_t> src = {10, 20, 30, 40, 50, 60};  // 2x1 RGB
  // Nearest, 2 -> 5 columns and 1 -> 3 rows.
  const int32_t hf[5] = {0, 0, 1, 1, 1}, hc[5] = {1, 1, 1, 1, 1}, vf[3] = {0, 0, 0}, vc[3] = {1, 1, 1};
  const int16_t one_q = int16_t(1 << engram::kTapBits);
  const int16_t ones[5] = {one_q, one_q, one_q, one_q, one_q};
  const engram::eg_taps h = {hf, hc, ones, 1}, v = {vf, vc, ones, 1};
  const float scale[3] = {2, 2, 2}, bias[3] = {-1, -1, -1};
  const uint8_t rgb[3] = {0, 1, 2};
  std::vector<float> out(5 * 3 * 3);
  std::vector<int16_t> scratch(engram::eg_resample_scratch(h, 5, 3));
  CHECK_EQ(int(engram::eg_resample_into(src.data(), 2, 1, 3, h, v, scratch.data(), scratch.size(),
                                        {5, 3, 3, true, scale, bias, rgb, out.data()})),
           int(eg_status::ok));
  for (size_t k = 0; k < 3; ++k) {
    for (size_t y = 0; y < 3; ++y) {
      for (size_t x = 0; x < 5; ++x) CHECK_EQ(out[k * 15 + y * 5 + x], float(src[size_t(hf[x]) * 3 + k]) * 2 - 1);
    }
  }
  // Bilinear at the same size: taps (0, 1, 0) around each pixel, clipped at the edges.
  const int32_t bf[2] = {0, 0}, bc[2] = {2, 2}, one_row[1] = {0}, one_count[1] = {1};
  const int16_t bw[6] = {one_q, 0, 0, 0, one_q, 0};
  const int16_t one[1] = {one_q};
  const engram::eg_taps bh = {bf, bc, bw, 3}, bv = {one_row, one_count, one, 1};
  std::vector<float> copy(6);
  std::vector<int16_t> s2(engram::eg_resample_scratch(bh, 2, 3));
  const float unit[3] = {1, 1, 1}, zero[3] = {0, 0, 0};
  CHECK_EQ(int(engram::eg_resample_into(src.data(), 2, 1, 3, bh, bv, s2.data(), s2.size(),
                                        {2, 1, 3, false, unit, zero, rgb, copy.data()})),
           int(eg_status::ok));
  CHECK(copy == std::vector<float>({10, 20, 30, 40, 50, 60}));
}

namespace {

// A random table for n outputs over a size-pixel axis: counts 1..most, zero past each count, weights whose
// absolute values add up to at most kMaxTapMass (some negative), firsts anywhere the count fits.
struct RandomTaps {
  std::vector<int32_t> first, count;
  std::vector<int16_t> weights;
  size_t taps;
  RandomTaps(std::mt19937& gen, size_t n, size_t size, size_t most)
      : first(n), count(n), weights(n * most, 0), taps(most) {
    for (size_t i = 0; i < n; ++i) {
      const size_t c = 1 + gen() % (most < size ? most : size);
      count[i] = int32_t(c);
      first[i] = int32_t(gen() % (size - c + 1));
      int32_t left = engram::kMaxTapMass;
      for (size_t t = 0; t < c; ++t) {
        const int32_t w = int32_t(gen() % 20001) - 4000;
        const int32_t a = w < 0 ? -w : w;
        const int32_t take = a <= left ? w : 0;
        weights[i * most + t] = int16_t(take);
        left -= take < 0 ? -take : take;
      }
    }
  }
  engram::eg_taps view() const { return {first.data(), count.data(), weights.data(), taps}; }
};

// The passes written out plainly, one value at a time: what eg_resample_into must write at (x, y, k).
float plain_value(const std::vector<uint8_t>& src, size_t sw, size_t sc, const engram::eg_taps& h,
                  const engram::eg_taps& v, size_t x, size_t y, size_t ch, float scale, float bias) {
  int32_t a = 1 << 19;
  for (size_t t = 0; t < size_t(h.count[x]); ++t) {
    const size_t col = size_t(h.first[x]) + t;
    int32_t column = 128;
    for (size_t u = 0; u < size_t(v.count[y]); ++u) {
      column += int32_t(src[((size_t(v.first[y]) + u) * sw + col) * sc + ch]) * v.weights[y * v.taps + u];
    }
    a += (column >> 8) * h.weights[x * h.taps + t];
  }
  int32_t value = a >> 20;
  value = value < 0 ? 0 : value > 255 ? 255 : value;
  return float(value) * scale + bias;
}

}  // namespace

TEST("resample: random tables (1 to 11 taps, negative weights, any width) give the plainly computed values") {
  std::mt19937 gen(11);
  const float scale[3] = {0.5f, -2.0f, 0.0078125f}, bias[3] = {1.0f, 3.0f, -0.5f};
  const uint8_t orders[2][3] = {{0, 1, 2}, {2, 1, 0}};
  size_t checked = 0;
  for (int round = 0; round < 300; ++round) {
    const size_t sc = round % 3 == 0 ? 1 : 3;
    const size_t c = sc == 1 && round % 2 ? 1 : 3;
    const size_t sw = 1 + gen() % 70, sh = 1 + gen() % 40, w = 1 + gen() % 45, hgt = 1 + gen() % 12;
    const RandomTaps h(gen, w, sw, 1 + gen() % 11), v(gen, hgt, sh, 1 + gen() % 11);
    std::vector<uint8_t> src(sw * sh * sc);
    for (auto& b : src) b = uint8_t(gen() % 4 == 0 ? (gen() % 2) * 255 : gen() % 256);  // extremes push the clamps
    const uint8_t* source = orders[round % 2];
    std::vector<int16_t> scratch(engram::eg_resample_scratch(h.view(), w, sc));
    for (const bool nchw : {true, false}) {
      std::vector<float> out(w * hgt * c + 1, -7.0f);
      CHECK_EQ(int(engram::eg_resample_into(src.data(), sw, sh, sc, h.view(), v.view(), scratch.data(), scratch.size(),
                                            {w, hgt, c, nchw, scale, bias, source, out.data()})),
               int(eg_status::ok));
      for (size_t y = 0; y < hgt; ++y) {
        for (size_t x = 0; x < w; ++x) {
          for (size_t k = 0; k < c; ++k) {
            const size_t ch = sc == 1 ? 0 : source[k];
            const float want = plain_value(src, sw, sc, h.view(), v.view(), x, y, ch, scale[k], bias[k]);
            const size_t at = nchw ? k * w * hgt + y * w + x : (y * w + x) * c + k;
            if (out[at] != want) {
              CHECK_EQ(out[at], want);
              return;
            }
            ++checked;
          }
        }
      }
      CHECK_EQ(out[w * hgt * c], -7.0f);  // nothing written past the slot
    }
  }
  CHECK(checked > 100000);
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
