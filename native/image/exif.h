// EXIF orientation from a JPEG's APP1 segment: the one EXIF field the image pipeline needs.
#pragma once
#include <cstddef>
#include <cstdint>

namespace engram {

/**
 * EXIF orientation 1..8 from an APP1 payload ("Exif\0\0" then a TIFF header, either byte order), read from
 * tag 0x0112 of IFD0; 1 when the payload is not EXIF, is malformed or holds a value outside 1..8.
 */
uint32_t eg_exif_orientation(const uint8_t* app1, size_t size);

}  // namespace engram
