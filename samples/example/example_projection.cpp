// Why: see example_projection.hpp.
#include "samples/example/example_projection.hpp"

#include "domain/errors.hpp"
#include "samples/example/example.hpp"

namespace es {
namespace {

// The token of a JSON value when it is a string, "" otherwise (not indexed).
std::string token_of(const IndexTokenizer& tokenizer, const boost::json::value* value) {
  if (value == nullptr || !value->is_string()) return {};
  const auto& s = value->get_string();
  return tokenizer.token(std::string_view(s.data(), s.size()));
}

}  // namespace

bool example_needs_data(std::string_view topic) {
  return topic == Example::Created::topic || topic == Example::AttributeChanged::topic;
}

ExampleProjection::ExampleProjection(std::shared_ptr<EventFetcher> fetcher,
                                     std::shared_ptr<ExampleReadModel> read_model,
                                     std::shared_ptr<const AesGcmCipher> cipher)
    : fetcher_(std::move(fetcher)),
      read_model_(std::move(read_model)),
      mapper_(cipher),
      tokenizer_(cipher.get(), kExampleFooIndexLabel) {
  if (!fetcher_ || !read_model_) {
    throw ConfigurationError("a projection needs an event fetcher and a read model");
  }
  Example::register_types();
}

std::vector<std::int64_t> ExampleProjection::positions(const std::vector<int>& partitions) {
  return read_model_->positions(partitions);
}

std::vector<std::string> ExampleProjection::ids_with_foo(std::string_view foo) const {
  return read_model_->ids_with_token(tokenizer_.token(foo));
}

ExampleChange ExampleProjection::change_for(const Notification& n,
                                            const SequencedRecord* record) const {
  ExampleChange c;
  c.position = n.position;
  c.id = n.sequence_id;
  const std::string_view topic = n.topic;
  if (topic == Example::Heartbeat::topic) {
    c.kind = ExampleChangeKind::heartbeat;
  } else if (topic == Example::Discarded::topic) {
    c.kind = ExampleChangeKind::discarded;
  } else if (topic == Example::Created::topic) {
    c.kind = ExampleChangeKind::created;
    if (record != nullptr) {
      auto event = mapper_.from_record(*record);
      c.token = token_of(tokenizer_, event.data().if_contains("foo"));
    }
  } else if (topic == Example::AttributeChanged::topic && record != nullptr) {
    auto event = mapper_.from_record(*record);
    const auto* name = event.data().if_contains("name");
    if (name != nullptr && name->is_string() && name->get_string() == "foo") {
      c.kind = ExampleChangeKind::foo_changed;
      c.token = token_of(tokenizer_, event.data().if_contains("value"));
    }
  }
  return c;
}

std::vector<std::int64_t> ExampleProjection::handle(const std::vector<NotificationBatch>& batches) {
  std::vector<std::int64_t> result(batches.size(), 0);
  if (batches.empty()) return result;
  std::vector<int> partitions;
  partitions.reserve(batches.size());
  for (const auto& b : batches) partitions.push_back(b.partition);
  const auto stored = read_model_->positions(partitions);

  // Per batch, the run that can be applied now: after the stored position, contiguous.
  struct Run {
    std::size_t batch;
    std::size_t begin, end;  // indexes into the batch's items
  };
  std::vector<Run> runs;
  std::vector<EventRef> refs;
  std::vector<std::size_t> ref_begin;  // per run, index of its first ref
  for (std::size_t b = 0; b < batches.size(); ++b) {
    result[b] = stored[b];
    const auto& items = batches[b].items;
    std::size_t begin = 0;
    while (begin < items.size() && items[begin].position <= stored[b]) ++begin;
    std::size_t end = begin;
    std::int64_t next = stored[b] + 1;
    while (end < items.size() && items[end].position == next) {
      ++end;
      ++next;
    }
    if (end == begin) continue;  // nothing new, or a gap
    ref_begin.push_back(refs.size());
    runs.push_back({b, begin, end});
    for (std::size_t i = begin; i < end; ++i) {
      if (example_needs_data(items[i].topic)) {
        refs.push_back({items[i].sequence_id, items[i].version});
      }
    }
  }
  if (runs.empty()) return result;

  auto records = fetcher_->fetch(refs);
  std::vector<ExampleChanges> changes;
  changes.reserve(runs.size());
  for (std::size_t r = 0; r < runs.size(); ++r) {
    const auto& run = runs[r];
    const auto& items = batches[run.batch].items;
    ExampleChanges batch_changes;
    batch_changes.partition = batches[run.batch].partition;
    batch_changes.changes.reserve(run.end - run.begin);
    std::size_t ref = ref_begin[r];
    for (std::size_t i = run.begin; i < run.end; ++i) {
      const SequencedRecord* record = nullptr;
      if (example_needs_data(items[i].topic)) {
        const auto& fetched = records[ref++];
        if (fetched) {
          record = &*fetched;
        } else {
          missing_.fetch_add(1, std::memory_order_relaxed);
        }
      }
      batch_changes.changes.push_back(change_for(items[i], record));
    }
    changes.push_back(std::move(batch_changes));
  }

  auto outcomes = read_model_->apply(changes);
  for (std::size_t r = 0; r < runs.size(); ++r) {
    result[runs[r].batch] = outcomes[r].stored;
    applied_.fetch_add(outcomes[r].applied, std::memory_order_relaxed);
  }
  return result;
}

}  // namespace es
