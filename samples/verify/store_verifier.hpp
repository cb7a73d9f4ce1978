// Why: es-verify's audit of a whole store (docs/OPERATIONS.md, "es-verify"): every entity
// stream checked by StreamCheck, then every partition's notification log against the streams
// (each stored event exactly once in the logs, each log entry pointing at a stored event).
// Work is split over `jobs` threads, each with its own connection; one more thread SCANs for
// the stream keys and hands them out in batches. Nothing is ever written.
#pragma once

#include "domain/cipher.hpp"
#include "persistence/redis_connection.hpp"
#include "persistence/redis_url.hpp"
#include "samples/verify/stream_check.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace es::verify {

struct VerifyOptions {
  RedisUrl url;
  RedisConnectionOptions connection;
  std::shared_ptr<const AesGcmCipher> cipher;  // null: states are plain JSON
  std::vector<std::string> topics;             // the registered topics
  std::string key_prefix = "es";
  std::size_t jobs = 2;
  std::size_t scan_count = 1000;       // SCAN ... COUNT
  std::size_t page_size = 1000;        // XRANGE ... COUNT for entity streams
  std::size_t log_page_size = 10000;   // and for the notification logs
  std::size_t streams_per_round = 64;  // XRANGEs per pipelined round trip
};

struct LogProblem {
  int partition = 0;
  std::int64_t position = 0;  // 0 when the problem is an event missing from the logs
  std::string reason;
};

struct VerifyReport {
  int partitions = 0;
  std::int64_t streams = 0;
  std::int64_t events = 0;
  std::int64_t broken_streams = 0;
  std::vector<StreamFacts> broken;  // without their per-event topics
  std::int64_t log_entries = 0;
  std::int64_t missing_from_logs = 0;     // stored events no log entry points at
  std::int64_t duplicated_in_logs = 0;    // log entries pointing at an event seen before
  std::int64_t dangling_log_entries = 0;  // pointing at no stored event (or the wrong one)
  std::int64_t log_gaps = 0;              // positions missing or out of order, malformed entries
  std::vector<LogProblem> log_problems;   // the first kMaxListed
  double seconds = 0;
  static constexpr std::size_t kMaxListed = 100;

  bool ok() const {
    return broken_streams == 0 && missing_from_logs == 0 && duplicated_in_logs == 0 &&
           dangling_log_entries == 0 && log_gaps == 0;
  }
};

// What a progress display shows, read while the audit runs.
struct VerifyProgress {
  std::atomic<int> phase{0};                     // 0 connecting, 1 streams, 2 logs, 3 done
  std::atomic<std::int64_t> expected_events{0};  // the logs' lengths (an estimate)
  std::atomic<std::int64_t> streams{0};
  std::atomic<std::int64_t> events{0};
  std::atomic<std::int64_t> log_entries{0};
};

// Runs the audit. Throws StoreUnavailable when the store cannot be reached (or stops
// answering), ConfigurationError for a wrong password or an unusable store layout.
VerifyReport verify_store(const VerifyOptions& options, VerifyProgress& progress);

}  // namespace es::verify
