// Product-quantization encoder: nearest anchors per part, ordering of probes, ties to the lower index.
#include <vector>

#include "check.h"
#include "pq.h"

TEST("pq_encode picks the nearest anchors of each part, nearest first") {
  // dims 4, parts 2 (2 floats each), 3 anchors per part
  const std::vector<float> anchors = {0, 0, 1,  1,  5, 5,   // part 0
                                      0, 0, -1, -1, 9, 9};  // part 1
  const std::vector<float> x = {0.9f, 1.2f, 8, 8};
  std::vector<uint32_t> out(2 * 2);
  CHECK_OK(engram::eg_pq_encode(x.data(), anchors.data(), 1, 4, 2, 3, 2, out.data()));
  CHECK(out == (std::vector<uint32_t>{1, 0, 5, 3}));
}

TEST("pq_encode breaks distance ties toward the lower anchor") {
  const std::vector<float> anchors = {1, -1, 1};  // dims 1, parts 1, 3 anchors: 1 and 1 tie
  const std::vector<float> x = {0.5f};
  std::vector<uint32_t> out(3);
  CHECK_OK(engram::eg_pq_encode(x.data(), anchors.data(), 1, 1, 1, 3, 3, out.data()));
  CHECK(out == (std::vector<uint32_t>{0, 2, 1}));
}

TEST("pq_encode rejects impossible shapes") {
  const float f[4] = {0, 0, 0, 0};
  uint32_t out[4];
  CHECK_EQ(int(engram::eg_pq_encode(f, f, 1, 4, 3, 1, 1, out)), int(engram::eg_status::bad_geometry));
  CHECK_EQ(int(engram::eg_pq_encode(f, f, 1, 4, 2, 1, 2, out)), int(engram::eg_status::bad_geometry));
  CHECK_EQ(int(engram::eg_pq_encode(f, f, 1, 4, 0, 1, 1, out)), int(engram::eg_status::bad_geometry));
}
