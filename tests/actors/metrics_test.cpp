// The runtime's metrics (actors/metrics.hpp, docs/OPERATIONS.md) where they are counted: the
// entity actors' command outcomes and latency, the journal writers' appends, recoveries,
// passivations and live entities, on memory and on Redis; and the text format's renderer.
#include "actors/backends.hpp"
#include "actors/metrics_text.hpp"
#include "actors/runtime.hpp"
#include "domain/errors.hpp"
#include "samples/bank/account.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <thread>

using namespace es;
using bank::AccountBinding;

namespace {

std::uint64_t outcome(const RuntimeMetrics& m, CommandOutcome o) {
  return m.commands_with(o);
}

bool eventually(const std::function<bool()>& condition) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!condition()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

}  // namespace

TEST_CASE("the runtime counts commands, appends, recoveries and passivations",
          "[actors][metrics]") {
  auto backend = ES_EACH_BACKEND();
  INFO(test::to_string(backend));
  const auto stores = test::make_stores(backend);
  RuntimeSettings settings;
  settings.stores = stores;
  settings.scheduler_threads = 2;
  settings.passivate_after = std::chrono::milliseconds(100);
  Runtime runtime(settings);
  const auto metrics = runtime.metrics();
  auto accounts = runtime.host<AccountBinding>();
  auto view = accounts.create(bank::OpenAccount{"ada", 0});
  const auto id = *parse_uuid(view.id);
  accounts.execute(id, bank::Deposit{50});
  accounts.execute(id, bank::Deposit{25});
  CHECK(outcome(*metrics, CommandOutcome::ok) == 3);
  CHECK(metrics->events_appended.value() == 3);
  CHECK(metrics->append_seconds.read().count >= 1);
  CHECK(metrics->command_seconds.read().count == 3);
  CHECK(metrics->command_seconds.read().sum > 0);
  CHECK(metrics->live_entities() == 1);

  // A refusal decided by the entity (insufficient funds) and an unknown id.
  CHECK_THROWS_AS(accounts.execute(id, bank::Withdraw{1000}), InvalidInput);
  CHECK_THROWS_AS(
      accounts.execute(*parse_uuid("00000000-0000-4000-8000-0000000000aa"), bank::Deposit{1}),
      RepositoryKeyError);
  CHECK(outcome(*metrics, CommandOutcome::invalid) == 1);
  CHECK(outcome(*metrics, CommandOutcome::not_found) == 1);
  CHECK(metrics->events_appended.value() == 3);
  CHECK(metrics->command_seconds.read().count == 5);

  // Idle: passivated; used again: recovered from the store.
  REQUIRE(eventually([&] { return metrics->live_entities() == 0; }));
  CHECK(metrics->passivations.value() >= 2);  // the account and the unknown id's actor
  CHECK(metrics->recoveries.value() == 0);
  CHECK(accounts.get(id).state.balance == 75);
  CHECK(metrics->recoveries.value() == 1);
  CHECK(metrics->recovery_seconds.read().count == 1);
}

TEST_CASE("histograms are cumulative and rendered in the Prometheus text format",
          "[actors][metrics]") {
  Histogram h({0.001, 0.01});
  h.observe(std::chrono::microseconds(500));
  h.observe(std::chrono::milliseconds(5));
  h.observe(std::chrono::milliseconds(5));
  h.observe(std::chrono::seconds(1));
  const auto r = h.read();
  CHECK(r.buckets == std::vector<std::uint64_t>{1, 3, 4});
  CHECK(r.count == 4);
  CHECK(r.sum == Approx(1.0105));

  PrometheusText text;
  text.histogram("x_seconds", "X.", r);
  text.counter("y_total", "Y with \"quotes\" and \\.", {{{{"outcome", "a\"b\\c\nd"}}, 2}});
  CHECK(text.text() ==
        "# HELP x_seconds X.\n# TYPE x_seconds histogram\n"
        "x_seconds_bucket{le=\"0.001\"} 1\nx_seconds_bucket{le=\"0.01\"} 3\n"
        "x_seconds_bucket{le=\"+Inf\"} 4\nx_seconds_sum 1.0105\nx_seconds_count 4\n"
        "# HELP y_total Y with \"quotes\" and \\\\.\n# TYPE y_total counter\n"
        "y_total{outcome=\"a\\\"b\\\\c\\nd\"} 2\n");
}
