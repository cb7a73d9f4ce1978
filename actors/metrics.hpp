// The runtime's operational figures (docs/OPERATIONS.md, "Metrics"): counters, gauges and
// fixed-bucket histograms that the actors update where the work happens (entity actors:
// command outcomes and latency, recoveries; the repository: passivations; journal writers:
// store round trips and events appended). Updates are relaxed atomic additions on the hot
// path, no lock and no allocation; readers (a scrape) take a consistent-enough copy.
// Rendering to the Prometheus text format is metrics_text.hpp's job.
#pragma once

#include "actors/error_code.hpp"

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

namespace es {

// A monotonically growing count.
class Counter {
 public:
  void add(std::uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

// A distribution of durations over fixed upper bounds (in seconds).
class Histogram {
 public:
  // `upper_bounds` ascending, in seconds; +Inf is implicit.
  explicit Histogram(std::vector<double> upper_bounds);

  void observe(std::chrono::nanoseconds elapsed);
  void observe_seconds(double seconds);

  struct Reading {
    std::vector<double> upper_bounds;    // without +Inf
    std::vector<std::uint64_t> buckets;  // cumulative, one per bound, then +Inf
    double sum = 0;                      // seconds
    std::uint64_t count = 0;             // == buckets.back()
  };
  // Counts read bucket by bucket; `count` is their total, so +Inf always equals it.
  Reading read() const;

 private:
  std::vector<double> bounds_;
  std::vector<std::int64_t> bounds_ns_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> counts_;  // per bucket, +Inf last
  std::atomic<std::uint64_t> sum_ns_{0};
};

// Default bounds: 50 µs to 10 s, roughly x2.5 apart (store round trips and command latency
// on loopback sit between 100 µs and 10 ms; recoveries of long streams take seconds).
std::vector<double> default_latency_buckets();

// How a command ended, as es_commands_total{outcome=...} counts it.
enum class CommandOutcome : std::uint8_t { ok, conflict, invalid, not_found, unavailable, error };
inline constexpr std::size_t kCommandOutcomes = 6;
std::string_view to_string(CommandOutcome outcome);
// ok for no error; conflict for concurrency and precondition failures (optimistic
// concurrency, from the store or from the client's expected version); invalid; not_found for
// unknown and discarded ids; unavailable for an unreachable store or node and overload;
// error for integrity and internal failures.
CommandOutcome outcome_of(const caf::error& error);

// Everything one runtime counts. Shared by its actors through EntityRuntime.
struct RuntimeMetrics {
  std::array<Counter, kCommandOutcomes> commands;
  Histogram command_seconds{default_latency_buckets()};  // command received to answer
  Counter events_appended;
  Histogram append_seconds{default_latency_buckets()};  // one store round trip (a batch)
  Counter recoveries;
  Histogram recovery_seconds{default_latency_buckets()};
  Counter passivations;
  // Live entity actors over every repository of the runtime (the runtime's own gauge).
  std::shared_ptr<const std::atomic<std::int64_t>> live;

  void command(CommandOutcome outcome, std::chrono::nanoseconds elapsed) {
    commands[static_cast<std::size_t>(outcome)].add();
    command_seconds.observe(elapsed);
  }
  void command(const caf::error& error, std::chrono::steady_clock::time_point received) {
    command(outcome_of(error), std::chrono::steady_clock::now() - received);
  }
  std::uint64_t commands_with(CommandOutcome outcome) const {
    return commands[static_cast<std::size_t>(outcome)].value();
  }
  std::int64_t live_entities() const { return live ? live->load(std::memory_order_relaxed) : 0; }
};

}  // namespace es
