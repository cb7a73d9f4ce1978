// Why: a projection that needs the events' data reads, for a page of notifications, the
// events they point at; one round trip for the whole page matters (Redis: pipelined XRANGE
// by version ID, stream_sources.hpp). The generic version reads them one by one through any
// RecordManager (the in-memory store).
#pragma once

#include "persistence/record_manager.hpp"

#include <memory>
#include <optional>
#include <vector>

namespace es {

// An event by entity and version.
struct EventRef {
  Uuid id{};
  std::int64_t version = 0;
};

class EventFetcher {
 public:
  virtual ~EventFetcher() = default;
  // One result per ref, in order; nothing where no record is stored (deleted records).
  virtual std::vector<std::optional<SequencedRecord>> fetch(const std::vector<EventRef>& refs) = 0;
};

class RecordManagerEventFetcher final : public EventFetcher {
 public:
  explicit RecordManagerEventFetcher(std::shared_ptr<const RecordManager> records);
  std::vector<std::optional<SequencedRecord>> fetch(const std::vector<EventRef>& refs) override;

 private:
  std::shared_ptr<const RecordManager> records_;
};

}  // namespace es
