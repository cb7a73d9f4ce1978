// Why: the sample projection of Example events as a NotificationHandler: for a page of
// notifications it reads the events whose data it needs (Created and AttributeChanged; the
// topic alone tells a Heartbeat or a Discarded) in one round trip, decodes them through the
// mapper (so encrypted events decode with the cipher), turns each into a change of the read
// model (foo as an HMAC token, never in clear), and applies the changes with their positions
// through the read model's tracking. The read side (stats, ids by foo) is here too, because
// it needs the same token key.
#pragma once

#include "domain/cipher.hpp"
#include "domain/keyed_hash.hpp"
#include "domain/mapper.hpp"
#include "persistence/event_fetcher.hpp"
#include "persistence/notification_handler.hpp"
#include "samples/example/example_read_model.hpp"

#include <atomic>
#include <memory>
#include <string>
#include <string_view>

namespace es {

// The label of the key the foo index tokens are made with (see keyed_hash.hpp).
inline constexpr std::string_view kExampleFooIndexLabel = "es/projection/example/foo/v1";

class ExampleProjection final : public NotificationHandler {
 public:
  ExampleProjection(std::shared_ptr<EventFetcher> fetcher,
                    std::shared_ptr<ExampleReadModel> read_model,
                    std::shared_ptr<const AesGcmCipher> cipher);

  std::vector<std::int64_t> positions(const std::vector<int>& partitions) override;
  std::vector<std::int64_t> handle(const std::vector<NotificationBatch>& batches) override;

  // The change a notification makes, given its event record (nothing when the record is
  // gone). Throws the mapper's errors for a record that does not decode.
  ExampleChange change_for(const Notification& n, const SequencedRecord* record) const;

  // Read side.
  ExampleStats stats() const { return read_model_->stats(); }
  std::vector<std::string> ids_with_foo(std::string_view foo) const;
  std::string foo_token(std::string_view foo) const { return tokenizer_.token(foo); }
  const std::shared_ptr<ExampleReadModel>& read_model() const { return read_model_; }

  // Notifications applied by this object, and those whose event record was gone (counted as
  // carrying no data: a Created is live but not indexed, an AttributeChanged does nothing).
  std::int64_t applied() const { return applied_.load(); }
  std::int64_t missing_records() const { return missing_.load(); }

 private:
  std::shared_ptr<EventFetcher> fetcher_;
  std::shared_ptr<ExampleReadModel> read_model_;
  EventMapper mapper_;
  IndexTokenizer tokenizer_;
  std::atomic<std::int64_t> applied_{0};
  std::atomic<std::int64_t> missing_{0};
};

// True for the topics whose data the projection reads (Created, AttributeChanged).
bool example_needs_data(std::string_view topic);

}  // namespace es
