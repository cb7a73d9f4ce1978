// example-projector: runs the sample projection of Example events (docs/PROJECTIONS.md) as
// a process of its own against a Redis store: catch-up followers of the notification logs,
// or a competing consumer of the Redis consumer groups. Prints a ready line on stdout once
// the subscriptions run; SIGTERM or SIGINT stops it cleanly (exit 0). Killing it at any
// moment loses nothing and counts nothing twice: positions are stored with the effects.
#include "actors/runtime_config.hpp"
#include "domain/errors.hpp"
#include "samples/example/example_projection_service.hpp"
#include "samples/support/store_setup.hpp"

#include <boost/program_options.hpp>

#include <caf/actor_system.hpp>

#include <pthread.h>
#include <signal.h>

#include <ctime>
#include <iostream>
#include <memory>
#include <string>

namespace po = boost::program_options;
using namespace es;
using namespace std::chrono_literals;

namespace {

struct Options {
  std::string redis_url;
  std::string redis_password_file;
  std::string cipher_key_file;
  std::string consumer;
  std::string mode = "catchup";
  bool rebuild = false;
  std::size_t page_size = 1000;
  std::size_t followers = 1;
  std::int64_t claim_after_ms = 10000;
  std::int64_t block_ms = 500;
  int replica_acks = 0;
  bool quiet = false;
};

int run(const Options& opt, const sigset_t& stop_signals) {
  samples::StoreFlags flags;
  flags.redis_url = opt.redis_url;
  flags.redis_password_file = opt.redis_password_file;
  flags.cipher_key_file = opt.cipher_key_file;
  flags.replica_acks = opt.replica_acks;
  flags.connection.connect_timeout = 1000ms;
  flags.connection.command_timeout = 2000ms;
  flags.connection.backoff_initial = 20ms;
  flags.connection.backoff_max = 500ms;
  flags.pool_connections = 4;
  auto cipher = samples::load_cipher(flags, "example-projector");

  ExampleProjectionOptions options;
  if (opt.mode == "group") {
    options.mode = ExampleProjectionOptions::Mode::group;
  } else if (opt.mode != "catchup") {
    throw ConfigurationError("--mode must be catchup or group");
  }
  options.consumer = opt.consumer;
  options.page_size = opt.page_size;
  options.followers = opt.followers;
  options.claim_after = std::chrono::milliseconds(opt.claim_after_ms);
  options.block = std::chrono::milliseconds(opt.block_ms);

  // The store may be down at start: keep trying (bounded per attempt) until stopped.
  samples::StoreSetup setup;
  for (;;) {
    try {
      setup = samples::open_stores(flags, "example-projector");
      break;
    } catch (const StoreUnavailable& e) {
      if (!opt.quiet) std::cerr << "example-projector: " << e.what() << " (retrying)\n";
      timespec wait{1, 0};
      if (sigtimedwait(&stop_signals, nullptr, &wait) > 0) return 0;
    }
  }

  RuntimeConfig config(1);
  caf::actor_system system{config};
  auto service =
      std::make_unique<ExampleProjectionService>(system, setup.stores.events, cipher, options);
  if (opt.rebuild) {
    service->rebuild();
    if (!opt.quiet)
      std::cerr << "example-projector: read model cleared, replaying from position 1\n";
  }
  service->start();
  std::cout << "example-projector: ready mode=" << opt.mode
            << " partitions=" << service->backend().partitions()
            << (options.mode == ExampleProjectionOptions::Mode::group
                    ? " consumer=" + service->options().consumer
                    : std::string())
            << " store=" << setup.description << std::endl;

  bool was_healthy = true;
  for (;;) {
    timespec wait{0, 500'000'000};
    const int sig = sigtimedwait(&stop_signals, nullptr, &wait);
    if (sig > 0) break;
    auto status = service->status();
    if (status.healthy != was_healthy && !opt.quiet) {
      if (status.healthy) {
        std::cerr << "example-projector: subscriptions recovered\n";
      } else {
        std::cerr << "example-projector: " << status.last_error << " (retrying)\n";
      }
    }
    was_healthy = status.healthy;
  }
  const bool stopped = service->stop(10s);
  const auto status = service->status();
  service.reset();
  if (!opt.quiet) {
    std::cerr << "example-projector: stopped"
              << (stopped ? "" : " (a subscription did not end in time)") << ", "
              << status.delivered << " notifications delivered\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  po::options_description options("example-projector options");
  options.add_options()("help,h", "show this help")(
      "redis", po::value(&opt.redis_url)->value_name("URL")->required(),
      "redis://[:PASSWORD@]HOST:PORT[/DB] of the event store (required; a password in the URL "
      "shows in ps: prefer --redis-password-file or $REDIS_PASSWORD)")(
      "redis-password-file", po::value(&opt.redis_password_file)->value_name("FILE"),
      "file holding the Redis password (surrounding whitespace ignored); else $REDIS_PASSWORD")(
      "cipher-key-file", po::value(&opt.cipher_key_file)->value_name("FILE"),
      "base64 of the 16/24/32-byte AES key the events are encrypted with; the foo index then "
      "keys on an HMAC under a key derived from it")(
      "mode", po::value(&opt.mode)->value_name("MODE")->default_value(opt.mode),
      "catchup (follow the logs from the stored positions) or group (a competing consumer of "
      "the Redis consumer groups)")(
      "consumer", po::value(&opt.consumer)->value_name("NAME"),
      "consumer name in group mode (default HOST-PID); reuse a name to take over its pending "
      "entries at once")(
      "rebuild", po::bool_switch(&opt.rebuild),
      "clear the read model (and the consumer groups) first and replay from position 1; stop "
      "other projectors first")(
      "page-size", po::value(&opt.page_size)->value_name("N")->default_value(opt.page_size),
      "notifications per partition per step")(
      "followers", po::value(&opt.followers)->value_name("N")->default_value(opt.followers),
      "catch-up actors, each following a share of the partitions")(
      "claim-after-ms",
      po::value(&opt.claim_after_ms)->value_name("MS")->default_value(opt.claim_after_ms),
      "group mode: claim entries pending longer than this on another consumer")(
      "block-ms", po::value(&opt.block_ms)->value_name("MS")->default_value(opt.block_ms),
      "longest wait for new notifications per step (bounds the reaction to SIGTERM)")(
      "replica-acks",
      po::value(&opt.replica_acks)->value_name("N")->default_value(opt.replica_acks),
      "count a page as applied only once N replicas of each master written to have it (Redis "
      "WAIT, at most 1 s; else it is applied again later)")("quiet,q", po::bool_switch(&opt.quiet),
                                                            "no messages on stderr");
  try {
    po::variables_map vm;
    po::store(po::parse_command_line(argc, argv, options), vm);
    if (vm.count("help")) {
      std::cout << "Usage: example-projector --redis URL [options]\n"
                   "Keeps the Example read model (GET /stats, GET /examples?foo=) up to date.\n\n"
                << options
                << "\nPrints `example-projector: ready ...` when running; SIGTERM/SIGINT stop it "
                   "(exit 0). Exit 1 on failures, 2 on bad flags.\n";
      return 0;
    }
    po::notify(vm);
    if (opt.page_size < 1 || opt.followers < 1 || opt.claim_after_ms < 1 || opt.block_ms < 1 ||
        opt.block_ms > 5000 || opt.replica_acks < 0 || opt.replica_acks > 16) {
      throw po::error(
          "--page-size, --followers, --claim-after-ms must be >= 1, --block-ms 1..5000, "
          "--replica-acks 0..16");
    }
  } catch (const po::error& e) {
    std::cerr << "example-projector: " << e.what() << " (see --help)\n";
    return 2;
  }
  // Block the stop signals in every thread (they inherit the mask); main waits for them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  try {
    return run(opt, stop_signals);
  } catch (const ConfigurationError& e) {
    std::cerr << "example-projector: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "example-projector: " << e.what() << "\n";
    return 1;
  }
}
