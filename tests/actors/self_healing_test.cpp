// An entity whose recovery failed because the store was unreachable heals on its own: it
// reloads on a timer (backoff up to a second) and serves again within 5 s of the store coming
// back, while requests keep arriving (so it is never idle long enough to be passivated).
// Real outages of the test's private redis-server: SIGSTOP/SIGCONT, and kill -9 then restart.
#include "actors/backends.hpp"
#include "actors/runtime.hpp"
#include "actors/self_loop.hpp"
#include "domain/errors.hpp"
#include "samples/example/example_binding.hpp"

#include <catch2/catch.hpp>

#include <caf/event_based_actor.hpp>

#include <signal.h>

#include <functional>
#include <memory>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

using namespace es;
using Clock = std::chrono::steady_clock;

TEST_CASE("an entity whose load failed while Redis was down serves again on its own",
          "[actors][resilience]") {
  const bool kill = GENERATE(false, true);
  INFO((kill ? "kill -9 and restart" : "SIGSTOP and SIGCONT"));
  auto& redis = test::redis_server();
  const auto stores = test::make_stores(test::Backend::redis);
  RuntimeSettings settings;
  settings.stores = stores;
  settings.scheduler_threads = 2;
  settings.request_timeout = std::chrono::seconds(3);
  std::string id_text;
  {
    Runtime first(settings);
    id_text = first.host<ExampleBinding>().create(CreateExample{{"healing"}, {1}, {2}}).id;
  }
  const auto id = *parse_uuid(id_text);
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));  // past the AOF's fsync

  // The outage starts before the new runtime's actor loads the entity.
  if (kill) {
    redis.kill();
  } else {
    REQUIRE(::kill(redis.pid(), SIGSTOP) == 0);
  }
  Runtime runtime(settings);
  auto examples = runtime.host<ExampleBinding>();
  std::atomic<bool> stop{false};
  std::atomic<std::int64_t> last_success{0}, failures{0};
  static auto now_ms = [] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch())
        .count();
  };
  // Senders that always keep requests in flight: the entity actor is never idle, so a
  // passivation cannot heal it; only its own reloads can.
  auto repo = examples.repository();
  for (int i = 0; i < 16; ++i) {
    runtime.adopt(runtime.system().spawn([&, repo](caf::event_based_actor* self) {
      auto step = make_self_loop(self);
      *step = [=, &stop, &last_success, &failures] {
        if (stop) return self->quit();
        self->request(repo, std::chrono::seconds(3), get_atom::value, to_string(id))
            .then(
                [=, &last_success](ExampleView& view) {
                  if (view.foo_json == "\"healing\"") last_success = now_ms();
                  (*step)();
                },
                [=, &failures](caf::error&) {
                  ++failures;
                  (*step)();
                });
      };
      for (int k = 0; k < 4; ++k) (*step)();
    }));
  }
  std::this_thread::sleep_for(std::chrono::seconds(3));
  const auto failed_during_outage = failures.load();
  const auto back = now_ms();
  if (kill) {
    redis.restart();
  } else {
    REQUIRE(::kill(redis.pid(), SIGCONT) == 0);
  }
  // Served again within 5 s of the store coming back.
  while (last_success.load() < back && now_ms() - back < 8000) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const auto healed_after = last_success.load() - back;
  stop = true;
  CHECK(failed_during_outage > 0);
  CHECK(last_success.load() >= back);
  CHECK(healed_after <= 5000);
  CHECK(examples.get(id).version == 0);
  // Healed in place: the same actor reloaded itself, none was passivated or respawned.
  auto stats = examples.stats();
  CHECK(stats.passivated == 0);
  CHECK(stats.recovered == 1);
}
