// Test JPEGs made in memory with libjpeg's own compressor, so every case states the exact pixels, colour space,
// markers and scan layout it decodes, and no binary fixture has to be kept in the tree.
#pragma once
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include <jpeglib.h>

namespace eg_jpeg_test {

struct Encode {
  int width = 16;
  int height = 16;
  int components = 3;                      // of the input pixels: 1 grey, 3 RGB, 4 CMYK
  J_COLOR_SPACE in_space = JCS_RGB;        // JCS_GRAYSCALE, JCS_RGB or JCS_CMYK
  J_COLOR_SPACE jpeg_space = JCS_UNKNOWN;  // JCS_UNKNOWN: libjpeg's default for in_space
  int quality = 95;
  bool full_chroma = false;  // 4:4:4 instead of libjpeg's default 4:2:0
  bool progressive = false;
  std::vector<jpeg_scan_info> scans;                          // a custom scan script (progressive), when not empty
  std::vector<std::pair<int, std::vector<uint8_t>>> markers;  // (marker, payload) written after the header
};

/** Encodes pixels (width * height * components bytes); a libjpeg error ends the test binary with its message. */
inline std::vector<uint8_t> encode(const Encode& e, const std::vector<uint8_t>& pixels) {
  jpeg_compress_struct c;
  jpeg_error_mgr err;
  c.err = jpeg_std_error(&err);
  jpeg_create_compress(&c);
  unsigned char* out = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&c, &out, &size);
  c.image_width = JDIMENSION(e.width);
  c.image_height = JDIMENSION(e.height);
  c.input_components = e.components;
  c.in_color_space = e.in_space;
  jpeg_set_defaults(&c);
  if (e.jpeg_space != JCS_UNKNOWN) jpeg_set_colorspace(&c, e.jpeg_space);
  jpeg_set_quality(&c, e.quality, TRUE);
  if (e.full_chroma) {
    for (int i = 0; i < c.num_components; ++i) c.comp_info[i].h_samp_factor = c.comp_info[i].v_samp_factor = 1;
  }
  if (e.progressive) jpeg_simple_progression(&c);
  if (!e.scans.empty()) {
    c.scan_info = e.scans.data();
    c.num_scans = int(e.scans.size());
  }
  jpeg_start_compress(&c, TRUE);
  for (const auto& m : e.markers) jpeg_write_marker(&c, m.first, m.second.data(), unsigned(m.second.size()));
  const size_t row = size_t(e.width) * e.components;
  while (c.next_scanline < c.image_height) {
    JSAMPROW r = const_cast<uint8_t*>(pixels.data()) + c.next_scanline * row;
    jpeg_write_scanlines(&c, &r, 1);
  }
  jpeg_finish_compress(&c);
  jpeg_destroy_compress(&c);
  std::vector<uint8_t> bytes(out, out + size);
  std::free(out);
  return bytes;
}

/** width x height x components bytes of one value per component. */
inline std::vector<uint8_t> flat(int width, int height, std::vector<uint8_t> colour) {
  std::vector<uint8_t> p(size_t(width) * height * colour.size());
  for (size_t i = 0; i < p.size(); ++i) p[i] = colour[i % colour.size()];
  return p;
}

/** A smooth RGB gradient (what JPEG keeps almost exactly at high quality). */
inline std::vector<uint8_t> gradient(int width, int height) {
  std::vector<uint8_t> p(size_t(width) * height * 3);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      uint8_t* px = &p[(size_t(y) * width + x) * 3];
      px[0] = uint8_t(40 + 160 * x / (width - 1));
      px[1] = uint8_t(40 + 160 * y / (height - 1));
      px[2] = uint8_t(120);
    }
  }
  return p;
}

/**
 * An APP1 EXIF payload holding an orientation, in either byte order. IFD0 has an ImageWidth entry before the
 * orientation and a DateTime-like entry after, so the reader has to walk the directory.
 */
inline std::vector<uint8_t> exif(uint16_t orientation, bool little_endian, uint16_t type = 3) {
  std::vector<uint8_t> b = {'E', 'x', 'i', 'f', 0, 0};
  const size_t tiff = b.size();
  auto u16 = [&](uint16_t v) {
    if (little_endian) {
      b.push_back(uint8_t(v)), b.push_back(uint8_t(v >> 8));
    } else {
      b.push_back(uint8_t(v >> 8)), b.push_back(uint8_t(v));
    }
  };
  auto u32 = [&](uint32_t v) {
    if (little_endian) {
      u16(uint16_t(v)), u16(uint16_t(v >> 16));
    } else {
      u16(uint16_t(v >> 16)), u16(uint16_t(v));
    }
  };
  b.push_back(little_endian ? 'I' : 'M');
  b.push_back(little_endian ? 'I' : 'M');
  u16(42);
  u32(8);                                                    // IFD0 right after the header
  u16(3);                                                    // entries
  u16(0x0100), u16(4), u32(1), u32(640);                     // ImageWidth LONG
  u16(0x0112), u16(type), u32(1), u16(orientation), u16(0);  // Orientation SHORT, left-justified
  u16(0x0132), u16(2), u32(20), u32(50);                     // DateTime ASCII, stored elsewhere
  u32(0);                                                    // no next IFD
  (void)tiff;
  while (b.size() < 6 + 50 + 20) b.push_back(0);
  return b;
}

}  // namespace eg_jpeg_test
