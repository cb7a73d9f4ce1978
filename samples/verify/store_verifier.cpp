#include "samples/verify/store_verifier.hpp"

#include "domain/errors.hpp"
#include "persistence/redis_keys.hpp"

#include <boost/functional/hash.hpp>
#include <boost/uuid/uuid_hash.hpp>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <unordered_set>

namespace es::verify {

namespace {

using UuidSet = std::unordered_set<Uuid, boost::hash<Uuid>>;

// Batches of stream keys from the scanner to the workers (bounded, so a huge keyspace is
// not held in memory at once).
class KeyQueue {
 public:
  void push(std::vector<std::string> keys) {
    std::unique_lock lock(mutex_);
    room_.wait(lock, [&] { return batches_.size() < 64 || stopped_; });
    if (stopped_) return;
    batches_.push_back(std::move(keys));
    ready_.notify_one();
  }
  // Nothing once the scanner is done and every batch is taken (or after stop()).
  bool pop(std::vector<std::string>& keys) {
    std::unique_lock lock(mutex_);
    ready_.wait(lock, [&] { return !batches_.empty() || done_ || stopped_; });
    if (stopped_ || batches_.empty()) return false;
    keys = std::move(batches_.front());
    batches_.pop_front();
    room_.notify_one();
    return true;
  }
  void finish() {
    std::lock_guard lock(mutex_);
    done_ = true;
    ready_.notify_all();
  }
  void stop() {
    std::lock_guard lock(mutex_);
    stopped_ = true;
    ready_.notify_all();
    room_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable ready_, room_;
  std::deque<std::vector<std::string>> batches_;
  bool done_ = false, stopped_ = false;
};

// The first failure of any thread ends the audit and is rethrown by verify_store.
class FirstFailure {
 public:
  void set(std::exception_ptr e) {
    std::lock_guard lock(mutex_);
    if (!error_) error_ = e;
  }
  bool any() {
    std::lock_guard lock(mutex_);
    return error_ != nullptr;
  }
  void rethrow() {
    std::lock_guard lock(mutex_);
    if (error_) std::rethrow_exception(error_);
  }

 private:
  std::mutex mutex_;
  std::exception_ptr error_;
};

struct Shared {
  const VerifyOptions& options;
  VerifyProgress& progress;
  RedisKeys keys;
  EventMapper mapper;  // plain: StreamCheck decrypts first
  TopicTable topics;
  UuidSet deleted;
  KeyQueue queue;
  FirstFailure failure;
};

// Checks the streams of one batch of keys, page by page, one pipelined round trip per page
// of every stream still being read.
void check_batch(Shared& shared, RedisStreamReader& reader, std::vector<std::string>& batch,
                 std::vector<StreamFacts>& out) {
  struct Active {
    std::size_t facts;  // index in out
    std::unique_ptr<StreamCheck> check;
  };
  std::vector<Active> active;
  active.reserve(batch.size());
  std::vector<StreamRead> reads;
  reads.reserve(batch.size());
  const std::size_t first = out.size();
  for (auto& key : batch) {
    StreamFacts facts;
    facts.key = std::move(key);
    auto id = shared.keys.entity_id_of(facts.key);
    if (!id) continue;  // matched the pattern but is not an entity key of this store
    facts.id = *id;
    facts.partition = shared.keys.partition_of(*id);
    out.push_back(std::move(facts));
  }
  // Checks hold references into `out`: no more growth from here.
  for (std::size_t i = first; i < out.size(); ++i) {
    auto& facts = out[i];
    const bool deleted = shared.deleted.count(facts.id) > 0;
    active.push_back(
        {i, std::make_unique<StreamCheck>(facts, shared.mapper, shared.options.cipher.get(),
                                          shared.topics, deleted)});
    if (shared.keys.entity(facts.id) != facts.key) {
      active.back().check->fail_stream("the key's partition tag is not the partition of " +
                                       to_string(facts.id));
    }
  }
  while (!active.empty()) {
    reads.clear();
    for (const auto& a : active) reads.push_back({out[a.facts].key, a.check->last_id()});
    reader.request_pages(reads, shared.options.page_size);
    const auto& pages = reader.collect();
    std::vector<Active> more;
    std::int64_t events = 0;
    for (std::size_t i = 0; i < active.size(); ++i) {
      auto& a = active[i];
      const auto& page = pages[i];
      if (!page.error.empty()) {
        a.check->fail_stream("cannot read the stream: " + page.error);
        continue;
      }
      const auto entries = page.entries();
      for (std::size_t e = 0; e < entries.size(); ++e) a.check->check(entries[e]);
      events += static_cast<std::int64_t>(entries.size());
      if (entries.size() >= shared.options.page_size) {
        more.push_back(std::move(a));
      } else {
        shared.progress.streams.fetch_add(1, std::memory_order_relaxed);
      }
    }
    shared.progress.events.fetch_add(events, std::memory_order_relaxed);
    active = std::move(more);
  }
}

void scan_keys(Shared& shared) {
  try {
    RedisStreamReader reader(shared.options.url, shared.options.connection);
    const std::string pattern = shared.keys.entity_pattern();
    std::string cursor = "0";
    std::vector<std::string> keys;
    do {
      cursor = reader.scan(cursor, pattern, shared.options.scan_count, keys);
      if (keys.size() >= shared.options.streams_per_round) {
        shared.queue.push(std::move(keys));
        keys = {};
      }
      if (shared.failure.any()) break;
    } while (cursor != "0");
    if (!keys.empty()) shared.queue.push(std::move(keys));
  } catch (...) {
    shared.failure.set(std::current_exception());
    shared.queue.stop();
  }
  shared.queue.finish();
}

void check_streams(Shared& shared, std::vector<StreamFacts>& out) {
  try {
    RedisStreamReader reader(shared.options.url, shared.options.connection);
    std::vector<std::string> keys;
    std::vector<std::string> batch;
    while (shared.queue.pop(keys)) {
      // Split into rounds of streams_per_round keys.
      for (std::size_t at = 0; at < keys.size(); at += shared.options.streams_per_round) {
        const auto end = std::min(keys.size(), at + shared.options.streams_per_round);
        batch.assign(std::make_move_iterator(keys.begin() + static_cast<std::ptrdiff_t>(at)),
                     std::make_move_iterator(keys.begin() + static_cast<std::ptrdiff_t>(end)));
        check_batch(shared, reader, batch, out);
      }
    }
  } catch (...) {
    shared.failure.set(std::current_exception());
    shared.queue.stop();
  }
}

// Per partition: what its log check found.
struct LogFindings {
  std::int64_t entries = 0, missing = 0, duplicated = 0, dangling = 0, gaps = 0;
  std::vector<LogProblem> problems;
  void note(int partition, std::int64_t position, std::string reason) {
    if (problems.size() < VerifyReport::kMaxListed) {
      problems.push_back({partition, position, std::move(reason)});
    }
  }
};

using FactsIndex = std::unordered_map<Uuid, StreamFacts*, boost::hash<Uuid>>;

// One event a log entry lists, as stored: marks it in its stream's `logged`, or notes why it
// cannot be.
void check_logged_event(Shared& shared, const FactsIndex& index, const LoggedEvent& logged,
                        std::int64_t position, int p, LogFindings& found) {
  const auto id = parse_uuid(logged.id);
  const std::int64_t version = parse_number(logged.version).value_or(-1);
  // Only built for a problem (this runs once per stored event).
  auto what = [&] {
    return "entity " + std::string(logged.id) + " version " + std::string(logged.version);
  };
  const auto facts = id ? index.find(*id) : index.end();
  if (!id || version < 0 || facts == index.end()) {
    ++found.dangling;
    found.note(p, position, "points at " + what() + ", which is not stored");
    return;
  }
  StreamFacts& f = *facts->second;
  if (f.partition != p) {
    ++found.dangling;
    found.note(p, position, "points at " + what() + " of partition " + std::to_string(f.partition));
    return;
  }
  if (version < f.first_version) {
    if (shared.deleted.count(f.id) > 0) return;  // its event was deleted with delete_records
    ++found.dangling;
    found.note(p, position, "points at " + what() + ", which is not stored");
    return;
  }
  const auto at = static_cast<std::size_t>(version - f.first_version);
  if (at >= f.topics.size()) {
    ++found.dangling;
    found.note(p, position, "points at " + what() + ", which is not stored");
    return;
  }
  // Only this job reads partition p, so only it marks the streams of p.
  auto& marks = f.logged;
  if (marks.empty()) marks.assign(f.topics.size(), false);
  if (marks[at]) {
    ++found.duplicated;
    found.note(p, position, what() + " appears in the log more than once");
    return;
  }
  marks[at] = true;
  const auto t = f.topics[at];
  if (t == TopicTable::kUnknownTopic || shared.topics.name(t) != logged.topic) {
    ++found.dangling;
    found.note(p, position, "the topic of " + what() + " differs from the stored event's");
  }
}

// Reads partition p's log and marks the events it points at in `logged`.
void check_log(Shared& shared, RedisStreamReader& reader, int p, const FactsIndex& index,
               LogFindings& found) {
  const std::string key = shared.keys.log(p);
  std::int64_t next_position = 1;
  std::string after = "-";
  for (;;) {
    reader.request_pages({{key, after}}, shared.options.log_page_size);
    const auto& page = reader.collect().front();
    if (!page.error.empty()) {
      ++found.gaps;
      found.note(p, 0, "cannot read the log " + key + ": " + page.error);
      return;
    }
    const auto entries = page.entries();
    const auto listed_before = found.entries;
    for (std::size_t i = 0; i < entries.size(); ++i) {
      const auto entry = entries[i];
      if (!entry.well_formed()) {
        ++found.gaps;
        found.note(p, next_position, "malformed log entry");
        continue;
      }
      after.assign(entry.id());
      const auto last = version_of_entry_id(entry.id());
      if (!last || *last < 1) {
        ++found.gaps;
        found.note(p, next_position, "log entry ID '" + after + "' is not <position>-1");
        continue;
      }
      // An entry lists a group of events, the last one at the entry ID's position: packed,
      // one field `events` with a line per event, or as stores wrote before, (id, version,
      // topic) per event (docs/STORAGE.md).
      LoggedEvents logged(entry.fields(), [&](std::size_t f) { return entry.field(f); });
      const bool packed = logged.packed();
      const auto events = logged.events();
      if (events == 0 || events > *last) {
        ++found.gaps;
        found.note(p, *last,
                   packed ? "the log entry's events are not a line each"
                          : "the log entry's fields are not (id, version, topic) per event");
        next_position = *last + 1;
        continue;
      }
      const auto first = *last - events + 1;
      if (first != next_position) {
        ++found.gaps;
        found.note(p, first,
                   first > next_position
                       ? "positions " + std::to_string(next_position) + ".." +
                             std::to_string(first - 1) + " are missing from the log"
                       : "positions " + std::to_string(first) + ".." +
                             std::to_string(next_position - 1) + " are in the log twice");
      }
      next_position = *last + 1;
      found.entries += events;
      for (std::int64_t e = 0; e < events; ++e) {
        const auto event = logged.next();
        if (!event) {
          ++found.gaps;
          found.note(p, first + e,
                     packed ? "the log entry's line is not '<id> <version> <topic>'"
                            : "the log entry's fields are not (id, version, topic) in this order");
          continue;
        }
        check_logged_event(shared, index, *event, first + e, p, found);
      }
    }
    shared.progress.log_entries.fetch_add(found.entries - listed_before, std::memory_order_relaxed);
    if (entries.size() < shared.options.log_page_size) return;
  }
}

}  // namespace

VerifyReport verify_store(const VerifyOptions& options, VerifyProgress& progress) {
  const auto started = std::chrono::steady_clock::now();
  check_key_prefix(options.key_prefix);
  RedisStreamReader reader(options.url, options.connection);
  int partitions = kDefaultPartitions;
  const RedisKeys probe(options.key_prefix, 1);
  if (auto recorded = reader.hash_field(probe.meta(), "partitions")) {
    try {
      partitions = std::stoi(*recorded);
    } catch (const std::exception&) {
      partitions = 0;
    }
    if (partitions < 1 || partitions > 100000) {
      throw ConfigurationError(probe.meta() + " records a partition count that is not valid");
    }
  }
  Shared shared{options,
                progress,
                RedisKeys(options.key_prefix, partitions),
                EventMapper(),
                TopicTable(options.topics),
                {},
                {},
                {}};
  std::int64_t expected = 0;
  for (int p = 0; p < partitions; ++p) {
    for (const auto& member : reader.set_members(shared.keys.deleted(p))) {
      if (auto id = parse_uuid(member)) shared.deleted.insert(*id);
    }
    expected += reader.last_id_number(shared.keys.log(p));  // the events the log lists
  }
  progress.expected_events = expected;
  progress.phase = 1;

  // Streams: one scanner, `jobs` checkers.
  const std::size_t jobs = std::max<std::size_t>(1, options.jobs);
  std::vector<std::vector<StreamFacts>> facts(jobs);
  {
    std::vector<std::thread> threads;
    threads.emplace_back([&] { scan_keys(shared); });
    for (std::size_t j = 0; j < jobs; ++j) {
      threads.emplace_back([&, j] { check_streams(shared, facts[j]); });
    }
    for (auto& t : threads) t.join();
  }
  shared.failure.rethrow();

  VerifyReport report;
  report.partitions = partitions;
  FactsIndex index;
  for (auto& list : facts) {
    for (auto& f : list) {
      ++report.streams;
      report.events += f.events;
      index.emplace(f.id, &f);
    }
  }

  // Logs: partitions shared out over the jobs.
  progress.phase = 2;
  std::atomic<int> next_partition{0};
  std::vector<LogFindings> findings(jobs);
  {
    std::vector<std::thread> threads;
    for (std::size_t j = 0; j < jobs; ++j) {
      threads.emplace_back([&, j] {
        try {
          RedisStreamReader log_reader(options.url, options.connection);
          for (int p; (p = next_partition.fetch_add(1)) < partitions;) {
            check_log(shared, log_reader, p, index, findings[j]);
          }
        } catch (...) {
          shared.failure.set(std::current_exception());
        }
      });
    }
    for (auto& t : threads) t.join();
  }
  shared.failure.rethrow();

  LogFindings all;
  for (auto& f : findings) {
    all.entries += f.entries;
    all.duplicated += f.duplicated;
    all.dangling += f.dangling;
    all.gaps += f.gaps;
    for (auto& problem : f.problems) all.note(problem.partition, problem.position, problem.reason);
  }
  // Every stored event must be in its partition's log (each partition's marks are in the
  // map of the job that read it).
  for (auto& list : facts) {
    for (auto& f : list) {
      for (std::size_t i = 0; i < f.topics.size(); ++i) {
        if (!f.logged.empty() && f.logged[i]) continue;
        ++all.missing;
        all.note(f.partition, 0,
                 "entity " + to_string(f.id) + " version " +
                     std::to_string(f.first_version + static_cast<std::int64_t>(i)) +
                     " is in no log entry");
      }
      if (f.broken) {
        ++report.broken_streams;
        if (report.broken.size() < VerifyReport::kMaxListed) {
          StreamFacts copy;
          copy.key = f.key;
          copy.id = f.id;
          copy.partition = f.partition;
          copy.events = f.events;
          copy.broken = true;
          copy.broken_version = f.broken_version;
          copy.reason = f.reason;
          report.broken.push_back(std::move(copy));
        }
      }
    }
  }
  report.log_entries = all.entries;
  report.missing_from_logs = all.missing;
  report.duplicated_in_logs = all.duplicated;
  report.dangling_log_entries = all.dangling;
  report.log_gaps = all.gaps;
  report.log_problems = std::move(all.problems);
  progress.phase = 3;
  report.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return report;
}

}  // namespace es::verify
