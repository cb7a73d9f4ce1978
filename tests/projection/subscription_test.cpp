// Why: the subscription actors' own promises: delivery in position order per partition,
// following live appends, resuming from the handler's stored positions, and a clean exit
// within about a second even while blocked on the store.
#include <catch2/catch.hpp>

#include "actors/runtime_config.hpp"
#include "actors/subscription_actors.hpp"
#include "persistence/memory_record_manager.hpp"
#include "persistence/redis_record_manager.hpp"
#include "persistence/stream_sources.hpp"
#include "support/redis_fixture.hpp"

#include <caf/actor_system.hpp>

#include <map>
#include <thread>

using namespace es;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

// Records what it gets; applies only the next position of each partition (tracking rule).
class RecordingHandler final : public NotificationHandler {
 public:
  std::vector<std::int64_t> positions(const std::vector<int>& partitions) override {
    std::lock_guard lock(mutex_);
    std::vector<std::int64_t> out;
    for (int p : partitions) out.push_back(applied_[p]);
    return out;
  }
  std::vector<std::int64_t> handle(const std::vector<NotificationBatch>& batches) override {
    std::lock_guard lock(mutex_);
    std::vector<std::int64_t> out;
    for (const auto& b : batches) {
      auto& at = applied_[b.partition];
      for (const auto& n : b.items) {
        ++deliveries_;
        if (n.position <= at) continue;
        if (n.position != at + 1) break;
        at = n.position;
        seen_[b.partition].push_back(n);
      }
      out.push_back(at);
    }
    return out;
  }
  std::int64_t total() const {
    std::lock_guard lock(mutex_);
    std::int64_t n = 0;
    for (const auto& [p, v] : seen_) n += static_cast<std::int64_t>(v.size());
    return n;
  }
  std::map<int, std::vector<Notification>> seen() const {
    std::lock_guard lock(mutex_);
    return seen_;
  }
  void set_applied(int partition, std::int64_t position) {
    std::lock_guard lock(mutex_);
    applied_[partition] = position;
  }

 private:
  mutable std::mutex mutex_;
  std::map<int, std::int64_t> applied_;
  std::map<int, std::vector<Notification>> seen_;
  std::int64_t deliveries_ = 0;
};

void append_events(RecordManager& records, int entities, int events) {
  std::vector<AppendRequest> requests;
  for (int e = 0; e < entities; ++e) {
    AppendRequest r;
    r.sequence_id = new_uuid();
    for (int v = 0; v < events; ++v) r.records.push_back({r.sequence_id, v, "test.T.E", "{}"});
    requests.push_back(std::move(r));
  }
  records.append_batch(requests);
}

bool wait_for(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!done()) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

void check_order(const std::map<int, std::vector<Notification>>& seen) {
  for (const auto& [partition, items] : seen) {
    std::map<Uuid, std::int64_t> versions;
    for (std::size_t i = 0; i < items.size(); ++i) {
      CHECK(items[i].position == static_cast<std::int64_t>(i) + 1);
      auto it = versions.find(items[i].sequence_id);
      const std::int64_t expected = it == versions.end() ? 0 : it->second + 1;
      CHECK(items[i].version == expected);  // each entity's events in version order
      versions[items[i].sequence_id] = items[i].version;
    }
  }
}

}  // namespace

TEST_CASE("catch-up subscription: history, then live, in order, from the stored position",
          "[subscription]") {
  const bool redis = GENERATE(false, true);
  INFO((redis ? "redis" : "memory"));
  RuntimeConfig cfg(2);
  caf::actor_system sys{cfg};
  std::shared_ptr<RecordManager> records;
  std::shared_ptr<NotificationSource> source;
  if (redis) {
    RedisStoreOptions o;
    o.key_prefix = test::fresh_prefix();
    o.partitions = 4;
    auto r = std::make_shared<RedisRecordManager>(test::redis_pool(), o);
    records = r;
    source = std::make_shared<StreamNotificationSource>(
        test::redis_server().redis_url(), test::test_connection_options(), r->keys(), 300ms);
  } else {
    records = std::make_shared<MemoryRecordManager>(4);
    source = std::make_shared<RecordManagerNotificationSource>(records);
  }
  append_events(*records, 50, 4);  // 200 notifications of history
  auto handler = std::make_shared<RecordingHandler>();
  handler->set_applied(2, 3);  // partition 2 already applied up to 3
  CatchupOptions options;
  options.page_size = 7;  // many pages
  options.block = 300ms;
  auto progress = std::make_shared<SubscriptionProgress>();
  auto actor = spawn_catchup_subscription(sys, source, handler, options, progress);

  std::int64_t skipped = std::min<std::int64_t>(3, records->last_notification_position(2));
  REQUIRE(wait_for([&] { return handler->total() == 200 - skipped; }, 10s));
  append_events(*records, 10, 3);  // live
  REQUIRE(wait_for([&] { return handler->total() == 230 - skipped; }, 10s));
  auto seen = handler->seen();
  CHECK(seen[2].front().position == skipped + 1);
  seen[2].clear();  // started late on purpose
  check_order(seen);
  CHECK(progress->healthy());
  CHECK(progress->failures() == 0);

  const auto started = Clock::now();
  CHECK(stop_actors({actor}, 10s));
  CHECK(Clock::now() - started < 5s);  // one 300 ms block at most, generously
}

TEST_CASE("subscriptions stop within about their block time while blocked on redis",
          "[subscription][redis]") {
  RuntimeConfig cfg(1);
  caf::actor_system sys{cfg};
  RedisStoreOptions o;
  o.key_prefix = test::fresh_prefix();
  auto records = std::make_shared<RedisRecordManager>(test::redis_pool(), o);
  auto handler = std::make_shared<RecordingHandler>();
  CatchupOptions options;
  options.block = 300ms;
  auto follower =
      spawn_catchup_subscription(sys,
                                 std::make_shared<StreamNotificationSource>(
                                     test::redis_server().redis_url(),
                                     test::test_connection_options(), records->keys(), 300ms),
                                 handler, options);
  GroupConsumerOptions g;
  g.consumer = "c1";
  g.block = 300ms;
  auto consumer =
      spawn_group_consumer(sys,
                           std::make_shared<StreamConsumerGroupSource>(
                               test::redis_server().redis_url(), test::test_connection_options(),
                               records->keys(), "projection:stoptest", 300ms),
                           std::make_shared<RecordingHandler>(), g);
  std::this_thread::sleep_for(400ms);  // both are inside a blocking read now
  const auto started = Clock::now();
  CHECK(stop_actors({follower, consumer}, 10s));
  const auto took = Clock::now() - started;
  CHECK(took < 1500ms);  // one 300 ms block at most; 5x
}

TEST_CASE("a competing consumer only applies the next position and acks after the effect",
          "[subscription][redis]") {
  RuntimeConfig cfg(2);
  caf::actor_system sys{cfg};
  RedisStoreOptions o;
  o.key_prefix = test::fresh_prefix();
  o.partitions = 2;
  auto records = std::make_shared<RedisRecordManager>(test::redis_pool(), o);
  append_events(*records, 30, 5);
  auto groups = [&] {
    return std::make_shared<StreamConsumerGroupSource>(test::redis_server().redis_url(),
                                                       test::test_connection_options(),
                                                       records->keys(), "projection:g", 200ms);
  };
  // One shared handler (one read model), two consumers competing for the entries.
  auto handler = std::make_shared<RecordingHandler>();
  GroupConsumerOptions a, b;
  a.consumer = "a";
  b.consumer = "b";
  a.page_size = b.page_size = 5;
  a.block = b.block = 200ms;
  a.claim_after = b.claim_after = 500ms;
  a.claim_interval = b.claim_interval = 200ms;
  auto ca = spawn_group_consumer(sys, groups(), handler, a);
  auto cb = spawn_group_consumer(sys, groups(), handler, b);
  REQUIRE(wait_for([&] { return handler->total() == 150; }, 15s));
  append_events(*records, 10, 2);
  REQUIRE(wait_for([&] { return handler->total() == 170; }, 15s));
  check_order(handler->seen());
  auto g = groups();
  REQUIRE(wait_for([&] { return g->pending_count(0) + g->pending_count(1) == 0; }, 5s));
  CHECK(stop_actors({ca, cb}, 3s));
}
