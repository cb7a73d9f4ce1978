// The bank application (samples/bank): account and transfer decisions through the runtime's
// handles on the in-memory store, and the transfer process manager on memory and on a
// private redis-server: every outcome of a transfer, exactly-once effects when notifications
// are delivered again, and positions stored beside the log.
#include "persistence/partitioning.hpp"
#include "persistence/redis_record_manager.hpp"
#include "persistence/redis_stores.hpp"
#include "samples/bank/transfer_process.hpp"
#include "support/redis_fixture.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <thread>

using namespace bank;
using es::parse_uuid;

namespace {

es::Uuid uuid_of(const std::string& text) {
  auto id = parse_uuid(text);
  REQUIRE(id);
  return *id;
}

std::vector<std::string> topics_of(const std::vector<es::EventView>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(e.topic);
  return out;
}

es::RuntimeSettings small_settings(es::Stores stores = {}) {
  es::RuntimeSettings s;
  s.stores = std::move(stores);
  s.scheduler_threads = 2;
  s.close_timeout = std::chrono::seconds(5);
  return s;
}

enum class Backend { memory, redis };

es::Stores stores_for(Backend backend, const std::string& prefix) {
  if (backend == Backend::memory) return es::memory_stores();
  es::RedisStoreOptions options;
  options.key_prefix = prefix;
  return es::redis_stores(es::test::redis_pool(), options);
}

// Polls `done` every 10 ms for at most `seconds`.
template <class Pred>
bool eventually(Pred done, int seconds = 20) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < until) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return done();
}

// Every notification of every partition, from the start.
std::vector<es::NotificationBatch> whole_log(const es::RecordManager& events) {
  std::vector<es::NotificationBatch> out;
  for (int p = 0; p < events.partitions(); ++p) {
    es::NotificationBatch b;
    b.partition = p;
    b.items = events.read_notifications(p, 1, 1000000);
    if (!b.items.empty()) out.push_back(std::move(b));
  }
  return out;
}

std::int64_t log_size(const es::RecordManager& events) {
  std::int64_t n = 0;
  for (int p = 0; p < events.partitions(); ++p) n += events.last_notification_position(p);
  return n;
}

}  // namespace

TEST_CASE("accounts open, take deposits and withdrawals within the overdraft, and close",
          "[bank]") {
  es::Runtime rt(small_settings());
  auto accounts = rt.host<AccountBinding>();

  CHECK_THROWS_AS(accounts.create(OpenAccount{"", 0}), es::InvalidInput);
  CHECK_THROWS_AS(accounts.create(OpenAccount{"bob", -1}), es::InvalidInput);

  auto opened = accounts.create(OpenAccount{"ada", 500});
  CHECK(opened.version == 0);
  CHECK(opened.state.owner == "ada");
  CHECK(opened.state.overdraft_limit == 500);
  CHECK(opened.state.balance == 0);
  const auto id = uuid_of(opened.id);

  CHECK(accounts.execute(id, Deposit{1000}).state.balance == 1000);
  CHECK(accounts.execute(id, Withdraw{1400}).state.balance == -400);       // within the limit
  CHECK_THROWS_AS(accounts.execute(id, Withdraw{200}), es::InvalidInput);  // to -600
  CHECK_THROWS_AS(accounts.execute(id, Deposit{0}), es::InvalidInput);
  CHECK_THROWS_AS(accounts.execute(id, Deposit{AccountBinding::kMaxAmount + 1}), es::InvalidInput);
  CHECK_THROWS_AS(accounts.execute(id, CloseAccount{}), es::InvalidInput);  // not empty
  auto refused = accounts.get(id);
  CHECK(refused.version == 2);  // refusals store nothing
  CHECK(refused.state.balance == -400);

  accounts.execute(id, Deposit{400});
  auto closed = accounts.execute(id, CloseAccount{});
  CHECK(closed.state.closed);
  CHECK(closed.state.balance == 0);
  CHECK_THROWS_AS(accounts.execute(id, Deposit{1}), es::InvalidInput);
  CHECK_THROWS_AS(accounts.execute(id, Withdraw{1}), es::InvalidInput);
  CHECK_THROWS_AS(accounts.execute(id, CloseAccount{}), es::InvalidInput);

  CHECK(topics_of(accounts.events(id)) ==
        std::vector<std::string>{"bank.Account.Opened", "bank.Account.Deposited",
                                 "bank.Account.Withdrawn", "bank.Account.Deposited",
                                 "bank.Account.Closed"});
}

TEST_CASE("an account takes each transfer step once per transfer id", "[bank]") {
  es::Runtime rt(small_settings());
  auto accounts = rt.host<AccountBinding>();
  const auto a = uuid_of(accounts.create(OpenAccount{"ada", 0}).id);
  accounts.execute(a, Deposit{1000});
  const std::string other = es::to_string(es::new_uuid());

  SECTION("a debit, delivered twice, debits once") {
    auto first = accounts.execute(a, DebitForTransfer{"t1", other, 300});
    CHECK(first.state.balance == 700);
    auto again = accounts.execute(a, DebitForTransfer{"t1", other, 300});
    CHECK(again.version == first.version);
    CHECK(again.state.balance == 700);
  }
  SECTION("a declined debit stays declined, even once the funds are there") {
    auto declined = accounts.execute(a, DebitForTransfer{"t2", other, 1500});
    CHECK(declined.state.balance == 1000);
    CHECK(topics_of(accounts.events(a)).back() == "bank.Account.TransferDebitDeclined");
    accounts.execute(a, Deposit{1000});
    auto again = accounts.execute(a, DebitForTransfer{"t2", other, 1500});
    CHECK(again.state.balance == 2000);
    CHECK(again.version == declined.version + 1);  // only the deposit
  }
  SECTION("a credit, delivered twice, credits once") {
    CHECK(accounts.execute(a, CreditForTransfer{"t3", other, 50}).state.balance == 1050);
    CHECK(accounts.execute(a, CreditForTransfer{"t3", other, 50}).state.balance == 1050);
  }
  SECTION("a refund needs the debit, and refunds once") {
    CHECK_THROWS_AS(accounts.execute(a, RefundTransfer{"t4", "credit refused", 300}),
                    es::InvalidInput);
    accounts.execute(a, DebitForTransfer{"t5", other, 1500});  // declined: not a debit
    CHECK_THROWS_AS(accounts.execute(a, RefundTransfer{"t5", "credit refused", 1500}),
                    es::InvalidInput);
    accounts.execute(a, DebitForTransfer{"t4", other, 300});
    CHECK(accounts.execute(a, RefundTransfer{"t4", "credit refused", 300}).state.balance == 1000);
    CHECK(accounts.execute(a, RefundTransfer{"t4", "credit refused", 300}).state.balance == 1000);
  }
  SECTION("a closed account refuses debits and credits, yet takes its refunds") {
    accounts.execute(a, DebitForTransfer{"t6", other, 1000});
    accounts.execute(a, CloseAccount{});
    CHECK_THROWS_AS(accounts.execute(a, DebitForTransfer{"t7", other, 1}), es::InvalidInput);
    CHECK_THROWS_AS(accounts.execute(a, CreditForTransfer{"t8", other, 1}), es::InvalidInput);
    auto refunded = accounts.execute(a, RefundTransfer{"t6", "credit refused", 1000});
    CHECK(refunded.state.balance == 1000);
    CHECK(refunded.state.closed);
    // A step it took before closing is still a no-op, not a refusal.
    CHECK(accounts.execute(a, DebitForTransfer{"t6", other, 1000}).version == refunded.version);
  }
}

TEST_CASE("account decisions read the state only", "[bank]") {
  AccountState s;
  s.owner = "ada";
  s.balance = 100;
  s.overdraft_limit = 50;
  CHECK(AccountBinding::decide(s, DebitForTransfer{"t", "x", 150}).drafts().at(0).topic ==
        "bank.Account.TransferDebited");
  CHECK(AccountBinding::decide(s, DebitForTransfer{"t", "x", 151}).drafts().at(0).topic ==
        "bank.Account.TransferDebitDeclined");
  s.steps.insert("n:t");
  CHECK(AccountBinding::decide(s, DebitForTransfer{"t", "x", 1}).empty());
  CHECK(s.balance == 100);
}

TEST_CASE("a transfer is requested, then its first outcome stays", "[bank]") {
  es::Runtime rt(small_settings());
  auto transfers = rt.host<TransferBinding>();
  const auto a = es::to_string(es::new_uuid());
  const auto b = es::to_string(es::new_uuid());

  CHECK_THROWS_AS(transfers.create(RequestTransfer{a, a, 10}), es::InvalidInput);
  CHECK_THROWS_AS(transfers.create(RequestTransfer{a, "not-an-id", 10}), es::InvalidInput);
  CHECK_THROWS_AS(transfers.create(RequestTransfer{a, b, 0}), es::InvalidInput);

  std::string upper = b;
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  auto requested = transfers.create(RequestTransfer{a, upper, 10});
  CHECK(requested.state.status == "requested");
  CHECK(requested.state.to == b);  // ids are stored in their canonical form
  const auto t = uuid_of(requested.id);

  auto completed = transfers.execute(t, CompleteTransfer{});
  CHECK(completed.state.status == "completed");
  CHECK(transfers.execute(t, CompleteTransfer{}).version == completed.version);
  auto late = transfers.execute(t, DeclineTransfer{"insufficient funds"});
  CHECK(late.state.status == "completed");
  CHECK(late.version == completed.version);

  const auto u = uuid_of(transfers.create(RequestTransfer{a, b, 10}).id);
  CHECK_THROWS_AS(transfers.execute(u, DeclineTransfer{""}), es::InvalidInput);
  auto declined = transfers.execute(u, DeclineTransfer{"insufficient funds"});
  CHECK(declined.state.status == "declined");
  CHECK(declined.state.reason == "insufficient funds");
  CHECK(transfers.execute(u, CompleteTransfer{}).state.status == "declined");
  CHECK(topics_of(transfers.events(u)) ==
        std::vector<std::string>{"bank.Transfer.Requested", "bank.Transfer.Declined"});
}

TEST_CASE("the transfer process maps each event to its next step", "[bank][process]") {
  AccountBinding::Events::register_all();
  TransferBinding::Events::register_all();
  const auto account = es::new_uuid(), transfer = es::new_uuid();
  const auto a = es::to_string(account), t = es::to_string(transfer);
  auto event = [](const es::Uuid& id, const auto& payload) {
    using T = std::decay_t<decltype(payload)>;
    return es::Event::create(id, 1, 1, std::string(T::topic), "x", es::event_data_of(payload));
  };
  auto notification = [](const es::Uuid& id, std::string_view topic) {
    return es::Notification{1, id, 1, std::string(topic)};
  };
  using IfRefused = TransferProcess::Step::IfRefused;

  auto debit = TransferProcess::step_for(notification(transfer, TransferRequested::topic),
                                         event(transfer, TransferRequested{{a, "b", 5}}));
  REQUIRE(debit);
  CHECK(debit->target == a);
  CHECK(debit->to_account);
  REQUIRE(caf::holds_alternative<DebitForTransfer>(debit->account));
  CHECK(caf::get<DebitForTransfer>(debit->account).transfer_id == t);
  CHECK(debit->if_refused == IfRefused::decline);

  auto credit = TransferProcess::step_for(notification(account, TransferDebited::topic),
                                          event(account, TransferDebited{{t, "b", 5}}));
  REQUIRE(credit);
  CHECK(credit->target == "b");
  REQUIRE(caf::holds_alternative<CreditForTransfer>(credit->account));
  CHECK(caf::get<CreditForTransfer>(credit->account).from == a);
  CHECK(credit->if_refused == IfRefused::refund);
  CHECK(credit->source == a);

  auto complete = TransferProcess::step_for(notification(account, TransferCredited::topic),
                                            event(account, TransferCredited{{t, a, 5}}));
  REQUIRE(complete);
  CHECK_FALSE(complete->to_account);
  CHECK(complete->target == t);
  CHECK(caf::holds_alternative<CompleteTransfer>(complete->transfer));

  auto decline = TransferProcess::step_for(notification(account, TransferRefunded::topic),
                                           event(account, TransferRefunded{{t, "why", 5}}));
  REQUIRE(decline);
  REQUIRE(caf::holds_alternative<DeclineTransfer>(decline->transfer));
  CHECK(caf::get<DeclineTransfer>(decline->transfer).reason == "why");
  CHECK(decline->if_refused == IfRefused::stuck);

  CHECK_FALSE(TransferProcess::step_for(notification(account, Deposited::topic),
                                        event(account, Deposited{{5}})));
}

TEST_CASE("the transfer process carries every transfer to its end", "[bank][process]") {
  const auto backend = GENERATE(Backend::memory, Backend::redis);
  INFO((backend == Backend::memory ? "memory" : "redis"));
  const auto prefix = es::test::fresh_prefix();
  es::Stores stores = stores_for(backend, prefix);
  std::int64_t log_after = 0;
  std::vector<es::Uuid> ids;
  {
    es::Runtime rt(small_settings(stores));
    auto accounts = rt.host<AccountBinding>();
    auto transfers = rt.host<TransferBinding>();
    auto process = start_transfer_process(rt);

    auto open = [&](std::int64_t limit, std::int64_t deposit) {
      auto id = uuid_of(accounts.create(OpenAccount{"owner", limit}).id);
      if (deposit > 0) accounts.execute(id, Deposit{deposit});
      return id;
    };
    const auto a = open(0, 1000), b = open(0, 0), c = open(0, 0), d = open(50, 100);
    accounts.execute(c, CloseAccount{});
    const auto nobody = es::new_uuid();
    auto request = [&](const es::Uuid& from, const es::Uuid& to, std::int64_t amount) {
      return uuid_of(
          transfers.create(RequestTransfer{es::to_string(from), es::to_string(to), amount}).id);
    };
    const auto completes = request(a, b, 300);
    const auto short_of_funds = request(d, b, 200);  // 100 - 200 < -50
    const auto to_closed = request(a, c, 100);       // refunded
    const auto from_closed = request(c, a, 10);
    const auto to_nobody = request(a, nobody, 10);  // refunded
    const auto from_nobody = request(nobody, a, 10);
    ids = {completes, short_of_funds, to_closed, from_closed, to_nobody, from_nobody};

    REQUIRE(eventually([&] {
      for (const auto& t : ids) {
        if (transfers.get(t).state.status == "requested") return false;
      }
      return true;
    }));
    CHECK(transfers.get(completes).state.status == "completed");
    auto reason = [&](const es::Uuid& t) {
      auto v = transfers.get(t);
      CHECK(v.state.status == "declined");
      return v.state.reason;
    };
    CHECK(reason(short_of_funds) == "insufficient funds");
    CHECK(reason(to_closed) == "credit refused: the account is closed");
    CHECK(reason(from_closed) == "debit refused: the account is closed");
    CHECK(reason(to_nobody) == "credit refused: no such account");
    CHECK(reason(from_nobody) == "debit refused: no such account");

    CHECK(accounts.get(a).state.balance == 1000 - 300);  // the refunds came back
    CHECK(accounts.get(b).state.balance == 300);
    CHECK(accounts.get(c).state.balance == 0);
    CHECK(accounts.get(d).state.balance == 100);
    // The order across transfers is free: count the steps of a.
    auto count = [&](const std::string& topic) {
      auto t = topics_of(accounts.events(a));
      return std::count(t.begin(), t.end(), topic);
    };
    CHECK(count("bank.Account.TransferDebited") == 3);
    CHECK(count("bank.Account.TransferRefunded") == 2);
    CHECK(count("bank.Account.TransferCredited") == 0);  // from_closed, from_nobody: refused

    // The process has stored its positions up to the log's end.
    auto& events = *rt.stores().events;
    log_after = log_size(events);
    const auto& positions = process.process->position_store();
    std::vector<int> all(static_cast<std::size_t>(events.partitions()));
    for (int p = 0; p < events.partitions(); ++p) all[static_cast<std::size_t>(p)] = p;
    REQUIRE(eventually([&] {
      auto stored = positions->read(all);
      for (int p = 0; p < events.partitions(); ++p) {
        if (stored[static_cast<std::size_t>(p)] != events.last_notification_position(p))
          return false;
      }
      return true;
    }));
    CHECK(process.process->stats().stuck.load() == 0);
  }
  if (backend == Backend::redis) {
    // A restart on the same store resumes from the stored positions: nothing is done again.
    es::Runtime rt(small_settings(stores_for(backend, prefix)));
    auto process = start_transfer_process(rt);
    std::this_thread::sleep_for(std::chrono::milliseconds(700));
    CHECK(process.progress->steps() > 0);
    CHECK(process.process->stats().notifications.load() == 0);
    CHECK(process.process->stats().commands.load() == 0);
    CHECK(log_size(*rt.stores().events) == log_after);
  }
}

TEST_CASE("the transfer process: notifications delivered again change nothing", "[bank][process]") {
  es::Runtime rt(small_settings());
  auto accounts = rt.host<AccountBinding>();
  auto transfers = rt.host<TransferBinding>();
  const auto& events = rt.stores().events;
  auto make_process = [&] {
    // Fresh positions: as after a crash before any position was stored.
    return std::make_shared<TransferProcess>(
        rt.system(), accounts.repository(), transfers.repository(), event_fetcher(events),
        rt.entity_runtime()->mapper, process_positions(events, "replay"), std::chrono::seconds(10));
  };
  const auto a = uuid_of(accounts.create(OpenAccount{"ada", 0}).id);
  accounts.execute(a, Deposit{1000});
  const auto b = uuid_of(accounts.create(OpenAccount{"bob", 0}).id);
  const auto closed = uuid_of(accounts.create(OpenAccount{"cy", 0}).id);
  accounts.execute(closed, CloseAccount{});
  const auto t1 =
      uuid_of(transfers.create(RequestTransfer{es::to_string(a), es::to_string(b), 400}).id);
  const auto t2 =
      uuid_of(transfers.create(RequestTransfer{es::to_string(a), es::to_string(closed), 100}).id);

  // Drive the process by hand: each round hands it the whole log so far, positions and all.
  auto first = make_process();
  for (int round = 0; round < 10; ++round) first->handle(whole_log(*events));
  REQUIRE(transfers.get(t1).state.status == "completed");
  REQUIRE(transfers.get(t2).state.status == "declined");
  const auto size = log_size(*events);
  const auto a_version = accounts.get(a).version;
  CHECK(accounts.get(a).state.balance == 600);
  CHECK(accounts.get(b).state.balance == 400);
  // Handed the same log again, it skips what it has processed.
  first->handle(whole_log(*events));
  CHECK(log_size(*events) == size);

  // A process that lost its positions sends every command again: none has any effect.
  auto replay = make_process();
  for (int round = 0; round < 3; ++round) replay->handle(whole_log(*events));
  CHECK(replay->stats().commands.load() > 0);
  CHECK(log_size(*events) == size);
  CHECK(accounts.get(a).version == a_version);
  CHECK(accounts.get(a).state.balance == 600);
  CHECK(accounts.get(b).state.balance == 400);
  CHECK(transfers.get(t2).state.reason == "credit refused: the account is closed");
}

TEST_CASE("process positions on Redis live beside the log and never pass its end",
          "[bank][process]") {
  es::RedisStoreOptions options;
  options.key_prefix = es::test::fresh_prefix();
  auto stores = es::redis_stores(es::test::redis_pool(), options);
  auto positions = process_positions(stores.events, "positions-test");
  CHECK(positions->read({0, 1}) == std::vector<std::int64_t>{0, 0});
  // The log of partition 0 is empty: a position past its end is refused.
  CHECK(positions->advance({{0, 1, 3}}) == std::vector<std::int64_t>{0});

  es::Runtime rt(small_settings(stores));
  auto accounts = rt.host<AccountBinding>();
  const auto a = uuid_of(accounts.create(OpenAccount{"ada", 0}).id);
  const int p = es::partition_of(a, stores.events->partitions());
  accounts.execute(a, Deposit{5});
  REQUIRE(stores.events->last_notification_position(p) == 2);
  CHECK(positions->advance({{p, 1, 2}}) == std::vector<std::int64_t>{2});
  CHECK(positions->advance({{p, 1, 1}}) == std::vector<std::int64_t>{2});  // behind: kept
  CHECK(positions->read({p}) == std::vector<std::int64_t>{2});
  auto* redis = dynamic_cast<es::RedisRecordManager*>(stores.events.get());
  REQUIRE(redis != nullptr);
  auto lease = redis->pool()->acquire();
  auto key = options.key_prefix + ":" + redis->keys().tag(p) + ":process:positions-test";
  CHECK(lease->command({"HGET", key, "position"}).str() == "2");
}
