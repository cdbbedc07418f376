// JPEG fast path (native/image): sizes per DCT scale, EXIF orientation, colour conversions, what it refuses,
// and robustness: every truncation and thousands of random byte flips end in a status, never a crash.
#ifdef ENGRAM_HAVE_JPEG

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "check.h"
#include "exif.h"
#include "jpeg.h"
#include "jpeg_fixtures.h"

using eg_jpeg_test::Encode;
using eg_jpeg_test::encode;
using eg_jpeg_test::flat;
using engram::eg_jpeg_decode;
using engram::eg_jpeg_image;
using engram::eg_jpeg_status;

#define CHECK_OK_JPEG(expr) CHECK_EQ(int(expr), int(engram::eg_jpeg_status::ok))

namespace {

eg_jpeg_status decode(const std::vector<uint8_t>& jpeg, uint32_t min_w, uint32_t min_h, uint32_t channels,
                      eg_jpeg_image* out) {
  return eg_jpeg_decode(jpeg.data(), jpeg.size(), min_w, min_h, channels, out);
}

uint32_t ceil_eighths(uint32_t side, uint32_t m) { return (side * m + 7) / 8; }

// The scale the decoder must choose, from the definition: smallest M/8 covering the wanted size, else 1/1.
uint32_t expected_scale(uint32_t w, uint32_t h, uint32_t want_w, uint32_t want_h) {
  for (uint32_t m = 1; m <= 8; ++m) {
    if (ceil_eighths(w, m) >= want_w && ceil_eighths(h, m) >= want_h) return m;
  }
  return 8;
}

int max_diff(const uint8_t* a, const uint8_t* b, size_t n) {
  int d = 0;
  for (size_t i = 0; i < n; ++i) d = std::max(d, std::abs(int(a[i]) - int(b[i])));
  return d;
}

std::vector<uint8_t> with_markers(Encode e, std::vector<std::pair<int, std::vector<uint8_t>>> markers) {
  e.markers = std::move(markers);
  return encode(e, eg_jpeg_test::gradient(e.width, e.height));
}

std::vector<uint8_t> small_jpeg() {
  Encode e;
  e.width = 40;
  e.height = 24;
  return encode(e, eg_jpeg_test::gradient(40, 24));
}

bool is_status(eg_jpeg_status s) {
  return int(s) >= int(eg_jpeg_status::ok) && int(s) <= int(eg_jpeg_status::no_memory);
}

}  // namespace

TEST("jpeg: the chosen scale is the smallest M/8 covering the wanted size, with matching output size") {
  Encode e;
  e.width = 101;
  e.height = 37;
  const auto jpeg = encode(e, flat(101, 37, {200, 100, 50}));
  for (uint32_t want_w : {0u, 1u, 12u, 13u, 14u, 26u, 50u, 51u, 64u, 89u, 100u, 101u, 102u, 500u}) {
    for (uint32_t want_h : {0u, 5u, 6u, 19u, 36u, 37u, 38u}) {
      eg_jpeg_image img;
      CHECK_OK_JPEG(decode(jpeg, want_w, want_h, 3, &img));
      const uint32_t m = expected_scale(101, 37, want_w, want_h);
      CHECK_EQ(img.scale_eighths, m);
      CHECK_EQ(img.width, ceil_eighths(101, m));
      CHECK_EQ(img.height, ceil_eighths(37, m));
      CHECK_EQ(img.channels, 3u);
      // A flat colour stays that colour at every scale (JPEG rounding: within 2 levels).
      const auto want = flat(int(img.width), int(img.height), {200, 100, 50});
      CHECK(max_diff(img.pixels.get(), want.data(), want.size()) <= 2);
    }
  }
}

TEST("jpeg: an image smaller than wanted is decoded at 1/1, never upscaled") {
  const auto jpeg = small_jpeg();
  eg_jpeg_image img;
  CHECK_OK_JPEG(decode(jpeg, 224, 224, 3, &img));
  CHECK_EQ(img.scale_eighths, 8u);
  CHECK_EQ(img.width, 40u);
  CHECK_EQ(img.height, 24u);
}

TEST("jpeg: pixels at 1/1 match the encoded gradient (4:4:4, quality 100), baseline and progressive alike") {
  Encode e;
  e.width = 48;
  e.height = 32;
  e.quality = 100;
  e.full_chroma = true;
  const auto pixels = eg_jpeg_test::gradient(48, 32);
  const auto baseline = encode(e, pixels);
  e.progressive = true;
  const auto progressive = encode(e, pixels);
  eg_jpeg_image a, b;
  CHECK_OK_JPEG(decode(baseline, 48, 32, 3, &a));
  CHECK_OK_JPEG(decode(progressive, 48, 32, 3, &b));
  CHECK(max_diff(a.pixels.get(), pixels.data(), pixels.size()) <= 3);
  // Progressive only reorders the same coefficients: the decoded pixels are identical.
  CHECK_EQ(max_diff(a.pixels.get(), b.pixels.get(), pixels.size()), 0);
}

TEST("jpeg: a JPEG coded in RGB (Adobe transform 0) decodes like the YCbCr one") {
  Encode e;
  e.width = 32;
  e.height = 16;
  e.jpeg_space = JCS_RGB;
  const auto jpeg = encode(e, flat(32, 16, {10, 200, 90}));
  eg_jpeg_image img;
  CHECK_OK_JPEG(decode(jpeg, 0, 0, 3, &img));
  const auto want = flat(int(img.width), int(img.height), {10, 200, 90});
  CHECK(max_diff(img.pixels.get(), want.data(), want.size()) <= 2);
}

TEST("jpeg: a grey JPEG becomes RGB with three equal channels, or stays grey") {
  Encode e;
  e.width = 24;
  e.height = 16;
  e.components = 1;
  e.in_space = JCS_GRAYSCALE;
  std::vector<uint8_t> grey(24 * 16);
  for (size_t i = 0; i < grey.size(); ++i) grey[i] = uint8_t(i % 24 * 10);
  const auto jpeg = encode(e, grey);
  eg_jpeg_image rgb, one;
  CHECK_OK_JPEG(decode(jpeg, 24, 16, 3, &rgb));
  CHECK_OK_JPEG(decode(jpeg, 24, 16, 1, &one));
  CHECK_EQ(rgb.channels, 3u);
  CHECK_EQ(one.channels, 1u);
  int unequal = 0;
  for (size_t i = 0; i < grey.size(); ++i) {
    const uint8_t* p = rgb.pixels.get() + i * 3;
    if (p[0] != one.pixels[i] || p[1] != one.pixels[i] || p[2] != one.pixels[i]) ++unequal;
  }
  CHECK_EQ(unequal, 0);
  CHECK(max_diff(one.pixels.get(), grey.data(), grey.size()) <= 8);
}

TEST("jpeg: an RGB JPEG decoded to 1 channel gives the luma 0.299 R + 0.587 G + 0.114 B") {
  Encode e;
  e.width = 16;
  e.height = 16;
  const auto jpeg = encode(e, flat(16, 16, {200, 100, 50}));
  eg_jpeg_image img;
  CHECK_OK_JPEG(decode(jpeg, 16, 16, 1, &img));
  CHECK_EQ(img.channels, 1u);
  const int luma = int(0.299 * 200 + 0.587 * 100 + 0.114 * 50 + 0.5);  // 124
  const auto want = flat(16, 16, {uint8_t(luma)});
  CHECK(max_diff(img.pixels.get(), want.data(), want.size()) <= 2);
}

TEST("jpeg: EXIF orientation 1..8 is read in both byte orders") {
  Encode e;
  e.width = 16;
  e.height = 8;
  for (bool little : {true, false}) {
    for (uint16_t o = 1; o <= 8; ++o) {
      eg_jpeg_image img;
      CHECK_OK_JPEG(decode(with_markers(e, {{JPEG_APP0 + 1, eg_jpeg_test::exif(o, little)}}), 0, 0, 3, &img));
      CHECK_EQ(img.orientation, uint32_t(o));
      // The payload alone, through the parser.
      const auto app1 = eg_jpeg_test::exif(o, little);
      CHECK_EQ(engram::eg_exif_orientation(app1.data(), app1.size()), uint32_t(o));
    }
  }
  eg_jpeg_image none;
  CHECK_OK_JPEG(decode(small_jpeg(), 0, 0, 3, &none));
  CHECK_EQ(none.orientation, 1u);
}

TEST("jpeg: an XMP APP1 before the EXIF one is skipped") {
  Encode e;
  const std::string xmp = "http://ns.adobe.com/xap/1.0/";
  std::vector<uint8_t> xmp_payload(xmp.begin(), xmp.end());
  xmp_payload.push_back(0);
  eg_jpeg_image img;
  CHECK_OK_JPEG(decode(with_markers(e, {{JPEG_APP0 + 1, xmp_payload}, {JPEG_APP0 + 1, eg_jpeg_test::exif(6, true)}}), 0,
                       0, 3, &img));
  CHECK_EQ(img.orientation, 6u);
}

TEST("exif: malformed payloads give orientation 1, and no read goes past the end") {
  const auto good = eg_jpeg_test::exif(8, false);
  // Every truncation (ASan catches a read past the copy). The orientation value ends at byte 38: "Exif\0\0",
  // TIFF header (8), entry count (2), entry 0 (12), entry 1 up to its value (10).
  for (size_t n = 0; n <= good.size(); ++n) {
    const std::vector<uint8_t> cut(good.begin(), good.begin() + long(n));
    CHECK_EQ(engram::eg_exif_orientation(cut.data(), cut.size()), n >= 38 ? 8u : 1u);
  }
  auto bad = good;
  bad[6] = 'X';  // byte order mark
  CHECK_EQ(engram::eg_exif_orientation(bad.data(), bad.size()), 1u);
  bad = good;
  bad[9] = 43;  // TIFF magic 42
  CHECK_EQ(engram::eg_exif_orientation(bad.data(), bad.size()), 1u);
  bad = good;
  bad[10] = 0x7F;  // IFD0 offset far past the end
  CHECK_EQ(engram::eg_exif_orientation(bad.data(), bad.size()), 1u);
  bad = good;
  bad[14] = 0xFF, bad[15] = 0xFF;  // 65535 entries claimed, and no orientation among those present
  bad[28] = 0x01, bad[29] = 0x13;
  CHECK_EQ(engram::eg_exif_orientation(bad.data(), bad.size()), 1u);
  const auto long_type = eg_jpeg_test::exif(6, true, 4);
  CHECK_EQ(engram::eg_exif_orientation(long_type.data(), long_type.size()), 1u);
  const auto nine = eg_jpeg_test::exif(9, true);
  CHECK_EQ(engram::eg_exif_orientation(nine.data(), nine.size()), 1u);
  const auto zero = eg_jpeg_test::exif(0, false);
  CHECK_EQ(engram::eg_exif_orientation(zero.data(), zero.size()), 1u);
  CHECK_EQ(engram::eg_exif_orientation(nullptr, 100), 1u);
}

TEST("jpeg: for orientations 5..8 the wanted width is compared with the stored height") {
  Encode e;
  e.width = 64;
  e.height = 48;
  for (uint16_t o = 1; o <= 8; ++o) {
    eg_jpeg_image img;
    CHECK_OK_JPEG(decode(with_markers(e, {{JPEG_APP0 + 1, eg_jpeg_test::exif(o, true)}}), 30, 20, 3, &img));
    // Displayed 30 x 20 wanted. Stored 64 x 48: upright needs M = 4 (32 x 24); transposed needs the stored
    // height to reach 30 and the stored width 20: M = 5 (40 x 30).
    CHECK_EQ(img.scale_eighths, o >= 5 ? 5u : 4u);
  }
}

TEST("jpeg: CMYK and YCCK JPEGs are not handled") {
  Encode e;
  e.width = 16;
  e.height = 16;
  e.components = 4;
  e.in_space = JCS_CMYK;
  const auto pixels = flat(16, 16, {10, 20, 30, 40});
  eg_jpeg_image img;
  CHECK_EQ(int(decode(encode(e, pixels), 0, 0, 3, &img)), int(eg_jpeg_status::colour_space));
  e.jpeg_space = JCS_YCCK;
  CHECK_EQ(int(decode(encode(e, pixels), 0, 0, 1, &img)), int(eg_jpeg_status::colour_space));
  CHECK(!img.pixels);
}

TEST("jpeg: an embedded ICC profile other than sRGB is not handled; other APP2 data (MPF) is") {
  Encode e;
  std::vector<uint8_t> icc = {'I', 'C', 'C', '_', 'P', 'R', 'O', 'F', 'I', 'L', 'E', 0, 1, 1};
  icc.resize(600, 0x55);
  eg_jpeg_image img;
  CHECK_EQ(int(decode(with_markers(e, {{JPEG_APP0 + 2, icc}}), 0, 0, 3, &img)), int(eg_jpeg_status::icc_profile));
  const std::vector<uint8_t> mpf = {'M', 'P', 'F', 0, 'I', 'I', 42, 0, 8, 0, 0, 0};
  CHECK_OK_JPEG(decode(with_markers(e, {{JPEG_APP0 + 2, mpf}}), 0, 0, 3, &img));
}

namespace {

void put32(std::vector<uint8_t>& b, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) b[at + i] = uint8_t(v >> (24 - 8 * i));
}

// A minimal ICC profile: 128-byte header (colour space at 16), one tag, 'desc'. v2 stores ASCII text ('desc'
// type), v4 UTF-16BE records ('mluc' type).
std::vector<uint8_t> icc_profile(const char* space, const std::string& text, bool v4) {
  std::vector<uint8_t> p(144, 0);
  std::memcpy(&p[16], space, 4);
  std::memcpy(&p[36], "acsp", 4);
  put32(p, 128, 1);
  std::memcpy(&p[132], "desc", 4);
  put32(p, 136, 144);
  std::vector<uint8_t> tag;
  if (!v4) {
    tag.assign(12, 0);
    std::memcpy(&tag[0], "desc", 4);
    put32(tag, 8, uint32_t(text.size() + 1));
    tag.insert(tag.end(), text.begin(), text.end());
    tag.push_back(0);
  } else {
    tag.assign(28, 0);
    std::memcpy(&tag[0], "mluc", 4);
    put32(tag, 8, 1);
    put32(tag, 12, 12);
    std::memcpy(&tag[16], "enUS", 4);
    put32(tag, 20, uint32_t(text.size() * 2));
    put32(tag, 24, 28);
    for (char ch : text) {
      tag.push_back(0);
      tag.push_back(uint8_t(ch));
    }
  }
  put32(p, 140, uint32_t(tag.size()));
  p.insert(p.end(), tag.begin(), tag.end());
  put32(p, 0, uint32_t(p.size()));
  return p;
}

// The APP2 payload carrying a whole profile in one segment (sequence 1 of 1).
std::vector<uint8_t> icc_segment(const std::vector<uint8_t>& profile) {
  static const uint8_t head[14] = {'I', 'C', 'C', '_', 'P', 'R', 'O', 'F', 'I', 'L', 'E', 0, 1, 1};
  std::vector<uint8_t> s(sizeof head + profile.size());
  std::memcpy(s.data(), head, sizeof head);
  std::memcpy(s.data() + sizeof head, profile.data(), profile.size());
  return s;
}

}  // namespace

TEST("jpeg: an sRGB profile (v2 or v4 description) is decoded as is; Display P3 and grey profiles are not") {
  Encode e;
  eg_jpeg_image plain, img;
  // Full size (the wanted size is the image's), so both buffers hold width x height x 3 bytes.
  CHECK_OK_JPEG(decode(with_markers(e, {}), 16, 16, 3, &plain));
  for (bool v4 : {false, true}) {
    CHECK_OK_JPEG(decode(with_markers(e, {{JPEG_APP0 + 2, icc_segment(icc_profile("RGB ", "sRGB IEC61966-2.1", v4))}}),
                         16, 16, 3, &img));
    CHECK(img.width == 16 && img.height == 16);
    CHECK_EQ(max_diff(img.pixels.get(), plain.pixels.get(), size_t(e.width) * e.height * 3), 0);
    CHECK_EQ(int(decode(with_markers(e, {{JPEG_APP0 + 2, icc_segment(icc_profile("RGB ", "Display P3", v4))}}), 0, 0, 3,
                        &img)),
             int(eg_jpeg_status::icc_profile));
  }
  CHECK_EQ(int(decode(with_markers(e, {{JPEG_APP0 + 2, icc_segment(icc_profile("GRAY", "sRGB grey", false))}}), 0, 0, 3,
                      &img)),
           int(eg_jpeg_status::icc_profile));
}

TEST("jpeg: random damage inside an sRGB profile ends in a status; the plan agrees with the decode") {
  Encode e;
  const auto profile = icc_segment(icc_profile("RGB ", "sRGB IEC61966-2.1", true));
  std::mt19937 gen(7);
  for (int round = 0; round < 2000; ++round) {
    auto damaged = profile;
    for (int f = 0; f < 3; ++f) damaged[14 + gen() % (damaged.size() - 14)] ^= uint8_t(1 + gen() % 255);
    const auto jpeg = with_markers(e, {{JPEG_APP0 + 2, damaged}});
    eg_jpeg_image img;
    engram::eg_jpeg_plan plan;
    const eg_jpeg_status d = decode(jpeg, 8, 8, 3, &img);
    const eg_jpeg_status p = engram::eg_jpeg_plan_decode(jpeg.data(), jpeg.size(), 8, 8, 3, &plan);
    CHECK(is_status(d));
    CHECK_EQ(int(p), int(d));
    if (d == eg_jpeg_status::ok) CHECK(plan.display_width == img.width && plan.display_height == img.height);
  }
}

TEST("jpeg: decoding into a reused buffer gives the same pixels and keeps the buffer") {
  std::vector<uint8_t> buffer;
  for (int round = 0; round < 2; ++round) {
    for (uint32_t want : {40u, 8u}) {
      const auto jpeg = small_jpeg();
      eg_jpeg_image fresh, reused;
      CHECK_OK_JPEG(decode(jpeg, want, want, 3, &fresh));
      const size_t capacity = buffer.capacity();
      CHECK_OK_JPEG(engram::eg_jpeg_decode_reuse(jpeg.data(), jpeg.size(), want, want, 3, &buffer, &reused));
      CHECK(!reused.pixels);
      CHECK(reused.width == fresh.width && reused.height == fresh.height &&
            reused.scale_eighths == fresh.scale_eighths);
      CHECK_EQ(max_diff(buffer.data(), fresh.pixels.get(), size_t(fresh.width) * fresh.height * 3), 0);
      if (round == 1) CHECK(buffer.capacity() == capacity);  // big enough since the first round: not reallocated
    }
  }
  eg_jpeg_image img;
  const auto jpeg = small_jpeg();
  CHECK(engram::eg_jpeg_decode_reuse(jpeg.data(), 10, 8, 8, 3, &buffer, &img) != eg_jpeg_status::ok);  // cut short
}

TEST("jpeg: not a JPEG, empty input and bad channels are refused before libjpeg runs") {
  const std::vector<uint8_t> png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n', 0, 0, 0, 13};
  eg_jpeg_image img;
  CHECK_EQ(int(decode(png, 0, 0, 3, &img)), int(eg_jpeg_status::not_jpeg));
  CHECK_EQ(int(eg_jpeg_decode(png.data(), 0, 0, 0, 3, &img)), int(eg_jpeg_status::not_jpeg));
  CHECK_EQ(int(eg_jpeg_decode(nullptr, 100, 0, 0, 3, &img)), int(eg_jpeg_status::not_jpeg));
  const auto jpeg = small_jpeg();
  for (uint32_t channels : {0u, 2u, 4u})
    CHECK_EQ(int(decode(jpeg, 0, 0, channels, &img)), int(eg_jpeg_status::bad_args));
  CHECK_EQ(int(eg_jpeg_decode(jpeg.data(), jpeg.size(), 0, 0, 3, nullptr)), int(eg_jpeg_status::bad_args));
}

TEST("jpeg: a header claiming more than 100 Mpixel is refused before decoding; height 0 is a libjpeg error") {
  auto jpeg = small_jpeg();
  // SOF0 (FF C0): length(2) precision(1) height(2) width(2).
  size_t sof = 0;
  for (size_t i = 2; i + 1 < jpeg.size(); ++i) {
    if (jpeg[i] == 0xFF && jpeg[i + 1] == 0xC0) {
      sof = i;
      break;
    }
  }
  CHECK(sof != 0);
  auto huge = jpeg;
  huge[sof + 5] = 0x4E, huge[sof + 6] = 0x20;  // height 20000
  huge[sof + 7] = 0x4E, huge[sof + 8] = 0x20;  // width 20000
  eg_jpeg_image img;
  CHECK_EQ(int(decode(huge, 0, 0, 3, &img)), int(eg_jpeg_status::too_large));
  auto zero = jpeg;
  zero[sof + 5] = 0, zero[sof + 6] = 0;
  CHECK_EQ(int(decode(zero, 0, 0, 3, &img)), int(eg_jpeg_status::failed));
}

TEST("jpeg: a progressive JPEG with more scans than the limit is refused") {
  // Every coefficient of every component refined bit by bit: a valid file of 3 x 64 x 11 = 2112 scans.
  Encode e;
  e.width = 16;
  e.height = 16;
  e.progressive = true;
  for (int c = 0; c < 3; ++c) {
    for (int k = 0; k < 64; ++k) {
      e.scans.push_back({1, {c, 0, 0, 0}, k, k, 0, 10});
      for (int a = 10; a >= 1; --a) e.scans.push_back({1, {c, 0, 0, 0}, k, k, a, a - 1});
    }
  }
  CHECK(e.scans.size() > size_t(engram::eg_jpeg_max_scans));
  const auto jpeg = encode(e, eg_jpeg_test::gradient(16, 16));
  eg_jpeg_image img;
  CHECK_EQ(int(decode(jpeg, 0, 0, 3, &img)), int(eg_jpeg_status::too_many_scans));
  // A short custom script decodes.
  Encode two = e;
  two.scans.clear();
  for (int c = 0; c < 3; ++c) {
    two.scans.push_back({1, {c, 0, 0, 0}, 0, 0, 0, 0});
    two.scans.push_back({1, {c, 0, 0, 0}, 1, 63, 0, 0});
  }
  CHECK_OK_JPEG(decode(encode(two, eg_jpeg_test::gradient(16, 16)), 0, 0, 3, &img));
}

TEST("jpeg: every truncation of a JPEG is not handled (a status, no crash)") {
  const auto jpeg = small_jpeg();
  int handled = 0, odd = 0;
  for (size_t n = 0; n < jpeg.size(); ++n) {
    eg_jpeg_image img;
    const eg_jpeg_status s = eg_jpeg_decode(jpeg.data(), n, 0, 0, 3, &img);
    if (s == eg_jpeg_status::ok) ++handled;
    if (!is_status(s)) ++odd;
  }
  CHECK_EQ(handled, 0);
  CHECK_EQ(odd, 0);
}

TEST("jpeg: thousands of random byte flips end in a status, and a handled result has a sane size") {
  const auto jpeg = small_jpeg();
  const char* env = std::getenv("ENGRAM_SEED");
  const uint32_t seed = env ? uint32_t(std::strtoul(env, nullptr, 10)) : std::random_device{}();
  std::printf("    jpeg flips: seed %u (replay with ENGRAM_SEED=%u)\n", seed, seed);
  std::mt19937 gen(seed);
  int counts[16] = {};
  int bad = 0;
  for (int round = 0; round < 4000; ++round) {
    auto damaged = jpeg;
    const int flips = 1 + int(gen() % 4);
    for (int f = 0; f < flips; ++f) damaged[gen() % damaged.size()] ^= uint8_t(1 + gen() % 255);
    const uint32_t want = gen() % 48;
    eg_jpeg_image img;
    const eg_jpeg_status s = decode(damaged, want, want, round % 2 ? 3 : 1, &img);
    if (!is_status(s)) {
      ++bad;
      continue;
    }
    ++counts[int(s)];
    if (s == eg_jpeg_status::ok) {
      // A flip may change the stored size, but never past the limit, and the buffer matches the size.
      const bool sane = img.pixels && img.width > 0 && img.height > 0 &&
                        uint64_t(img.width) * img.height <= engram::eg_jpeg_max_pixels && img.orientation >= 1 &&
                        img.orientation <= 8 && img.scale_eighths >= 1 && img.scale_eighths <= 8;
      if (!sane) ++bad;
    }
  }
  CHECK_EQ(bad, 0);
  std::printf("    jpeg flips: ok %d, failed %d, warning %d, other %d\n", counts[0],
              counts[int(eg_jpeg_status::failed)], counts[int(eg_jpeg_status::warning)],
              4000 - counts[0] - counts[int(eg_jpeg_status::failed)] - counts[int(eg_jpeg_status::warning)]);
}

#else  // built without libjpeg

#include <cstdio>

// A visible line instead of silently running nothing.
static const int eg_jpeg_skip_notice = std::printf("SKIP native jpeg tests: built without libjpeg\n");

#endif
