// EXIF orientation applied to interleaved 8-bit pixels: the stored image turned or mirrored as displayed.
#pragma once
#include <cstddef>
#include <cstdint>

#include "status.h"

namespace engram {

/**
 * Writes `src` (width x height x channels, as stored) into `dst` as displayed under EXIF `orientation` 1..8:
 * 2 mirrored, 3 turned 180 degrees, 4 flipped, 5 transposed, 6 turned 90 degrees clockwise, 7 transversed,
 * 8 turned 90 degrees anticlockwise. For 5..8 `dst` is height x width. bad_geometry for another orientation.
 * src/images/orient.ts is the same mapping in TypeScript.
 */
eg_status eg_orient(const uint8_t* src, size_t width, size_t height, size_t channels, uint32_t orientation,
                    uint8_t* dst);

}  // namespace engram
