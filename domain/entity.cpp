#include "domain/entity.hpp"

#include <typeinfo>

namespace es {

namespace {
constexpr const char* kId = "id";
constexpr const char* kVersion = "version";
constexpr const char* kCreatedOn = "created_on";
constexpr const char* kLastModified = "last_modified";
constexpr const char* kHead = "head";
}  // namespace

void Entity::check(const Event& event) const {
  if (is_created() && event.originator_id() != id_) {
    throw OriginatorIDError("event of " + to_string(event.originator_id()) + " given to entity " +
                            to_string(id_));
  }
  if (event.originator_version() != version_ + 1) {
    throw OriginatorVersionError("event version " + std::to_string(event.originator_version()) +
                                 " does not follow entity version " + std::to_string(version_));
  }
  if (event.previous_hash() != head_) {
    throw HeadHashError("event " + std::to_string(event.originator_version()) + " of " +
                        to_string(event.originator_id()) +
                        " does not link to the entity's head hash");
  }
  if (!event.hash_matches()) {
    throw EventHashError("event " + std::to_string(event.originator_version()) + " of " +
                         to_string(event.originator_id()) + " does not match its own hash");
  }
}

void Entity::apply(const Event& event) {
  check(event);
  // The entity type mutates first: should it throw, the base fields stay as they were.
  mutate(event);
  if (!is_created()) {
    id_ = event.originator_id();
    created_on_ = event.timestamp();
  }
  version_ = event.originator_version();
  last_modified_ = event.timestamp();
  head_ = event.event_hash();
}

void Entity::record(const Uuid& id, Decision decision) {
  for (auto& event : chain(id, decision.take())) {
    apply(event);
    pending_.push_back(std::move(event));
  }
}

std::vector<Event> Entity::chain(const Uuid& id, std::vector<EventDraft> drafts) const {
  assert_not_discarded();
  std::vector<Event> events;
  events.reserve(drafts.size());
  const Uuid& originator = is_created() ? id_ : id;
  std::int64_t version = version_;
  std::int64_t timestamp = last_modified_;
  const std::string* previous = &head_;
  for (auto& d : drafts) {
    timestamp = next_timestamp(timestamp);
    events.push_back(Event::create(originator, ++version, timestamp, std::move(d.topic), *previous,
                                   std::move(d.data), d.schema_version));
    previous = &events.back().event_hash();
  }
  return events;
}

std::vector<Event> Entity::collect_pending_events() {
  std::vector<Event> out;
  out.swap(pending_);
  return out;
}

void Entity::assert_not_discarded() const {
  if (discarded_) throw EntityIsDiscarded("entity " + to_string(id_) + " is discarded");
}

boost::json::value Entity::snapshot_state() const {
  if (discarded_) return nullptr;
  boost::json::object state;
  state[kId] = to_string(id_);
  state[kVersion] = version_;
  state[kCreatedOn] = created_on_;
  state[kLastModified] = last_modified_;
  state[kHead] = head_;
  save_state(state);
  return state;
}

Snapshot Entity::take_snapshot() const {
  if (!is_created()) throw InvalidInput("cannot snapshot an entity that has no events");
  Snapshot s;
  s.originator_id = id_;
  s.originator_version = version_;
  s.topic = std::string(type_topic());
  s.state = snapshot_state();
  s.timestamp = last_modified_;
  return s;
}

void Entity::restore_snapshot(const Snapshot& snapshot) {
  if (snapshot.topic != type_topic()) {
    throw RecordDecodingError("snapshot of type '" + snapshot.topic + "' given to an entity of '" +
                              std::string(type_topic()) + "'");
  }
  id_ = snapshot.originator_id;
  version_ = snapshot.originator_version;
  pending_.clear();
  if (snapshot.state.is_null()) {
    // A discarded entity keeps only what identifies it.
    discarded_ = true;
    last_modified_ = snapshot.timestamp;
    head_.clear();
    return;
  }
  if (!snapshot.state.is_object()) throw RecordDecodingError("snapshot state is not an object");
  const auto& state = snapshot.state.get_object();
  created_on_ = require_int64(state, kCreatedOn);
  last_modified_ = require_int64(state, kLastModified);
  head_ = std::string(require_string(state, kHead));
  discarded_ = false;
  load_state(state);
}

bool operator==(const Entity& a, const Entity& b) {
  return typeid(a) == typeid(b) && a.version_ == b.version_ && a.id_ == b.id_ &&
         a.discarded_ == b.discarded_ && a.snapshot_state() == b.snapshot_state();
}

}  // namespace es
