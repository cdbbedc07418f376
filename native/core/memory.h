// engram::Memory: a heteroassociative binary memory between N code neurons and C class neurons.
// Layout is code-major: for each code neuron one bit row over classes (stride words of 64 classes), so a
// query reads only the rows of its active neurons. Class capacity doubles when full, so adding a class
// copies the matrix only O(log C) times. An optional counting plane keeps a saturating counter per
// connection with the invariant: bit set <=> counter > 0.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "kernels.h"
#include "status.h"

namespace engram {

/** A batch of codes: flat neuron indices, split either by offsets (batch + 1 entries) or a fixed count. */
struct eg_codes {
  const uint32_t* idx = nullptr;
  size_t len = 0;                     // entries in idx
  size_t batch = 0;                   // number of codes
  const uint32_t* offsets = nullptr;  // batch + 1 ascending entries from 0 to len, or nullptr
  uint32_t active = 0;                // indices per code when offsets is nullptr

  size_t begin(size_t b) const { return offsets ? offsets[b] : b * size_t(active); }
  size_t end(size_t b) const { return offsets ? offsets[b + 1] : (b + 1) * size_t(active); }
};

/** Checks that codes are well formed and every index is < neurons. */
eg_status eg_check_codes(const eg_codes& codes, uint32_t neurons);

/** Result of adjust: how many connections appeared and disappeared. */
struct eg_adjust_result {
  uint64_t added = 0;
  uint64_t removed = 0;
};

class Memory {
 public:
  static constexpr uint32_t kMaxNeurons = 1u << 24;
  static constexpr uint32_t kMaxClasses = 1u << 20;
  // Bits plus counters held in memory; a larger geometry is refused up front rather than left to the OOM killer.
  static constexpr uint64_t kMaxBytes = uint64_t(1) << 32;
  static constexpr uint32_t kFormatVersion = 1;

  /** Creates a memory; counter_bits is 0 (bits only), 4 or 8. */
  static eg_status create(uint32_t neurons, uint32_t counter_bits, uint32_t classes, std::unique_ptr<Memory>* out);

  uint32_t neurons() const { return neurons_; }
  uint32_t classes() const { return classes_; }
  uint32_t counter_bits() const { return counter_bits_; }
  uint32_t counter_max() const { return counter_bits_ == 0 ? 1 : (1u << counter_bits_) - 1; }
  uint32_t capacity() const { return uint32_t(stride_ * 64); }

  /** Appends `count` empty classes; *first receives the id of the first new one. */
  eg_status add_classes(uint32_t count, uint32_t* first);

  /** Connects every neuron of code b to class labels[b] (counter +1, saturating). */
  eg_status store(const eg_codes& codes, const uint32_t* labels);

  /** Adds delta to the counters of code b -> labels[b], clamped to [0, max]; 0 removes, > 0 sets the bit.
   *  Without counters a positive delta sets the bit and a negative one clears it. */
  eg_status adjust(const eg_codes& codes, const uint32_t* labels, int32_t delta, eg_adjust_result* result);

  /** out[b * classes + c] = number of neurons of code b connected to class c. */
  eg_status score(const eg_codes& codes, int32_t* out) const;
  /** Same with explicit kernels (tests compare scalar and SIMD). */
  eg_status score_with(const eg_kernels& kernels, const eg_codes& codes, int32_t* out) const;
  /** Like score but counts only connections whose counter is >= min_count (needs counters). */
  eg_status score_min_count(const eg_codes& codes, uint32_t min_count, int32_t* out) const;

  /** out[b * classes + c] = sum of the counters of code b's neurons for class c (needs counters). */
  eg_status score_counts(const eg_codes& codes, int32_t* out) const;
  /** Same with explicit kernels (tests compare scalar and SIMD). */
  eg_status score_counts_with(const eg_kernels& kernels, const eg_codes& codes, int32_t* out) const;
  /** Halves every counter of class cls, rounding up, so no connection disappears (needs counters). */
  eg_status halve_class(uint32_t cls);
  /** Sum, sum of squares and largest of class cls's counters over neurons [begin, end) (needs counters). */
  eg_status class_counter_moments(uint32_t cls, uint32_t begin, uint32_t end, uint64_t* sum, uint64_t* sum_sq,
                                  uint32_t* max) const;

  /** Removes connections whose counter is < min_count (needs counters). */
  eg_status prune_min_count(uint32_t min_count, uint64_t* removed);
  /** Removes connections to class c whose counter is < min_counts[c], for every class (needs counters);
   *  count must equal classes(). A threshold <= 1 keeps the whole class. */
  eg_status prune_min_count_per_class(const uint32_t* min_counts, uint32_t count, uint64_t* removed);
  /** Clears every neuron row connected to more than max_fan_in classes; *removed receives the connections cut. */
  eg_status prune_fan_in(uint32_t max_fan_in, uint64_t* removed);
  /** Removes the weakest connections until at most `keep` remain. Order: lowest counter first, then
   *  neurons shared by the most classes (fan-in before pruning), then lowest neuron, then lowest class.
   *  no_memory (and nothing removed) when its per-neuron tables cannot be allocated. */
  eg_status prune_to(uint64_t keep, uint64_t* removed);
  /** Removes every connection of one class; the class id stays valid and empty. */
  eg_status clear_class(uint32_t cls, uint64_t* removed);

  /** Total number of connections (set bits). */
  uint64_t connections() const;
  /** out[c] = connections of class c, for c < classes. */
  void connections_per_class(uint64_t* out) const;
  /** out[f] = number of neurons connected to exactly f classes, for f in [0, classes]. */
  void fan_in_histogram(uint64_t* out) const;
  /** Bytes held by the bit matrix and counting plane. */
  uint64_t resident_bytes() const { return uint64_t(bits_.size()) * 8 + counters_.size(); }

  /** ORs the bits of other into this one and adds its counters (saturating); grows classes if needed. */
  eg_status merge(const Memory& other);
  /** Deep copy. */
  eg_status clone(std::unique_ptr<Memory>* out) const;

  /** Exact size of serialize()'s output. */
  uint64_t serialized_size() const;
  /** Writes the serialized form into out (size must equal serialized_size()). */
  eg_status serialize(uint8_t* out, uint64_t size) const;
  /** Parses a serialized memory; any damage yields a status, never undefined behaviour. */
  static eg_status deserialize(const uint8_t* data, uint64_t size, std::unique_ptr<Memory>* out);

  /** Connection test and counter read (counter is 1/0 without a counting plane). */
  bool has(uint32_t neuron, uint32_t cls) const {
    return (bits_[size_t(neuron) * stride_ + (cls >> 6)] >> (cls & 63)) & 1;
  }
  uint32_t counter(uint32_t neuron, uint32_t cls) const;

 private:
  Memory(uint32_t neurons, uint32_t counter_bits) : neurons_(neurons), counter_bits_(counter_bits) {}
  eg_status reserve_classes(uint32_t classes);
  void set_counter(uint32_t neuron, uint32_t cls, uint32_t value);
  void set_bit(uint32_t neuron, uint32_t cls, bool on);
  size_t counter_row_bytes() const { return counter_bits_ == 0 ? 0 : size_t(capacity()) * counter_bits_ / 8; }

  uint32_t neurons_;
  uint32_t counter_bits_;
  uint32_t classes_ = 0;
  size_t stride_ = 0;              // 64-bit words per neuron row
  std::vector<uint64_t> bits_;     // neurons x stride
  std::vector<uint8_t> counters_;  // neurons x counter_row_bytes (4-bit: even class in the low nibble)
};

/** CRC-32 (IEEE 802.3, reflected, as zlib) of a byte range, continuing from crc (0 to start). */
uint32_t eg_crc32(uint32_t crc, const uint8_t* data, size_t size);

}  // namespace engram
