// The libjpeg side of the fast path. libjpeg reports errors by calling error_exit, which must not return:
// each call into libjpeg happens inside a small step function that set a jump point first and holds no C++
// object with a destructor, so the longjmp back skips nothing that needs cleaning up. The Decoder (libjpeg
// state) and the output pixels belong to eg_jpeg_decode, above every jump point, and are released by RAII.
#include "jpeg.h"

#include <csetjmp>
#include <cstdio>  // jpeglib.h uses FILE and size_t without including their headers
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

#include <jpeglib.h>

#include "exif.h"

namespace engram {
namespace {

constexpr int kExifMarker = JPEG_APP0 + 1;
constexpr int kIccMarker = JPEG_APP0 + 2;
constexpr uint8_t kIccId[12] = {'I', 'C', 'C', '_', 'P', 'R', 'O', 'F', 'I', 'L', 'E', 0};
// Rows handed to jpeg_read_scanlines per call; libjpeg returns at most rec_outbuf_height (<= 4) of them.
constexpr int kRowsPerRead = 16;

// libjpeg's callbacks: errors, warnings and the scan guard all end the decode by jumping back.
[[noreturn]] void on_error(j_common_ptr c);
void on_message(j_common_ptr c, int level);
void on_progress(j_common_ptr c);

// libjpeg state, and where its callbacks jump back to (set by the step running) with the reason.
struct Decoder {
  jpeg_decompress_struct cinfo;
  jpeg_error_mgr err;
  jpeg_progress_mgr progress;
  std::jmp_buf jump;
  eg_jpeg_status status;

  Decoder() {
    std::memset(&cinfo, 0, sizeof cinfo);
    cinfo.err = jpeg_std_error(&err);
    // Before jpeg_create_decompress, which can fail too: libjpeg's default error_exit ends the process.
    err.error_exit = on_error;
    err.emit_message = on_message;
    cinfo.client_data = this;
    status = eg_jpeg_status::ok;
  }
  ~Decoder() { jpeg_destroy_decompress(&cinfo); }  // safe on a zeroed or half-created struct (mem == NULL)
  Decoder(const Decoder&) = delete;
  Decoder& operator=(const Decoder&) = delete;
};

Decoder* owner(j_common_ptr c) { return static_cast<Decoder*>(c->client_data); }

[[noreturn]] void on_error(j_common_ptr c) {
  owner(c)->status = eg_jpeg_status::failed;
  std::longjmp(owner(c)->jump, 1);
}

// level -1 is a warning (corrupt or truncated data, which libjpeg would patch over); >= 0 are trace messages.
void on_message(j_common_ptr c, int level) {
  if (level >= 0) return;
  owner(c)->status = eg_jpeg_status::warning;
  std::longjmp(owner(c)->jump, 1);
}

void on_progress(j_common_ptr c) {
  const j_decompress_ptr d = reinterpret_cast<j_decompress_ptr>(c);
  if (d->input_scan_number <= eg_jpeg_max_scans) return;
  owner(c)->status = eg_jpeg_status::too_many_scans;
  std::longjmp(owner(c)->jump, 1);
}

// ---- steps: each returns false when libjpeg jumped back (d->status says why) -----------------------------------

bool step_header(Decoder* d, const uint8_t* data, size_t size) {
  if (setjmp(d->jump)) return false;
  jpeg_create_decompress(&d->cinfo);
  jpeg_mem_src(&d->cinfo, data, static_cast<unsigned long>(size));
  jpeg_save_markers(&d->cinfo, kExifMarker, 0xFFFF);
  // Whole APP2 segments: an ICC profile is read to tell sRGB (decoded as is) from other profiles.
  jpeg_save_markers(&d->cinfo, kIccMarker, 0xFFFF);
  jpeg_read_header(&d->cinfo, TRUE);
  // The scan guard, for progressive files only (the header stops at the first scan; the rest are read when
  // decoding starts): a baseline file has one scan, and the monitor would run on every row of it.
  if (d->cinfo.progressive_mode) {
    d->progress.progress_monitor = on_progress;
    d->cinfo.progress = &d->progress;
  }
  return true;
}

// Smallest M/8 whose output covers want_width x want_height (stored orientation), else 1/1.
bool step_scale(Decoder* d, uint32_t want_width, uint32_t want_height) {
  if (setjmp(d->jump)) return false;
  d->cinfo.scale_denom = 8;
  for (unsigned m = 1; m <= 8; ++m) {
    d->cinfo.scale_num = m;
    jpeg_calc_output_dimensions(&d->cinfo);
    if (d->cinfo.output_width >= want_width && d->cinfo.output_height >= want_height) return true;
  }
  return true;  // M = 8 is the last one tried: never upscale in the decoder
}

bool step_pixels(Decoder* d, uint8_t* pixels, size_t row_bytes) {
  if (setjmp(d->jump)) return false;
  jpeg_start_decompress(&d->cinfo);
  JSAMPROW rows[kRowsPerRead];
  while (d->cinfo.output_scanline < d->cinfo.output_height) {
    const JDIMENSION first = d->cinfo.output_scanline;
    const JDIMENSION left = d->cinfo.output_height - first;
    const JDIMENSION n = left < kRowsPerRead ? left : kRowsPerRead;
    for (JDIMENSION i = 0; i < n; ++i) rows[i] = pixels + size_t(first + i) * row_bytes;
    jpeg_read_scanlines(&d->cinfo, rows, n);
  }
  // Reads on to the EOI marker, so data missing after the last row is noticed too (a warning).
  jpeg_finish_decompress(&d->cinfo);
  return true;
}

bool has_icc_profile(const jpeg_decompress_struct& cinfo) {
  for (jpeg_saved_marker_ptr m = cinfo.marker_list; m; m = m->next) {
    if (m->marker == kIccMarker && m->data_length >= sizeof kIccId &&
        std::memcmp(m->data, kIccId, sizeof kIccId) == 0) {
      return true;
    }
  }
  return false;
}

uint32_t be32(const uint8_t* p) { return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3]; }

// Whether an ICC profile describes sRGB: an RGB profile whose description ('desc' tag, ICC v2 text or v4
// multi-localised Unicode) names sRGB. Those need no colour conversion for a model trained on sRGB images.
bool icc_is_srgb(const uint8_t* icc, size_t size) {
  if (size < 132 || std::memcmp(icc + 16, "RGB ", 4) != 0) return false;
  const uint32_t tags = be32(icc + 128);
  if (tags > (size - 132) / 12) return false;
  for (uint32_t i = 0; i < tags; ++i) {
    const uint8_t* entry = icc + 132 + size_t(i) * 12;
    if (std::memcmp(entry, "desc", 4) != 0) continue;
    const uint32_t off = be32(entry + 4), len = be32(entry + 8);
    if (off > size || len > size - off || len < 12) return false;
    const uint8_t* tag = icc + off;
    std::string text;
    if (std::memcmp(tag, "desc", 4) == 0) {
      const uint32_t n = be32(tag + 8);
      if (n > len - 12) return false;
      text.assign(reinterpret_cast<const char*>(tag + 12), n);
    } else if (std::memcmp(tag, "mluc", 4) == 0 && len >= 28) {
      // First record: language, country, length and offset (from the tag start) of a UTF-16BE string.
      const uint32_t n = be32(tag + 20), at = be32(tag + 24);
      if (at > len || n > len - at) return false;
      for (uint32_t k = 0; k + 1 < n; k += 2) {
        if (tag[at + k] == 0) text.push_back(char(tag[at + k + 1]));
      }
    } else {
      return false;
    }
    return text.find("sRGB") != std::string::npos;
  }
  return false;
}

// No profile, or an sRGB one: the pixels can be used as they are.
bool srgb_or_no_profile(Decoder* d) {
  if (!has_icc_profile(d->cinfo)) return true;
#ifdef LIBJPEG_TURBO_VERSION
  if (setjmp(d->jump)) return false;
  JOCTET* icc = nullptr;
  unsigned int size = 0;
  if (!jpeg_read_icc_profile(&d->cinfo, &icc, &size) || !icc) return false;
  const bool srgb = icc_is_srgb(icc, size);
  std::free(icc);
  return srgb;
#else
  return false;  // reassembling a profile needs libjpeg-turbo's jpeg_read_icc_profile
#endif
}

uint32_t orientation(const jpeg_decompress_struct& cinfo) {
  for (jpeg_saved_marker_ptr m = cinfo.marker_list; m; m = m->next) {
    if (m->marker != kExifMarker) continue;
    const uint32_t o = eg_exif_orientation(m->data, m->data_length);
    if (o != 1 || (m->data_length >= 6 && std::memcmp(m->data, "Exif\0\0", 6) == 0)) return o;
  }
  return 1;
}

#define EG_STRINGIZE2(x) #x
#define EG_STRINGIZE(x) EG_STRINGIZE2(x)

}  // namespace

const char* eg_jpeg_version() {
#ifdef LIBJPEG_TURBO_VERSION
  return "libjpeg-turbo " EG_STRINGIZE(LIBJPEG_TURBO_VERSION) " (libjpeg API " EG_STRINGIZE(JPEG_LIB_VERSION) ")";
#else
  return "libjpeg (API " EG_STRINGIZE(JPEG_LIB_VERSION) ")";
#endif
}

namespace {

// Header, checks and scale choice, shared by the plan and the decode; leaves the decoder ready to start.
eg_jpeg_status prepare(Decoder* d, const uint8_t* data, size_t size, uint32_t min_width, uint32_t min_height,
                       uint32_t channels, uint32_t* orient) {
  if (channels != 1 && channels != 3) return eg_jpeg_status::bad_args;
  // Not a JPEG: answer without waking libjpeg (PNG, WebP and the rest go straight to the general path).
  if (!data || size < 4 || data[0] != 0xFF || data[1] != 0xD8 || data[2] != 0xFF) return eg_jpeg_status::not_jpeg;
  if (!step_header(d, data, size)) return d->status;
  jpeg_decompress_struct& c = d->cinfo;
  // A width or height of 0 never gets here: libjpeg refuses it in the header (JERR_EMPTY_IMAGE -> failed).
  if (uint64_t(c.image_width) * c.image_height > eg_jpeg_max_pixels) return eg_jpeg_status::too_large;
  const bool plain = (c.jpeg_color_space == JCS_GRAYSCALE && c.num_components == 1) ||
                     ((c.jpeg_color_space == JCS_YCbCr || c.jpeg_color_space == JCS_RGB) && c.num_components == 3);
  if (!plain) return eg_jpeg_status::colour_space;
  if (!srgb_or_no_profile(d)) return d->status != eg_jpeg_status::ok ? d->status : eg_jpeg_status::icc_profile;

  const uint32_t o = orientation(c);
  const bool transposed = o >= 5;
  c.out_color_space = channels == 3 ? JCS_RGB : JCS_GRAYSCALE;
  c.dct_method = JDCT_ISLOW;
  c.do_fancy_upsampling = TRUE;
  if (!step_scale(d, transposed ? min_height : min_width, transposed ? min_width : min_height)) return d->status;
  *orient = o;
  return eg_jpeg_status::ok;
}

}  // namespace

eg_jpeg_status eg_jpeg_plan_decode(const uint8_t* data, size_t size, uint32_t min_width, uint32_t min_height,
                                   uint32_t channels, eg_jpeg_plan* out) {
  if (!out) return eg_jpeg_status::bad_args;
  Decoder d;
  uint32_t o = 1;
  const eg_jpeg_status s = prepare(&d, data, size, min_width, min_height, channels, &o);
  if (s != eg_jpeg_status::ok) return s;
  const bool transposed = o >= 5;
  out->display_width = transposed ? d.cinfo.output_height : d.cinfo.output_width;
  out->display_height = transposed ? d.cinfo.output_width : d.cinfo.output_height;
  out->orientation = o;
  out->scale_eighths = d.cinfo.scale_num;
  return eg_jpeg_status::ok;
}

namespace {

// Decodes after prepare() into pixels (row_bytes * height bytes, sized by the caller for this plan).
eg_jpeg_status decode_pixels(Decoder* d, uint8_t* pixels, uint32_t width, uint32_t height, uint32_t channels) {
  if (!step_pixels(d, pixels, size_t(width) * channels)) return d->status;
  // start_decompress recomputes the output size; it must be the one the buffer was sized for.
  const jpeg_decompress_struct& c = d->cinfo;
  if (c.output_width != width || c.output_height != height || uint32_t(c.output_components) != channels) {
    return eg_jpeg_status::failed;
  }
  return eg_jpeg_status::ok;
}

void describe(const Decoder& d, uint32_t channels, uint32_t orientation, eg_jpeg_image* out) {
  out->width = d.cinfo.output_width;
  out->height = d.cinfo.output_height;
  out->channels = channels;
  out->orientation = orientation;
  out->scale_eighths = d.cinfo.scale_num;
}

}  // namespace

namespace {

// The decode shared by both entry points; `alloc(bytes)` returns where the pixels go (nullptr: no memory).
template <typename Alloc>
eg_jpeg_status decode_with(const uint8_t* data, size_t size, uint32_t min_width, uint32_t min_height, uint32_t channels,
                           eg_jpeg_image* out, Alloc alloc) {
  if (!out) return eg_jpeg_status::bad_args;
  Decoder d;
  uint32_t o = 1;
  const eg_jpeg_status s = prepare(&d, data, size, min_width, min_height, channels, &o);
  if (s != eg_jpeg_status::ok) return s;
  const uint32_t width = d.cinfo.output_width, height = d.cinfo.output_height;
  uint8_t* pixels = alloc(size_t(width) * channels * height);
  if (!pixels) return eg_jpeg_status::no_memory;
  const eg_jpeg_status r = decode_pixels(&d, pixels, width, height, channels);
  if (r != eg_jpeg_status::ok) return r;
  describe(d, channels, o, out);
  return eg_jpeg_status::ok;
}

}  // namespace

eg_jpeg_status eg_jpeg_decode(const uint8_t* data, size_t size, uint32_t min_width, uint32_t min_height,
                              uint32_t channels, eg_jpeg_image* out) {
  std::unique_ptr<uint8_t[]> pixels;
  const eg_jpeg_status s = decode_with(data, size, min_width, min_height, channels, out, [&](size_t bytes) {
    pixels.reset(new (std::nothrow) uint8_t[bytes]);
    return pixels.get();
  });
  if (s == eg_jpeg_status::ok) out->pixels = std::move(pixels);
  return s;
}

eg_jpeg_status eg_jpeg_decode_reuse(const uint8_t* data, size_t size, uint32_t min_width, uint32_t min_height,
                                    uint32_t channels, std::vector<uint8_t>* buffer, eg_jpeg_image* out) {
  if (!buffer) return eg_jpeg_status::bad_args;
  return decode_with(data, size, min_width, min_height, channels, out, [&](size_t bytes) -> uint8_t* {
    if (buffer->size() < bytes) {
      try {
        buffer->resize(bytes);
      } catch (const std::bad_alloc&) {
        return nullptr;
      }
    }
    return buffer->data();
  });
}

const char* eg_jpeg_status_message(eg_jpeg_status s) {
  switch (s) {
    case eg_jpeg_status::ok: return "ok";
    case eg_jpeg_status::bad_args: return "bad arguments";
    case eg_jpeg_status::not_jpeg: return "not a JPEG";
    case eg_jpeg_status::failed: return "libjpeg error";
    case eg_jpeg_status::warning: return "corrupt or truncated JPEG data";
    case eg_jpeg_status::colour_space: return "CMYK, YCCK or unknown colour space";
    case eg_jpeg_status::icc_profile: return "embedded ICC profile other than sRGB";
    case eg_jpeg_status::too_large: return "too many pixels";
    case eg_jpeg_status::too_many_scans: return "too many progressive scans";
    case eg_jpeg_status::no_memory: return "out of memory";
  }
  return "unknown status";
}

}  // namespace engram
