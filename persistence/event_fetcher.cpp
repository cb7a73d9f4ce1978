// Why: see event_fetcher.hpp.
#include "persistence/event_fetcher.hpp"

#include "domain/errors.hpp"

namespace es {

RecordManagerEventFetcher::RecordManagerEventFetcher(std::shared_ptr<const RecordManager> records)
    : records_(std::move(records)) {
  if (!records_) throw ConfigurationError("an event fetcher needs a record manager");
}

std::vector<std::optional<SequencedRecord>> RecordManagerEventFetcher::fetch(
    const std::vector<EventRef>& refs) {
  std::vector<std::optional<SequencedRecord>> out;
  out.reserve(refs.size());
  for (const auto& ref : refs) {
    ReadQuery query;
    query.gte = ref.version;
    query.lte = ref.version;
    query.limit = 1;
    auto records = records_->read(ref.id, query);
    if (records.empty()) {
      out.emplace_back();
    } else {
      out.emplace_back(std::move(records.front()));
    }
  }
  return out;
}

}  // namespace es
