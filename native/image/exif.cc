// Reads one SHORT (tag 0x0112) from IFD0 of the TIFF structure inside an EXIF APP1 segment. Every offset
// comes from the file, so every read is checked against the payload size before it happens.
#include "exif.h"

namespace engram {
namespace {

constexpr uint8_t kExifId[6] = {'E', 'x', 'i', 'f', 0, 0};
constexpr uint16_t kTagOrientation = 0x0112;
constexpr uint16_t kTypeShort = 3;
constexpr size_t kEntrySize = 12;

// The TIFF body with its byte order; reads return false instead of running past the end.
struct Tiff {
  const uint8_t* p;
  size_t size;
  bool little;

  bool u16(size_t at, uint16_t* v) const {
    if (at > size || size - at < 2) return false;
    *v = little ? uint16_t(p[at] | p[at + 1] << 8) : uint16_t(p[at] << 8 | p[at + 1]);
    return true;
  }
  bool u32(size_t at, uint32_t* v) const {
    if (at > size || size - at < 4) return false;
    const uint32_t b0 = p[at], b1 = p[at + 1], b2 = p[at + 2], b3 = p[at + 3];
    *v = little ? (b0 | b1 << 8 | b2 << 16 | b3 << 24) : (b0 << 24 | b1 << 16 | b2 << 8 | b3);
    return true;
  }
};

}  // namespace

uint32_t eg_exif_orientation(const uint8_t* app1, size_t size) {
  if (!app1 || size < sizeof kExifId + 8) return 1;
  for (size_t i = 0; i < sizeof kExifId; ++i) {
    if (app1[i] != kExifId[i]) return 1;
  }
  Tiff t{app1 + sizeof kExifId, size - sizeof kExifId, true};
  if (t.p[0] == 'I' && t.p[1] == 'I') {
    t.little = true;
  } else if (t.p[0] == 'M' && t.p[1] == 'M') {
    t.little = false;
  } else {
    return 1;
  }
  uint16_t magic = 0;
  uint32_t ifd = 0;
  if (!t.u16(2, &magic) || magic != 42 || !t.u32(4, &ifd)) return 1;
  uint16_t count = 0;
  if (!t.u16(ifd, &count)) return 1;
  for (uint32_t i = 0; i < count; ++i) {
    const size_t entry = size_t(ifd) + 2 + size_t(i) * kEntrySize;
    uint16_t tag = 0, type = 0;
    uint32_t n = 0;
    if (!t.u16(entry, &tag) || !t.u16(entry + 2, &type) || !t.u32(entry + 4, &n)) return 1;
    if (tag != kTagOrientation) continue;
    uint16_t value = 0;
    // A single SHORT sits left-justified in the 4-byte value field, in either byte order.
    if (type != kTypeShort || n != 1 || !t.u16(entry + 8, &value)) return 1;
    return value >= 1 && value <= 8 ? value : 1;
  }
  return 1;
}

}  // namespace engram
