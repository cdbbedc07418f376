// Core memory: geometry, store/score, growth, counters, adjust, pruning, statistics, merge.
#include <algorithm>
#include <random>
#include <vector>

#include "check.h"
#include "memory.h"

using engram::eg_codes;
using engram::eg_status;
using engram::Memory;

namespace {

std::unique_ptr<Memory> make(uint32_t neurons, uint32_t bits, uint32_t classes) {
  std::unique_ptr<Memory> m;
  if (Memory::create(neurons, bits, classes, &m) != eg_status::ok) std::abort();
  return m;
}

eg_codes fixed(const std::vector<uint32_t>& idx, uint32_t active) {
  eg_codes c;
  c.idx = idx.data();
  c.len = idx.size();
  c.active = active;
  c.batch = idx.size() / active;
  return c;
}

std::vector<int32_t> score(const Memory& m, const std::vector<uint32_t>& idx, uint32_t active) {
  std::vector<int32_t> out(idx.size() / active * m.classes());
  if (m.score(fixed(idx, active), out.data()) != eg_status::ok) out.clear();
  return out;
}

}  // namespace

TEST("create rejects geometry out of range") {
  std::unique_ptr<Memory> m;
  CHECK_EQ(int(Memory::create(0, 0, 1, &m)), int(eg_status::bad_geometry));
  CHECK_EQ(int(Memory::create(Memory::kMaxNeurons + 1, 0, 1, &m)), int(eg_status::bad_geometry));
  CHECK_EQ(int(Memory::create(10, 3, 1, &m)), int(eg_status::bad_geometry));
  CHECK_EQ(int(Memory::create(10, 0, Memory::kMaxClasses + 1, &m)), int(eg_status::bad_geometry));
  CHECK(!m);
  CHECK_OK(Memory::create(1u << 20, 0, 1, &m));
  CHECK_EQ(m->neurons(), 1u << 20);
}

TEST("store then score counts connected active neurons per class") {
  auto m = make(32, 0, 3);
  std::vector<uint32_t> codes = {1, 2, 3, 4, 5, 6, 1, 2, 7};
  std::vector<uint32_t> labels = {0, 1, 2};
  CHECK_OK(m->store(fixed(codes, 3), labels.data()));
  CHECK(score(*m, {1, 2, 3}, 3) == (std::vector<int32_t>{3, 0, 2}));
  CHECK(score(*m, {4, 5, 7}, 3) == (std::vector<int32_t>{0, 2, 1}));
  CHECK_EQ(m->connections(), 9u);
}

TEST("store rejects bad labels, indices and layouts without changing the memory") {
  auto m = make(16, 4, 2);
  std::vector<uint32_t> codes = {1, 2};
  std::vector<uint32_t> bad_label = {2};
  CHECK_EQ(int(m->store(fixed(codes, 2), bad_label.data())), int(eg_status::bad_label));
  std::vector<uint32_t> bad_index = {1, 16};
  std::vector<uint32_t> label = {0};
  CHECK_EQ(int(m->store(fixed(bad_index, 2), label.data())), int(eg_status::bad_index));
  eg_codes c = fixed(codes, 2);
  std::vector<uint32_t> offsets = {0, 3};
  c.offsets = offsets.data();
  c.batch = 1;
  CHECK_EQ(int(m->store(c, label.data())), int(eg_status::bad_codes));
  CHECK_EQ(m->connections(), 0u);
}

TEST("adding classes doubles capacity and keeps every connection") {
  auto m = make(64, 8, 0);
  std::vector<uint32_t> caps;
  for (uint32_t c = 0; c < 700; ++c) {
    uint32_t id = 0;
    CHECK_OK(m->add_classes(1, &id));
    CHECK_EQ(id, c);
    std::vector<uint32_t> code = {c % 64, (c * 13 + 5) % 64};
    std::vector<uint32_t> label = {c};
    CHECK_OK(m->store(fixed(code, 2), label.data()));
    if (caps.empty() || caps.back() != m->capacity()) caps.push_back(m->capacity());
  }
  CHECK(caps == (std::vector<uint32_t>{64, 128, 256, 512, 1024}));
  for (uint32_t c = 0; c < 700; ++c) {
    CHECK(m->has(c % 64, c));
    CHECK(m->has((c * 13 + 5) % 64, c));
    CHECK_EQ(m->counter(c % 64, c), (c % 64 == (c * 13 + 5) % 64) ? 2u : 1u);
  }
}

TEST("4-bit counters saturate at 15 and neighbouring nibbles stay independent") {
  auto m = make(4, 4, 3);
  std::vector<uint32_t> code = {2};
  std::vector<uint32_t> l0 = {0}, l1 = {1};
  for (int i = 0; i < 20; ++i) CHECK_OK(m->store(fixed(code, 1), l0.data()));
  for (int i = 0; i < 3; ++i) CHECK_OK(m->store(fixed(code, 1), l1.data()));
  CHECK_EQ(m->counter(2, 0), 15u);
  CHECK_EQ(m->counter(2, 1), 3u);
  CHECK_EQ(m->counter(2, 2), 0u);
  engram::eg_adjust_result r;
  CHECK_OK(m->adjust(fixed(code, 1), l1.data(), -3, &r));
  CHECK_EQ(r.removed, 1u);
  CHECK_EQ(m->counter(2, 0), 15u);
  CHECK(!m->has(2, 1));
}

TEST("8-bit counters saturate at 255; adjust clamps and removes at zero") {
  auto m = make(4, 8, 1);
  std::vector<uint32_t> code = {1, 3};
  std::vector<uint32_t> l = {0};
  engram::eg_adjust_result r;
  CHECK_OK(m->adjust(fixed(code, 2), l.data(), 200, &r));
  CHECK_EQ(r.added, 2u);
  CHECK_OK(m->adjust(fixed(code, 2), l.data(), 200, &r));
  CHECK_EQ(m->counter(1, 0), 255u);
  CHECK_OK(m->adjust(fixed(code, 2), l.data(), -254, &r));
  CHECK_EQ(r.removed, 0u);
  CHECK_OK(m->adjust(fixed(code, 2), l.data(), -5, &r));
  CHECK_EQ(r.removed, 2u);
  CHECK_EQ(m->connections(), 0u);
}

TEST("score_min_count needs counters and applies the threshold") {
  auto bits_only = make(8, 0, 1);
  std::vector<uint32_t> code = {1, 2};
  std::vector<int32_t> out(1);
  CHECK_EQ(int(bits_only->score_min_count(fixed(code, 2), 2, out.data())), int(eg_status::no_counters));
  auto m = make(8, 4, 1);
  std::vector<uint32_t> l = {0};
  CHECK_OK(m->store(fixed(code, 2), l.data()));
  std::vector<uint32_t> once = {1};
  CHECK_OK(m->store(fixed(once, 1), l.data()));
  CHECK_OK(m->score_min_count(fixed(code, 2), 2, out.data()));
  CHECK_EQ(out[0], 1);
}

TEST("prune by count, fan-in and class report what they removed") {
  auto m = make(8, 4, 3);
  std::vector<uint32_t> codes = {0, 1, 0, 2, 0, 3, 1, 4};
  std::vector<uint32_t> labels = {0, 1, 2, 0};
  CHECK_OK(m->store(fixed(codes, 2), labels.data()));  // neuron 0 -> 3 classes
  uint64_t removed = 0;
  CHECK_OK(m->prune_min_count(2, &removed));
  CHECK_EQ(removed, 6u);  // only 1->0 was seen twice
  CHECK_EQ(m->connections(), 1u);
  CHECK_OK(m->store(fixed(codes, 2), labels.data()));
  CHECK_OK(m->prune_fan_in(2, &removed));
  CHECK_EQ(removed, 3u);  // neuron 0's row
  CHECK(!m->has(0, 0));
  CHECK_OK(m->clear_class(0, &removed));
  CHECK_EQ(removed, 2u);  // 1->0 and 4->0
  CHECK_EQ(int(m->clear_class(3, &removed)), int(eg_status::bad_label));
  auto plain = make(4, 0, 1);
  CHECK_EQ(int(plain->prune_min_count(1, &removed)), int(eg_status::no_counters));
}

// Random codes stored into every class, several times for some, so counters spread over 1..max.
static std::unique_ptr<Memory> filled_for_prune(uint32_t bits, uint32_t classes, std::mt19937& rng) {
  auto m = make(96, bits, classes);
  std::uniform_int_distribution<uint32_t> neuron(0, 95), repeats(1, 6);
  for (uint32_t c = 0; c < classes; ++c) {
    std::vector<uint32_t> label = {c};
    for (uint32_t k = 0, times = repeats(rng); k < times; ++k) {
      std::vector<uint32_t> code(8);
      for (auto& n : code) n = neuron(rng);
      if (m->store(fixed(code, 8), label.data()) != eg_status::ok) std::abort();
    }
  }
  return m;
}

TEST("prune_min_count_per_class equals the global prune applied class by class") {
  std::mt19937 rng(20261127);  // fixed seed: a failure replays
  for (uint32_t bits : {4u, 8u}) {
    // 150 classes span three 64-class words, the last one partly used.
    const uint32_t classes = 150;
    auto m = filled_for_prune(bits, classes, rng);
    std::uniform_int_distribution<uint32_t> threshold(0, 7);
    std::vector<uint32_t> mins(classes);
    for (auto& t : mins) t = threshold(rng);
    mins[0] = 0;
    mins[1] = 1;
    mins[149] = m->counter_max();
    // Expected: for each class, the state of a clone pruned globally with that class's threshold.
    std::vector<std::unique_ptr<Memory>> by_threshold(m->counter_max() + 1);
    for (uint32_t t : mins) {
      if (by_threshold[t]) continue;
      CHECK_OK(m->clone(&by_threshold[t]));
      uint64_t ignored = 0;
      CHECK_OK(by_threshold[t]->prune_min_count(t, &ignored));
    }
    const uint64_t before = m->connections();
    uint64_t removed = 0;
    CHECK_OK(m->prune_min_count_per_class(mins.data(), classes, &removed));
    CHECK(removed > 0);
    CHECK_EQ(removed, before - m->connections());
    uint32_t differ = 0;
    for (uint32_t n = 0; n < m->neurons(); ++n) {
      for (uint32_t c = 0; c < classes; ++c) {
        const Memory& expected = *by_threshold[mins[c]];
        if (m->has(n, c) != expected.has(n, c) || m->counter(n, c) != expected.counter(n, c)) ++differ;
      }
    }
    CHECK_EQ(differ, 0u);
    std::vector<uint64_t> per(classes), kept_low(classes);
    m->connections_per_class(per.data());
    by_threshold[mins[0]]->connections_per_class(kept_low.data());
    CHECK_EQ(per[0], kept_low[0]);  // thresholds 0 and 1 keep the class whole
    CHECK(per[0] > 0);
    uint64_t again = 1;
    CHECK_OK(m->prune_min_count_per_class(mins.data(), classes, &again));
    CHECK_EQ(again, 0u);
  }
}

TEST("prune_min_count_per_class refuses a memory without counters and a wrong length, changing nothing") {
  std::mt19937 rng(7);
  auto plain = filled_for_prune(0, 3, rng);
  std::vector<uint32_t> mins = {2, 2, 2};
  uint64_t removed = 99;
  CHECK_EQ(int(plain->prune_min_count_per_class(mins.data(), 3, &removed)), int(eg_status::no_counters));
  CHECK_EQ(removed, 99u);
  auto m = filled_for_prune(4, 3, rng);
  const uint64_t before = m->connections();
  CHECK_EQ(int(m->prune_min_count_per_class(mins.data(), 2, &removed)), int(eg_status::bad_length));
  std::vector<uint32_t> four = {2, 2, 2, 2};
  CHECK_EQ(int(m->prune_min_count_per_class(four.data(), 4, &removed)), int(eg_status::bad_length));
  CHECK_EQ(int(m->prune_min_count_per_class(nullptr, 3, &removed)), int(eg_status::bad_length));
  CHECK_EQ(m->connections(), before);
  CHECK_EQ(removed, 99u);
  auto empty = make(8, 4, 0);
  CHECK_OK(empty->prune_min_count_per_class(nullptr, 0, &removed));
  CHECK_EQ(removed, 0u);
}

TEST("prune_to removes lowest counters first, then the most shared neurons, then by index") {
  auto m = make(8, 8, 3);
  std::vector<uint32_t> l0 = {0}, l1 = {1}, l2 = {2};
  std::vector<uint32_t> strong = {5};
  for (int i = 0; i < 3; ++i) CHECK_OK(m->store(fixed(strong, 1), l0.data()));
  std::vector<uint32_t> shared = {1};
  CHECK_OK(m->store(fixed(shared, 1), l0.data()));
  CHECK_OK(m->store(fixed(shared, 1), l1.data()));
  CHECK_OK(m->store(fixed(shared, 1), l2.data()));
  std::vector<uint32_t> single = {2};
  CHECK_OK(m->store(fixed(single, 1), l1.data()));
  // counters: 5->0 = 3; 1->0,1->1,1->2 = 1 (fan-in 3); 2->1 = 1 (fan-in 1)
  uint64_t removed = 0;
  CHECK_OK(m->prune_to(4, &removed));
  CHECK_EQ(removed, 1u);
  CHECK(!m->has(1, 0) && m->has(1, 1) && m->has(1, 2) && m->has(2, 1));
  CHECK_OK(m->prune_to(1, &removed));
  CHECK_EQ(removed, 3u);
  CHECK(m->has(5, 0));
  CHECK_EQ(m->connections(), 1u);
  CHECK_OK(m->prune_to(5, &removed));
  CHECK_EQ(removed, 0u);
}

TEST("statistics: per class, fan-in histogram, resident bytes") {
  auto m = make(6, 4, 2);
  std::vector<uint32_t> codes = {0, 1, 1, 2};
  std::vector<uint32_t> labels = {0, 1};
  CHECK_OK(m->store(fixed(codes, 2), labels.data()));
  std::vector<uint64_t> per(2), hist(3);
  m->connections_per_class(per.data());
  m->fan_in_histogram(hist.data());
  CHECK(per == (std::vector<uint64_t>{2, 2}));
  CHECK(hist == (std::vector<uint64_t>{3, 2, 1}));
  CHECK_EQ(m->resident_bytes(), 6u * 8 + 6u * 32);
}

TEST("merge with a memory of larger capacity ORs bits and adds counters") {
  auto a = make(16, 4, 1);
  auto b = make(16, 4, 0);
  uint32_t first = 0;
  CHECK_OK(b->add_classes(100, &first));  // capacity 128 > a's 64
  std::vector<uint32_t> code = {3};
  std::vector<uint32_t> l0 = {0}, l99 = {99};
  for (int i = 0; i < 10; ++i) CHECK_OK(a->store(fixed(code, 1), l0.data()));
  for (int i = 0; i < 10; ++i) CHECK_OK(b->store(fixed(code, 1), l0.data()));
  CHECK_OK(b->store(fixed(code, 1), l99.data()));
  CHECK_OK(a->merge(*b));
  CHECK_EQ(a->classes(), 100u);
  CHECK_EQ(a->counter(3, 0), 15u);
  CHECK_EQ(a->counter(3, 99), 1u);
  auto c = make(17, 4, 1);
  CHECK_EQ(int(a->merge(*c)), int(eg_status::mismatch));
}

TEST("clone is independent") {
  auto a = make(8, 8, 1);
  std::vector<uint32_t> code = {3};
  std::vector<uint32_t> l0 = {0};
  CHECK_OK(a->store(fixed(code, 1), l0.data()));
  std::unique_ptr<Memory> b;
  CHECK_OK(a->clone(&b));
  CHECK_OK(b->store(fixed(code, 1), l0.data()));
  CHECK_EQ(a->counter(3, 0), 1u);
  CHECK_EQ(b->counter(3, 0), 2u);
}

// A memory of `bits`-bit counters with random values in [0, max], about a quarter of them saturated, so
// a code's counter sums pass 65535 (the 16-bit lanes of the SIMD count kernels) when it has > 257 rows.
static std::unique_ptr<Memory> random_counters(uint32_t neurons, uint32_t bits, uint32_t classes, std::mt19937& gen) {
  auto m = make(neurons, bits, classes);
  const uint32_t max = m->counter_max();
  std::vector<uint32_t> code(1), label(1);
  for (uint32_t n = 0; n < neurons; ++n) {
    for (uint32_t c = 0; c < classes; ++c) {
      const uint32_t r = gen() % 8;
      const uint32_t v = r < 2 ? 0 : r < 4 ? max : 1 + gen() % max;
      if (v == 0) continue;
      code[0] = n;
      label[0] = c;
      engram::eg_adjust_result res{};
      if (m->adjust(fixed(code, 1), label.data(), int32_t(v), &res) != eg_status::ok) std::abort();
    }
  }
  return m;
}

// The sums as the definition reads, through counter() alone.
static std::vector<int32_t> counts_by_definition(const Memory& m, const std::vector<uint32_t>& idx, uint32_t active) {
  std::vector<int32_t> out(idx.size() / active * m.classes(), 0);
  for (size_t b = 0; b < idx.size() / active; ++b) {
    for (size_t i = b * active; i < (b + 1) * active; ++i) {
      for (uint32_t c = 0; c < m.classes(); ++c) out[b * m.classes() + c] += int32_t(m.counter(idx[i], c));
    }
  }
  return out;
}

TEST("score_counts: scalar, active and SIMD kernels equal the definition, across the 16-bit flush") {
  std::mt19937 gen(20261203);
  const engram::eg_kernels* simd = engram::eg_kernels_simd();
  if (!simd) std::printf("    no SIMD kernels on this build/CPU: checking the scalar kernel only\n");
  // Class counts around the 16-class vectors and the 2048-class line of the SIMD kernels; code lengths around
  // their 8-row groups and the 257-row flush.
  const uint32_t class_counts[] = {1, 15, 16, 17, 31, 32, 33, 100, 1000, 2047, 2048, 2049, 4111};
  const uint32_t actives[] = {1, 7, 8, 9, 40, 256, 257, 258, 265, 600};
  for (uint32_t bits : {4u, 8u}) {
    for (uint32_t classes : class_counts) {
      const uint32_t neurons = classes >= 2000 ? 300 : classes >= 1000 ? 700 : 1200;
      auto m = random_counters(neurons, bits, classes, gen);
      for (uint32_t active : actives) {
        const uint32_t batch = 3;
        std::vector<uint32_t> idx(batch * active);
        for (auto& v : idx) v = gen() % neurons;  // repeats allowed: a row listed twice counts twice
        const auto want = counts_by_definition(*m, idx, active);
        std::vector<int32_t> scalar(want.size()), active_out(want.size()), simd_out(want.size());
        CHECK_OK(m->score_counts_with(engram::eg_kernels_scalar(), fixed(idx, active), scalar.data()));
        CHECK_OK(m->score_counts(fixed(idx, active), active_out.data()));
        CHECK(scalar == want);
        CHECK(active_out == want);
        if (simd) {
          CHECK_OK(m->score_counts_with(*simd, fixed(idx, active), simd_out.data()));
          CHECK(simd_out == want);
        }
        if (scalar != want || active_out != want) {
          std::printf("    bits %u classes %u active %u differ\n", bits, classes, active);
        }
      }
    }
  }
}

TEST("score_counts: all-saturated rows sum past 65535 exactly") {
  auto m = make(700, 8, 33);
  std::vector<uint32_t> all(700), labels(700);
  for (uint32_t n = 0; n < 700; ++n) all[n] = n;
  for (uint32_t c = 0; c < 33; ++c) {
    std::fill(labels.begin(), labels.end(), c);
    engram::eg_adjust_result res{};
    CHECK_OK(m->adjust(fixed(all, 1), labels.data(), 255, &res));
  }
  std::vector<int32_t> out(33);
  CHECK_OK(m->score_counts(fixed(all, 700), out.data()));
  for (uint32_t c = 0; c < 33; ++c) CHECK_EQ(out[c], 700 * 255);
  if (const engram::eg_kernels* simd = engram::eg_kernels_simd()) {
    CHECK_OK(m->score_counts_with(*simd, fixed(all, 700), out.data()));
    for (uint32_t c = 0; c < 33; ++c) CHECK_EQ(out[c], 700 * 255);
  }
}

TEST("score_counts refuses a memory without counters and indices out of range") {
  auto bare = make(16, 0, 2);
  std::vector<uint32_t> code = {1, 2};
  std::vector<int32_t> out(2);
  CHECK_EQ(int(bare->score_counts(fixed(code, 2), out.data())), int(eg_status::no_counters));
  auto m = make(16, 8, 2);
  std::vector<uint32_t> bad = {1, 16};
  CHECK_EQ(int(m->score_counts(fixed(bad, 2), out.data())), int(eg_status::bad_index));
}

TEST("halve_class rounds up, touches one class only and keeps every connection") {
  std::mt19937 gen(77);
  for (uint32_t bits : {4u, 8u}) {
    auto m = random_counters(300, bits, 37, gen);
    std::unique_ptr<Memory> before;
    CHECK_OK(m->clone(&before));
    const uint64_t connections = m->connections();
    CHECK_OK(m->halve_class(5));
    CHECK_EQ(m->connections(), connections);
    bool same = true;
    for (uint32_t n = 0; n < 300; ++n) {
      for (uint32_t c = 0; c < 37; ++c) {
        const uint32_t v = before->counter(n, c);
        const uint32_t want = c == 5 ? (v + 1) >> 1 : v;
        same = same && m->counter(n, c) == want && m->has(n, c) == (want > 0);
      }
    }
    CHECK(same);
    // Halving until every counter is 1 loses nothing either.
    for (int i = 0; i < 8; ++i) CHECK_OK(m->halve_class(5));
    CHECK_EQ(m->connections(), connections);
    uint64_t s = 0, q = 0;
    uint32_t mx = 0;
    CHECK_OK(m->class_counter_moments(5, 0, 300, &s, &q, &mx));
    CHECK_EQ(mx, 1u);
  }
  auto bare = make(8, 0, 2);
  CHECK_EQ(int(bare->halve_class(0)), int(eg_status::no_counters));
  auto m = make(8, 4, 2);
  CHECK_EQ(int(m->halve_class(2)), int(eg_status::bad_label));
}

TEST("class_counter_moments equals the definition on sub-ranges and checks its range") {
  std::mt19937 gen(91);
  for (uint32_t bits : {4u, 8u}) {
    auto m = random_counters(257, bits, 19, gen);
    for (int trial = 0; trial < 50; ++trial) {
      const uint32_t cls = gen() % 19;
      uint32_t begin = gen() % 258, end = gen() % 258;
      if (begin > end) std::swap(begin, end);
      uint64_t ws = 0, wq = 0;
      uint32_t wm = 0;
      for (uint32_t n = begin; n < end; ++n) {
        const uint32_t v = m->counter(n, cls);
        ws += v;
        wq += uint64_t(v) * v;
        wm = std::max(wm, v);
      }
      uint64_t s = 1, q = 1;
      uint32_t mx = 1;
      CHECK_OK(m->class_counter_moments(cls, begin, end, &s, &q, &mx));
      CHECK_EQ(s, ws);
      CHECK_EQ(q, wq);
      CHECK_EQ(mx, wm);
    }
    uint64_t s = 0, q = 0;
    uint32_t mx = 0;
    CHECK_EQ(int(m->class_counter_moments(19, 0, 1, &s, &q, &mx)), int(eg_status::bad_label));
    CHECK_EQ(int(m->class_counter_moments(0, 5, 4, &s, &q, &mx)), int(eg_status::bad_index));
    CHECK_EQ(int(m->class_counter_moments(0, 0, 258, &s, &q, &mx)), int(eg_status::bad_index));
  }
  auto bare = make(8, 0, 1);
  uint64_t s = 0, q = 0;
  uint32_t mx = 0;
  CHECK_EQ(int(bare->class_counter_moments(0, 0, 8, &s, &q, &mx)), int(eg_status::no_counters));
}

TEST("a halved memory serializes and parses back to the same counters") {
  std::mt19937 gen(5);
  auto m = random_counters(64, 4, 9, gen);
  CHECK_OK(m->halve_class(3));
  std::vector<uint8_t> bytes(m->serialized_size());
  CHECK_OK(m->serialize(bytes.data(), bytes.size()));
  std::unique_ptr<Memory> back;
  CHECK_OK(Memory::deserialize(bytes.data(), bytes.size(), &back));
  bool same = true;
  for (uint32_t n = 0; n < 64; ++n) {
    for (uint32_t c = 0; c < 9; ++c) same = same && back->counter(n, c) == m->counter(n, c);
  }
  CHECK(same);
}
