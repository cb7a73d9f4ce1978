// The two store backends every actor test runs against: in memory, and a real private
// redis-server (one per test process, a fresh key prefix per test).
#pragma once

#include "persistence/redis_stores.hpp"
#include "persistence/stores.hpp"
#include "support/redis_fixture.hpp"

#include <catch2/catch.hpp>

#include <string>

namespace es::test {

enum class Backend { memory, redis };

inline const char* to_string(Backend b) {
  return b == Backend::memory ? "memory" : "redis";
}

inline Stores make_stores(Backend backend) {
  if (backend == Backend::memory) return memory_stores();
  RedisStoreOptions options;
  options.key_prefix = fresh_prefix();
  return redis_stores(redis_pool(), options);
}

// Stores of the same backend and key prefix as `stores`, as a restarted program sees them.
inline Stores reopen(Backend backend, const Stores& stores, const std::string& prefix) {
  if (backend == Backend::memory) return stores;
  RedisStoreOptions options;
  options.key_prefix = prefix;
  return redis_stores(redis_pool(), options);
}

}  // namespace es::test

#define ES_EACH_BACKEND() GENERATE(::es::test::Backend::memory, ::es::test::Backend::redis)
