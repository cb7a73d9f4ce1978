// Why: a fuzz target reports a broken invariant by aborting (libFuzzer then saves the input
// as a crash); the same check must also fail the corpus replay of the normal build, where
// NDEBUG may turn assert() off. FUZZ_CHECK is therefore always on.
#pragma once

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(condition, what)                                                        \
  do {                                                                                     \
    if (!(condition)) {                                                                    \
      std::fprintf(stderr, "%s:%d: invariant broken: %s (%s)\n", __FILE__, __LINE__, what, \
                   #condition);                                                            \
      std::abort();                                                                        \
    }                                                                                      \
  } while (false)

// An exception of a type the code under test must never throw for any input.
#define FUZZ_UNEXPECTED(what, error)                                                            \
  do {                                                                                          \
    std::fprintf(stderr, "%s:%d: unexpected exception from %s: %s\n", __FILE__, __LINE__, what, \
                 (error));                                                                      \
    std::abort();                                                                               \
  } while (false)
