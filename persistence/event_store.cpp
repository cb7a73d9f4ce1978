#include "persistence/event_store.hpp"

#include "domain/errors.hpp"

namespace es {

EventStore::EventStore(std::shared_ptr<RecordManager> records,
                       std::shared_ptr<const EventMapper> mapper)
    : records_(std::move(records)), mapper_(std::move(mapper)) {}

AppendRequest append_request_for(const EventMapper& mapper, const std::vector<Event>& events) {
  if (events.empty()) throw InvalidInput("nothing to store");
  AppendRequest request;
  request.sequence_id = events.front().originator_id();
  request.expected_version = events.front().originator_version() - 1;
  request.records.reserve(events.size());
  for (const auto& e : events) request.records.push_back(mapper.to_record(e));
  return request;
}

void EventStore::store(const std::vector<Event>& events) {
  records_->append(to_append_request(events));
}

std::vector<Event> EventStore::get_domain_events(const Uuid& id, const ReadQuery& query,
                                                 std::size_t page_size) const {
  std::vector<Event> events;
  if (page_size == 0) {
    for (const auto& r : records_->read(id, query)) events.push_back(mapper_->from_record(r));
    return events;
  }
  // Read page by page, narrowing the bounds past the last position seen.
  ReadQuery page = query;
  const std::size_t wanted = query.limit.value_or(SIZE_MAX);
  while (events.size() < wanted) {
    page.limit = std::min(page_size, wanted - events.size());
    auto records = records_->read(id, page);
    for (const auto& r : records) events.push_back(mapper_->from_record(r));
    if (records.size() < *page.limit) break;
    if (query.ascending) {
      page.gt = records.back().position;
      page.gte.reset();
    } else {
      page.lt = records.back().position;
      page.lte.reset();
    }
  }
  return events;
}

std::optional<Event> EventStore::get_most_recent_event(const Uuid& id,
                                                       const ReadQuery& query) const {
  ReadQuery q = query;
  q.ascending = false;
  q.limit = 1;
  auto records = records_->read(id, q);
  if (records.empty()) return std::nullopt;
  return mapper_->from_record(records.front());
}

std::vector<Event> EventStore::all_domain_events() const {
  std::vector<Event> events;
  for (const auto& id : records_->all_sequence_ids()) {
    for (auto& e : get_domain_events(id)) events.push_back(std::move(e));
  }
  return events;
}

}  // namespace es
