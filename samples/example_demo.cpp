// A short tour of the domain layer: an Example is created, changed and discarded, its
// events are stored in memory (optionally encrypted), then it is rebuilt and its hash chain
// printed. The simulation (example-sim) is the main sample; this one needs no Redis.
#include "persistence/memory_record_manager.hpp"
#include "persistence/memory_snapshot_store.hpp"
#include "persistence/repository.hpp"
#include "samples/example/example.hpp"

#include <boost/json/serialize.hpp>

#include <cstring>
#include <iostream>

using namespace es;

int main(int argc, char** argv) {
  bool encrypt = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--help") || !std::strcmp(argv[i], "-h")) {
      std::cout << "usage: example-demo [--encrypt]\n"
                   "Creates an Example, changes it, stores its events in memory, rebuilds it\n"
                   "from them and prints its hash chain.\n"
                   "  --encrypt  store the events with the AES-GCM cipher (a demo key)\n";
      return 0;
    }
    if (!std::strcmp(argv[i], "--encrypt")) {
      encrypt = true;
    } else {
      std::cerr << "example-demo: unknown option " << argv[i] << " (see --help)\n";
      return 2;
    }
  }
  try {
    Example::register_types();
    auto cipher =
        encrypt ? std::make_shared<AesGcmCipher>(std::string("0123456789abcdef")) : nullptr;
    auto mapper = std::make_shared<EventMapper>(cipher);
    auto records = std::make_shared<MemoryRecordManager>();
    auto store = std::make_shared<EventStore>(records, mapper);
    auto snapshots =
        std::make_shared<SnapshotStrategy>(std::make_shared<MemorySnapshotStore>(), mapper);
    EventSourcedRepository<Example> repo(store, snapshots);

    Example e = create_new_example("Hello There!", 10, 20);
    e.set_a(50);
    e.beat_heart(3);
    repo.save(e);
    repo.take_snapshot(e.id());
    e.set_b(boost::json::array{1, 2, 3});
    repo.save(e);

    Example loaded = repo.get(e.id());
    std::cout << "entity " << to_string(loaded.id()) << " version " << loaded.version()
              << "\n  foo=" << boost::json::serialize(loaded.foo())
              << " a=" << boost::json::serialize(loaded.a())
              << " b=" << boost::json::serialize(loaded.b())
              << " heartbeats=" << loaded.count_heartbeats() << "\n  head " << loaded.head()
              << "\nstored events:\n";
    for (const auto& r : records->read(e.id(), {})) {
      auto ev = mapper->from_record(r);
      std::cout << "  v" << ev.originator_version() << " " << ev.topic() << " hash "
                << ev.event_hash().substr(0, 16) << "... prev "
                << (ev.previous_hash().empty() ? "(genesis)"
                                               : ev.previous_hash().substr(0, 16) + "...")
                << "\n";
      if (!encrypt && ev.originator_version() == 0) std::cout << "      state " << r.state << "\n";
    }
    e.discard();
    repo.save(e);
    std::cout << "discarded; repository contains it: " << (repo.contains(e.id()) ? "yes" : "no")
              << "\n";
    return loaded == repo.get_entity(e.id(), loaded.version()).value() ? 0 : 1;
  } catch (const std::exception& ex) {
    std::cerr << "example-demo: " << ex.what() << "\n";
    return 1;
  }
}
