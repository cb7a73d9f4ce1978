// What every entity actor of an application shares: the mapper, the persistence-policy
// actors, the event bus, and the limits. Built once by the application.
#pragma once

#include "actors/event_bus.hpp"
#include "actors/metrics.hpp"
#include "actors/store_actors.hpp"
#include "domain/mapper.hpp"

#include <atomic>
#include <chrono>
#include <memory>
#include <vector>

namespace es {

struct EntityRuntime {
  std::shared_ptr<const EventMapper> mapper;
  std::vector<journal_actor> journals;  // chosen by the entity's partition
  caf::actor loader;                    // a pool of loaders
  snapshot_writer_actor snapshot_writer;
  std::shared_ptr<EventBus> bus;
  int partitions = 16;
  std::int64_t snapshot_period = 0;  // a snapshot every N events; 0: off
  std::chrono::milliseconds passivate_after{std::chrono::minutes(5)};
  std::chrono::milliseconds store_timeout{std::chrono::seconds(5)};
  std::int64_t max_in_flight = 200000;
  // Live entity actors over every repository of the runtime, and the cap (0: none).
  std::int64_t max_live_entities = 0;
  std::shared_ptr<std::atomic<std::int64_t>> live = std::make_shared<std::atomic<std::int64_t>>(0);
  // Commands accepted by the repository and not yet answered.
  std::shared_ptr<std::atomic<std::int64_t>> in_flight =
      std::make_shared<std::atomic<std::int64_t>>(0);
  // Operational figures (docs/OPERATIONS.md); never null.
  std::shared_ptr<RuntimeMetrics> metrics = std::make_shared<RuntimeMetrics>();

  const journal_actor& journal_for(const Uuid& id) const;
};

}  // namespace es
