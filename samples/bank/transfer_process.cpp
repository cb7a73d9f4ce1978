// Why: see transfer_process.hpp.
#include "samples/bank/transfer_process.hpp"

#include "actors/error_code.hpp"
#include "domain/errors.hpp"
#include "persistence/notification_source.hpp"
#include "persistence/redis_record_manager.hpp"
#include "persistence/stream_sources.hpp"
#include "persistence/tracking.hpp"
#include "persistence/tracking_script.hpp"

#include <caf/scoped_actor.hpp>

#include <map>
#include <utility>

namespace bank {
namespace {

class MemoryPositions final : public ProcessPositions {
 public:
  std::vector<std::int64_t> read(const std::vector<int>& partitions) override {
    std::lock_guard lock(mutex_);
    std::vector<std::int64_t> out;
    for (int p : partitions) out.push_back(stored_[p]);
    return out;
  }
  std::vector<std::int64_t> advance(const std::vector<Move>& moves) override {
    std::lock_guard lock(mutex_);
    std::vector<std::int64_t> out;
    for (const auto& m : moves) {
      auto& stored = stored_[m.partition];
      es::apply_tracked(stored, {es::TrackedEntry{m.first, m.last, {}}},
                        [](const std::vector<std::string>&, std::int64_t) {});
      out.push_back(stored);
    }
    return out;
  }

 private:
  std::mutex mutex_;
  std::map<int, std::int64_t> stored_;
};

// The position only: the process's effects are commands to entities, confirmed before.
const char* const kPositionOnly = R"lua(
local function check(args) return nil end
local function apply(args, count) end
local function finish() end
)lua";

class RedisPositions final : public ProcessPositions {
 public:
  RedisPositions(const es::RedisRecordManager& store, const std::string& name)
      : pool_(store.pool()), keys_(store.keys()), name_(name), script_(kPositionOnly) {}

  std::vector<std::int64_t> read(const std::vector<int>& partitions) override {
    std::vector<std::string> keys;
    for (int p : partitions) keys.push_back(tracking_key(p));
    if (keys.empty()) return {};
    auto lease = pool_->acquire();
    return es::read_tracked_positions(*lease, keys);
  }
  std::vector<std::int64_t> advance(const std::vector<Move>& moves) override {
    std::vector<es::TrackedCall> calls;
    for (const auto& m : moves) {
      calls.push_back({{tracking_key(m.partition), keys_.log(m.partition)},
                       {es::TrackedEntry{m.first, m.last, {}}}});
    }
    if (calls.empty()) return {};
    auto lease = pool_->acquire();
    auto results = script_.run(*lease, calls);
    std::vector<std::int64_t> out;
    for (const auto& r : results) out.push_back(r.stored);
    return out;
  }

 private:
  // In the partition's hash slot, beside its log (the script touches both).
  std::string tracking_key(int p) const {
    return keys_.prefix() + ":" + keys_.tag(p) + ":process:" + name_;
  }

  std::shared_ptr<es::RedisPool> pool_;
  es::RedisKeys keys_;
  std::string name_;
  es::TrackedScript script_;
};

using IfRefused = TransferProcess::Step::IfRefused;

TransferProcess::Step account_step(std::string account, AccountBinding::Command command) {
  TransferProcess::Step s;
  s.target = std::move(account);
  s.account = std::move(command);
  return s;
}

TransferProcess::Step transfer_step(std::string transfer, TransferBinding::Command command) {
  TransferProcess::Step s;
  s.target = std::move(transfer);
  s.to_account = false;
  s.transfer = std::move(command);
  return s;
}

// Why an entity refused a command, for good, as a transfer's decline reason; nothing when the
// failure may pass (the batch is then retried).
std::optional<std::string> refusal_of(const caf::error& error) {
  switch (es::code_of(error)) {
    case es::ErrorCode::not_found:
    case es::ErrorCode::discarded:
      return std::string("no such account");
    case es::ErrorCode::invalid:
      return es::reason_of(error);
    default:
      return std::nullopt;
  }
}

}  // namespace

std::shared_ptr<ProcessPositions> process_positions(
    const std::shared_ptr<es::RecordManager>& events, const std::string& name) {
  if (auto* redis = dynamic_cast<es::RedisRecordManager*>(events.get())) {
    return std::make_shared<RedisPositions>(*redis, name);
  }
  return std::make_shared<MemoryPositions>();
}

std::shared_ptr<es::NotificationSource> follow_log(
    const std::shared_ptr<es::RecordManager>& events) {
  if (auto* redis = dynamic_cast<es::RedisRecordManager*>(events.get())) {
    return std::make_shared<es::StreamNotificationSource>(redis->pool()->url(),
                                                          redis->pool()->options(), redis->keys(),
                                                          std::chrono::milliseconds(500));
  }
  return std::make_shared<es::RecordManagerNotificationSource>(events);
}

std::shared_ptr<es::EventFetcher> event_fetcher(const std::shared_ptr<es::RecordManager>& events) {
  if (auto* redis = dynamic_cast<es::RedisRecordManager*>(events.get())) {
    return std::make_shared<es::StreamEventFetcher>(redis->pool(), redis->keys());
  }
  return std::make_shared<es::RecordManagerEventFetcher>(events);
}

TransferProcess::TransferProcess(caf::actor_system& system,
                                 es::repository_actor<AccountBinding> accounts,
                                 es::repository_actor<TransferBinding> transfers,
                                 std::shared_ptr<es::EventFetcher> fetcher,
                                 std::shared_ptr<const es::EventMapper> mapper,
                                 std::shared_ptr<ProcessPositions> positions,
                                 std::chrono::milliseconds timeout)
    : system_(&system),
      accounts_(std::move(accounts)),
      transfers_(std::move(transfers)),
      fetcher_(std::move(fetcher)),
      mapper_(std::move(mapper)),
      positions_(std::move(positions)),
      timeout_(timeout) {}

std::vector<std::int64_t> TransferProcess::positions(const std::vector<int>& partitions) {
  auto out = positions_->read(partitions);
  for (std::size_t i = 0; i < partitions.size(); ++i) known_[partitions[i]] = out[i];
  return out;
}

std::optional<TransferProcess::Step> TransferProcess::step_for(const es::Notification& n,
                                                               const es::Event& event) {
  const std::string id = es::to_string(n.sequence_id);
  std::optional<Step> out;
  const auto& topic = n.topic;
  if (topic == TransferRequested::topic) {
    auto e = es::event_from_data<TransferRequested>(event.data());
    out = account_step(e.from, DebitForTransfer{id, e.to, e.amount});
    out->if_refused = IfRefused::decline;
    out->transfer_id = id;
  } else if (topic == TransferDebited::topic) {
    auto e = es::event_from_data<TransferDebited>(event.data());
    out = account_step(e.to, CreditForTransfer{e.transfer_id, id, e.amount});
    out->if_refused = IfRefused::refund;
    out->transfer_id = e.transfer_id;
    out->source = id;
    out->amount = e.amount;
  } else if (topic == TransferDebitDeclined::topic) {
    auto e = es::event_from_data<TransferDebitDeclined>(event.data());
    out = transfer_step(e.transfer_id, DeclineTransfer{e.reason});
  } else if (topic == TransferCredited::topic) {
    auto e = es::event_from_data<TransferCredited>(event.data());
    out = transfer_step(e.transfer_id, CompleteTransfer{});
  } else if (topic == TransferRefunded::topic) {
    auto e = es::event_from_data<TransferRefunded>(event.data());
    out = transfer_step(e.transfer_id, DeclineTransfer{e.reason});
  }
  return out;
}

std::vector<std::int64_t> TransferProcess::handle(
    const std::vector<es::NotificationBatch>& batches) {
  // The positions as last read or stored (only this process moves them; the subscription
  // reads them again after any failure).
  std::vector<int> unknown;
  for (const auto& b : batches) {
    if (!known_.count(b.partition)) unknown.push_back(b.partition);
  }
  if (!unknown.empty()) positions(unknown);
  std::vector<std::int64_t> stored;
  for (const auto& b : batches) stored.push_back(known_[b.partition]);

  // Per partition the run of next positions (skipping what was processed, stopping at a gap);
  // of those, the ones whose event calls for a command.
  std::vector<ProcessPositions::Move> moves;
  std::vector<std::size_t> moved;  // batch index of each move
  std::vector<const es::Notification*> relevant;
  std::int64_t count = 0;
  for (std::size_t i = 0; i < batches.size(); ++i) {
    std::int64_t next = stored[i];
    for (const auto& n : batches[i].items) {
      if (n.position <= next) continue;
      if (n.position != next + 1) break;
      next = n.position;
      ++count;
      if (n.topic == TransferRequested::topic || n.topic == TransferDebited::topic ||
          n.topic == TransferDebitDeclined::topic || n.topic == TransferCredited::topic ||
          n.topic == TransferRefunded::topic) {
        relevant.push_back(&n);
      }
    }
    if (next > stored[i]) {
      moves.push_back({batches[i].partition, stored[i] + 1, next});
      moved.push_back(i);
    }
  }

  std::vector<es::EventRef> refs;
  refs.reserve(relevant.size());
  for (const auto* n : relevant) refs.push_back({n->sequence_id, n->version});
  auto records =
      refs.empty() ? std::vector<std::optional<es::SequencedRecord>>{} : fetcher_->fetch(refs);
  std::vector<Step> steps;
  for (std::size_t i = 0; i < relevant.size(); ++i) {
    if (!records[i]) {
      ++stats_.missing;
      continue;
    }
    if (auto step = step_for(*relevant[i], mapper_->from_record(*records[i]))) {
      steps.push_back(std::move(*step));
    }
  }
  run(std::move(steps));

  // Only now, with every command confirmed, may the positions move.
  auto after = positions_->advance(moves);
  for (std::size_t k = 0; k < moves.size(); ++k) {
    stored[moved[k]] = after[k];
    known_[moves[k].partition] = after[k];
  }
  stats_.notifications += count;
  return stored;
}

void TransferProcess::run(std::vector<Step> steps) {
  caf::scoped_actor self{*system_};
  for (int round = 0; round < 2 && !steps.empty(); ++round) {
    std::vector<caf::error> errors(steps.size());
    // All requests first, then every answer: the commands run concurrently.
    using AccountReply = decltype(self->request(accounts_, timeout_, es::execute_atom::value,
                                                std::string(), AccountBinding::Command()));
    using TransferReply = decltype(self->request(transfers_, timeout_, es::execute_atom::value,
                                                 std::string(), TransferBinding::Command()));
    std::vector<std::pair<std::size_t, AccountReply>> on_accounts;
    std::vector<std::pair<std::size_t, TransferReply>> on_transfers;
    for (std::size_t i = 0; i < steps.size(); ++i) {
      if (steps[i].to_account) {
        on_accounts.emplace_back(i, self->request(accounts_, timeout_, es::execute_atom::value,
                                                  steps[i].target, steps[i].account));
      } else {
        on_transfers.emplace_back(i, self->request(transfers_, timeout_, es::execute_atom::value,
                                                   steps[i].target, steps[i].transfer));
      }
    }
    for (auto& [i, reply] : on_accounts) {
      auto& error = errors[i];
      reply.receive([](es::view_t<AccountBinding>&) {},
                    [&error](caf::error& e) { error = std::move(e); });
    }
    for (auto& [i, reply] : on_transfers) {
      auto& error = errors[i];
      reply.receive([](es::view_t<TransferBinding>&) {},
                    [&error](caf::error& e) { error = std::move(e); });
    }
    std::vector<Step> next;
    for (std::size_t i = 0; i < steps.size(); ++i) {
      if (!errors[i]) {
        ++stats_.commands;
        continue;
      }
      auto refusal = refusal_of(errors[i]);
      if (!refusal) es::throw_as_exception(errors[i]);
      ++stats_.refusals;
      const auto& s = steps[i];
      if (s.if_refused == IfRefused::decline) {
        next.push_back(transfer_step(s.transfer_id, DeclineTransfer{"debit refused: " + *refusal}));
      } else if (s.if_refused == IfRefused::refund) {
        next.push_back(account_step(
            s.source, RefundTransfer{s.transfer_id, "credit refused: " + *refusal, s.amount}));
      } else {
        ++stats_.stuck;
        std::lock_guard lock(stats_.mutex);
        stats_.last_stuck = *refusal;
      }
    }
    steps = std::move(next);
  }
}

RunningTransferProcess start_transfer_process(es::Runtime& runtime,
                                              TransferProcessOptions options) {
  const auto& events = runtime.stores().events;
  auto accounts = runtime.host<AccountBinding>();
  auto transfers = runtime.host<TransferBinding>();
  RunningTransferProcess running;
  running.process = std::make_shared<TransferProcess>(
      runtime.system(), accounts.repository(), transfers.repository(), event_fetcher(events),
      runtime.entity_runtime()->mapper, process_positions(events, options.name),
      options.command_timeout);
  running.progress = std::make_shared<es::SubscriptionProgress>();
  es::CatchupOptions catchup;
  catchup.page_size = options.page_size;
  running.subscription = es::spawn_catchup_subscription(runtime.system(), follow_log(events),
                                                        running.process, catchup, running.progress);
  runtime.adopt(running.subscription);
  return running;
}

}  // namespace bank
