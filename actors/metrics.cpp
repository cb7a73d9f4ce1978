#include "actors/metrics.hpp"

#include <algorithm>
#include <cmath>

namespace es {

Histogram::Histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)),
      counts_(std::make_unique<std::atomic<std::uint64_t>[]>(bounds_.size() + 1)) {
  std::sort(bounds_.begin(), bounds_.end());
  bounds_.erase(std::unique(bounds_.begin(), bounds_.end()), bounds_.end());
  bounds_ns_.reserve(bounds_.size());
  for (double b : bounds_) bounds_ns_.push_back(static_cast<std::int64_t>(std::llround(b * 1e9)));
  for (std::size_t i = 0; i <= bounds_.size(); ++i) counts_[i].store(0, std::memory_order_relaxed);
}

void Histogram::observe(std::chrono::nanoseconds elapsed) {
  const std::int64_t ns = std::max<std::int64_t>(0, elapsed.count());
  // A handful of bounds: a linear scan beats a binary search and has no data-dependent cost
  // worth speaking of.
  std::size_t i = 0;
  while (i < bounds_ns_.size() && ns > bounds_ns_[i]) ++i;
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  sum_ns_.fetch_add(static_cast<std::uint64_t>(ns), std::memory_order_relaxed);
}

void Histogram::observe_seconds(double seconds) {
  if (!(seconds >= 0)) seconds = 0;  // NaN and negatives
  observe(std::chrono::nanoseconds(static_cast<std::int64_t>(std::min(seconds, 1e9) * 1e9)));
}

Histogram::Reading Histogram::read() const {
  Reading r;
  r.upper_bounds = bounds_;
  r.buckets.reserve(bounds_.size() + 1);
  std::uint64_t total = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    total += counts_[i].load(std::memory_order_relaxed);
    r.buckets.push_back(total);
  }
  r.count = total;
  r.sum = static_cast<double>(sum_ns_.load(std::memory_order_relaxed)) / 1e9;
  return r;
}

std::vector<double> default_latency_buckets() {
  return {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
          0.05,    0.1,    0.25,    0.5,    1,     2.5,    5,     10};
}

std::string_view to_string(CommandOutcome outcome) {
  switch (outcome) {
    case CommandOutcome::ok:
      return "ok";
    case CommandOutcome::conflict:
      return "conflict";
    case CommandOutcome::invalid:
      return "invalid";
    case CommandOutcome::not_found:
      return "not_found";
    case CommandOutcome::unavailable:
      return "unavailable";
    case CommandOutcome::error:
      return "error";
  }
  return "error";
}

CommandOutcome outcome_of(const caf::error& error) {
  if (!error) return CommandOutcome::ok;
  switch (code_of(error)) {
    case ErrorCode::none:
      return CommandOutcome::ok;
    case ErrorCode::concurrency:
    case ErrorCode::precondition_failed:
      return CommandOutcome::conflict;
    case ErrorCode::invalid:
      return CommandOutcome::invalid;
    case ErrorCode::not_found:
    case ErrorCode::discarded:
      return CommandOutcome::not_found;
    case ErrorCode::unavailable:
    case ErrorCode::overloaded:
      return CommandOutcome::unavailable;
    case ErrorCode::integrity:
    case ErrorCode::topic:
    case ErrorCode::internal:
      break;
  }
  return CommandOutcome::error;
}

}  // namespace es
