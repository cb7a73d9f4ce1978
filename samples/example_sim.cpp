// example-sim: the sample simulation. Spawns many Example actors, drives attribute changes
// and heartbeats at them from concurrent senders, reports throughput, latency and memory,
// then proves recovery: every actor is stopped, every entity is rebuilt from the store
// (verifying its hash chain) and compared with what the simulation expects.
//
// With --connect it drives a running multi-node deployment instead (docs/CLUSTER.md): it
// joins each named node as a client, spreads its senders round robin over the nodes'
// routers, reports throughput per node, reads every entity back through the cluster, and
// then runs the same recovery check from the shared Redis alone.
#include "actors/cluster_client.hpp"
#include "actors/placement.hpp"
#include "actors/self_loop.hpp"
#include "domain/errors.hpp"
#include "samples/example/example_application.hpp"
#include "samples/support/cluster_flags.hpp"
#include "samples/support/store_setup.hpp"

#include <boost/program_options.hpp>

#include <caf/event_based_actor.hpp>

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <thread>

namespace po = boost::program_options;
using namespace es;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  std::int64_t entities = 10000;
  std::int64_t commands = 200000;
  std::int64_t concurrency = 64;
  std::int64_t threads = 0;  // CAF scheduler workers; 0: one per core but one
  double rate = 0;           // commands/s over all senders (open loop); 0: closed loop
  bool quiet = false;
  std::uint64_t seed = 42;
  samples::StoreFlags store;
  samples::ClusterFlags cluster;
};

// Where the senders send: one repository (or cluster router) per node, round robin.
struct Targets {
  std::vector<example_repository_actor> repositories;
  std::vector<std::string> names;
  caf::duration timeout{caf::infinite};  // per request; bounded against remote nodes
};

// What the simulation expects one entity to be.
struct Expected {
  std::string id;
  std::string foo = "\"\"", a = "\"\"", b = "\"\"";
  std::int64_t heartbeats = 0;
  std::int64_t version = -1;
  bool in_flight = false;  // open loop: one command per entity at a time keeps it exact
};

// Counters shared by the sender actors and the main thread.
struct Progress {
  std::atomic<std::int64_t> done{0};
  std::atomic<std::int64_t> errors{0};
  std::atomic<std::int64_t> mismatches{0};
  std::atomic<int> finished{0};
  std::mutex mutex;
  std::vector<double> latencies_ms;      // merged from every sender at its end
  std::vector<std::string> problems;     // the first few, for the report
  std::vector<std::int64_t> per_target;  // commands answered per target (merged at the end)
  void problem(std::string text) {
    std::lock_guard lock(mutex);
    if (problems.size() < 10) problems.push_back(std::move(text));
  }
};

enum class Phase { create, drive, verify };

// Open loop: a sender wakes itself when its next command is due.
using pace_atom = caf::atom_constant<caf::atom("pace")>;

// The open-loop schedule of one sender: its k-th command is due at start + k / rate.
struct Pacing {
  double rate = 0;  // this sender's commands/s; 0: closed loop
  Clock::time_point start;
  Clock::time_point due(std::int64_t k) const {
    return start + std::chrono::duration_cast<Clock::duration>(
                       std::chrono::duration<double>(static_cast<double>(k) / rate));
  }
};

// One sender: owns a disjoint set of entities and keeps at most one request in flight per
// entity (closed loop: one in all), so the expected state of each of its entities is exact.
void spawn_sender(caf::actor_system& sys, example_repository_actor repo, std::size_t target,
                  caf::duration timeout, Phase phase, std::vector<Expected*> owned,
                  std::int64_t commands, std::uint64_t seed, Pacing pacing,
                  std::shared_ptr<Progress> progress) {
  sys.spawn([=](caf::event_based_actor* self) mutable -> caf::behavior {
    struct State {
      std::vector<Expected*> owned;
      std::int64_t remaining;
      std::size_t next_index = 0;
      std::mt19937_64 rng;
      std::vector<double> latencies;
      std::int64_t answered = 0;
      std::int64_t issued = 0;     // open loop: commands sent so far
      std::int64_t in_flight = 0;  // open loop: sent, not yet answered
    };
    auto st = std::make_shared<State>(State{owned, 0, 0, std::mt19937_64(seed), {}, 0, 0, 0});
    const bool open_loop = phase == Phase::drive && pacing.rate > 0;
    st->remaining = phase == Phase::drive ? commands : static_cast<std::int64_t>(owned.size());
    st->latencies.reserve(static_cast<std::size_t>(st->remaining));
    auto finish = [=] {
      std::lock_guard lock(progress->mutex);
      progress->latencies_ms.insert(progress->latencies_ms.end(), st->latencies.begin(),
                                    st->latencies.end());
      if (progress->per_target.size() <= target) progress->per_target.resize(target + 1);
      progress->per_target[target] += st->answered;
      progress->finished.fetch_add(1);
    };
    auto step = make_self_loop(self);
    // What follows every reply or error: the next command (closed loop) or the end check.
    auto answered = make_self_loop(self);
    // Sends one command; `started` is when it was due (open loop) or sent (closed loop), so
    // a late send counts in its latency (no coordinated omission).
    auto send = [=](Clock::time_point started) {
      auto done = [=] {
        st->latencies.push_back(
            std::chrono::duration<double, std::milli>(Clock::now() - started).count());
        ++st->answered;
        progress->done.fetch_add(1, std::memory_order_relaxed);
        (*answered)();
      };
      auto failed = [=](caf::error& error) {
        progress->errors.fetch_add(1);
        progress->problem(reason_of(error));
        progress->done.fetch_add(1, std::memory_order_relaxed);
        (*answered)();
      };
      if (phase == Phase::create) {
        Expected* e = st->owned[st->next_index++];
        self->request(repo, timeout, create_atom::value, ExampleBinding::Command(CreateExample{}))
            .then(
                [=](ExampleView& v) {
                  e->id = v.id;
                  e->version = v.version;
                  done();
                },
                failed);
      } else if (phase == Phase::verify) {
        Expected* e = st->owned[st->next_index++];
        self->request(repo, timeout, get_atom::value, e->id)
            .then(
                [=](ExampleView& v) {
                  if (v.version != e->version || v.foo_json != e->foo || v.a_json != e->a ||
                      v.b_json != e->b || v.heartbeats != e->heartbeats) {
                    progress->mismatches.fetch_add(1);
                    progress->problem("entity " + e->id + " is at version " +
                                      std::to_string(v.version) + ", expected " +
                                      std::to_string(e->version));
                  }
                  done();
                },
                failed);
      } else {
        // An entity with no command in flight (the first free one after a random pick).
        const auto n = st->owned.size();
        auto first = static_cast<std::size_t>(st->rng() % n);
        Expected* e = nullptr;
        for (std::size_t i = 0; i < n && !e; ++i) {
          auto* candidate = st->owned[(first + i) % n];
          if (!candidate->in_flight) e = candidate;
        }
        if (!e) return false;
        e->in_flight = true;
        const auto pick = st->rng() % 10;
        ExampleBinding::Command command;
        std::string value;
        std::string name;
        if (pick < 3) {
          command = BeatHeart{1};
        } else {
          name = pick < 6 ? "a" : pick < 9 ? "b" : "foo";
          const auto n = st->rng() % 1000000;
          Json json;
          if (name == "a") {
            json.value = static_cast<std::int64_t>(n);
          } else {
            json.value = name + "-" + std::to_string(n);
          }
          value = canonical_json(json.value);
          command = ChangeAttributes{{{name, std::move(json)}}};
        }
        self->request(repo, timeout, execute_atom::value, e->id, command)
            .then(
                [=](ExampleView& v) {
                  e->in_flight = false;
                  if (v.version != e->version + 1) {
                    progress->mismatches.fetch_add(1);
                    progress->problem("entity " + e->id + " answered version " +
                                      std::to_string(v.version) + " after " +
                                      std::to_string(e->version));
                  }
                  e->version = v.version;
                  if (name.empty())
                    ++e->heartbeats;
                  else
                    (name == "a" ? e->a : name == "b" ? e->b : e->foo) = value;
                  done();
                },
                [=](caf::error& error) {
                  e->in_flight = false;
                  failed(error);
                });
      }
      return true;
    };
    if (open_loop) {
      auto end_if_done = [=] {
        if (st->issued == st->remaining && st->in_flight == 0) {
          finish();
          self->quit();
        }
      };
      *answered = [=] {
        --st->in_flight;
        end_if_done();
      };
      // Every command that is due goes out now; then a wake-up when the next one is due (at
      // most 4,000 a second per sender, so the timers cost less than the commands).
      *step = [=] {
        const auto now = Clock::now();
        while (st->issued < st->remaining && pacing.due(st->issued) <= now) {
          if (!send(pacing.due(st->issued)))
            break;  // every owned entity is busy: the rest waits for the next wake-up
          ++st->issued;
          ++st->in_flight;
        }
        if (st->issued < st->remaining) {
          const auto wait = std::max<Clock::duration>(pacing.due(st->issued) - now,
                                                      std::chrono::microseconds(250));
          self->delayed_send(self, wait, pace_atom::value);
        }
      };
      end_if_done();
    } else {
      *answered = [=] { (*step)(); };
      *step = [=] {
        if (st->remaining == 0) {
          finish();
          self->quit();
          return;
        }
        --st->remaining;
        send(Clock::now());
      };
    }
    (*step)();
    return {[=](pace_atom) { (*step)(); }};
  });
}

// Runs one phase over all entities and waits for it, drawing a progress bar.
double run_phase(caf::actor_system& sys, const Targets& targets, Phase phase,
                 std::vector<Expected>& expected, const Options& opt, Progress& report,
                 const char* label) {
  auto progress = std::make_shared<Progress>();
  const auto senders = static_cast<std::size_t>(
      std::max<std::int64_t>(1, std::min<std::int64_t>(opt.concurrency, opt.entities)));
  const std::int64_t total =
      phase == Phase::drive ? opt.commands : static_cast<std::int64_t>(expected.size());
  const auto started = Clock::now();
  for (std::size_t s = 0; s < senders; ++s) {
    std::vector<Expected*> owned;
    for (std::size_t i = s; i < expected.size(); i += senders) owned.push_back(&expected[i]);
    std::int64_t share =
        total / static_cast<std::int64_t>(senders) +
        (static_cast<std::int64_t>(s) < total % static_cast<std::int64_t>(senders));
    const auto target = s % targets.repositories.size();
    Pacing pacing;
    if (phase == Phase::drive && opt.rate > 0) {
      // The senders' schedules interleave: sender s starts s / rate seconds in.
      pacing.rate = opt.rate / static_cast<double>(senders);
      pacing.start =
          started + std::chrono::duration_cast<Clock::duration>(
                        std::chrono::duration<double>(static_cast<double>(s) / opt.rate));
    }
    spawn_sender(sys, targets.repositories[target], target, targets.timeout, phase,
                 std::move(owned), share, opt.seed * 7919 + s, pacing, progress);
  }
  const bool bar = !opt.quiet;
  auto last_draw = Clock::now();
  while (progress->finished.load() < static_cast<int>(senders)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (bar && Clock::now() - last_draw > std::chrono::milliseconds(200)) {
      last_draw = Clock::now();
      const auto done = progress->done.load();
      const double secs = std::chrono::duration<double>(Clock::now() - started).count();
      const int width = 30;
      const int filled = total ? static_cast<int>(width * done / total) : width;
      std::fprintf(stderr, "\r%-8s [%s%s] %3d%% %lld/%lld  %.0f/s   ", label,
                   std::string(static_cast<std::size_t>(filled), '#').c_str(),
                   std::string(static_cast<std::size_t>(width - filled), '-').c_str(),
                   total ? static_cast<int>(100 * done / total) : 100, static_cast<long long>(done),
                   static_cast<long long>(total), secs > 0 ? done / secs : 0.0);
    }
  }
  const double secs = std::chrono::duration<double>(Clock::now() - started).count();
  if (bar)
    std::fprintf(stderr, "\r%-8s done: %lld in %.2f s%40s\n", label, static_cast<long long>(total),
                 secs, "");
  report.errors += progress->errors.load();
  report.mismatches += progress->mismatches.load();
  {
    std::lock_guard lock(progress->mutex);
    if (phase == Phase::drive) {
      report.latencies_ms = std::move(progress->latencies_ms);
      report.per_target = progress->per_target;
    }
    for (auto& p : progress->problems) report.problem(p);
  }
  return secs;
}

double rss_peak_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

// Redis's used_memory in bytes, or -1 for the memory store.
long long redis_used_memory(const samples::StoreSetup& setup) {
  if (!setup.pool) return -1;
  auto lease = setup.pool->acquire();
  auto reply = (*lease).command({"INFO", "memory"});
  const std::string text(reply.str());
  const std::string key = "used_memory:";
  auto pos = text.find(key);
  return pos == std::string::npos ? -1 : std::stoll(text.substr(pos + key.size()));
}

double percentile(std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  auto index = static_cast<std::size_t>(p * static_cast<double>(sorted.size() - 1));
  return sorted[index];
}

// The recovery check: a new application rebuilds every entity from the store alone, and each
// is compared with what the simulation expects. Returns the seconds it took.
double recover_all(const ApplicationConfig& config, std::vector<Expected>& expected,
                   const Options& opt, Progress& report,
                   std::shared_ptr<const RuntimeMetrics>& metrics) {
  ExampleApplication fresh(config);
  metrics = fresh.runtime().metrics();
  Targets local{{fresh.repository()}, {"local"}, caf::duration{caf::infinite}};
  return run_phase(fresh.system(), local, Phase::verify, expected, opt, report, "recover");
}

struct LatencySummary {
  double p50, p99, max;
};

LatencySummary latency_summary(Progress& report) {
  auto& all = report.latencies_ms;
  std::sort(all.begin(), all.end());
  return {percentile(all, 0.50), percentile(all, 0.99), all.empty() ? 0 : all.back()};
}

// The summary lines of the recovery check and of what went wrong, shared by both runs.
void print_recovery(const Options& opt, double verify_secs, const Progress& report) {
  std::printf(
      "  recovery             %lld entities rebuilt from the store in %.2f s (%.0f/s), "
      "hash chains verified\n",
      static_cast<long long>(opt.entities), verify_secs,
      verify_secs > 0 ? static_cast<double>(opt.entities) / verify_secs : 0);
  std::printf("  errors               %lld, state mismatches %lld\n",
              static_cast<long long>(report.errors), static_cast<long long>(report.mismatches));
  for (const auto& p : report.problems) std::printf("    %s\n", p.c_str());
}

// The bound of the first bucket holding the q-quantile of a histogram (an upper estimate).
double bucket_quantile(const Histogram::Reading& r, double q) {
  const auto rank = static_cast<std::uint64_t>(q * static_cast<double>(r.count));
  for (std::size_t i = 0; i < r.upper_bounds.size(); ++i) {
    if (r.buckets[i] >= rank && r.buckets[i] > 0) return r.upper_bounds[i];
  }
  return r.upper_bounds.empty() ? 0 : r.upper_bounds.back();
}

double mean_ms(const Histogram::Reading& r) {
  return r.count ? r.sum * 1000 / static_cast<double>(r.count) : 0;
}

// The runtime's own figures, as GET /metrics of example-server reports them
// (docs/OPERATIONS.md), for the run and for the recovery check.
void print_metrics(const RuntimeMetrics& run, const RuntimeMetrics& recovery) {
  std::printf("\nmetrics (the runtime's counters, as GET /metrics reports them)\n");
  std::printf("  commands             ");
  for (std::size_t i = 0; i < kCommandOutcomes; ++i) {
    const auto outcome = static_cast<CommandOutcome>(i);
    std::printf("%s%s %llu", i ? ", " : "", std::string(to_string(outcome)).c_str(),
                static_cast<unsigned long long>(run.commands_with(outcome)));
  }
  const auto command = run.command_seconds.read();
  std::printf("\n  command seconds      mean %.3f ms, p99 <= %g ms (histogram buckets)\n",
              mean_ms(command), bucket_quantile(command, 0.99) * 1000);
  const auto append = run.append_seconds.read();
  std::printf(
      "  events appended      %llu in %llu store round trips (mean %.3f ms, %.1f events "
      "per trip)\n",
      static_cast<unsigned long long>(run.events_appended.value()),
      static_cast<unsigned long long>(append.count), mean_ms(append),
      append.count
          ? static_cast<double>(run.events_appended.value()) / static_cast<double>(append.count)
          : 0.0);
  const auto recovered = recovery.recovery_seconds.read();
  std::printf(
      "  recoveries           %llu in the recovery check (mean %.3f ms, p99 <= %g ms), "
      "%llu during the run\n",
      static_cast<unsigned long long>(recovery.recoveries.value()), mean_ms(recovered),
      bucket_quantile(recovered, 0.99) * 1000,
      static_cast<unsigned long long>(run.recoveries.value()));
  std::printf(
      "  passivations         %llu\n",
      static_cast<unsigned long long>(run.passivations.value() + recovery.passivations.value()));
}

// Workers for the actors. On Redis one core is left by default to what runs beside them:
// the store's I/O threads (journal writers, loaders) and, on one machine, redis-server. On
// the 2-core benchmark machine 1 worker gave 26,000 - 34,000 events/s against 23,000 with 2.
// Over a store that never blocks nothing runs beside them: every core (docs/BENCHMARKS.md,
// issue 13).
std::size_t scheduler_threads(const Options& opt, const RecordManager& events) {
  if (opt.threads > 0) return static_cast<std::size_t>(opt.threads);
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  if (!events.blocks()) return cores;
  return std::max(1u, cores - 1);
}

int run(const Options& opt) {
  // Every run creates its own entities: the private server starts empty, not on the last
  // run's files.
  auto flags = opt.store;
  flags.fresh_private_store = true;
  auto setup = samples::open_stores(flags, "example-sim");
  ApplicationConfig config;
  config.stores = setup.stores;
  config.cipher = samples::load_cipher(opt.store, "example-sim");
  config.snapshot_period = opt.store.snapshot_period;
  config.max_in_flight = std::max<std::int64_t>(config.max_in_flight, opt.concurrency * 2);
  config.scheduler_threads = scheduler_threads(opt, *setup.stores.events);

  std::printf(
      "example-sim: %lld entities, %lld commands, %lld concurrent senders, %zu actor threads\n",
      static_cast<long long>(opt.entities), static_cast<long long>(opt.commands),
      static_cast<long long>(opt.concurrency), config.scheduler_threads);
  if (opt.rate > 0)
    std::printf("open loop: %.0f commands/s (latency from each command's scheduled time)\n",
                opt.rate);
  std::printf(
      "store: %s%s%s\n", setup.description.c_str(), config.cipher ? ", encrypted (AES-GCM)" : "",
      opt.store.snapshot_period
          ? (", snapshot every " + std::to_string(opt.store.snapshot_period) + " events").c_str()
          : "");
  std::fflush(stdout);

  std::vector<Expected> expected(static_cast<std::size_t>(opt.entities));
  Progress report;
  const long long memory_before = redis_used_memory(setup);
  double drive_secs = 0;
  std::int64_t hosted = 0;
  std::shared_ptr<const RuntimeMetrics> run_metrics, recovery_metrics;
  {
    ExampleApplication app(config);
    run_metrics = app.runtime().metrics();
    Targets local{{app.repository()}, {"local"}, caf::duration{caf::infinite}};
    run_phase(app.system(), local, Phase::create, expected, opt, report, "create");
    drive_secs = run_phase(app.system(), local, Phase::drive, expected, opt, report, "commands");
    hosted = app.stats().hosted;
  }  // every actor stops here: the next application starts from the store alone
  const long long memory_after = redis_used_memory(setup);

  const double verify_secs = recover_all(config, expected, opt, report, recovery_metrics);
  const double events_per_s = drive_secs > 0 ? static_cast<double>(opt.commands) / drive_secs : 0;
  const auto [p50, p99, max] = latency_summary(report);
  const double rss = rss_peak_mib();
  std::printf("\nsummary\n");
  std::printf("  events persisted     %lld (+%lld Created) in %.2f s: %.0f events/s\n",
              static_cast<long long>(opt.commands), static_cast<long long>(opt.entities),
              drive_secs, events_per_s);
  std::printf("  command latency      p50 %.3f ms, p99 %.3f ms, max %.3f ms\n", p50, p99, max);
  std::printf("  entity actors        %lld live at the end of the run\n",
              static_cast<long long>(hosted));
  std::printf("  peak RSS             %.1f MiB\n", rss);
  if (memory_before >= 0 && memory_after >= 0) {
    std::printf("  redis memory         %.0f bytes per entity (%lld events each on average)\n",
                static_cast<double>(memory_after - memory_before) /
                    static_cast<double>(std::max<std::int64_t>(opt.entities, 1)),
                static_cast<long long>((opt.commands + opt.entities) /
                                       std::max<std::int64_t>(opt.entities, 1)));
  }
  print_recovery(opt, verify_secs, report);
  print_metrics(*run_metrics, *recovery_metrics);
  std::printf("BENCH sim.events_per_s %.0f events/s\n", events_per_s);
  std::printf("BENCH sim.latency_p50 %.3f ms\n", p50);
  std::printf("BENCH sim.latency_p99 %.3f ms\n", p99);
  std::printf("BENCH sim.rss_peak %.1f MiB\n", rss);
  std::printf("BENCH sim.recovery_entities_per_s %.0f entities/s\n",
              verify_secs > 0 ? static_cast<double>(opt.entities) / verify_secs : 0);
  const bool ok = report.errors == 0 && report.mismatches == 0;
  std::printf("recovery check: %s\n", ok ? "passed" : "FAILED");
  return ok ? 0 : 1;
}

// --connect: the same phases against a running deployment, through every named node.
int run_cluster(const Options& opt, const samples::ClientSettings& client) {
  auto setup = samples::open_stores(opt.store, "example-sim");
  ApplicationConfig config;
  config.stores = setup.stores;
  config.cipher = samples::load_cipher(opt.store, "example-sim");
  config.snapshot_period = opt.store.snapshot_period;
  config.max_in_flight = std::max<std::int64_t>(config.max_in_flight, opt.concurrency * 2);

  std::vector<Expected> expected(static_cast<std::size_t>(opt.entities));
  Progress report;
  double drive_secs = 0;
  double read_secs = 0;
  std::vector<std::string> names;
  std::vector<std::string> node_ids;
  {
    // The same transport settings as the nodes (heartbeats, TLS), or they drop us. One
    // worker with the work-sharing policy: the nodes and Redis share the machine in the
    // sample deployment, and idle work-stealing workers spin (as in example-server).
    RuntimeConfig caf_config(1, true);
    caf_config.add_binding<ExampleBinding>();
    caf_config.set("scheduler.policy", caf::atom("sharing"));
    configure_cluster_transport(caf_config, ClusterTimings{});
    caf::actor_system sys{caf_config};
    // Authenticates every connection to a node (secret, TLS); goes before the system.
    TransportSettings link;
    link.secret = client.secret;
    link.tls = client.tls;
    ClusterTransport transport(sys, link);
    Targets targets;
    // Bounded: a node that dies mid-run costs errors, never a hang.
    targets.timeout = caf::duration{std::chrono::seconds(10)};
    const auto client_id = "example-sim-" + std::to_string(::getpid());
    for (const auto& node : client.nodes) {
      auto joined =
          join_cluster_as_client(sys, transport, node, client_id, std::chrono::seconds(5));
      targets.repositories.push_back(caf::actor_cast<example_repository_actor>(joined.router));
      targets.names.push_back(joined.node_id + " (" + node.text() + ")");
      node_ids.push_back(joined.node_id);
    }
    names = targets.names;
    std::printf(
        "example-sim: %lld entities, %lld commands, %lld concurrent senders over %zu "
        "nodes\n",
        static_cast<long long>(opt.entities), static_cast<long long>(opt.commands),
        static_cast<long long>(opt.concurrency), targets.repositories.size());
    for (const auto& n : names) std::printf("node: %s\n", n.c_str());
    std::printf("store: %s\n", setup.description.c_str());
    std::fflush(stdout);
    run_phase(sys, targets, Phase::create, expected, opt, report, "create");
    drive_secs = run_phase(sys, targets, Phase::drive, expected, opt, report, "commands");
    read_secs = run_phase(sys, targets, Phase::verify, expected, opt, report, "read");
    targets.repositories.clear();  // before the actor system goes
  }
  std::shared_ptr<const RuntimeMetrics> recovery_metrics;  // the nodes count the run
  const double verify_secs = recover_all(config, expected, opt, report, recovery_metrics);
  const double events_per_s = drive_secs > 0 ? static_cast<double>(opt.commands) / drive_secs : 0;
  const auto [p50, p99, max] = latency_summary(report);
  std::printf("\nsummary\n");
  std::printf("  events persisted     %lld (+%lld Created) in %.2f s: %.0f events/s\n",
              static_cast<long long>(opt.commands), static_cast<long long>(opt.entities),
              drive_secs, events_per_s);
  for (std::size_t i = 0; i < names.size(); ++i) {
    const auto n = i < report.per_target.size() ? report.per_target[i] : 0;
    std::printf("  through node %-24s %lld commands, %.0f/s\n", names[i].c_str(),
                static_cast<long long>(n),
                drive_secs > 0 ? static_cast<double>(n) / drive_secs : 0);
  }
  // Where the events were persisted: each entity's owner by the placement over the nodes
  // driven (assumed to be the live ones).
  std::map<std::string, std::int64_t> by_owner;
  for (const auto& e : expected) by_owner[placement_owner(node_ids, e.id)] += e.version;
  for (const auto& [node, events] : by_owner) {
    std::printf("  hosted by node %-22s %lld events, %.0f/s\n", node.c_str(),
                static_cast<long long>(events),
                drive_secs > 0 ? static_cast<double>(events) / drive_secs : 0);
  }
  std::printf("  command latency      p50 %.3f ms, p99 %.3f ms, max %.3f ms\n", p50, p99, max);
  std::printf("  read back            %lld entities through the cluster in %.2f s\n",
              static_cast<long long>(opt.entities), read_secs);
  print_recovery(opt, verify_secs, report);
  std::printf("BENCH cluster.events_per_s %.0f events/s\n", events_per_s);
  for (std::size_t i = 0; i < names.size(); ++i) {
    const auto n = i < report.per_target.size() ? report.per_target[i] : 0;
    std::printf("BENCH cluster.node%zu_events_per_s %.0f events/s\n", i + 1,
                drive_secs > 0 ? static_cast<double>(n) / drive_secs : 0);
  }
  std::printf("BENCH cluster.latency_p50 %.3f ms\n", p50);
  std::printf("BENCH cluster.latency_p99 %.3f ms\n", p99);
  const bool ok = report.errors == 0 && report.mismatches == 0;
  std::printf("recovery check: %s\n", ok ? "passed" : "FAILED");
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  po::options_description options(
      "example-sim: the sample simulation of Example actors (without --redis, the private\n"
      "redis-server starts on an emptied --data-dir/example-sim-redis every run)");
  options.add_options()("help,h", "show this help")(
      "entities", po::value(&opt.entities)->value_name("N")->default_value(opt.entities),
      "Example actors to create")(
      "commands", po::value(&opt.commands)->value_name("N")->default_value(opt.commands),
      "commands to drive (attribute changes and heartbeats, one event each)")(
      "concurrency", po::value(&opt.concurrency)->value_name("N")->default_value(opt.concurrency),
      "concurrent senders (each keeps one command in flight; with --rate each sends on its own "
      "schedule, and the default is one per 40,000 commands/s: every sender's wake-up is a "
      "timer of CAF's one clock thread)")(
      "rate", po::value(&opt.rate)->value_name("R")->default_value(opt.rate),
      "open loop: R commands/s in all, each sent when due whether or not earlier ones were "
      "answered (latency counts from when it was due); 0: closed loop, as fast as answers come")(
      "threads", po::value(&opt.threads)->value_name("N")->default_value(opt.threads),
      "actor scheduler threads; 0: one per core (on Redis one per core but one, left to Redis and "
      "the store's I/O)")("seed", po::value(&opt.seed)->value_name("N")->default_value(opt.seed),
                          "random seed")("quiet,q", po::bool_switch(&opt.quiet), "no progress bar");
  samples::add_store_options(options, opt.store);
  samples::add_cluster_client_options(options, opt.cluster);
  std::optional<samples::ClientSettings> client;
  try {
    po::variables_map vm;
    po::store(po::parse_command_line(argc, argv, options), vm);
    if (vm.count("help")) {
      std::cout << options
                << "\nExit status: 0 when every command succeeded and every entity "
                   "was recovered exactly; 1 otherwise; 2 for bad flags.\n";
      return 0;
    }
    po::notify(vm);
    if (opt.rate > 0 && vm["concurrency"].defaulted())
      opt.concurrency = static_cast<std::int64_t>(std::ceil(opt.rate / 40000));
    if (opt.entities < 1 || opt.commands < 0 || opt.concurrency < 1 || opt.threads < 0 ||
        opt.threads > 256 || !(opt.rate == 0 || (opt.rate >= 0.01 && opt.rate <= 1e8))) {
      throw po::error(
          "--entities and --concurrency must be >= 1, --commands >= 0, --threads 0 to 256, "
          "--rate 0 (closed loop) or 0.01 to 100000000");
    }
    client = samples::client_settings(opt.cluster, opt.store, "example-sim");
  } catch (const ConfigurationError& e) {
    std::cerr << "example-sim: " << e.what() << " (see --help)\n";
    return 2;
  } catch (const po::error& e) {
    std::cerr << "example-sim: " << e.what() << " (see --help)\n";
    return 2;
  }
  try {
    return client ? run_cluster(opt, *client) : run(opt);
  } catch (const ConfigurationError& e) {
    std::cerr << "example-sim: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "example-sim: " << e.what() << "\n";
    return 1;
  }
}
