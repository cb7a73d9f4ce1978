// Encode+hash and decode+verify+apply of Example events, and replay of 10,000 events from
// the in-memory store. Prints Google Benchmark's table, then one `BENCH` line per figure.
#include "domain/example.hpp"
#include "domain/mapper.hpp"
#include "persistence/event_store.hpp"
#include "persistence/memory_record_manager.hpp"
#include "persistence/repository.hpp"

#include <benchmark/benchmark.h>

#include <cstdio>
#include <map>

using namespace es;

namespace {

// A typical AttributeChanged: ~220 bytes stored.
Example sample_entity() {
  Example::register_types();
  Example e = create_new_example("Hello There!", 10, 20);
  e.set_a(boost::json::value{{"x", 1.5}, {"y", "some text"}});
  return e;
}

void BM_EncodeHash(benchmark::State& state) {
  Example e = sample_entity();
  EventMapper mapper;
  const Event& last = e.pending_events().back();
  for (auto _ : state) {
    // What a command costs: build the chained event (hash) and its stored record.
    Event ev = Event::create(last.originator_id(), last.originator_version() + 1,
                             last.timestamp() + 1, last.topic(), last.event_hash(), last.data());
    auto record = mapper.to_record(ev);
    benchmark::DoNotOptimize(record);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_DecodeVerifyApply(benchmark::State& state) {
  Example e = sample_entity();
  EventMapper mapper;
  auto events = e.collect_pending_events();
  std::vector<SequencedRecord> records;
  for (const auto& ev : events) records.push_back(mapper.to_record(ev));
  for (auto _ : state) {
    Example rebuilt;
    for (const auto& r : records) rebuilt.apply(mapper.from_record(r));
    benchmark::DoNotOptimize(rebuilt);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(records.size()));
}

void BM_Replay10k(benchmark::State& state) {
  Example::register_types();
  auto store = std::make_shared<EventStore>(std::make_shared<MemoryRecordManager>(),
                                            std::make_shared<EventMapper>());
  EventSourcedRepository<Example> repo(store);
  Example e = create_new_example("replay", 1, 2);
  for (int i = 0; i < 9999; ++i) {
    if (i % 2)
      e.set_a(i);
    else
      e.beat_heart();
  }
  repo.save(e);
  for (auto _ : state) {
    Example loaded = repo.get(e.id());
    benchmark::DoNotOptimize(loaded);
  }
  state.SetItemsProcessed(state.iterations() * 10000);
}

BENCHMARK(BM_EncodeHash);
BENCHMARK(BM_DecodeVerifyApply);
BENCHMARK(BM_Replay10k)->Unit(benchmark::kMillisecond);

// Prints each benchmark's items/s as a BENCH line after the normal console table.
class BenchLineReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const auto& run : runs) {
      auto it = run.counters.find("items_per_second");
      if (it == run.counters.end()) continue;
      lines_[run.benchmark_name()] = it->second.value;
      if (run.benchmark_name() == "BM_Replay10k") {
        replay_ms_ = run.GetAdjustedRealTime();
      }
    }
  }
  void Finalize() override {
    ConsoleReporter::Finalize();
    auto get = [&](const char* name) { return lines_.count(name) ? lines_[name] : 0.0; };
    std::printf("BENCH domain.encode_hash_per_s %.0f events/s\n", get("BM_EncodeHash"));
    std::printf("BENCH domain.decode_verify_apply_per_s %.0f events/s\n",
                get("BM_DecodeVerifyApply"));
    std::printf("BENCH domain.replay_10k_events_per_s %.0f events/s\n", get("BM_Replay10k"));
    std::printf("BENCH domain.replay_10k_ms %.2f ms\n", replay_ms_);
  }

 private:
  std::map<std::string, double> lines_;
  double replay_ms_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  BenchLineReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return 0;
}
