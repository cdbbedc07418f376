// SIMD kernels give exactly the scalar reference's scores, across class counts that exercise tails.
#include <random>
#include <vector>

#include "check.h"
#include "memory.h"

using engram::eg_codes;
using engram::eg_status;
using engram::Memory;

TEST("portability helpers: popcount and ctz") {
  CHECK_EQ(engram::eg_popcount64(0), 0);
  CHECK_EQ(engram::eg_popcount64(~uint64_t(0)), 64);
  CHECK_EQ(engram::eg_ctz64(uint64_t(1) << 63), 63);
  CHECK_EQ(engram::eg_ctz64(12), 2);
  CHECK_EQ(engram::eg_sum_levels(0), 0u);
  CHECK_EQ(engram::eg_sum_levels(64), 7u);
}

TEST("SIMD scores equal scalar scores on random memories") {
  const engram::eg_kernels* simd = engram::eg_kernels_simd();
  if (!simd) {
    std::printf("    no SIMD kernels on this build/CPU: comparing scalar with itself only\n");
    simd = &engram::eg_kernels_scalar();
  }
  std::mt19937 gen(12345);
  const uint32_t class_counts[] = {1, 7, 63, 64, 65, 127, 200, 256, 257, 511, 1000};
  for (uint32_t classes : class_counts) {
    std::unique_ptr<Memory> m;
    CHECK_OK(Memory::create(512, 0, classes, &m));
    const uint32_t active = 1 + gen() % 80;
    std::vector<uint32_t> codes(200 * active), labels(200);
    for (auto& v : codes) v = gen() % 512;
    for (auto& v : labels) v = gen() % classes;
    eg_codes c;
    c.idx = codes.data();
    c.len = codes.size();
    c.active = active;
    c.batch = 200;
    CHECK_OK(m->store(c, labels.data()));
    std::vector<int32_t> a(200 * classes), b(200 * classes);
    CHECK_OK(m->score_with(engram::eg_kernels_scalar(), c, a.data()));
    CHECK_OK(m->score_with(*simd, c, b.data()));
    CHECK(a == b);
    // and the scalar kernel matches a direct count
    for (uint32_t k = 0; k < classes; ++k) {
      int32_t direct = 0;
      for (uint32_t i = 0; i < active; ++i) direct += m->has(codes[i], k) ? 1 : 0;
      CHECK_EQ(a[k], direct);
    }
  }
}

TEST("SIMD counter sums equal scalar ones on rows of any length, read to the row's end and no further") {
  const engram::eg_kernels* simd = engram::eg_kernels_simd();
  if (!simd) {
    std::printf("    no SIMD kernels on this build/CPU: comparing scalar with itself only\n");
    simd = &engram::eg_kernels_scalar();
  }
  std::mt19937 gen(20261204);
  // Rows as long as the class count (no padding: the last classes of a row are a scalar tail) and padded to
  // the next 64 (the vectors read past the last class but inside the row). The plane ends with the last row,
  // which every code lists, so AddressSanitizer sees any read past a row's end.
  for (uint32_t classes : {1u, 5u, 15u, 16u, 17u, 40u, 63u, 64u, 100u, 2050u}) {
    for (size_t row_bytes : {size_t(classes), (size_t(classes) + 63) / 64 * 64}) {
      const uint32_t rows = 40;
      std::vector<uint8_t> plane(rows * row_bytes);
      for (auto& v : plane) v = uint8_t(gen() % 4 == 0 ? 255 : gen() % 256);
      std::vector<uint32_t> idx(300);
      for (auto& v : idx) v = gen() % rows;
      idx[idx.size() / 2] = rows - 1;
      std::vector<int32_t> want(classes), got(classes, -1);
      engram::eg_kernels_scalar().count8(plane.data(), row_bytes, idx.data(), idx.size(), classes, want.data());
      for (uint32_t c = 0; c < classes; ++c) {
        int32_t direct = 0;
        for (uint32_t i : idx) direct += plane[size_t(i) * row_bytes + c];
        CHECK_EQ(want[c], direct);
      }
      simd->count8(plane.data(), row_bytes, idx.data(), idx.size(), classes, got.data());
      CHECK(got == want);
      if (got != want) std::printf("    classes %u row_bytes %zu differ\n", classes, row_bytes);
    }
  }
}
