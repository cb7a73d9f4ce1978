// es-verify: an offline auditor of a store (docs/OPERATIONS.md, "es-verify"). It reads every
// entity stream and every notification log of a Redis store, never writing, and checks what
// DESIGN.md promises: hash chains (SHA-256 over RFC 8785 text), contiguous versions,
// registered topics, canonical text, decryption with the given key, and that the logs hold
// every stored event exactly once and nothing else. Exit 0 when all verify, 1 when anything
// does not, 2 for bad usage or a store it cannot reach.
#include "domain/errors.hpp"
#include "domain/event_registry.hpp"
#include "domain/timebucketed_log.hpp"
#include "persistence/redis_keys.hpp"
#include "persistence/redis_url.hpp"
#include "samples/example/example.hpp"
#include "samples/support/secret_file.hpp"
#include "samples/support/store_setup.hpp"
#include "samples/verify/store_verifier.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <boost/program_options.hpp>

#include <unistd.h>

#include <condition_variable>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <thread>

namespace po = boost::program_options;
using namespace std::chrono_literals;

namespace {

constexpr const char* kProgram = "es-verify";

struct Options {
  std::string redis_url;
  std::string redis_password_file;
  std::string cipher_key_file;
  std::string key_prefix = "es";
  int jobs = 2;
  bool json = false;
  std::vector<std::string> topics;  // registered by another application than Example
};

// The password given besides the URL: the file's, else $REDIS_PASSWORD, else none.
std::string given_password(const Options& opt) {
  if (!opt.redis_password_file.empty()) {
    return es::samples::read_secret_file(opt.redis_password_file, "Redis password file", kProgram);
  }
  const char* variable = std::getenv(es::samples::kRedisPasswordVariable);
  return variable != nullptr ? variable : "";
}

std::string rate(double events, double seconds) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.0f", seconds > 0 ? events / seconds : 0.0);
  return buffer;
}

// A bar redrawn in place on a terminal; otherwise a plain line every 5 seconds.
void show_progress(const es::verify::VerifyProgress& p, bool tty, double seconds) {
  const auto events = p.events.load();
  const auto expected = p.expected_events.load();
  if (p.phase == 2) {
    const auto entries = p.log_entries.load();
    if (tty) {
      std::fprintf(stderr, "\rlogs     %lld/%lld events%30s", static_cast<long long>(entries),
                   static_cast<long long>(expected), "");
    } else {
      std::fprintf(stderr, "es-verify: logs: %lld/%lld events\n", static_cast<long long>(entries),
                   static_cast<long long>(expected));
    }
    return;
  }
  const double fraction =
      expected > 0 ? std::min(1.0, static_cast<double>(events) / static_cast<double>(expected))
                   : 0.0;
  if (tty) {
    constexpr int width = 30;
    const int filled = static_cast<int>(fraction * width);
    std::string bar(static_cast<std::size_t>(filled), '#');
    bar.append(static_cast<std::size_t>(width - filled), ' ');
    std::fprintf(stderr, "\rstreams  [%s] %3d%% %lld events, %lld streams, %s events/s   ",
                 bar.c_str(), static_cast<int>(fraction * 100), static_cast<long long>(events),
                 static_cast<long long>(p.streams.load()),
                 rate(static_cast<double>(events), seconds).c_str());
  } else {
    std::fprintf(stderr, "es-verify: streams: %lld events (%d%%), %lld streams, %s events/s\n",
                 static_cast<long long>(events), static_cast<int>(fraction * 100),
                 static_cast<long long>(p.streams.load()),
                 rate(static_cast<double>(events), seconds).c_str());
  }
}

std::string version_text(std::int64_t v) {
  return v < 0 ? std::string("-") : std::to_string(v);
}

void print_text(const es::verify::VerifyReport& r, const std::string& store) {
  std::printf("store: %s, %d partitions\n", store.c_str(), r.partitions);
  for (const auto& b : r.broken) {
    std::printf("BROKEN %s version %s: %s\n", b.key.c_str(), version_text(b.broken_version).c_str(),
                b.reason.c_str());
  }
  if (r.broken_streams > static_cast<std::int64_t>(r.broken.size())) {
    std::printf(
        "... and %lld more broken streams\n",
        static_cast<long long>(r.broken_streams - static_cast<std::int64_t>(r.broken.size())));
  }
  for (const auto& l : r.log_problems) {
    if (l.position > 0) {
      std::printf("LOG partition %d position %lld: %s\n", l.partition,
                  static_cast<long long>(l.position), l.reason.c_str());
    } else {
      std::printf("LOG partition %d: %s\n", l.partition, l.reason.c_str());
    }
  }
  std::printf("\nsummary\n");
  std::printf("  streams              %lld (%lld broken)\n", static_cast<long long>(r.streams),
              static_cast<long long>(r.broken_streams));
  std::printf("  events               %lld\n", static_cast<long long>(r.events));
  std::printf(
      "  logged events        %lld (missing events %lld, duplicates %lld, dangling %lld, "
      "gaps or malformed %lld)\n",
      static_cast<long long>(r.log_entries), static_cast<long long>(r.missing_from_logs),
      static_cast<long long>(r.duplicated_in_logs), static_cast<long long>(r.dangling_log_entries),
      static_cast<long long>(r.log_gaps));
  std::printf("  time                 %.2f s, %s events/s\n", r.seconds,
              rate(static_cast<double>(r.events), r.seconds).c_str());
  std::printf("BENCH verify.events_per_s %s events/s\n",
              rate(static_cast<double>(r.events), r.seconds).c_str());
  std::printf("verify: %s\n", r.ok() ? "passed" : "FAILED");
}

void print_json(const es::verify::VerifyReport& r, const std::string& store) {
  boost::json::array broken;
  for (const auto& b : r.broken) {
    boost::json::object o{{"key", b.key}, {"id", es::to_string(b.id)}, {"reason", b.reason}};
    o["version"] =
        b.broken_version >= 0 ? boost::json::value(b.broken_version) : boost::json::value(nullptr);
    broken.push_back(std::move(o));
  }
  boost::json::array problems;
  for (const auto& l : r.log_problems) {
    boost::json::object o{{"partition", l.partition}, {"reason", l.reason}};
    o["position"] = l.position > 0 ? boost::json::value(l.position) : boost::json::value(nullptr);
    problems.push_back(std::move(o));
  }
  boost::json::object doc{
      {"ok", r.ok()},
      {"store", store},
      {"partitions", r.partitions},
      {"streams", r.streams},
      {"events", r.events},
      {"broken", r.broken_streams},
      {"seconds", r.seconds},
      {"events_per_s", r.seconds > 0 ? static_cast<double>(r.events) / r.seconds : 0.0},
      {"broken_streams", std::move(broken)},
      {"logs", boost::json::object{{"entries", r.log_entries},
                                   {"missing", r.missing_from_logs},
                                   {"duplicates", r.duplicated_in_logs},
                                   {"dangling", r.dangling_log_entries},
                                   {"gaps", r.log_gaps},
                                   {"problems", std::move(problems)}}}};
  std::printf("%s\n", boost::json::serialize(doc).c_str());
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  po::options_description options("es-verify options");
  options.add_options()("help", "show this help")(
      "redis", po::value(&opt.redis_url)->value_name("URL"),
      "the store: redis://[:PASSWORD@]HOST:PORT[/DB] (required)")(
      "redis-password-file", po::value(&opt.redis_password_file)->value_name("FILE"),
      "file holding the Redis password (surrounding whitespace ignored); else $REDIS_PASSWORD")(
      "cipher-key-file", po::value(&opt.cipher_key_file)->value_name("FILE"),
      "base64 of the AES key the events were encrypted with")(
      "key-prefix", po::value(&opt.key_prefix)->value_name("PREFIX")->default_value(opt.key_prefix),
      "first part of every key of the store")(
      "jobs", po::value(&opt.jobs)->value_name("N")->default_value(opt.jobs),
      "parallel connections and threads checking streams (1..64)")(
      "topic", po::value(&opt.topics)->value_name("NAME")->composing(),
      "also accept this event topic (repeatable), at schema version 1 with its own fields "
      "unchecked: the stores of applications other than Example")(
      "json", po::bool_switch(&opt.json), "print one JSON document instead of text");
  es::verify::VerifyOptions vo;
  std::string store;
  try {
    po::variables_map vm;
    po::store(po::command_line_parser(argc, argv).options(options).run(), vm);
    if (vm.count("help")) {
      std::cout << "Usage: es-verify --redis URL [options]\n"
                   "Audits a store offline (read only): every entity stream's hash chain, "
                   "versions, topics,\ncanonical text and cipher, and the notification logs "
                   "against the streams.\nExit status: 0 all verify, 1 something does not, 2 bad "
                   "usage or unreachable store.\n\n"
                << options << std::flush;
      return 0;
    }
    po::notify(vm);
    if (opt.redis_url.empty()) throw es::ConfigurationError("--redis URL is required");
    if (opt.jobs < 1 || opt.jobs > 64) throw es::ConfigurationError("--jobs must be within 1..64");
    for (const auto& topic : opt.topics) {
      if (topic.empty() || topic.find_first_of("\r\n") != std::string::npos) {
        throw es::ConfigurationError("--topic needs a name of one line");
      }
    }
    vo.url = es::RedisUrl::parse(opt.redis_url);
    const std::string password = given_password(opt);
    if (!password.empty()) {
      if (!vo.url.password.empty()) {
        throw es::ConfigurationError(
            "the --redis URL holds a password and --redis-password-file or $REDIS_PASSWORD "
            "gives one too: give the password one way only");
      }
      vo.url.password = password;
    }
    es::samples::StoreFlags flags;
    flags.cipher_key_file = opt.cipher_key_file;
    vo.cipher = es::samples::load_cipher(flags, kProgram);
    es::check_key_prefix(opt.key_prefix);
  } catch (const std::exception& e) {
    std::cerr << "es-verify: " << e.what() << " (see --help)\n";
    return 2;
  }
  // The topics the Example application registers (and the framework's time-bucketed logs),
  // and those named on the command line: schema version 1, own fields unchecked (the chain,
  // the canonical text and the hashes are checked all the same).
  es::Example::register_types();
  es::TimebucketedLog::register_types();
  try {
    for (const auto& topic : opt.topics) es::EventRegistry::global().register_topic(topic);
  } catch (const std::exception& e) {
    std::cerr << "es-verify: --topic: " << e.what() << "\n";
    return 2;
  }
  vo.topics = es::EventRegistry::global().topics();
  vo.key_prefix = opt.key_prefix;
  vo.jobs = static_cast<std::size_t>(opt.jobs);
  vo.connection.connect_timeout = 2000ms;
  vo.connection.command_timeout = 10000ms;
  vo.connection.backoff_initial = 0ms;
  vo.connection.backoff_max = 0ms;
  store = vo.url.to_string();

  es::verify::VerifyProgress progress;
  const bool tty = ::isatty(STDERR_FILENO) == 1;
  std::mutex mutex;
  std::condition_variable finished;
  bool done = false;
  std::thread reporter([&] {
    const auto started = std::chrono::steady_clock::now();
    const auto period = tty ? 200ms : 5000ms;
    std::unique_lock lock(mutex);
    while (!finished.wait_for(lock, period, [&] { return done; })) {
      if (progress.phase == 0) continue;
      show_progress(
          progress, tty,
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    }
    if (tty && progress.phase > 0) std::fprintf(stderr, "\r%100s\r", "");
  });
  auto stop_reporter = [&] {
    {
      std::lock_guard lock(mutex);
      done = true;
    }
    finished.notify_all();
    reporter.join();
  };
  es::verify::VerifyReport report;
  try {
    report = es::verify::verify_store(vo, progress);
  } catch (const es::ConfigurationError& e) {
    stop_reporter();
    std::cerr << "es-verify: " << e.what() << "\n";
    return 2;
  } catch (const es::StoreUnavailable& e) {
    stop_reporter();
    std::cerr << "es-verify: cannot read the store " << store << ": " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    stop_reporter();
    std::cerr << "es-verify: " << e.what() << "\n";
    return 2;
  }
  stop_reporter();
  if (opt.json) {
    print_json(report, store);
  } else {
    print_text(report, store);
  }
  return report.ok() ? 0 : 1;
}
