// Why: the Redis store's throughput claims must be measured, not assumed. Against ONE
// private redis-server this program measures: version-checked one-event appends to 10,000
// entity streams through append_batch (several batch sizes), the same server under raw
// `redis-benchmark ... XADD` load to 10,000 random streams, their ratio, the read rate of a
// 100,000-event stream, and (unless --no-memory) the bytes per one-event entity at several
// stream-node-max-bytes settings. Each figure is also printed as `BENCH <name> <value> <unit>`.
#include "domain/errors.hpp"
#include "persistence/redis_connection.hpp"
#include "persistence/redis_launcher.hpp"
#include "persistence/redis_record_manager.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using namespace es;
using Clock = std::chrono::steady_clock;

namespace {

struct Config {
  int entities = 10000;
  long appends = 300000;  // per batch size
  std::vector<std::size_t> batches{256, 512, 1024};
  int threads = 4;
  std::size_t per_call = 64;
  long raw_requests = 1000000;
  int read_events = 100000;
  bool memory = true;
  bool fsync_always = false;
  int rounds = 3;
  bool raw = true;
  bool read = true;
  std::string redis_url;  // empty: a private redis-server of our own
};

void usage() {
  std::cout <<
      R"(bench-redis-append: Redis store throughput against one private redis-server.

Usage: bench-redis-append [options]
  --entities N        entity streams for the append runs (default 10000)
  --appends N         one-event appends per batch size (default 300000)
  --batch A,B,...     requests per append_batch call (default 256,512,1024)
  --threads N         client threads calling append_batch (default 4)
  --per-call N        appends per EVALSHA call (RedisStoreOptions::max_appends_per_call, default 64)
  --raw-requests N    requests of the redis-benchmark XADD run (default 1000000)
  --read-events N     events in the stream read back (default 100000)
  --rounds N          rounds of (appends, raw XADD), interleaved; best of each (default 3)
  --no-memory         skip the bytes-per-entity measurement
  --fsync-always      appendfsync always (default everysec)
  --redis URL         use this (empty, disposable: it is FLUSHALLed) Redis instead of a private
                      one; scripts/bench-compare runs everything against one server
  --no-raw            skip the redis-benchmark XADD runs
  --no-read           skip the read-back figure
  --help              this text

Prints each figure also as one line `BENCH <name> <value> <unit>`. redis.append_vs_raw is the
best append rate over the best raw rate; redis.append_vs_raw_median_round the median of the
per-round ratios (both runs of a round see about the same machine load).
)";
}

std::vector<std::size_t> parse_list(const std::string& s) {
  std::vector<std::size_t> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');) out.push_back(std::stoul(item));
  return out;
}

void bench_line(const std::string& name, double value, const std::string& unit) {
  char buf[64];
  if (value >= 100) {
    std::snprintf(buf, sizeof buf, "%.0f", value);
  } else {
    std::snprintf(buf, sizeof buf, "%.3f", value);
  }
  std::cout << "BENCH " << name << " " << buf << " " << unit << std::endl;
}

// A ~250-byte JSON state, like an Example event's.
std::string make_state(int i) {
  std::string s = "{\"a\":" + std::to_string(i) +
                  ",\"b\":\"lorem ipsum dolor sit amet\",\"event_hash\":\""
                  "3f1c2e4d5b6a79880f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a6978\","
                  "\"foo\":\"bar\",\"originator_id\":\"6f9619ff-8b86-d011-b42d-00cf4fc964ff\","
                  "\"previous_hash\":\"\",\"timestamp\":1700000000000000}";
  s.resize(250, ' ');
  return s;
}

std::string info_field(RedisConnection& c, const std::string& section, const std::string& field) {
  auto reply = c.command({"INFO", section});
  std::stringstream in{std::string(reply.str())};
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(field + ":", 0) == 0) {
      auto v = line.substr(field.size() + 1);
      while (!v.empty() && (v.back() == '\r' || v.back() == '\n')) v.pop_back();
      return v;
    }
  }
  return {};
}

// Server CPU seconds (user + sys) so far.
double server_cpu(RedisPool& pool) {
  auto c = pool.acquire();
  return std::stod(info_field(*c, "cpu", "used_cpu_user")) +
         std::stod(info_field(*c, "cpu", "used_cpu_sys"));
}

// Total µs Redis spent in one command so far (INFO commandstats).
double command_usec(RedisPool& pool, const std::string& command) {
  auto c = pool.acquire();
  auto stats = info_field(*c, "commandstats", "cmdstat_" + command);
  auto at = stats.find("usec=");
  return at == std::string::npos ? 0.0 : std::strtod(stats.c_str() + at + 5, nullptr);
}

void flushall(RedisPool& pool) {
  auto c = pool.acquire();
  c->command({"FLUSHALL"});
  c->command({"SCRIPT", "FLUSH"});
  c->command({"CONFIG", "RESETSTAT"});
}

// One-event appends to `entities` streams: every entity gets one event per round.
double run_appends(const std::shared_ptr<RedisPool>& pool, const Config& cfg, std::size_t batch,
                   const std::string& prefix) {
  RedisStoreOptions options;
  options.key_prefix = prefix;
  options.max_appends_per_call = cfg.per_call;
  RedisRecordManager records(pool, options);
  std::vector<Uuid> ids(static_cast<std::size_t>(cfg.entities));
  for (auto& id : ids) id = new_uuid();
  std::vector<std::int64_t> heads(ids.size(), -1);
  const std::string state = make_state(7);
  const long per_thread = cfg.appends / cfg.threads;
  std::atomic<long> conflicts{0};

  auto worker = [&](int t) {
    // Thread t owns the entities i with i % threads == t.
    std::vector<std::size_t> mine;
    for (std::size_t i = static_cast<std::size_t>(t); i < ids.size();
         i += static_cast<std::size_t>(cfg.threads)) {
      mine.push_back(i);
    }
    std::size_t next = 0;
    long done = 0;
    std::vector<AppendRequest> requests;
    std::vector<std::size_t> which;
    while (done < per_thread) {
      requests.clear();
      which.clear();
      const auto n =
          static_cast<std::size_t>(std::min<long>(static_cast<long>(batch), per_thread - done));
      for (std::size_t k = 0; k < n; ++k) {
        const auto i = mine[next];
        next = (next + 1) % mine.size();
        AppendRequest r;
        r.sequence_id = ids[i];
        r.expected_version = heads[i];
        r.records.push_back(
            SequencedRecord{ids[i], heads[i] + 1, "example.Example.Heartbeat", state});
        requests.push_back(std::move(r));
        which.push_back(i);
      }
      auto results = records.append_batch(requests);
      for (std::size_t k = 0; k < results.size(); ++k) {
        if (results[k].status == AppendStatus::stored) {
          ++heads[which[k]];
        } else {
          ++conflicts;
        }
      }
      done += static_cast<long>(n);
    }
  };
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < cfg.threads; ++t) threads.emplace_back(worker, t);
  for (auto& t : threads) t.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (conflicts > 0) std::cerr << "unexpected conflicts: " << conflicts << "\n";
  return static_cast<double>(per_thread * cfg.threads) / seconds;
}

// redis-benchmark as a child process; returns its requests/s (CSV output).
double run_redis_benchmark(int port, const Config& cfg, bool show_command) {
  const std::string state = make_state(7);
  std::vector<std::string> args{"redis-benchmark",
                                "-h",
                                "127.0.0.1",
                                "-p",
                                std::to_string(port),
                                "-P",
                                "32",
                                "-c",
                                "50",
                                "-n",
                                std::to_string(cfg.raw_requests),
                                "-r",
                                std::to_string(cfg.entities),
                                "--csv",
                                "XADD",
                                "__rand_int__",
                                "*",
                                "topic",
                                "example.Example.Heartbeat",
                                "state",
                                state};
  if (show_command)
    std::cout << "  command: redis-benchmark -h 127.0.0.1 -p " << port << " -P 32 -c 50 -n "
              << cfg.raw_requests << " -r " << cfg.entities
              << " --csv XADD __rand_int__ '*' topic example.Example.Heartbeat state <250 bytes>\n";
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  int fds[2];
  if (::pipe(fds) != 0) throw std::runtime_error("pipe");
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fds[1], 1);
    ::close(fds[0]);
    ::close(fds[1]);
    ::execvp("redis-benchmark", argv.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  std::string output;
  char buf[4096];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;)
    output.append(buf, static_cast<std::size_t>(n));
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  // CSV: a header line, then "<test>","<rps>","<avg>",... with 6 latency columns after rps
  // (the test name holds the arguments, commas included, so count from the right).
  double rps = 0;
  std::stringstream in(output);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("\"XADD", 0) != 0) continue;
    std::size_t at = line.size();
    for (int field = 0; field < 7 && at != std::string::npos; ++field) {
      at = line.rfind("\",\"", at == 0 ? 0 : at - 1);
    }
    if (at != std::string::npos) rps = std::strtod(line.c_str() + at + 3, nullptr);
  }
  if (rps <= 0) {
    std::cerr << "could not parse redis-benchmark output (exit status " << status
              << "): " << output.substr(0, 200) << "\n";
  }
  return rps;
}

// used_memory growth per entity when `entities` entities get `events` events each (one
// append per entity, all events at once), notification log included.
double bytes_per_entity(const std::shared_ptr<RedisPool>& pool, int entities, int events) {
  flushall(*pool);
  auto c = pool->acquire();
  RedisRecordManager records(pool, RedisStoreOptions{});
  const double before = std::stod(info_field(*c, "memory", "used_memory"));
  std::vector<AppendRequest> batch;
  for (int i = 0; i < entities; ++i) {
    AppendRequest r;
    r.sequence_id = new_uuid();
    for (int v = 0; v < events; ++v) {
      r.records.push_back(SequencedRecord{r.sequence_id, v, "example.Example.Heartbeat",
                                          make_state(i * events + v)});
    }
    batch.push_back(std::move(r));
    if (batch.size() == 256 || i + 1 == entities) {
      records.append_batch(batch);
      batch.clear();
    }
  }
  const double after = std::stod(info_field(*c, "memory", "used_memory"));
  return (after - before) / entities;
}

void measure_memory(const std::shared_ptr<RedisPool>& pool, const Config& cfg) {
  std::cout << "\nMemory per entity (used_memory growth incl. the notification log; 250-byte "
               "states; "
            << cfg.entities << " entities):\n";
  for (long node_bytes : {4096L, 1024L, 512L, 256L}) {
    pool->acquire()->command(
        {"CONFIG", "SET", "stream-node-max-bytes", std::to_string(node_bytes)});
    const double one = bytes_per_entity(pool, cfg.entities, 1);
    const double three = bytes_per_entity(pool, cfg.entities, 3);
    const double ten = bytes_per_entity(pool, cfg.entities / 5, 10);
    const double long_stream = bytes_per_entity(pool, 1, 10000) / 10000.0;
    auto c = pool->acquire();
    // MEMORY USAGE of one one-event entity stream, for comparison with Redis' own estimate.
    RedisRecordManager records(pool, RedisStoreOptions{});
    const Uuid id = new_uuid();
    records.append(
        AppendRequest{id, -1, {SequencedRecord{id, 0, "example.Example.Created", make_state(0)}}});
    const auto usage =
        c->command({"MEMORY", "USAGE", records.keys().entity(id), "SAMPLES", "0"}).integer();
    std::cout << "  stream-node-max-bytes " << node_bytes << ": 1 event " << one
              << " B/entity, 3 events " << three << " B/entity, 10 events " << ten
              << " B/entity; a 10,000-event stream " << long_stream
              << " B/event; MEMORY USAGE of a one-event stream " << usage << " B\n";
    const std::string n = std::to_string(node_bytes);
    bench_line("redis.bytes_per_entity_1event_node" + n, one, "bytes");
    bench_line("redis.bytes_per_entity_3events_node" + n, three, "bytes");
    bench_line("redis.bytes_per_entity_10events_node" + n, ten, "bytes");
    bench_line("redis.bytes_per_event_long_stream_node" + n, long_stream, "bytes");
  }
  flushall(*pool);
  pool->acquire()->command(
      {"CONFIG", "SET", "stream-node-max-bytes", std::to_string(kDefaultStreamNodeMaxBytes)});
}

double run_reads(const std::shared_ptr<RedisPool>& pool, const Config& cfg) {
  RedisStoreOptions options;
  options.key_prefix = "read";
  RedisRecordManager records(pool, options);
  const Uuid id = new_uuid();
  const std::string state = make_state(1);
  for (int v = 0; v < cfg.read_events; v += 1000) {
    AppendRequest r;
    r.sequence_id = id;
    r.expected_version = v - 1;
    for (int k = v; k < std::min(cfg.read_events, v + 1000); ++k) {
      r.records.push_back(SequencedRecord{id, k, "example.Example.Heartbeat", state});
    }
    records.append(r);
  }
  double best = 0;
  for (int round = 0; round < 3; ++round) {
    const auto start = Clock::now();
    auto all = records.read(id, {});
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    if (static_cast<int>(all.size()) != cfg.read_events) throw std::runtime_error("short read");
    best = std::max(best, cfg.read_events / seconds);
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  Config cfg;
  try {
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      auto value = [&]() -> std::string {
        if (i + 1 >= argc) throw std::invalid_argument("missing value for " + a);
        return argv[++i];
      };
      if (a == "--help" || a == "-h") {
        usage();
        return 0;
      } else if (a == "--entities") {
        cfg.entities = std::stoi(value());
      } else if (a == "--appends") {
        cfg.appends = std::stol(value());
      } else if (a == "--batch") {
        cfg.batches = parse_list(value());
      } else if (a == "--threads") {
        cfg.threads = std::max(1, std::stoi(value()));
      } else if (a == "--per-call") {
        cfg.per_call = std::stoul(value());
      } else if (a == "--raw-requests") {
        cfg.raw_requests = std::stol(value());
      } else if (a == "--read-events") {
        cfg.read_events = std::stoi(value());
      } else if (a == "--rounds") {
        cfg.rounds = std::max(1, std::stoi(value()));
      } else if (a == "--no-memory") {
        cfg.memory = false;
      } else if (a == "--fsync-always") {
        cfg.fsync_always = true;
      } else if (a == "--redis") {
        cfg.redis_url = value();
      } else if (a == "--no-raw") {
        cfg.raw = false;
      } else if (a == "--no-read") {
        cfg.read = false;
      } else {
        throw std::invalid_argument("unknown option " + a);
      }
    }
  } catch (const std::exception& e) {
    std::cerr << e.what() << "\n\n";
    usage();
    return 2;
  }

  std::string dir_pattern =
      (std::filesystem::temp_directory_path() / "es-bench-redis-XXXXXX").string();
  if (::mkdtemp(dir_pattern.data()) == nullptr) {
    std::perror("mkdtemp");
    return 1;
  }
  const std::filesystem::path dir = dir_pattern;
  int rc = 0;
  try {
    std::optional<RedisServer> own;
    RedisUrl url;
    if (cfg.redis_url.empty()) {
      RedisServerOptions server_options;
      server_options.data_dir = dir / "redis";
      server_options.fsync_always = cfg.fsync_always;
      own.emplace(server_options);
      url = own->redis_url();
      std::cout << "redis-server on port " << url.port << " (appendfsync "
                << (cfg.fsync_always ? "always" : "everysec") << ", stream-node-max-bytes "
                << kDefaultStreamNodeMaxBytes << "), " << std::thread::hardware_concurrency()
                << " cores\n";
    } else {
      url = RedisUrl::parse(cfg.redis_url);
      std::cout << "redis-server at " << url.to_string() << " (given), "
                << std::thread::hardware_concurrency() << " cores\n";
    }
    auto pool = std::make_shared<RedisPool>(url, RedisConnectionOptions{}, 8);

    if (cfg.memory) measure_memory(pool, cfg);

    // Rounds of (our appends at each batch size, raw XADD), interleaved so that a noisy
    // machine affects both alike; the best of each counts.
    std::cout << "\nVersion-checked one-event appends to " << cfg.entities << " streams ("
              << cfg.threads << " client threads, " << cfg.per_call
              << " appends per EVALSHA) vs raw XADD, " << cfg.rounds << " interleaved rounds:\n";
    std::vector<double> best_batch(cfg.batches.size(), 0.0);
    double raw = 0;
    std::vector<double> round_ratios;
    for (int round = 1; round <= cfg.rounds; ++round) {
      double round_best = 0;
      for (std::size_t b = 0; b < cfg.batches.size(); ++b) {
        const auto batch = cfg.batches[b];
        flushall(*pool);
        const double cpu0 = server_cpu(*pool);
        const auto t0 = Clock::now();
        const double rate = run_appends(pool, cfg, batch, "b" + std::to_string(batch));
        const double wall = std::chrono::duration<double>(Clock::now() - t0).count();
        const double busy = (server_cpu(*pool) - cpu0) / wall;
        const double usec = command_usec(*pool, "evalsha") / static_cast<double>(cfg.appends);
        std::cout << "  round " << round << ", batch " << batch << ": " << rate
                  << " appends/s (redis-server CPU " << static_cast<int>(busy * 100) << "%, "
                  << usec << " us in EVALSHA per append)\n";
        best_batch[b] = std::max(best_batch[b], rate);
        round_best = std::max(round_best, rate);
      }
      if (!cfg.raw) continue;
      flushall(*pool);
      const double cpu0 = server_cpu(*pool);
      const auto t0 = Clock::now();
      const double r = run_redis_benchmark(url.port, cfg, round == 1);
      const double wall = std::chrono::duration<double>(Clock::now() - t0).count();
      const double busy = (server_cpu(*pool) - cpu0) / wall;
      const double usec = command_usec(*pool, "xadd") / static_cast<double>(cfg.raw_requests);
      std::cout << "  round " << round << ", raw XADD (redis-benchmark): " << r
                << " requests/s (redis-server CPU " << static_cast<int>(busy * 100) << "%, " << usec
                << " us per XADD)\n";
      raw = std::max(raw, r);
      if (r > 0) {
        round_ratios.push_back(round_best / r);
        std::cout << "  round " << round << ", best appends/s / raw XADD/s: " << round_best / r
                  << "\n";
      }
    }
    double best = 0;
    for (std::size_t b = 0; b < cfg.batches.size(); ++b) {
      bench_line("redis.append_per_s_batch" + std::to_string(cfg.batches[b]), best_batch[b],
                 "appends/s");
      best = std::max(best, best_batch[b]);
    }
    bench_line("redis.append_per_s", best, "appends/s");
    if (raw > 0) bench_line("redis.raw_xadd_per_s", raw, "requests/s");
    if (raw > 0) bench_line("redis.append_vs_raw", best / raw, "ratio");
    if (!round_ratios.empty()) {
      std::sort(round_ratios.begin(), round_ratios.end());
      bench_line("redis.append_vs_raw_median_round", round_ratios[round_ratios.size() / 2],
                 "ratio");
    }

    if (cfg.read) {
      std::cout << "\nRead of one " << cfg.read_events << "-event stream through read():\n";
      flushall(*pool);
      const double reads = run_reads(pool, cfg);
      std::cout << "  " << reads << " events/s (best of 3)\n";
      bench_line("redis.read_events_per_s", reads, "events/s");
    }
  } catch (const std::exception& e) {
    std::cerr << "bench-redis-append: " << e.what() << "\n";
    rc = 1;
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return rc;
}
