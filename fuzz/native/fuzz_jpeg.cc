// libFuzzer harness: the JPEG fast path on arbitrary bytes. The first 4 bytes choose the wanted size and the
// channels; the rest is the file. Plan, decode, the reusing decode, EXIF orientation and the orientation
// transform must never crash, leak or read out of bounds, and must agree with each other.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "exif.h"
#include "jpeg.h"
#include "orient.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 4) return 0;
  const uint32_t min_width = data[0] * 4u;
  const uint32_t min_height = data[1] * 4u;
  const uint32_t channels = (data[2] & 1) ? 3 : 1;
  const bool exif_only = data[3] == 0xE1;
  data += 4;
  size -= 4;
  if (exif_only) {
    const uint32_t o = engram::eg_exif_orientation(data, size);
    if (o < 1 || o > 8) std::abort();
    return 0;
  }
  engram::eg_jpeg_plan plan;
  const engram::eg_jpeg_status planned =
      engram::eg_jpeg_plan_decode(data, size, min_width, min_height, channels, &plan);
  engram::eg_jpeg_image image;
  const engram::eg_jpeg_status decoded = engram::eg_jpeg_decode(data, size, min_width, min_height, channels, &image);
  if (decoded == engram::eg_jpeg_status::ok) {
    // The plan is made from the header alone; a decode that succeeds was planned, with the same size.
    if (planned != engram::eg_jpeg_status::ok) std::abort();
    const bool transposed = image.orientation >= 5;
    if ((transposed ? image.height : image.width) != plan.display_width) std::abort();
    if ((transposed ? image.width : image.height) != plan.display_height) std::abort();
    std::vector<uint8_t> turned(size_t(image.width) * image.height * image.channels);
    if (engram::eg_orient(image.pixels.get(), image.width, image.height, image.channels, image.orientation,
                          turned.data()) != engram::eg_status::ok) {
      std::abort();
    }
  }
  std::vector<uint8_t> buffer;
  engram::eg_jpeg_image reused;
  const engram::eg_jpeg_status again =
      engram::eg_jpeg_decode_reuse(data, size, min_width, min_height, channels, &buffer, &reused);
  if (again != decoded) std::abort();
  return 0;
}
