// Runs every registered core test case; exit status 1 when any failed.
#include <cstdio>
#include <cstring>

#include "check.h"
#include "kernels.h"

int main(int argc, char** argv) {
  const char* only = argc > 1 ? argv[1] : nullptr;
  int passed = 0, failed = 0;
  std::printf("engram core tests (kernels: %s)\n", engram::eg_kernels_active().name);
  for (const auto& c : eg_test::registry()) {
    if (only && !std::strstr(c.name, only)) continue;
    eg_test::failures_in_case() = 0;
    c.body();
    if (eg_test::failures_in_case() == 0) {
      ++passed;
      std::printf("  ok   %s\n", c.name);
    } else {
      ++failed;
      std::printf("  FAIL %s\n", c.name);
    }
  }
  std::printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
