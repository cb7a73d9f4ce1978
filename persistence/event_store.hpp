// The reference's EventStore: domain events in, domain events out, over a record manager
// and a mapper. Synchronous; the actors build on it.
#pragma once

#include "domain/event.hpp"
#include "domain/mapper.hpp"
#include "persistence/record_manager.hpp"

#include <memory>
#include <optional>
#include <vector>

namespace es {

// The version-checked append of consecutive events of one entity, encoded by `mapper`:
// expected version is the one before the first event. InvalidInput when there are none.
AppendRequest append_request_for(const EventMapper& mapper, const std::vector<Event>& events);

class EventStore {
 public:
  EventStore(std::shared_ptr<RecordManager> records, std::shared_ptr<const EventMapper> mapper);

  // Stores the events of one entity (contiguous versions) all-or-nothing, after the version
  // before the first. ConcurrencyError when the store was not at that version.
  void store(const std::vector<Event>& events);
  void store(const Event& event) { store(std::vector<Event>{event}); }
  // The request store() would make, for callers that batch appends themselves.
  AppendRequest to_append_request(const std::vector<Event>& events) const {
    return append_request_for(*mapper_, events);
  }

  // Events of one entity within the query's bounds; page_size > 0 reads in pages of that size.
  std::vector<Event> get_domain_events(const Uuid& id, const ReadQuery& query = {},
                                       std::size_t page_size = 0) const;
  std::optional<Event> get_most_recent_event(const Uuid& id, const ReadQuery& query = {}) const;
  // Every event of every entity, entity by entity.
  std::vector<Event> all_domain_events() const;

  RecordManager& records() const { return *records_; }
  const EventMapper& mapper() const { return *mapper_; }

 private:
  std::shared_ptr<RecordManager> records_;
  std::shared_ptr<const EventMapper> mapper_;
};

}  // namespace es
