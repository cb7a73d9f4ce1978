#include "actors/store_actors.hpp"

#include "actors/error_code.hpp"
#include "actors/metrics.hpp"
#include "domain/errors.hpp"

#include <caf/actor_pool.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <limits>

namespace es {

namespace {

// The batching trigger of the journal writer and the loaders: one flush to self, sent behind
// every request already in the mailbox, so that all of them join the same round trip.
template <class Self>
void schedule_flush(Self* self, bool& scheduled) {
  if (scheduled) return;
  scheduled = true;
  self->send(self, flush_atom::value);
}

struct JournalState {
  struct Pending {
    AppendRequest request;
    caf::typed_response_promise<std::int64_t> promise;
  };
  std::vector<Pending> pending;
  bool flush_scheduled = false;
  static inline const char* name = "journal-writer";
};

journal_actor::behavior_type journal_writer(journal_actor::stateful_pointer<JournalState> self,
                                            std::shared_ptr<RecordManager> records,
                                            JournalOptions options) {
  return {
      [=](append_atom, AppendRequest& request) -> caf::result<std::int64_t> {
        auto promise = self->make_response_promise<std::int64_t>();
        self->state.pending.push_back({std::move(request), promise});
        schedule_flush(self, self->state.flush_scheduled);
        return promise;
      },
      [=](flush_atom) {
        auto& st = self->state;
        st.flush_scheduled = false;
        while (!st.pending.empty()) {
          const std::size_t n = std::min(options.max_batch, st.pending.size());
          std::vector<AppendRequest> batch;
          batch.reserve(n);
          for (std::size_t i = 0; i < n; ++i) batch.push_back(std::move(st.pending[i].request));
          std::vector<AppendResult> results;
          caf::error failure;
          const auto sent = std::chrono::steady_clock::now();
          try {
            results = records->append_batch(batch);
          } catch (...) {
            failure = current_exception_to_error();
          }
          if (options.metrics) {
            options.metrics->append_seconds.observe(std::chrono::steady_clock::now() - sent);
          }
          std::uint64_t appended = 0;
          for (std::size_t i = 0; i < n; ++i) {
            auto& promise = st.pending[i].promise;
            if (failure) {
              promise.deliver(failure);
              continue;
            }
            const auto& r = results.at(i);
            switch (r.status) {
              case AppendStatus::stored:
                appended += batch[i].records.size();
                promise.deliver(batch[i].records.back().position);
                break;
              case AppendStatus::conflict:
                promise.deliver(make_error(ErrorCode::concurrency, r.message));
                break;
              case AppendStatus::invalid:
                promise.deliver(make_error(ErrorCode::invalid, r.message));
                break;
            }
          }
          if (options.metrics && appended > 0) options.metrics->events_appended.add(appended);
          st.pending.erase(st.pending.begin(), st.pending.begin() + static_cast<std::ptrdiff_t>(n));
        }
      },
  };
}

snapshot_writer_actor::behavior_type snapshot_writer(snapshot_writer_actor::pointer,
                                                     std::shared_ptr<SnapshotStore> snapshots) {
  return {
      [=](snapshot_atom, const SequencedRecord& record) -> caf::result<std::int64_t> {
        try {
          snapshots->save(record);
          return record.position;
        } catch (...) {
          return current_exception_to_error();
        }
      },
  };
}

log_writer_actor::behavior_type log_writer(log_writer_actor::pointer,
                                           std::shared_ptr<LogStore> logs) {
  return {
      [=](log_atom, const SequencedRecord& record) -> caf::result<std::int64_t> {
        try {
          logs->append(record);
          return record.position;
        } catch (...) {
          return current_exception_to_error();
        }
      },
  };
}

// Thrown out of a page handler to stop reading once a stored event cannot be decoded.
struct StopReading {};

// Reads the events the query admits into `history`, decoding each page while the store
// fetches the next one; an event that cannot be decoded (or an entry the store itself cannot
// decode) ends the read as the history's failure.
void read_decoded(RecordManager& records, const EventMapper& mapper, const Uuid& id,
                  const ReadQuery& query, StoredHistory& history) {
  try {
    records.read_pages(id, query, [&](std::vector<SequencedRecord>&& page) {
      try {
        for (const auto& record : page) history.events.push_back(mapper.from_record(record));
      } catch (...) {
        history.failure = current_exception_to_error();
        throw StopReading{};
      }
    });
  } catch (const StopReading&) {
  } catch (const DataIntegrityError&) {
    history.failure = current_exception_to_error();
  }
}

// One load: the latest snapshot at or below the bound (if asked) and the events after it,
// decoded while the store reads the next page.
StoredHistory load_one(RecordManager& records, const SnapshotStore* snapshots,
                       const EventMapper& mapper, const Uuid& id, std::int64_t max_version,
                       bool use_snapshot) {
  StoredHistory history;
  std::optional<std::int64_t> bound;
  if (max_version >= 0) bound = max_version;
  try {
    if (use_snapshot && snapshots) {
      if (auto s = snapshots->latest(id, bound)) {
        history.has_snapshot = true;
        history.snapshot = std::move(*s);
      }
    }
    ReadQuery query;
    if (history.has_snapshot) query.gt = history.snapshot.position;
    if (bound) query.lte = *bound;
    read_decoded(records, mapper, id, query, history);
  } catch (const DataIntegrityError&) {
    // A snapshot the store itself cannot decode: the entity's data is broken, the store is
    // not unavailable.
    history.failure = current_exception_to_error();
  }
  return history;
}

struct LoaderState {
  struct Pending {
    Uuid id;
    std::int64_t max_version;
    bool use_snapshot;
    caf::typed_response_promise<StoredHistory> promise;
  };
  std::vector<Pending> pending;
  bool flush_scheduled = false;
  static inline const char* name = "loader";
};

// Loads that queued up together (a mass recovery: many entities at once) go out as two
// pipelined round trips, snapshots then events, instead of two per entity. Stored data the
// store cannot decode makes the batch fall back to one load each, so that only the broken
// entity fails, with its own reason. Any other failure (the store unreachable) fails the whole
// batch: one by one, a silent server would cost each load its full timeout. On a Redis
// Cluster with a master down this also fails, until the failover, the loads of healthy
// masters' entities that share the batch (grouping a batch by master is not done yet).
void load_batch(RecordManager& records, const SnapshotStore* snapshots, const EventMapper& mapper,
                std::vector<LoaderState::Pending>& batch) {
  const auto n = batch.size();
  std::vector<StoredHistory> histories(n);
  try {
    std::vector<SnapshotStore::Lookup> lookups;
    std::vector<std::size_t> with_snapshot;
    for (std::size_t i = 0; i < n; ++i) {
      if (!batch[i].use_snapshot || !snapshots) continue;
      std::optional<std::int64_t> bound;
      if (batch[i].max_version >= 0) bound = batch[i].max_version;
      lookups.push_back({batch[i].id, bound});
      with_snapshot.push_back(i);
    }
    if (!lookups.empty()) {
      auto found = snapshots->latest_many(lookups);
      for (std::size_t k = 0; k < with_snapshot.size(); ++k) {
        if (!found[k]) continue;
        auto& h = histories[with_snapshot[k]];
        h.has_snapshot = true;
        h.snapshot = std::move(*found[k]);
      }
    }
    std::vector<SequenceRead> reads(n);
    for (std::size_t i = 0; i < n; ++i) {
      reads[i].id = batch[i].id;
      if (histories[i].has_snapshot) reads[i].query.gt = histories[i].snapshot.position;
      if (batch[i].max_version >= 0) reads[i].query.lte = batch[i].max_version;
    }
    auto stored = records.read_many(reads);
    for (std::size_t i = 0; i < n; ++i) {
      auto& h = histories[i];
      try {
        h.events.reserve(stored[i].size());
        for (const auto& record : stored[i]) h.events.push_back(mapper.from_record(record));
      } catch (...) {
        h.failure = current_exception_to_error();
      }
    }
  } catch (const DataIntegrityError&) {
    for (auto& p : batch) {
      try {
        p.promise.deliver(
            load_one(records, snapshots, mapper, p.id, p.max_version, p.use_snapshot));
      } catch (...) {
        p.promise.deliver(current_exception_to_error());
      }
    }
    return;
  } catch (...) {
    const auto error = current_exception_to_error();
    for (auto& p : batch) p.promise.deliver(error);
    return;
  }
  for (std::size_t i = 0; i < n; ++i) batch[i].promise.deliver(std::move(histories[i]));
}

caf::behavior loader(caf::stateful_actor<LoaderState>* self, std::shared_ptr<RecordManager> records,
                     std::shared_ptr<SnapshotStore> snapshots,
                     std::shared_ptr<const EventMapper> mapper) {
  // The most loads one round trip carries (bounds a batch's memory and its latency).
  constexpr std::size_t max_batch = 256;
  return {
      [=](load_atom, const Uuid& id, std::int64_t max_version,
          bool use_snapshot) -> caf::result<StoredHistory> {
        auto promise = self->make_response_promise<StoredHistory>();
        self->state.pending.push_back({id, max_version, use_snapshot, promise});
        schedule_flush(self, self->state.flush_scheduled);
        return promise;
      },
      [=](flush_atom) {
        auto& st = self->state;
        st.flush_scheduled = false;
        while (!st.pending.empty()) {
          const auto n = std::min(max_batch, st.pending.size());
          std::vector<LoaderState::Pending> batch(
              std::make_move_iterator(st.pending.begin()),
              std::make_move_iterator(st.pending.begin() + static_cast<std::ptrdiff_t>(n)));
          st.pending.erase(st.pending.begin(), st.pending.begin() + static_cast<std::ptrdiff_t>(n));
          if (batch.size() > 1) {
            load_batch(*records, snapshots.get(), *mapper, batch);
            continue;
          }
          // One load alone keeps the paged read: a long stream decodes while Redis reads on.
          auto& p = batch.front();
          try {
            p.promise.deliver(
                load_one(*records, snapshots.get(), *mapper, p.id, p.max_version, p.use_snapshot));
          } catch (...) {
            p.promise.deliver(current_exception_to_error());
          }
        }
      },
      [=](events_atom, const Uuid& id, std::int64_t after,
          std::int64_t limit) -> caf::result<StoredHistory> {
        try {
          StoredHistory history;
          ReadQuery query;
          if (after >= 0) query.gt = after;
          query.limit = static_cast<std::size_t>(limit) + 1;
          read_decoded(*records, *mapper, id, query, history);
          return history;
        } catch (...) {
          return current_exception_to_error();
        }
      },
  };
}

}  // namespace

journal_actor spawn_journal_writer(caf::actor_system& sys, std::shared_ptr<RecordManager> records,
                                   JournalOptions options) {
  if (!records->blocks()) return sys.spawn(journal_writer, std::move(records), options);
  return sys.spawn<caf::detached>(journal_writer, std::move(records), options);
}

snapshot_writer_actor spawn_snapshot_writer(caf::actor_system& sys,
                                            std::shared_ptr<SnapshotStore> snapshots) {
  return sys.spawn<caf::detached>(snapshot_writer, std::move(snapshots));
}

log_writer_actor spawn_log_writer(caf::actor_system& sys, std::shared_ptr<LogStore> logs) {
  return sys.spawn<caf::detached>(log_writer, std::move(logs));
}

caf::actor spawn_loader_pool(caf::actor_system& sys, std::shared_ptr<RecordManager> records,
                             std::shared_ptr<SnapshotStore> snapshots,
                             std::shared_ptr<const EventMapper> mapper, std::size_t workers) {
  auto factory = [&sys, records, snapshots, mapper] {
    if (!records->blocks()) return sys.spawn(loader, records, snapshots, mapper);
    return sys.spawn<caf::detached>(loader, records, snapshots, mapper);
  };
  return caf::actor_pool::make(sys.dummy_execution_unit(), std::max<std::size_t>(workers, 1),
                               factory, caf::actor_pool::round_robin());
}

}  // namespace es
