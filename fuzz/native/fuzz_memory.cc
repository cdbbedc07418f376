// libFuzzer harness: deserialising an associative memory from arbitrary bytes. A refusal must be a status;
// what is accepted must be usable (score a code) and serialise back to the very same bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "kernels.h"
#include "memory.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::unique_ptr<engram::Memory> m;
  if (engram::Memory::deserialize(data, size, &m) != engram::eg_status::ok) return 0;
  if (!m) std::abort();
  const uint64_t n = m->serialized_size();
  if (n != size) std::abort();
  std::vector<uint8_t> again(n);
  if (m->serialize(again.data(), n) != engram::eg_status::ok) std::abort();
  if (std::memcmp(again.data(), data, size) != 0) std::abort();
  if (m->classes() > 0 && m->classes() <= 4096) {
    const uint32_t idx[4] = {0, m->neurons() / 3, m->neurons() / 2, m->neurons() - 1};
    engram::eg_codes codes;
    codes.idx = idx;
    codes.len = 4;
    codes.batch = 1;
    codes.active = 4;
    std::vector<int32_t> a(m->classes()), b(m->classes());
    if (m->score_with(engram::eg_kernels_active(), codes, a.data()) != engram::eg_status::ok) std::abort();
    if (m->score_with(engram::eg_kernels_scalar(), codes, b.data()) != engram::eg_status::ok) std::abort();
    if (a != b) std::abort();  // the SIMD kernel agrees with the scalar reference on any stored memory
  }
  return 0;
}
