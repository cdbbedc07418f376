// Storage, refinement, queries, pruning and statistics of engram::Memory.
#include "memory.h"

#include <algorithm>
#include <cstring>
#include <new>
#include <stdexcept>

namespace engram {

const char* eg_status_message(eg_status s) {
  switch (s) {
    case eg_status::ok: return "ok";
    case eg_status::bad_geometry: return "geometry out of range";
    case eg_status::bad_codes: return "codes are not well formed";
    case eg_status::bad_index: return "a neuron index is out of range";
    case eg_status::bad_label: return "a class id is out of range";
    case eg_status::no_counters: return "the memory has no counting plane (counterBits 0)";
    case eg_status::mismatch: return "memories differ in neurons or counter bits";
    case eg_status::no_memory: return "out of memory";
    case eg_status::too_large: return "memory too large";
    case eg_status::bad_magic: return "not a serialized engram memory (bad magic)";
    case eg_status::bad_version: return "unsupported format version";
    case eg_status::truncated: return "buffer length does not match its header (truncated or padded)";
    case eg_status::bad_checksum: return "checksum mismatch (damaged buffer)";
    case eg_status::inconsistent: return "content breaks an invariant (bits, counters or padding)";
    case eg_status::bad_length: return "a per-class array's length differs from the class count";
    case eg_status::bad_value: return "a computed value is not finite";
  }
  return "unknown status";
}

eg_status eg_check_codes(const eg_codes& codes, uint32_t neurons) {
  if (codes.len > 0 && !codes.idx) return eg_status::bad_codes;
  if (codes.offsets) {
    if (codes.offsets[0] != 0 || codes.offsets[codes.batch] != codes.len) return eg_status::bad_codes;
    for (size_t b = 0; b < codes.batch; ++b) {
      if (codes.offsets[b + 1] < codes.offsets[b]) return eg_status::bad_codes;
    }
  } else if (uint64_t(codes.batch) * codes.active != codes.len) {
    return eg_status::bad_codes;
  }
  for (size_t i = 0; i < codes.len; ++i) {
    if (codes.idx[i] >= neurons) return eg_status::bad_index;
  }
  return eg_status::ok;
}

eg_status Memory::create(uint32_t neurons, uint32_t counter_bits, uint32_t classes, std::unique_ptr<Memory>* out) {
  if (neurons < 1 || neurons > kMaxNeurons || classes > kMaxClasses) return eg_status::bad_geometry;
  if (counter_bits != 0 && counter_bits != 4 && counter_bits != 8) return eg_status::bad_geometry;
  std::unique_ptr<Memory> m(new (std::nothrow) Memory(neurons, counter_bits));
  if (!m) return eg_status::no_memory;
  const eg_status s = m->reserve_classes(std::max<uint32_t>(classes, 1));
  if (s != eg_status::ok) return s;
  m->classes_ = classes;
  *out = std::move(m);
  return eg_status::ok;
}

// Grows the class capacity to hold `classes`, doubling so that repeated additions stay amortised O(1).
eg_status Memory::reserve_classes(uint32_t classes) {
  if (classes > kMaxClasses) return eg_status::too_large;
  if (stride_ * 64 >= classes) return eg_status::ok;
  // Bytes per 64-class word of one neuron row: 8 for the bits plus the counters of 64 classes.
  const uint64_t word_bytes = 8 + 8 * uint64_t(counter_bits_);
  size_t words = std::max<size_t>(stride_ * 2, (size_t(classes) + 63) / 64);
  if (uint64_t(neurons_) * words * word_bytes > kMaxBytes) {
    words = (size_t(classes) + 63) / 64;
    if (uint64_t(neurons_) * words * word_bytes > kMaxBytes) return eg_status::too_large;
  }
  const size_t old_counter_row = counter_row_bytes();
  const size_t new_counter_row = counter_bits_ == 0 ? 0 : words * 64 * counter_bits_ / 8;
  try {
    std::vector<uint64_t> bits(size_t(neurons_) * words, 0);
    std::vector<uint8_t> counters(size_t(neurons_) * new_counter_row, 0);
    for (size_t n = 0; n < neurons_ && stride_ > 0; ++n) {
      std::memcpy(&bits[n * words], &bits_[n * stride_], stride_ * 8);
      if (old_counter_row)
        std::memcpy(&counters[n * new_counter_row], &counters_[n * old_counter_row], old_counter_row);
    }
    bits_.swap(bits);
    counters_.swap(counters);
  } catch (const std::bad_alloc&) {
    return eg_status::no_memory;
  } catch (const std::length_error&) {
    return eg_status::too_large;
  }
  stride_ = words;
  return eg_status::ok;
}

eg_status Memory::add_classes(uint32_t count, uint32_t* first) {
  if (uint64_t(classes_) + count > kMaxClasses) return eg_status::too_large;
  const eg_status s = reserve_classes(classes_ + count);
  if (s != eg_status::ok) return s;
  if (first) *first = classes_;
  classes_ += count;
  return eg_status::ok;
}

uint32_t Memory::counter(uint32_t neuron, uint32_t cls) const {
  if (counter_bits_ == 0) return has(neuron, cls) ? 1 : 0;
  const size_t row = size_t(neuron) * counter_row_bytes();
  if (counter_bits_ == 8) return counters_[row + cls];
  const uint8_t byte = counters_[row + (cls >> 1)];
  return (cls & 1) ? byte >> 4 : byte & 15;
}

void Memory::set_counter(uint32_t neuron, uint32_t cls, uint32_t value) {
  if (counter_bits_ == 0) return;
  const size_t row = size_t(neuron) * counter_row_bytes();
  if (counter_bits_ == 8) {
    counters_[row + cls] = uint8_t(value);
    return;
  }
  uint8_t& byte = counters_[row + (cls >> 1)];
  byte = (cls & 1) ? uint8_t((byte & 0x0f) | (value << 4)) : uint8_t((byte & 0xf0) | value);
}

void Memory::set_bit(uint32_t neuron, uint32_t cls, bool on) {
  uint64_t& word = bits_[size_t(neuron) * stride_ + (cls >> 6)];
  const uint64_t mask = uint64_t(1) << (cls & 63);
  word = on ? (word | mask) : (word & ~mask);
}

eg_status Memory::store(const eg_codes& codes, const uint32_t* labels) {
  eg_adjust_result ignored;
  return adjust(codes, labels, 1, &ignored);
}

eg_status Memory::adjust(const eg_codes& codes, const uint32_t* labels, int32_t delta, eg_adjust_result* result) {
  eg_status s = eg_check_codes(codes, neurons_);
  if (s != eg_status::ok) return s;
  for (size_t b = 0; b < codes.batch; ++b) {
    if (labels[b] >= classes_) return eg_status::bad_label;
  }
  const int64_t max = counter_max();
  const size_t counter_row = counter_row_bytes();
  eg_adjust_result r;
  for (size_t b = 0; b < codes.batch; ++b) {
    const uint32_t cls = labels[b];
    const size_t word = cls >> 6;
    const uint64_t mask = uint64_t(1) << (cls & 63);
    // Position of this class's counter inside a counter row, and which nibble for 4-bit counters.
    const size_t counter_at = counter_bits_ == 8 ? cls : cls >> 1;
    const unsigned shift = counter_bits_ == 4 && (cls & 1) ? 4 : 0;
    for (size_t i = codes.begin(b); i < codes.end(b); ++i) {
      const size_t n = codes.idx[i];
      uint64_t& bits = bits_[n * stride_ + word];
      const bool before = (bits & mask) != 0;
      bool after;
      if (counter_bits_ == 0) {
        after = delta > 0 ? true : delta < 0 ? false : before;
      } else {
        uint8_t& byte = counters_[n * counter_row + counter_at];
        const int64_t old = counter_bits_ == 8 ? byte : (byte >> shift) & 15;
        const int64_t v = std::min<int64_t>(max, std::max<int64_t>(0, old + delta));
        byte = counter_bits_ == 8 ? uint8_t(v) : uint8_t((byte & ~(15u << shift)) | (uint32_t(v) << shift));
        after = v > 0;
      }
      if (after != before) {
        bits ^= mask;
        if (after)
          ++r.added;
        else
          ++r.removed;
      }
    }
  }
  *result = r;
  return eg_status::ok;
}

eg_status Memory::score(const eg_codes& codes, int32_t* out) const {
  return score_with(eg_kernels_active(), codes, out);
}

eg_status Memory::score_with(const eg_kernels& kernels, const eg_codes& codes, int32_t* out) const {
  const eg_status s = eg_check_codes(codes, neurons_);
  if (s != eg_status::ok) return s;
  if (classes_ == 0) return eg_status::ok;
  for (size_t b = 0; b < codes.batch; ++b) {
    const size_t first = codes.begin(b);
    kernels.score(bits_.data(), stride_, codes.idx + first, codes.end(b) - first, classes_, out + b * size_t(classes_));
  }
  return eg_status::ok;
}

eg_status Memory::score_min_count(const eg_codes& codes, uint32_t min_count, int32_t* out) const {
  if (counter_bits_ == 0) return eg_status::no_counters;
  const eg_status s = eg_check_codes(codes, neurons_);
  if (s != eg_status::ok) return s;
  if (min_count <= 1) return score(codes, out);
  for (size_t b = 0; b < codes.batch; ++b) {
    int32_t* row = out + b * size_t(classes_);
    std::memset(row, 0, sizeof(int32_t) * classes_);
    for (size_t i = codes.begin(b); i < codes.end(b); ++i) {
      const uint32_t n = codes.idx[i];
      for (uint32_t c = 0; c < classes_; ++c) row[c] += counter(n, c) >= min_count ? 1 : 0;
    }
  }
  return eg_status::ok;
}

eg_status Memory::score_counts(const eg_codes& codes, int32_t* out) const {
  return score_counts_with(eg_kernels_active(), codes, out);
}

eg_status Memory::score_counts_with(const eg_kernels& kernels, const eg_codes& codes, int32_t* out) const {
  if (counter_bits_ == 0) return eg_status::no_counters;
  const eg_status s = eg_check_codes(codes, neurons_);
  if (s != eg_status::ok) return s;
  if (classes_ == 0) return eg_status::ok;
  const size_t row_bytes = counter_row_bytes();
  for (size_t b = 0; b < codes.batch; ++b) {
    const size_t first = codes.begin(b);
    int32_t* row = out + b * size_t(classes_);
    if (counter_bits_ == 8) {
      kernels.count8(counters_.data(), row_bytes, codes.idx + first, codes.end(b) - first, classes_, row);
      continue;
    }
    std::memset(row, 0, sizeof(int32_t) * classes_);
    for (size_t i = first; i < codes.end(b); ++i) {
      for (uint32_t c = 0; c < classes_; ++c) row[c] += int32_t(counter(codes.idx[i], c));
    }
  }
  return eg_status::ok;
}

eg_status Memory::halve_class(uint32_t cls) {
  if (counter_bits_ == 0) return eg_status::no_counters;
  if (cls >= classes_) return eg_status::bad_label;
  for (uint32_t n = 0; n < neurons_; ++n) {
    const uint32_t v = counter(n, cls);
    if (v > 1) set_counter(n, cls, (v + 1) >> 1);
  }
  return eg_status::ok;
}

eg_status Memory::class_counter_moments(uint32_t cls, uint32_t begin, uint32_t end, uint64_t* sum, uint64_t* sum_sq,
                                        uint32_t* max) const {
  if (counter_bits_ == 0) return eg_status::no_counters;
  if (cls >= classes_) return eg_status::bad_label;
  if (begin > end || end > neurons_) return eg_status::bad_index;
  uint64_t s = 0;
  uint64_t q = 0;
  uint32_t m = 0;
  for (uint32_t n = begin; n < end; ++n) {
    const uint32_t v = counter(n, cls);
    s += v;
    q += uint64_t(v) * v;
    m = std::max(m, v);
  }
  *sum = s;
  *sum_sq = q;
  *max = m;
  return eg_status::ok;
}

eg_status Memory::prune_min_count(uint32_t min_count, uint64_t* removed) {
  if (counter_bits_ == 0) return eg_status::no_counters;
  uint64_t r = 0;
  for (uint32_t n = 0; n < neurons_; ++n) {
    for (size_t w = 0; w < stride_; ++w) {
      uint64_t m = bits_[n * stride_ + w];
      while (m) {
        const uint32_t c = uint32_t(w * 64 + eg_ctz64(m));
        m &= m - 1;
        if (counter(n, c) < min_count) {
          set_counter(n, c, 0);
          set_bit(n, c, false);
          ++r;
        }
      }
    }
  }
  *removed = r;
  return eg_status::ok;
}

eg_status Memory::prune_min_count_per_class(const uint32_t* min_counts, uint32_t count, uint64_t* removed) {
  if (counter_bits_ == 0) return eg_status::no_counters;
  if (count != classes_ || (count > 0 && !min_counts)) return eg_status::bad_length;
  // Per 64-class word, the classes that have a threshold above 1: only their connections can go, so a word
  // whose classes all keep everything is skipped with one AND.
  std::vector<uint64_t> prunable;
  try {
    prunable.assign(stride_, 0);
  } catch (const std::bad_alloc&) {
    return eg_status::no_memory;
  }
  for (uint32_t c = 0; c < classes_; ++c) {
    if (min_counts[c] > 1) prunable[c >> 6] |= uint64_t(1) << (c & 63);
  }
  uint64_t r = 0;
  for (uint32_t n = 0; n < neurons_; ++n) {
    for (size_t w = 0; w < stride_; ++w) {
      uint64_t m = bits_[n * stride_ + w] & prunable[w];
      while (m) {
        const uint32_t c = uint32_t(w * 64 + eg_ctz64(m));
        m &= m - 1;
        if (counter(n, c) < min_counts[c]) {
          set_counter(n, c, 0);
          set_bit(n, c, false);
          ++r;
        }
      }
    }
  }
  *removed = r;
  return eg_status::ok;
}

eg_status Memory::prune_fan_in(uint32_t max_fan_in, uint64_t* removed) {
  uint64_t r = 0;
  const size_t counter_row = counter_row_bytes();
  for (size_t n = 0; n < neurons_; ++n) {
    uint64_t* row = &bits_[n * stride_];
    uint64_t fan_in = 0;
    for (size_t w = 0; w < stride_; ++w) fan_in += eg_popcount64(row[w]);
    if (fan_in <= max_fan_in) continue;
    r += fan_in;
    std::memset(row, 0, stride_ * 8);
    if (counter_row) std::memset(&counters_[n * counter_row], 0, counter_row);
  }
  *removed = r;
  return eg_status::ok;
}

eg_status Memory::prune_to(uint64_t keep, uint64_t* removed_out) {
  *removed_out = 0;
  const uint64_t total = connections();
  if (total <= keep) return eg_status::ok;
  uint64_t to_remove = total - keep;
  // Pass 1: fan-in of each neuron before pruning and a histogram of counter values.
  std::vector<uint32_t> fan_in;
  std::vector<uint64_t> by_count;
  std::vector<uint64_t> by_fan_in;
  try {
    fan_in.resize(neurons_);
    by_count.assign(counter_max() + 1, 0);
    by_fan_in.assign(size_t(classes_) + 1, 0);
  } catch (const std::bad_alloc&) {
    return eg_status::no_memory;
  }
  for (uint32_t n = 0; n < neurons_; ++n) {
    uint32_t f = 0;
    for (size_t w = 0; w < stride_; ++w) {
      uint64_t m = bits_[n * stride_ + w];
      f += uint32_t(eg_popcount64(m));
      while (m) {
        ++by_count[counter(n, uint32_t(w * 64 + eg_ctz64(m)))];
        m &= m - 1;
      }
    }
    fan_in[n] = f;
  }
  // Every connection with a counter below cut_count goes; among those at cut_count, the most shared go.
  uint32_t cut_count = 1;
  uint64_t below = 0;
  while (below + by_count[cut_count] < to_remove) below += by_count[cut_count++];
  uint64_t at_cut = to_remove - below;
  for (uint32_t n = 0; n < neurons_; ++n) {
    for (size_t w = 0; w < stride_; ++w) {
      uint64_t m = bits_[n * stride_ + w];
      while (m) {
        if (counter(n, uint32_t(w * 64 + eg_ctz64(m))) == cut_count) ++by_fan_in[fan_in[n]];
        m &= m - 1;
      }
    }
  }
  uint32_t cut_fan_in = classes_;
  uint64_t above = 0;
  while (above + by_fan_in[cut_fan_in] < at_cut) above += by_fan_in[cut_fan_in--];
  uint64_t at_cut_fan_in = at_cut - above;
  // Pass 3: remove in neuron order, then class order.
  uint64_t removed = 0;
  for (uint32_t n = 0; n < neurons_; ++n) {
    for (size_t w = 0; w < stride_; ++w) {
      uint64_t m = bits_[n * stride_ + w];
      while (m) {
        const uint32_t c = uint32_t(w * 64 + eg_ctz64(m));
        m &= m - 1;
        const uint32_t v = counter(n, c);
        bool drop = v < cut_count;
        if (v == cut_count) {
          if (fan_in[n] > cut_fan_in) {
            drop = true;
          } else if (fan_in[n] == cut_fan_in && at_cut_fan_in > 0) {
            drop = true;
            --at_cut_fan_in;
          }
        }
        if (drop) {
          set_counter(n, c, 0);
          set_bit(n, c, false);
          ++removed;
        }
      }
    }
  }
  *removed_out = removed;
  return eg_status::ok;
}

eg_status Memory::clear_class(uint32_t cls, uint64_t* removed) {
  if (cls >= classes_) return eg_status::bad_label;
  uint64_t r = 0;
  for (uint32_t n = 0; n < neurons_; ++n) {
    if (has(n, cls)) {
      set_bit(n, cls, false);
      set_counter(n, cls, 0);
      ++r;
    }
  }
  *removed = r;
  return eg_status::ok;
}

uint64_t Memory::connections() const {
  uint64_t total = 0;
  for (uint64_t w : bits_) total += eg_popcount64(w);
  return total;
}

void Memory::connections_per_class(uint64_t* out) const {
  std::fill(out, out + classes_, 0);
  for (size_t n = 0; n < neurons_; ++n) {
    for (size_t w = 0; w < stride_; ++w) {
      uint64_t m = bits_[n * stride_ + w];
      while (m) {
        ++out[w * 64 + eg_ctz64(m)];
        m &= m - 1;
      }
    }
  }
}

void Memory::fan_in_histogram(uint64_t* out) const {
  std::fill(out, out + size_t(classes_) + 1, 0);
  for (size_t n = 0; n < neurons_; ++n) {
    uint64_t f = 0;
    for (size_t w = 0; w < stride_; ++w) f += eg_popcount64(bits_[n * stride_ + w]);
    ++out[f];
  }
}

eg_status Memory::merge(const Memory& other) {
  if (other.neurons_ != neurons_ || other.counter_bits_ != counter_bits_) return eg_status::mismatch;
  if (other.classes_ > classes_) {
    const eg_status s = add_classes(other.classes_ - classes_, nullptr);
    if (s != eg_status::ok) return s;
  }
  const uint32_t max = counter_max();
  // Words past other's last class are zero, and other's capacity may exceed this one's.
  const size_t words = (size_t(other.classes_) + 63) / 64;
  for (uint32_t n = 0; n < neurons_; ++n) {
    for (size_t w = 0; w < words; ++w) {
      uint64_t m = other.bits_[n * other.stride_ + w];
      bits_[n * stride_ + w] |= m;
      if (counter_bits_ == 0) continue;
      while (m) {
        const uint32_t c = uint32_t(w * 64 + eg_ctz64(m));
        m &= m - 1;
        set_counter(n, c, std::min(max, counter(n, c) + other.counter(n, c)));
      }
    }
  }
  return eg_status::ok;
}

eg_status Memory::clone(std::unique_ptr<Memory>* out) const {
  try {
    std::unique_ptr<Memory> m(new Memory(*this));
    *out = std::move(m);
  } catch (const std::bad_alloc&) {
    return eg_status::no_memory;
  }
  return eg_status::ok;
}

}  // namespace engram
