// Serialization: round trip, and every kind of damage is a status, never a crash.
#include <random>
#include <vector>

#include "check.h"
#include "memory.h"

using engram::eg_codes;
using engram::eg_status;
using engram::Memory;

namespace {

std::unique_ptr<Memory> filled(uint32_t bits, uint32_t classes) {
  std::unique_ptr<Memory> m;
  Memory::create(40, bits, classes, &m);
  std::mt19937 gen(7);
  std::vector<uint32_t> codes(30 * 5), labels(30);
  for (auto& v : codes) v = gen() % 40;
  for (auto& v : labels) v = gen() % classes;
  eg_codes c;
  c.idx = codes.data();
  c.len = codes.size();
  c.active = 5;
  c.batch = 30;
  m->store(c, labels.data());
  m->store(c, labels.data());
  return m;
}

std::vector<uint8_t> bytes(const Memory& m) {
  std::vector<uint8_t> out(m.serialized_size());
  m.serialize(out.data(), out.size());
  return out;
}

}  // namespace

TEST("crc32 matches the standard check value") {
  const uint8_t digits[] = {'1', '2', '3', '4', '5', '6', '7', '8', '9'};
  CHECK_EQ(engram::eg_crc32(0, digits, 9), 0xCBF43926u);
}

TEST("serialize then deserialize gives the same bytes, for 0, 4 and 8 counter bits") {
  for (uint32_t bits : {0u, 4u, 8u}) {
    for (uint32_t classes : {1u, 7u, 9u, 70u}) {
      auto m = filled(bits, classes);
      const auto a = bytes(*m);
      std::unique_ptr<Memory> back;
      CHECK_OK(Memory::deserialize(a.data(), a.size(), &back));
      CHECK(back && bytes(*back) == a);
      CHECK_EQ(back->connections(), m->connections());
    }
  }
}

TEST("every single-byte corruption is detected") {
  auto m = filled(4, 9);
  const auto good = bytes(*m);
  for (size_t i = 0; i < good.size(); ++i) {
    for (uint8_t flip : {uint8_t(0x01), uint8_t(0x80), uint8_t(0xff)}) {
      auto bad = good;
      bad[i] ^= flip;
      std::unique_ptr<Memory> out;
      CHECK(Memory::deserialize(bad.data(), bad.size(), &out) != eg_status::ok);
      CHECK(!out);
    }
  }
}

TEST("every truncation and an extra byte are detected") {
  auto m = filled(8, 3);
  const auto good = bytes(*m);
  for (size_t len = 0; len < good.size(); ++len) {
    std::unique_ptr<Memory> out;
    CHECK(Memory::deserialize(good.data(), len, &out) != eg_status::ok);
  }
  auto longer = good;
  longer.push_back(0);
  std::unique_ptr<Memory> out;
  CHECK(Memory::deserialize(longer.data(), longer.size(), &out) != eg_status::ok);
}

TEST("a valid checksum over inconsistent content is still rejected") {
  auto m = filled(8, 3);
  auto b = bytes(*m);
  // set a padding bit in the first bit row (classes 3..7 do not exist), then fix the checksum
  b[24] |= 0x80;
  engram::eg_store_u32le(&b[b.size() - 4], engram::eg_crc32(0, b.data(), b.size() - 4));
  std::unique_ptr<Memory> out;
  CHECK_EQ(int(Memory::deserialize(b.data(), b.size(), &out)), int(eg_status::inconsistent));
  // a counter without its bit
  auto c = bytes(*m);
  const size_t counters = 24 + 40 * 1;
  size_t at = counters;
  while (c[at] != 0) ++at;
  c[at] = 1;
  engram::eg_store_u32le(&c[c.size() - 4], engram::eg_crc32(0, c.data(), c.size() - 4));
  CHECK_EQ(int(Memory::deserialize(c.data(), c.size(), &out)), int(eg_status::inconsistent));
}

TEST("foreign buffers and unknown versions are named as such") {
  const uint8_t junk[] = {'P', 'K', 3, 4, 0, 0, 0, 0};
  std::unique_ptr<Memory> out;
  CHECK_EQ(int(Memory::deserialize(junk, sizeof junk, &out)), int(eg_status::bad_magic));
  auto m = filled(0, 2);
  auto b = bytes(*m);
  b[4] = 2;
  CHECK_EQ(int(Memory::deserialize(b.data(), b.size(), &out)), int(eg_status::bad_version));
}
