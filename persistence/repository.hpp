// The reference's EventSourcedRepository, for any entity type E: rebuilds an entity from
// its latest snapshot (if any) and the events after it, verifying the hash chain.
#pragma once

#include "domain/entity.hpp"
#include "persistence/event_store.hpp"
#include "persistence/snapshot_strategy.hpp"

#include <memory>
#include <optional>

namespace es {

template <class E>
class EventSourcedRepository {
 public:
  explicit EventSourcedRepository(std::shared_ptr<EventStore> events,
                                  std::shared_ptr<SnapshotStrategy> snapshots = nullptr,
                                  std::size_t page_size = 1000)
      : events_(std::move(events)), snapshots_(std::move(snapshots)), page_size_(page_size) {}

  // The live entity (repo[id]); RepositoryKeyError when unknown or discarded.
  E get(const Uuid& id) const {
    auto entity = get_entity(id);
    if (!entity || entity->is_discarded()) {
      throw RepositoryKeyError("no entity with id " + to_string(id));
    }
    return std::move(*entity);
  }

  // `id in repo`: true for a live (created, not discarded) entity.
  bool contains(const Uuid& id) const {
    auto entity = get_entity(id);
    return entity && !entity->is_discarded();
  }

  // The entity as of version `at` (latest when not given), discarded or not; nothing when
  // there is neither a snapshot nor an event at or below `at`.
  std::optional<E> get_entity(const Uuid& id, std::optional<std::int64_t> at = std::nullopt) const {
    std::optional<Snapshot> snapshot;
    if (snapshots_) snapshot = snapshots_->get_snapshot(id, at);
    ReadQuery query;
    if (snapshot) query.gt = snapshot->originator_version;
    if (at) query.lte = *at;
    auto events = events_->get_domain_events(id, query, page_size_);
    if (!snapshot && events.empty()) return std::nullopt;
    return replay<E>(snapshot ? &*snapshot : nullptr, events);
  }

  // Stores the entity's pending events.
  void save(E& entity) {
    auto pending = entity.collect_pending_events();
    if (!pending.empty()) events_->store(pending);
  }

  // The reference's take_snapshot: nothing without events; the existing snapshot when it is
  // already at the latest version (at or below `max_version`); otherwise a new one.
  std::optional<Snapshot> take_snapshot(const Uuid& id,
                                        std::optional<std::int64_t> max_version = std::nullopt) {
    if (!snapshots_) return std::nullopt;
    ReadQuery query;
    if (max_version) query.lte = *max_version;
    auto latest_event = events_->get_most_recent_event(id, query);
    if (!latest_event) return std::nullopt;
    const auto latest_version = latest_event->originator_version();
    auto existing = snapshots_->get_snapshot(id, latest_version);
    if (existing && existing->originator_version == latest_version) return existing;
    auto entity = get_entity(id, latest_version);
    if (!entity) return std::nullopt;
    Snapshot snapshot = entity->take_snapshot();
    snapshots_->store(snapshot);
    return snapshot;
  }

  EventStore& event_store() const { return *events_; }
  SnapshotStrategy* snapshot_strategy() const { return snapshots_.get(); }

 private:
  std::shared_ptr<EventStore> events_;
  std::shared_ptr<SnapshotStrategy> snapshots_;
  std::size_t page_size_;
};

}  // namespace es
