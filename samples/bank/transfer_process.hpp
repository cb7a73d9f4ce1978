// The transfer process manager: a subscriber that follows the notification log (a catch-up
// subscription, actors/subscription_actors.hpp) and drives each transfer with commands:
//
//   Transfer Requested            -> debit the source         (refused: decline the transfer)
//   Account TransferDebited       -> credit the target        (refused: refund the source)
//   Account TransferDebitDeclined -> decline the transfer (insufficient funds)
//   Account TransferCredited      -> complete the transfer
//   Account TransferRefunded      -> decline the transfer, with the refund's reason
//
// Why this is exactly-once: the log is delivered at least once, and the commands cannot be
// stored atomically with the position the process has reached. So every command is
// idempotent by transfer id (an account remembers the steps it took, a transfer keeps its
// first outcome), and the position of a partition is stored only after every command its
// notifications caused was confirmed. A crash in between replays those notifications, whose
// commands then decide nothing. "Refused" means the entity said no for good (unknown, or an
// account that is closed, which is for ever), so the same answer comes on every replay.
#pragma once

#include "actors/entity_protocol.hpp"
#include "actors/runtime.hpp"
#include "actors/subscription_actors.hpp"
#include "domain/mapper.hpp"
#include "persistence/event_fetcher.hpp"
#include "persistence/notification_handler.hpp"
#include "samples/bank/account.hpp"
#include "samples/bank/transfer.hpp"

#include <caf/actor_system.hpp>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace bank {

// Where the process keeps, per partition, the position up to which every notification's
// commands were confirmed: in memory beside the in-memory store, in a tracking hash per
// partition beside the log for Redis (persistence/tracking_script.hpp, so a position is never
// stored past the log's end).
class ProcessPositions {
 public:
  virtual ~ProcessPositions() = default;
  // 0 where nothing was processed yet.
  virtual std::vector<std::int64_t> read(const std::vector<int>& partitions) = 0;
  // Moves each partition over positions first..last when first is the next one; returns the
  // position of each afterwards.
  struct Move {
    int partition = 0;
    std::int64_t first = 0, last = 0;
  };
  virtual std::vector<std::int64_t> advance(const std::vector<Move>& moves) = 0;
};

// The positions named `name` for the store `events` holds (Redis or memory).
std::shared_ptr<ProcessPositions> process_positions(
    const std::shared_ptr<es::RecordManager>& events, const std::string& name);

// A notification source for one follower of `events`, and a reader of the events they name.
std::shared_ptr<es::NotificationSource> follow_log(
    const std::shared_ptr<es::RecordManager>& events);
std::shared_ptr<es::EventFetcher> event_fetcher(const std::shared_ptr<es::RecordManager>& events);

// What the process did (thread-safe counters).
struct TransferProcessStats {
  std::atomic<std::int64_t> notifications{0};  // applied, relevant or not
  std::atomic<std::int64_t> commands{0};       // sent and confirmed (redeliveries included)
  std::atomic<std::int64_t> refusals{0};       // commands refused for good (see above)
  std::atomic<std::int64_t> stuck{0};          // refusals with nothing to follow (should be 0)
  std::atomic<std::int64_t> missing{0};        // notifications whose event was gone
  std::mutex mutex;
  std::string last_stuck;  // what the last stuck refusal said
};

class TransferProcess final : public es::NotificationHandler {
 public:
  TransferProcess(caf::actor_system& system, es::repository_actor<AccountBinding> accounts,
                  es::repository_actor<TransferBinding> transfers,
                  std::shared_ptr<es::EventFetcher> fetcher,
                  std::shared_ptr<const es::EventMapper> mapper,
                  std::shared_ptr<ProcessPositions> positions, std::chrono::milliseconds timeout);

  std::vector<std::int64_t> positions(const std::vector<int>& partitions) override;
  std::vector<std::int64_t> handle(const std::vector<es::NotificationBatch>& batches) override;

  TransferProcessStats& stats() { return stats_; }
  // Where its positions are stored (thread-safe, unlike positions()).
  const std::shared_ptr<ProcessPositions>& position_store() const { return positions_; }

  // A command for one entity, and what to send instead when that entity refuses it.
  struct Step {
    std::string target;  // entity id
    bool to_account = true;
    AccountBinding::Command account;
    TransferBinding::Command transfer;
    enum class IfRefused { stuck, decline, refund } if_refused = IfRefused::stuck;
    std::string transfer_id, source;  // for the decline or the refund
    std::int64_t amount = 0;
  };
  // The step a notification's event calls for, if any (pure; for tests).
  static std::optional<Step> step_for(const es::Notification& n, const es::Event& event);

 private:
  // Sends the steps concurrently, waits for every answer, then sends what refusals call for.
  // Throws when a command fails for a reason that may pass (unavailable, overloaded, timeout).
  void run(std::vector<Step> steps);

  caf::actor_system* system_;
  es::repository_actor<AccountBinding> accounts_;
  es::repository_actor<TransferBinding> transfers_;
  std::shared_ptr<es::EventFetcher> fetcher_;
  std::shared_ptr<const es::EventMapper> mapper_;
  std::shared_ptr<ProcessPositions> positions_;
  std::chrono::milliseconds timeout_;
  std::map<int, std::int64_t> known_;  // positions by partition, as last read or stored
  TransferProcessStats stats_;
};

struct TransferProcessOptions {
  std::string name = "bank-transfers";  // names its positions in the store
  std::chrono::milliseconds command_timeout{std::chrono::seconds(10)};
  std::size_t page_size = 1000;  // notifications per partition per step at most
};

struct RunningTransferProcess {
  caf::actor subscription;
  std::shared_ptr<TransferProcess> process;
  std::shared_ptr<es::SubscriptionProgress> progress;
};

// Hosts both entity types on the runtime and starts the process on its event store, from the
// stored positions; the runtime stops it on close().
RunningTransferProcess start_transfer_process(es::Runtime& runtime,
                                              TransferProcessOptions options = {});

}  // namespace bank
