// The actors that talk to the stores. Each runs detached (its own thread) when the store's
// calls block (RecordManager::blocks: Redis); the entity actors never do I/O on scheduler
// threads. Over a store that never waits (in memory) the journal writer and the loaders
// run on the scheduler like any actor.
//
// - journal writer: the entity-events persistence policy; batches the appends of many
//   entity actors into one pipelined round trip (group commit).
// - snapshot writer: the snapshot persistence policy.
// - log writer: the persistence policy of time-bucketed log messages.
// - loader: reads an entity's latest snapshot and the events after it; a pool of them
//   bounds how many recoveries run at once.
#pragma once

#include "actors/atoms.hpp"
#include "actors/messages.hpp"
#include "domain/mapper.hpp"
#include "persistence/log_store.hpp"
#include "persistence/record_manager.hpp"
#include "persistence/snapshot_store.hpp"

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <memory>

namespace es {

// Appends answer the new highest version of the entity, or an error: concurrency,
// invalid or unavailable.
using journal_actor =
    caf::typed_actor<caf::replies_to<append_atom, AppendRequest>::with<std::int64_t>,
                     caf::reacts_to<flush_atom>>;

using snapshot_writer_actor =
    caf::typed_actor<caf::replies_to<snapshot_atom, SequencedRecord>::with<std::int64_t>>;

using log_writer_actor =
    caf::typed_actor<caf::replies_to<log_atom, SequencedRecord>::with<std::int64_t>>;

struct RuntimeMetrics;

struct JournalOptions {
  std::size_t max_batch = 1024;  // appends per round trip at most
  // Counts round trips and events appended when set.
  std::shared_ptr<RuntimeMetrics> metrics;
};

journal_actor spawn_journal_writer(caf::actor_system& sys, std::shared_ptr<RecordManager> records,
                                   JournalOptions options = {});

snapshot_writer_actor spawn_snapshot_writer(caf::actor_system& sys,
                                            std::shared_ptr<SnapshotStore> snapshots);

log_writer_actor spawn_log_writer(caf::actor_system& sys, std::shared_ptr<LogStore> logs);

// A pool of `workers` loaders. Requests: (load_atom, Uuid id, int64 max_version,
// bool use_snapshot) -> StoredHistory, max_version < 0 meaning the latest; and (events_atom,
// Uuid id, int64 after, int64 limit) -> StoredHistory with the events after version `after`,
// at most limit + 1 of them (the one more tells that more remain), no snapshot. A loader decodes
// the events with `mapper` (verifying each event's own hash; the chain is the entity's to
// check) while the store reads the next page.
caf::actor spawn_loader_pool(caf::actor_system& sys, std::shared_ptr<RecordManager> records,
                             std::shared_ptr<SnapshotStore> snapshots,
                             std::shared_ptr<const EventMapper> mapper, std::size_t workers);

}  // namespace es
