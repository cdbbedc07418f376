// The serialized form of a Memory (format version 1; docs/memory.md describes it byte by byte):
//   0  "EGBM"   4  u16 version   6  u8 counter bits   7  u8 reserved (0)
//   8  u32 neurons   12  u32 classes   16  u64 payload bytes
//   24 payload: bit rows (ceil(C/8) bytes per neuron, class c at byte c/8 bit c%8), then counter rows
//      (8-bit: C bytes per neuron; 4-bit: ceil(C/2) bytes, even class in the low nibble)
//   end-4  u32 CRC-32 of every byte before it. All integers little-endian.
#include <cstring>

#include "memory.h"

namespace engram {
namespace {

constexpr uint8_t kMagic[4] = {'E', 'G', 'B', 'M'};
constexpr uint64_t kHeader = 24;
constexpr uint64_t kTrailer = 4;

uint64_t bit_row_bytes(uint32_t classes) { return (uint64_t(classes) + 7) / 8; }
uint64_t wire_counter_row_bytes(uint32_t classes, uint32_t counter_bits) {
  return counter_bits == 0 ? 0 : (uint64_t(classes) * counter_bits + 7) / 8;
}
uint64_t payload_bytes(uint32_t neurons, uint32_t classes, uint32_t counter_bits) {
  return uint64_t(neurons) * (bit_row_bytes(classes) + wire_counter_row_bytes(classes, counter_bits));
}

}  // namespace

uint32_t eg_crc32(uint32_t crc, const uint8_t* data, size_t size) {
  static const auto table = [] {
    struct {
      uint32_t v[256];
    } t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t.v[i] = c;
    }
    return t;
  }();
  crc = ~crc;
  for (size_t i = 0; i < size; ++i) crc = table.v[(crc ^ data[i]) & 0xff] ^ (crc >> 8);
  return ~crc;
}

uint64_t Memory::serialized_size() const {
  return kHeader + payload_bytes(neurons_, classes_, counter_bits_) + kTrailer;
}

eg_status Memory::serialize(uint8_t* out, uint64_t size) const {
  if (size != serialized_size()) return eg_status::truncated;
  const uint64_t payload = payload_bytes(neurons_, classes_, counter_bits_);
  std::memcpy(out, kMagic, 4);
  out[4] = uint8_t(kFormatVersion);
  out[5] = uint8_t(kFormatVersion >> 8);
  out[6] = uint8_t(counter_bits_);
  out[7] = 0;
  eg_store_u32le(out + 8, neurons_);
  eg_store_u32le(out + 12, classes_);
  eg_store_u64le(out + 16, payload);
  uint8_t* p = out + kHeader;
  const uint64_t row = bit_row_bytes(classes_);
  for (uint32_t n = 0; n < neurons_; ++n) {
    const uint64_t* words = &bits_[size_t(n) * stride_];
    for (uint64_t i = 0; i < row; ++i) *p++ = uint8_t(words[i / 8] >> (8 * (i % 8)));
  }
  const uint64_t crow = wire_counter_row_bytes(classes_, counter_bits_);
  for (uint32_t n = 0; n < neurons_ && crow; ++n) {
    // The in-memory counter row has the same packing, only longer (capacity >= classes); padding is zero.
    std::memcpy(p, &counters_[size_t(n) * counter_row_bytes()], crow);
    p += crow;
  }
  eg_store_u32le(p, eg_crc32(0, out, size_t(size - kTrailer)));
  return eg_status::ok;
}

eg_status Memory::deserialize(const uint8_t* data, uint64_t size, std::unique_ptr<Memory>* out) {
  if (size < 4 || std::memcmp(data, kMagic, 4) != 0) return eg_status::bad_magic;
  if (size < kHeader + kTrailer) return eg_status::truncated;
  const uint32_t version = uint32_t(data[4]) | uint32_t(data[5]) << 8;
  if (version != kFormatVersion) return eg_status::bad_version;
  const uint32_t counter_bits = data[6];
  const uint32_t neurons = eg_load_u32le(data + 8);
  const uint32_t classes = eg_load_u32le(data + 12);
  const uint64_t payload = eg_load_u64le(data + 16);
  if (eg_load_u32le(data + size - kTrailer) != eg_crc32(0, data, size_t(size - kTrailer))) {
    return eg_status::bad_checksum;
  }
  if (data[7] != 0) return eg_status::inconsistent;
  if ((counter_bits != 0 && counter_bits != 4 && counter_bits != 8) || neurons < 1 || neurons > kMaxNeurons ||
      classes > kMaxClasses) {
    return eg_status::bad_geometry;
  }
  if (payload != payload_bytes(neurons, classes, counter_bits) || size != kHeader + payload + kTrailer) {
    return eg_status::truncated;
  }
  std::unique_ptr<Memory> m;
  eg_status s = create(neurons, counter_bits, classes, &m);
  if (s != eg_status::ok) return s;
  const uint8_t* p = data + kHeader;
  const uint64_t row = bit_row_bytes(classes);
  const uint8_t pad_mask = classes % 8 ? uint8_t(0xff << (classes % 8)) : 0;
  for (uint32_t n = 0; n < neurons; ++n) {
    uint64_t* words = &m->bits_[size_t(n) * m->stride_];
    for (uint64_t i = 0; i < row; ++i) words[i / 8] |= uint64_t(p[i]) << (8 * (i % 8));
    if (row && (p[row - 1] & pad_mask)) return eg_status::inconsistent;
    p += row;
  }
  const uint64_t crow = wire_counter_row_bytes(classes, counter_bits);
  for (uint32_t n = 0; n < neurons && crow; ++n) {
    std::memcpy(&m->counters_[size_t(n) * m->counter_row_bytes()], p, crow);
    if (counter_bits == 4 && classes % 2 && (p[crow - 1] & 0xf0)) return eg_status::inconsistent;
    p += crow;
    for (uint32_t c = 0; c < classes; ++c) {
      if ((m->counter(n, c) > 0) != m->has(n, c)) return eg_status::inconsistent;
    }
  }
  *out = std::move(m);
  return eg_status::ok;
}

}  // namespace engram
