// Status codes returned by every core operation that can fail or allocates: nothing in the core fails silently.
// Only queries that can do neither (connections, has, counter, sizes) return their value directly.
#pragma once

namespace engram {

enum class eg_status : int {
  ok = 0,
  bad_geometry,  // neurons, classes or counter bits outside the supported range
  bad_codes,     // code layout (offsets, active count, length) is inconsistent
  bad_index,     // a code lists a neuron index >= neurons
  bad_label,     // a class id >= the class count
  no_counters,   // the operation needs a counting plane and the memory has none
  mismatch,      // merge of memories with different neurons or counter bits
  no_memory,     // allocation failed
  too_large,     // the memory would exceed the supported size
  bad_magic,     // buffer is not a serialized engram memory
  bad_version,   // serialized by an unknown format version
  truncated,     // buffer shorter or longer than its header says
  bad_checksum,  // buffer content does not match its checksum
  inconsistent,  // buffer passed the checksum but breaks an invariant (bits vs counters, padding)
  bad_length,    // a per-class array does not hold exactly one entry per class
  bad_value,     // a computed value is not finite (e.g. a whitening that overflows float32)
};

/** A short English description of a status, used in error messages. */
const char* eg_status_message(eg_status s);

}  // namespace engram
