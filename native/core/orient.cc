// The eight EXIF orientations as index maps, written the way src/images/orient.ts writes them.
#include "orient.h"

#include <cstring>

namespace engram {

eg_status eg_orient(const uint8_t* src, size_t width, size_t height, size_t channels, uint32_t orientation,
                    uint8_t* dst) {
  if (orientation < 1 || orientation > 8 || channels == 0) return eg_status::bad_geometry;
  const size_t w = width, h = height, c = channels;
  if (orientation == 1) {
    std::memcpy(dst, src, w * h * c);
    return eg_status::ok;
  }
  const bool swap = orientation >= 5;
  const size_t ow = swap ? h : w;
  const size_t oh = swap ? w : h;
  for (size_t y = 0; y < oh; ++y) {
    for (size_t x = 0; x < ow; ++x) {
      // The stored pixel shown at (x, y).
      size_t sx, sy;
      switch (orientation) {
        case 2:
          sx = w - 1 - x;
          sy = y;
          break;
        case 3:
          sx = w - 1 - x;
          sy = h - 1 - y;
          break;
        case 4:
          sx = x;
          sy = h - 1 - y;
          break;
        case 5:
          sx = y;
          sy = x;
          break;
        case 6:
          sx = y;
          sy = h - 1 - x;
          break;
        case 7:
          sx = w - 1 - y;
          sy = h - 1 - x;
          break;
        default:
          sx = w - 1 - y;
          sy = x;
          break;
      }
      std::memcpy(dst + (y * ow + x) * c, src + (sy * w + sx) * c, c);
    }
  }
  return eg_status::ok;
}

}  // namespace engram
