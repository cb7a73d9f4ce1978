#pragma once
// Tests that need an outside program (python3, openssl, redis-cli, ...) say so when it is
// missing instead of passing silently: ES_SKIP_WITHOUT_TOOL prints "SKIPPED: ..." and leaves
// the test case, and CTest (SKIP_REGULAR_EXPRESSION, set in tests/CMakeLists.txt) reports the
// test as skipped, not passed. scripts/test lists skips; in CI (.ci/run) a skip fails the run,
// since scripts/install-deps installs every tool the tests use.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <string>

namespace es::test {

inline bool tool_on_path(const std::string& tool) {
  const std::string probe = "command -v '" + tool + "' >/dev/null 2>&1";
  return std::system(probe.c_str()) == 0;
}

}  // namespace es::test

#define ES_SKIP_WITHOUT_TOOL(tool)                                                         \
  do {                                                                                     \
    if (!::es::test::tool_on_path(tool)) {                                                 \
      WARN("SKIPPED: " << (tool) << " is not on PATH (scripts/install-deps installs it)"); \
      return;                                                                              \
    }                                                                                      \
  } while (false)
