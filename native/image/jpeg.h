// JPEG fast path: libjpeg-turbo decodes a JPEG held in memory straight into interleaved 8-bit pixels, at the
// smallest DCT scale that still covers the size the caller wants. Anything it cannot decode exactly the way the
// general path (sharp/libvips) would, it reports as not handled, so the caller falls back; it never throws.
// Compiled only when libjpeg is found (ENGRAM_HAVE_JPEG); the rest of the code asks that macro first.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace engram {

enum class eg_jpeg_status : int {
  ok = 0,
  bad_args,        // no output, or channels not 1 or 3
  not_jpeg,        // no data, or it does not start with the JPEG SOI marker
  failed,          // libjpeg stopped with an error (bad header, width or height 0, unsupported feature, ...)
  warning,         // libjpeg warned (truncated or corrupt data): the pixels would not be trustworthy
  colour_space,    // CMYK, YCCK or an unknown component layout: needs conversion the fast path does not do
  icc_profile,     // an embedded ICC profile other than sRGB: exact colour needs colour management
  too_large,       // more than eg_jpeg_max_pixels stored pixels
  too_many_scans,  // a progressive image with more than eg_jpeg_max_scans scans
  no_memory,       // the output could not be allocated
};

/** Stored images above this many pixels are left to the general path (which applies its own limit). */
constexpr uint64_t eg_jpeg_max_pixels = 100000000;

/** Progressive images with more scans than this are refused: a file of many tiny scans is a CPU bomb. */
constexpr int eg_jpeg_max_scans = 1000;

/** A decoded image: width * height * channels bytes, rows top to bottom, as stored (orientation not applied). */
struct eg_jpeg_image {
  std::unique_ptr<uint8_t[]> pixels;
  uint32_t width = 0;
  uint32_t height = 0;
  uint32_t channels = 0;
  /** EXIF orientation 1..8 (1 when absent or unreadable); 5..8 mean the stored image is transposed. */
  uint32_t orientation = 1;
  /** The DCT scale used is scale_eighths / 8, in 1..8. */
  uint32_t scale_eighths = 8;
};

/** What a decode would produce, read from the header alone (no pixels decoded). */
struct eg_jpeg_plan {
  /** Size after EXIF orientation: what the caller resizes from. */
  uint32_t display_width = 0;
  uint32_t display_height = 0;
  uint32_t orientation = 1;
  uint32_t scale_eighths = 8;
};

/**
 * Reads the header of data[0, size) and answers what eg_jpeg_decode would do with the same arguments: the
 * same status (a decode can still fail later on damaged entropy-coded data) and, on ok, the displayed size
 * it would produce. Costs a header parse, not a decode.
 */
eg_jpeg_status eg_jpeg_plan_decode(const uint8_t* data, size_t size, uint32_t min_width, uint32_t min_height,
                                   uint32_t channels, eg_jpeg_plan* out);

/** "libjpeg-turbo 2.1.5 (libjpeg API 62)": the libjpeg headers this was compiled with. */
const char* eg_jpeg_version();

/**
 * Decodes data[0, size) into out. min_width x min_height is the smallest DISPLAYED size the caller needs (after
 * EXIF orientation); the decoder picks the smallest scale M/8 whose output still covers it, and 1/1 when even
 * that does not. channels: 1 (grey) or 3 (RGB; grey JPEGs are expanded). Returns ok or why it was not handled;
 * out is only written on ok.
 */
eg_jpeg_status eg_jpeg_decode(const uint8_t* data, size_t size, uint32_t min_width, uint32_t min_height,
                              uint32_t channels, eg_jpeg_image* out);

/**
 * As eg_jpeg_decode, but the pixels go to the front of *buffer, which is grown when too small and never
 * shrunk, so a worker thread can reuse one buffer for every image; out->pixels stays empty.
 */
eg_jpeg_status eg_jpeg_decode_reuse(const uint8_t* data, size_t size, uint32_t min_width, uint32_t min_height,
                                    uint32_t channels, std::vector<uint8_t>* buffer, eg_jpeg_image* out);

/** A short English description of a status. */
const char* eg_jpeg_status_message(eg_jpeg_status s);

}  // namespace engram
