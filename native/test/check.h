// A minimal test harness for the core: TEST registers a case, CHECK records a failure and continues.
// main() runs every case and prints "N passed, N failed" as its last line (tools/run-tests.mjs reads it).
#pragma once
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

namespace eg_test {

struct Case {
  const char* name;
  std::function<void()> body;
};

inline std::vector<Case>& registry() {
  static std::vector<Case> cases;
  return cases;
}

inline int& failures_in_case() {
  static int n = 0;
  return n;
}

struct Register {
  Register(const char* name, std::function<void()> body) { registry().push_back({name, std::move(body)}); }
};

}  // namespace eg_test

#define EG_CAT2(a, b) a##b
#define EG_CAT(a, b) EG_CAT2(a, b)
#define TEST(name)                                                                \
  static void EG_CAT(test_, __LINE__)();                                          \
  static eg_test::Register EG_CAT(reg_, __LINE__)(name, EG_CAT(test_, __LINE__)); \
  static void EG_CAT(test_, __LINE__)()

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      std::printf("    %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
      ++eg_test::failures_in_case();                                           \
    }                                                                          \
  } while (0)

#define CHECK_EQ(a, b)                                                                                               \
  do {                                                                                                               \
    const auto eg_a = (a);                                                                                           \
    const auto eg_b = (b);                                                                                           \
    if (!(eg_a == eg_b)) {                                                                                           \
      std::printf("    %s:%d: CHECK_EQ(%s, %s) failed: %lld vs %lld\n", __FILE__, __LINE__, #a, #b, (long long)eg_a, \
                  (long long)eg_b);                                                                                  \
      ++eg_test::failures_in_case();                                                                                 \
    }                                                                                                                \
  } while (0)

#define CHECK_OK(expr) CHECK_EQ(int(expr), int(engram::eg_status::ok))
