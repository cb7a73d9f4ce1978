#include "persistence/record_manager.hpp"

#include "domain/errors.hpp"

#include <unordered_set>

#include <boost/functional/hash.hpp>
#include <boost/uuid/uuid_hash.hpp>

namespace es {

std::optional<std::string> validate_append(const AppendRequest& request) {
  if (request.expected_version < -1) return "expected version must be >= -1";
  if (request.records.empty()) return "an append needs at least one record";
  std::int64_t next = request.expected_version + 1;
  for (const auto& r : request.records) {
    if (r.sequence_id != request.sequence_id) return "a record belongs to another sequence";
    // The Redis store's notification log lists an event per line (docs/STORAGE.md).
    if (r.topic.find('\n') != std::string::npos) return "a topic cannot contain a line break";
    if (r.position != next) {
      return "record positions must continue from the expected version without gaps (expected " +
             std::to_string(next) + ", got " + std::to_string(r.position) + ")";
    }
    ++next;
  }
  return std::nullopt;
}

std::vector<std::vector<SequencedRecord>> RecordManager::read_many(
    const std::vector<SequenceRead>& reads) const {
  std::vector<std::vector<SequencedRecord>> out;
  out.reserve(reads.size());
  for (const auto& r : reads) out.push_back(read(r.id, r.query));
  return out;
}

void RecordManager::read_pages(const Uuid& id, const ReadQuery& query,
                               const PageHandler& on_page) const {
  auto records = read(id, query);
  if (!records.empty()) on_page(std::move(records));
}

void RecordManager::append(const AppendRequest& request) {
  auto results = append_batch({request});
  const auto& r = results.at(0);
  switch (r.status) {
    case AppendStatus::stored:
      return;
    case AppendStatus::conflict:
      throw ConcurrencyError(r.message.empty()
                                 ? "concurrency conflict on " + to_string(request.sequence_id)
                                 : r.message);
    case AppendStatus::invalid:
      throw InvalidInput(r.message);
  }
}

std::optional<SequencedRecord> RecordManager::most_recent(const Uuid& id) const {
  ReadQuery q;
  q.ascending = false;
  q.limit = 1;
  auto records = read(id, q);
  if (records.empty()) return std::nullopt;
  return std::move(records.front());
}

std::vector<Uuid> RecordManager::all_sequence_ids() const {
  std::unordered_set<Uuid, boost::hash<Uuid>> seen;
  std::vector<Uuid> out;
  std::string cursor;
  do {
    auto page = list_sequence_ids(cursor, 1000);
    for (const auto& id : page.ids) {
      if (seen.insert(id).second) out.push_back(id);
    }
    cursor = std::move(page.next_cursor);
  } while (!cursor.empty());
  return out;
}

}  // namespace es
