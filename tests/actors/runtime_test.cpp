// One runtime hosting two entity types side by side (the Example, a hand-written Entity, and
// the bank's Account, an Aggregate binding), on memory and on Redis: typed handles, one
// repository per type, snapshots and reloads of both, the conflict retry deciding again on
// the stored state, and a close that stops what was adopted.
#include "actors/runtime.hpp"
#include "actors/backends.hpp"
#include "actors/cluster_guard.hpp"
#include "domain/errors.hpp"
#include "samples/bank/account.hpp"
#include "samples/example/example_binding.hpp"

#include <catch2/catch.hpp>

#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>

#include <atomic>
#include <chrono>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <thread>

using namespace es;
using bank::AccountBinding;

namespace {

RuntimeSettings settings_for(const Stores& stores, std::int64_t snapshot_period = 0) {
  RuntimeSettings settings;
  settings.stores = stores;
  settings.scheduler_threads = 2;
  settings.snapshot_period = snapshot_period;
  return settings;
}

Uuid uuid(const std::string& text) {
  return *parse_uuid(text);
}

void open_accounts(EntityHandle<AccountBinding>& accounts, int n) {
  for (int i = 0; i < n; ++i) accounts.create(bank::OpenAccount{"owner", 0});
}

// What close() reports on stderr (nothing when every actor stopped).
std::string close_report(Runtime& runtime) {
  std::ostringstream report;
  auto* saved = std::cerr.rdbuf(report.rdbuf());
  runtime.close();
  std::cerr.rdbuf(saved);
  return report.str();
}

}  // namespace

TEST_CASE("one runtime hosts Example and Account side by side", "[actors][runtime]") {
  auto backend = ES_EACH_BACKEND();
  INFO(test::to_string(backend));
  const auto stores = test::make_stores(backend);
  std::string example_id, account_id;
  {
    Runtime runtime(settings_for(stores, 3));
    auto examples = runtime.host<ExampleBinding>();
    auto accounts = runtime.host<AccountBinding>();
    // Each type has its own repository; hosting again gives the same one.
    CHECK(caf::actor_cast<caf::actor>(examples.repository()) !=
          caf::actor_cast<caf::actor>(accounts.repository()));
    CHECK(runtime.host<AccountBinding>().repository() == accounts.repository());

    auto example = examples.create(CreateExample{{"both"}, {1}, {2}});
    example_id = example.id;
    examples.execute(uuid(example_id), BeatHeart{4});
    auto account = accounts.create(bank::OpenAccount{"ada", 100});
    account_id = account.id;
    CHECK(account.version == 0);
    CHECK(account.state.owner == "ada");
    for (int i = 1; i <= 5; ++i) accounts.execute(uuid(account_id), bank::Deposit{10 * i});
    auto after = accounts.execute(uuid(account_id), bank::Withdraw{200});
    CHECK(after.version == 6);
    CHECK(after.state.balance == 150 - 200);
    // A refused command stores nothing.
    CHECK_THROWS_AS(accounts.execute(uuid(account_id), bank::Withdraw{51}), InvalidInput);
    CHECK(accounts.get(uuid(account_id)).version == 6);
    CHECK(accounts.events(uuid(account_id)).front().topic == "bank.Account.Opened");
    CHECK(examples.stats().hosted == 1);
    CHECK(accounts.stats().hosted == 1);
    // The ids of one type are unknown to the other's repository.
    CHECK_THROWS_AS(accounts.get(uuid(example_id)), RepositoryKeyError);
    // Snapshots of both (every 3 events) were taken on the way.
    // The snapshot writer stores them a moment after the commands were answered.
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while ((!stores.snapshots->latest(uuid(account_id)) ||
            !stores.snapshots->latest(uuid(example_id))) &&
           std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    CHECK(stores.snapshots->latest(uuid(account_id))->position == 5);
    CHECK(stores.snapshots->latest(uuid(example_id))->position == 2);
  }
  // A new runtime over the same stores rebuilds both from snapshot + events.
  Runtime runtime(settings_for(stores, 3));
  auto examples = runtime.host<ExampleBinding>();
  auto accounts = runtime.host<AccountBinding>();
  auto account = accounts.get(uuid(account_id));
  CHECK(account.version == 6);
  CHECK(account.state.balance == -50);
  CHECK(account.state.overdraft_limit == 100);
  auto past = accounts.get_at(uuid(account_id), 2);
  REQUIRE(past.has_value());
  CHECK(past->state.balance == 30);
  auto example = examples.get(uuid(example_id));
  CHECK(example.heartbeats == 4);
  CHECK(example.foo_json == "\"both\"");
}

TEST_CASE("after a conflict the entity actor decides again on the stored state",
          "[actors][runtime][conflict]") {
  auto backend = ES_EACH_BACKEND();
  INFO(test::to_string(backend));
  const auto stores = test::make_stores(backend);
  Runtime runtime(settings_for(stores));
  auto accounts = runtime.host<AccountBinding>();
  const auto id = uuid(accounts.create(bank::OpenAccount{"bob", 0}).id);
  accounts.execute(id, bank::Deposit{100});  // live at version 1, balance 100
  // Another writer withdraws 80 behind the actor's back (version 2).
  bank::Account outside;
  for (const auto& r : stores.events->read(id, {})) outside.apply(runtime.mapper().from_record(r));
  auto events = outside.chain(id, Decision(bank::Withdrawn{{80}}).take());
  stores.events->append({id, 1, {runtime.mapper().to_record(events[0])}});
  // Decided on balance 100 the withdrawal of 50 passes; the store refuses it (conflict), the
  // actor reloads (balance 20) and decides again: now it is refused, and nothing is stored.
  CHECK_THROWS_AS(accounts.execute(id, bank::Withdraw{50}), InvalidInput);
  auto now = accounts.get(id);
  CHECK(now.version == 2);
  CHECK(now.state.balance == 20);
  CHECK(accounts.execute(id, bank::Withdraw{20}).state.balance == 0);
}

TEST_CASE("close() stops adopted actors and is bounded", "[actors][runtime]") {
  RuntimeSettings settings;
  settings.scheduler_threads = 1;
  settings.close_timeout = std::chrono::milliseconds(500);
  Runtime runtime(settings);
  // Keeps itself alive with a timer: without adopt(), close() would wait for it.
  runtime.adopt(runtime.system().spawn([](caf::event_based_actor* self) -> caf::behavior {
    self->delayed_send(self, std::chrono::milliseconds(10), 1);
    return {[=](int x) { self->delayed_send(self, std::chrono::milliseconds(10), x); }};
  }));
  runtime.host<AccountBinding>().create(bank::OpenAccount{"carol", 0});
  const auto started = std::chrono::steady_clock::now();
  runtime.close();
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::milliseconds(450));
  CHECK_THROWS_AS(runtime.host<AccountBinding>(), Error);
}

TEST_CASE("close() waits for actors that keep stopping and gives up on a stall",
          "[actors][runtime]") {
  RuntimeSettings settings;
  settings.scheduler_threads = 1;
  settings.close_timeout = std::chrono::seconds(1);
  auto stopped = std::make_shared<std::atomic<int>>(0);
  {
    Runtime runtime(settings);
    // Not adopted: each stops on its own, one every 200 ms, the last after 1 s, later than
    // close_timeout after close() began. Every stop comes well within close_timeout of the one
    // before, so close() waits for all of them.
    for (int i = 1; i <= 5; ++i) {
      runtime.system().spawn([=](caf::event_based_actor* self) -> caf::behavior {
        self->delayed_send(self, std::chrono::milliseconds(200 * i), 1);
        return {[=](int) {
          stopped->fetch_add(1);
          self->quit();
        }};
      });
    }
    runtime.close();
    CHECK(stopped->load() == 5);
  }
  {
    Runtime runtime(settings);
    // Comes and goes: a helper spawned again and again is no progress, close() lets go.
    runtime.system().spawn([](caf::event_based_actor* self) -> caf::behavior {
      self->delayed_send(self, std::chrono::milliseconds(10), 1);
      return {[=](int x) {
        self->spawn([](caf::event_based_actor* helper) { helper->quit(); });
        self->delayed_send(self, std::chrono::milliseconds(10), x);
      }};
    });
    const auto started = std::chrono::steady_clock::now();
    runtime.close();
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(6));
  }
  {
    Runtime runtime(settings);
    // Never stops and makes no progress: close() lets go after close_timeout.
    runtime.system().spawn([](caf::event_based_actor* self) -> caf::behavior {
      self->delayed_send(self, std::chrono::milliseconds(10), 1);
      return {[=](int x) { self->delayed_send(self, std::chrono::milliseconds(10), x); }};
    });
    const auto started = std::chrono::steady_clock::now();
    runtime.close();
    const auto took = std::chrono::steady_clock::now() - started;
    CHECK(took >= std::chrono::seconds(1));
    CHECK(took < std::chrono::seconds(6));
  }
}

TEST_CASE("close() stops more live entities than one stop window, and the repository with them",
          "[actors][runtime]") {
  RuntimeSettings settings = settings_for(memory_stores());
  settings.close_timeout = std::chrono::milliseconds(500);
  Runtime runtime(settings);
  auto accounts = runtime.host<AccountBinding>();
  // Four stop windows' worth: the repository stops them a window at a time and quits after
  // the last down message; one that never came would leave it running.
  open_accounts(accounts, 2100);
  REQUIRE(accounts.stats().hosted == 2100);
  CHECK(close_report(runtime).empty());  // close() found nothing left running
}

TEST_CASE("a repository shutting down refuses requests and spawns no child", "[actors][runtime]") {
  RuntimeSettings settings = settings_for(memory_stores());
  settings.close_timeout = std::chrono::milliseconds(500);
  Runtime runtime(settings);
  auto accounts = runtime.host<AccountBinding>();
  open_accounts(accounts, 2100);  // more than one stop window
  bool refused = false;
  {
    auto repo = accounts.repository();
    caf::scoped_actor self{runtime.system()};
    send_local_exit(runtime.system(), repo, caf::exit_reason::user_shutdown);
    // Queued behind the exit: the repository is stopping its children by then.
    self->request(repo, std::chrono::seconds(5), locate_atom::value,
                  std::string("6f1c5a52-0000-4000-8000-000000000001"))
        .receive([](entity_actor<AccountBinding>&) {},
                 [&](caf::error& error) { refused = code_of(error) == ErrorCode::unavailable; });
  }
  CHECK(refused);
  CHECK(close_report(runtime).empty());  // no child outlived its repository
}

// Multi-node hand-over (docs/CLUSTER.md), on one node: release stops a hosted idle entity
// (true), answers false for one it does not host, and during shutdown answers a release of a
// hosted entity when that entity has stopped (the request queued behind the exit).
TEST_CASE("release lets go of a hosted entity and is answered during shutdown too",
          "[actors][runtime]") {
  Runtime runtime(settings_for(memory_stores()));
  auto examples = runtime.host<ExampleBinding>();
  const auto a = examples.create(CreateExample{}).id;
  const auto b = examples.create(CreateExample{}).id;
  examples.execute(uuid(b), ChangeAttributes{{{"a", {1}}}});
  {
    auto repo = examples.repository();
    caf::scoped_actor self{runtime.system()};
    auto release = [&](const std::string& id) {
      std::optional<bool> answer;
      self->request(repo, std::chrono::seconds(10), release_atom::value, id)
          .receive([&](bool released) { answer = released; },
                   [&](caf::error& error) { FAIL("release failed: " << to_string(error)); });
      return answer;
    };
    CHECK(release(a) == true);
    CHECK(examples.stats().hosted == 1);
    CHECK(examples.stats().passivated == 1);
    CHECK(release(a) == false);  // no longer hosted
    CHECK(release("6f1c5a52-0000-4000-8000-000000000001") == false);
    CHECK(release("not-a-uuid") == false);
    CHECK(examples.get(uuid(a)).version == 0);  // rebuilt from the store on the next request
    send_local_exit(runtime.system(), repo, caf::exit_reason::user_shutdown);
    CHECK(release(b) == true);
  }
  CHECK(close_report(runtime).empty());
}

TEST_CASE("past max_live_entities the least recently used idle entities are passivated",
          "[actors][runtime][passivation]") {
  auto backend = ES_EACH_BACKEND();
  INFO(test::to_string(backend));
  auto settings = settings_for(test::make_stores(backend));
  settings.max_live_entities = 50;
  Runtime runtime(settings);
  auto accounts = runtime.host<AccountBinding>();
  auto examples = runtime.host<ExampleBinding>();
  std::vector<Uuid> ids;
  for (int i = 0; i < 200; ++i) {
    const auto id = uuid(accounts.create(bank::OpenAccount{"owner" + std::to_string(i), 0}).id);
    accounts.execute(id, bank::Deposit{i + 1});
    ids.push_back(id);
  }
  // The cap holds over both repositories: creating examples evicts idle accounts too, as
  // far as each repository can (it passivates only its own children).
  auto stats = accounts.stats();
  CHECK(stats.hosted <= 50);
  CHECK(stats.evicted >= 150);
  for (int i = 0; i < 20; ++i) examples.create(CreateExample{});
  CHECK(accounts.stats().hosted + examples.stats().hosted <= 50 + 20);
  // The most recently used stayed live; every entity answers correctly after eviction.
  const auto recovered_before = accounts.stats().recovered;
  CHECK(accounts.get(ids.back()).state.balance == 200);
  for (int i = 0; i < 200; ++i) {
    auto view = accounts.get(ids[static_cast<std::size_t>(i)]);
    CHECK(view.version == 1);
    CHECK(view.state.balance == i + 1);
  }
  CHECK(accounts.stats().recovered > recovered_before);
  CHECK(accounts.stats().hosted <= 50);
}
