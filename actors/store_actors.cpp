#include "actors/store_actors.hpp"

#include "actors/error_code.hpp"
#include "actors/metrics.hpp"
#include "domain/errors.hpp"

#include <caf/actor_pool.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <limits>
#include <map>

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

// Decodes `records` into `history`; false (the reason in history.failure) when one cannot be.
bool decode_into(const std::vector<SequencedRecord>& records, const EventMapper& mapper,
                 StoredHistory& history) {
  try {
    history.events.reserve(history.events.size() + records.size());
    for (const auto& record : records) history.events.push_back(mapper.from_record(record));
    return true;
  } catch (...) {
    history.failure = current_exception_to_error();
    return false;
  }
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
      if (!decode_into(page, mapper, history)) throw StopReading{};
    });
  } catch (const StopReading&) {
  } catch (const DataIntegrityError&) {
    history.failure = current_exception_to_error();
  }
}

// A loader request: the entity, the highest version wanted (< 0: the latest), and whether a
// snapshot may stand in for the events up to it.
struct LoadRequest {
  Uuid id;
  std::int64_t max_version;
  bool use_snapshot;

  std::optional<std::int64_t> bound() const {
    if (max_version < 0) return std::nullopt;
    return max_version;
  }
  // The events still to read once `history` holds the snapshot (if any).
  ReadQuery events_after(const StoredHistory& history) const {
    ReadQuery query;
    if (history.has_snapshot) query.gt = history.snapshot.position;
    query.lte = bound();
    return query;
  }
};

void take_snapshot(StoredHistory& history, std::optional<SequencedRecord> snapshot) {
  if (!snapshot) return;
  history.has_snapshot = true;
  history.snapshot = std::move(*snapshot);
}

// One load: the latest snapshot at or below the bound (if asked) and the events after it,
// decoded while the store reads the next page.
StoredHistory load_one(RecordManager& records, const SnapshotStore* snapshots,
                       const EventMapper& mapper, const LoadRequest& request) {
  StoredHistory history;
  try {
    if (request.use_snapshot && snapshots)
      take_snapshot(history, snapshots->latest(request.id, request.bound()));
    read_decoded(records, mapper, request.id, request.events_after(history), history);
  } catch (const DataIntegrityError&) {
    // A snapshot the store itself cannot decode: the entity's data is broken, the store is
    // not unavailable.
    history.failure = current_exception_to_error();
  }
  return history;
}

struct LoaderState {
  struct Pending {
    LoadRequest request;
    caf::typed_response_promise<StoredHistory> promise;
  };
  std::vector<Pending> pending;
  bool flush_scheduled = false;
  static inline const char* name = "loader";
};

// Every load of `batch` on its own (its answer or its error).
void load_each(RecordManager& records, const SnapshotStore* snapshots, const EventMapper& mapper,
               std::vector<LoaderState::Pending>& batch) {
  for (auto& p : batch) {
    try {
      p.promise.deliver(load_one(records, snapshots, mapper, p.request));
    } catch (...) {
      p.promise.deliver(current_exception_to_error());
    }
  }
}

// Loads that queued up together (a mass recovery: many entities at once) go out as two
// pipelined round trips, snapshots then events, instead of two per entity; a load alone keeps
// the paged read (a long stream decodes while Redis reads on). Stored data the store cannot
// decode makes the batch fall back to one load each, so that only the broken entity fails,
// with its own reason. An unreachable store fails the whole batch, not one load at a time (a
// silent server would cost each its full timeout); but where the store has parts that fail
// apart (the masters of a Redis Cluster, RecordManager::shard_of), the failed batch is split
// by part and each part loaded again, so that a master that is down fails only its own
// entities' loads (HTTP_API.md: a master's failure answers 503 for its partitions only).
void load_batch(RecordManager& records, const SnapshotStore* snapshots, const EventMapper& mapper,
                std::vector<LoaderState::Pending>& batch) {
  const auto n = batch.size();
  if (n == 1) return load_each(records, snapshots, mapper, batch);
  std::vector<StoredHistory> histories(n);
  try {
    if (snapshots) {
      std::vector<SnapshotStore::Lookup> lookups;
      std::vector<std::size_t> asking;  // the batch index of each lookup
      for (std::size_t i = 0; i < n; ++i) {
        if (!batch[i].request.use_snapshot) continue;
        lookups.push_back({batch[i].request.id, batch[i].request.bound()});
        asking.push_back(i);
      }
      auto found = snapshots->latest_many(lookups);
      for (std::size_t k = 0; k < asking.size(); ++k)
        take_snapshot(histories[asking[k]], std::move(found[k]));
    }
    std::vector<SequenceRead> reads;
    reads.reserve(n);
    for (std::size_t i = 0; i < n; ++i)
      reads.push_back({batch[i].request.id, batch[i].request.events_after(histories[i])});
    auto stored = records.read_many(reads);
    for (std::size_t i = 0; i < n; ++i) decode_into(stored[i], mapper, histories[i]);
  } catch (const DataIntegrityError&) {
    return load_each(records, snapshots, mapper, batch);
  } catch (const StoreUnavailable&) {
    const auto error = current_exception_to_error();
    std::map<std::string, std::vector<LoaderState::Pending>> parts;
    for (auto& p : batch) parts[records.shard_of(p.request.id)].push_back(std::move(p));
    if (parts.size() > 1) {
      for (auto& part : parts) load_batch(records, snapshots, mapper, part.second);
      return;
    }
    for (auto& p : parts.begin()->second) p.promise.deliver(error);
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
        self->state.pending.push_back({{id, max_version, use_snapshot}, promise});
        schedule_flush(self, self->state.flush_scheduled);
        return promise;
      },
      [=](flush_atom) {
        auto& st = self->state;
        st.flush_scheduled = false;
        while (!st.pending.empty()) {
          const auto n = static_cast<std::ptrdiff_t>(std::min(max_batch, st.pending.size()));
          std::vector<LoaderState::Pending> batch(std::make_move_iterator(st.pending.begin()),
                                                  std::make_move_iterator(st.pending.begin() + n));
          st.pending.erase(st.pending.begin(), st.pending.begin() + n);
          load_batch(*records, snapshots.get(), *mapper, batch);
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
