// The learner's life cycle at the core level, many times over (run under ASan/UBSan/LSan by test:sanitize):
// encode features with pq_encode (learn), store with refinement on error, score (predict), serialize and
// reload (save/open), prune, clear a class (forget); the reloaded memory must answer exactly as the live one.
#include <memory>
#include <random>
#include <vector>

#include "check.h"
#include "memory.h"
#include "pq.h"

using engram::eg_codes;
using engram::eg_status;
using engram::Memory;

namespace {

constexpr size_t kDims = 32, kParts = 8, kAnchors = 16, kProbes = 2, kActive = kParts * kProbes;

eg_codes fixed(const std::vector<uint32_t>& idx) {
  eg_codes c;
  c.idx = idx.data();
  c.len = idx.size();
  c.active = kActive;
  c.batch = idx.size() / kActive;
  return c;
}

}  // namespace

TEST("learn / predict / save / reload / prune / forget loop keeps the live and reloaded memories equal") {
  std::mt19937 rng(20261127);
  std::normal_distribution<float> noise(0.f, 0.3f);
  std::uniform_real_distribution<float> uni(-1.f, 1.f);
  std::vector<float> anchors(kParts * kAnchors * (kDims / kParts));
  for (auto& a : anchors) a = uni(rng);

  std::unique_ptr<Memory> live;
  CHECK_OK(Memory::create(uint32_t(kParts * kAnchors), 4, 0, &live));
  std::vector<std::vector<float>> centres;
  for (int round = 0; round < 60; ++round) {
    // A new class every few rounds; examples of a random existing class otherwise.
    if (centres.empty() || round % 4 == 0) {
      std::vector<float> c(kDims);
      for (auto& v : c) v = uni(rng);
      centres.push_back(c);
      uint32_t first = 0;
      CHECK_OK(live->add_classes(1, &first));
      CHECK_EQ(first, uint32_t(centres.size() - 1));
    }
    const uint32_t cls = uint32_t(rng() % centres.size());
    const size_t batch = 1 + rng() % 8;
    std::vector<float> x(batch * kDims);
    for (size_t b = 0; b < batch; ++b)
      for (size_t d = 0; d < kDims; ++d) x[b * kDims + d] = centres[cls][d] + noise(rng);
    std::vector<uint32_t> codes(batch * kActive);
    CHECK_OK(engram::eg_pq_encode(x.data(), anchors.data(), batch, kDims, kParts, kAnchors, kProbes, codes.data()));

    // Predict before storing; refine when a wrong class wins.
    std::vector<int32_t> scores(batch * live->classes());
    CHECK_OK(live->score(fixed(codes), scores.data()));
    for (size_t b = 0; b < batch; ++b) {
      uint32_t best = 0;
      for (uint32_t c = 1; c < live->classes(); ++c)
        if (scores[b * live->classes() + c] > scores[b * live->classes() + best]) best = c;
      if (best != cls) {
        std::vector<uint32_t> one(codes.begin() + b * kActive, codes.begin() + (b + 1) * kActive);
        engram::eg_adjust_result r;
        CHECK_OK(live->adjust(fixed(one), &best, -1, &r));
      }
    }
    std::vector<uint32_t> labels(batch, cls);
    CHECK_OK(live->store(fixed(codes), labels.data()));

    // Save and reload; the reloaded memory must score exactly like the live one.
    std::vector<uint8_t> saved(live->serialized_size());
    CHECK_OK(live->serialize(saved.data(), saved.size()));
    std::unique_ptr<Memory> reloaded;
    CHECK_OK(Memory::deserialize(saved.data(), saved.size(), &reloaded));
    std::vector<int32_t> a(batch * live->classes()), b(batch * live->classes());
    CHECK_OK(live->score(fixed(codes), a.data()));
    CHECK_OK(reloaded->score(fixed(codes), b.data()));
    CHECK(a == b);

    // Carry on with the reloaded memory, as a device does after a restart.
    live = std::move(reloaded);
    if (round % 10 == 9) {
      uint64_t removed = 0;
      CHECK_OK(live->prune_min_count(2, &removed));
      CHECK_OK(live->clear_class(uint32_t(rng() % live->classes()), &removed));
    }
  }
  CHECK(live->classes() == centres.size());
}
