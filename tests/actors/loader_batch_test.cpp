// The loaders batch the loads that queue up together (a mass recovery): a store that records
// its calls shows many loads going out as one read_many, and a batch the store refuses with a
// DataIntegrityError falling back to one load each, so that only the broken entity fails.
#include "actors/get_all.hpp"
#include "domain/errors.hpp"
#include "persistence/stores.hpp"
#include "samples/example/example_application.hpp"
#include "support/forwarding_record_manager.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <thread>

using namespace es;

namespace {

// The in-memory store, on its own threads like Redis (blocks()), that records the calls the
// loaders make. The first read of either kind waits, so that every later load queues up
// behind it (the first flush may carry one load or a few that came together).
class RecordingStore final : public test::ForwardingRecordManager {
 public:
  using ForwardingRecordManager::ForwardingRecordManager;

  std::optional<Uuid> broken;  // read_many refuses a batch holding it; its own read fails
  mutable std::atomic<bool> hold_first{false};
  mutable std::atomic<int> paged_reads{0};  // read_pages calls (one load each)
  mutable std::mutex mutex;
  mutable std::vector<std::size_t> batches;  // the size of every read_many call
  mutable std::size_t refused = 0;           // the size of the batches refused, summed

  void read_pages(const Uuid& id, const ReadQuery& query,
                  const PageHandler& on_page) const override {
    if (hold_first.exchange(false)) std::this_thread::sleep_for(std::chrono::milliseconds(300));
    paged_reads.fetch_add(1);
    if (broken && id == *broken) throw RecordDecodingError("a stored event cannot be decoded");
    inner().read_pages(id, query, on_page);
  }
  std::vector<std::vector<SequencedRecord>> read_many(
      const std::vector<SequenceRead>& reads) const override {
    if (hold_first.exchange(false)) std::this_thread::sleep_for(std::chrono::milliseconds(300));
    std::lock_guard lock(mutex);
    batches.push_back(reads.size());
    for (const auto& r : reads) {
      if (broken && r.id == *broken) {
        refused += reads.size();
        throw RecordDecodingError("a stored event cannot be decoded");
      }
    }
    return inner().read_many(reads);
  }
  bool blocks() const override { return true; }
};

}  // namespace

TEST_CASE("loads that queue up together go to the store as one batch", "[actors][recovery]") {
  Stores stores = memory_stores();
  ApplicationConfig cfg;
  cfg.stores = stores;
  cfg.scheduler_threads = 2;
  std::vector<Uuid> ids;
  std::map<Uuid, std::int64_t> versions;
  {
    ExampleApplication app(cfg);
    for (int i = 0; i < 100; ++i) {
      auto id = *parse_uuid(app.create_new_example(boost::json::value(i)).id);
      for (int k = 0; k < i % 4; ++k) app.set_attribute(id, "a", k);
      ids.push_back(id);
      versions[id] = i % 4;
    }
  }
  auto recording = std::make_shared<RecordingStore>(stores.events);
  recording->hold_first = true;
  const bool with_broken = GENERATE(false, true);
  if (with_broken) recording->broken = ids[50];
  INFO((with_broken ? "with" : "without") << " a broken entity");
  cfg.stores.events = recording;
  cfg.loaders = 1;
  ExampleApplication reopened(cfg);
  auto answers = test::get_all(reopened, ids);

  std::size_t largest = 0;
  std::size_t refused = 0;
  {
    std::lock_guard lock(recording->mutex);
    for (auto n : recording->batches) largest = std::max(largest, n);
    refused = recording->refused;
  }
  CHECK(largest >= 50);  // the loads queued behind the held one went out together
  for (const auto& id : ids) {
    INFO(to_string(id));
    if (with_broken && id == ids[50]) {
      CHECK(answers[id].error == ErrorCode::integrity);
    } else {
      CHECK(answers[id].error == ErrorCode::none);
      CHECK(answers[id].version == versions[id]);
    }
  }
  if (with_broken) {
    // The refused batch was loaded again one by one: a paged read per entity in it (the
    // broken one may have come in a small batch, the largest passing whole).
    CHECK(refused > 0);
    CHECK(recording->paged_reads.load() >= static_cast<int>(refused));
  } else {
    CHECK(recording->paged_reads.load() < 10);  // the held load and stragglers, no more
  }
}
