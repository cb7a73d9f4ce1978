// Why: what the projection tests share: a private redis-server per test (some tests restart
// or kill it), a write load of Example commands from the test process, an independent
// recount of the read model from the entity streams (read directly, decoded through the
// mapper), and control of example-projector child processes (ready line, SIGKILL, SIGTERM).
#pragma once

#include "domain/keyed_hash.hpp"
#include "persistence/redis_launcher.hpp"
#include "persistence/redis_stores.hpp"
#include "samples/example/example.hpp"
#include "samples/example/example_application.hpp"
#include "samples/example/example_projection.hpp"
#include "samples/example/example_read_model.hpp"
#include "support/redis_fixture.hpp"

#include <boost/json.hpp>

#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <random>
#include <thread>

extern char** environ;

namespace es::test {

// A private redis-server for one test (started in the calling thread: keep it in main).
inline std::unique_ptr<RedisServer> private_redis(const std::string& name) {
  RedisServerOptions options;
  options.data_dir = temp_dir(name);
  return std::make_unique<RedisServer>(options);
}

inline std::shared_ptr<RedisPool> pool_for(const RedisServer& server, std::size_t connections = 8) {
  return std::make_shared<RedisPool>(server.redis_url(), test_connection_options(), connections);
}

inline std::shared_ptr<const AesGcmCipher> test_cipher() {
  return std::make_shared<AesGcmCipher>(std::string("0123456789abcdef0123456789abcdef"));
}
inline const char* kTestCipherKeyBase64 = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

// What the read model must hold, recounted from the entity streams (nothing of the
// projection code is used but the token function).
inline std::vector<ExamplePartitionDump> recount(const RecordManager& records,
                                                 const AesGcmCipher* cipher) {
  Example::register_types();
  EventMapper mapper(cipher == nullptr ? nullptr : std::make_shared<const AesGcmCipher>(*cipher));
  IndexTokenizer tokenizer(cipher, kExampleFooIndexLabel);
  auto token_of = [&](const boost::json::value* v) -> std::string {
    if (v == nullptr || !v->is_string()) return "";
    return tokenizer.token(std::string_view(v->get_string().data(), v->get_string().size()));
  };
  const int n = records.partitions();
  std::vector<ExamplePartitionDump> out(static_cast<std::size_t>(n));
  for (int p = 0; p < n; ++p)
    out[static_cast<std::size_t>(p)].position = records.last_notification_position(p);
  for (const auto& id : records.all_sequence_ids()) {
    auto& part = out[static_cast<std::size_t>(partition_of(id, n))];
    const std::string uuid = to_string(id);
    for (const auto& record : records.read(id, ReadQuery{})) {
      if (record.topic == Example::Heartbeat::topic) {
        ++part.heartbeats;
      } else if (record.topic == Example::Created::topic) {
        part.live[uuid] = token_of(mapper.from_record(record).data().if_contains("foo"));
      } else if (record.topic == Example::AttributeChanged::topic) {
        auto e = mapper.from_record(record);
        if (e.data().at("name").as_string() == "foo" && part.live.count(uuid)) {
          part.live[uuid] = token_of(e.data().if_contains("value"));
        }
      } else if (record.topic == Example::Discarded::topic) {
        part.live.erase(uuid);
      }
    }
    if (part.live.count(uuid) && !part.live[uuid].empty()) {
      part.index.insert(part.live[uuid] + ":" + uuid);
    }
  }
  return out;
}

inline std::int64_t total_heartbeats(const std::vector<ExamplePartitionDump>& parts) {
  std::int64_t n = 0;
  for (const auto& p : parts) n += p.heartbeats;
  return n;
}
inline std::int64_t total_live(const std::vector<ExamplePartitionDump>& parts) {
  std::int64_t n = 0;
  for (const auto& p : parts) n += static_cast<std::int64_t>(p.live.size());
  return n;
}
inline std::int64_t total_position(const std::vector<ExamplePartitionDump>& parts) {
  std::int64_t n = 0;
  for (const auto& p : parts) n += p.position;
  return n;
}

// Commands at Example entities from `threads` threads until stopped: creates (foo a string
// from a small set, sometimes a number), foo changes (string, number or null), heartbeats,
// other attributes and a few discards. Failures (e.g. while Redis restarts) are counted.
class WriteLoad {
 public:
  WriteLoad(ExampleApplication& app, int threads, std::uint64_t seed,
            std::chrono::microseconds pause = std::chrono::microseconds(0))
      : app_(app) {
    for (int t = 0; t < threads; ++t) {
      threads_.emplace_back(
          [this, t, seed, pause] { loop(seed * 31 + static_cast<std::uint64_t>(t), pause); });
    }
  }
  ~WriteLoad() { stop(); }
  void stop() {
    stop_.store(true);
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
  }
  std::int64_t commands() const { return commands_.load(); }
  std::int64_t failures() const { return failures_.load(); }

  static boost::json::value random_foo(std::mt19937_64& rng) {
    const auto pick = rng() % 10;
    if (pick == 0) return static_cast<std::int64_t>(rng() % 100);  // not a string: not indexed
    if (pick == 1) return nullptr;
    return boost::json::string("foo-" + std::to_string(rng() % 7));
  }

 private:
  void loop(std::uint64_t seed, std::chrono::microseconds pause) {
    std::mt19937_64 rng(seed);
    std::vector<Uuid> ids;
    while (!stop_.load()) {
      try {
        const auto pick = rng() % 20;
        if (ids.size() < 5 || pick < 3) {
          auto v = app_.create_new_example(random_foo(rng), "", "");
          ids.push_back(*parse_uuid(v.id));
        } else {
          const auto i = rng() % ids.size();
          const Uuid id = ids[i];
          if (pick < 9) {
            app_.beat_heart(id, 1 + static_cast<int>(rng() % 3));
          } else if (pick < 13) {
            app_.set_attribute(id, "foo", random_foo(rng));
          } else if (pick < 19) {
            app_.set_attribute(id, "a", static_cast<std::int64_t>(rng() % 1000));
          } else {
            ids.erase(ids.begin() + static_cast<std::ptrdiff_t>(i));
            app_.discard(id);
          }
        }
        commands_.fetch_add(1);
      } catch (const std::exception&) {
        failures_.fetch_add(1);
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      if (pause.count() > 0) std::this_thread::sleep_for(pause);
    }
  }

  ExampleApplication& app_;
  std::atomic<bool> stop_{false};
  std::atomic<std::int64_t> commands_{0};
  std::atomic<std::int64_t> failures_{0};
  std::vector<std::thread> threads_;
};

// An example-projector child process.
class ProjectorProcess {
 public:
  explicit ProjectorProcess(const std::vector<std::string>& args) {
    int out[2];
    if (::pipe(out) != 0) throw std::runtime_error("pipe");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&actions, out[0]);
    posix_spawn_file_actions_addclose(&actions, out[1]);
    std::vector<std::string> all{ES_EXAMPLE_PROJECTOR};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    const int rc = posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(out[1]);
    if (rc != 0) {
      ::close(out[0]);
      throw std::runtime_error("cannot start example-projector");
    }
    stdout_ = out[0];
  }
  ~ProjectorProcess() {
    if (pid_ > 0) kill9();
    if (stdout_ >= 0) ::close(stdout_);
  }
  ProjectorProcess(const ProjectorProcess&) = delete;
  ProjectorProcess& operator=(const ProjectorProcess&) = delete;

  // Waits for the ready line; false on timeout or exit.
  bool wait_ready(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (output_.find("ready") == std::string::npos) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd p{stdout_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char buf[512];
      const auto n = ::read(stdout_, buf, sizeof buf);
      if (n <= 0) return false;
      output_.append(buf, static_cast<std::size_t>(n));
    }
    return true;
  }
  void kill9() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }
  // SIGTERM; the exit status, or -1 when it did not end within the timeout (then SIGKILL).
  int terminate(std::chrono::milliseconds timeout, std::chrono::milliseconds* took = nullptr) {
    if (pid_ <= 0) return -1;
    const auto started = std::chrono::steady_clock::now();
    ::kill(pid_, SIGTERM);
    const auto deadline = started + timeout;
    int status = 0;
    for (;;) {
      const auto r = ::waitpid(pid_, &status, WNOHANG);
      if (r == pid_) break;
      if (std::chrono::steady_clock::now() > deadline) {
        kill9();
        return -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    pid_ = -1;
    if (took != nullptr) {
      *took = std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::steady_clock::now() - started);
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  const std::string& output() const { return output_; }

 private:
  pid_t pid_ = -1;
  int stdout_ = -1;
  std::string output_;
};

// Waits until the read model's positions reach the logs' heads (as of each check).
inline bool wait_caught_up(const RecordManager& records, const ExampleReadModel& model,
                           std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    try {
      std::vector<int> all;
      for (int p = 0; p < records.partitions(); ++p) all.push_back(p);
      const auto applied = model.positions(all);
      bool done = true;
      for (int p = 0; p < records.partitions(); ++p) {
        done =
            done && applied[static_cast<std::size_t>(p)] >= records.last_notification_position(p);
      }
      if (done) return true;
    } catch (const StoreUnavailable&) {
    }
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

// Compares the read model with the recount partition by partition (Catch CHECKs).
#define ES_CHECK_MATCHES_RECOUNT(model_dump, expected)                                           \
  do {                                                                                           \
    const auto& es_dump_ = (model_dump);                                                         \
    const auto& es_expected_ = (expected);                                                       \
    REQUIRE(es_dump_.size() == es_expected_.size());                                             \
    for (std::size_t es_p_ = 0; es_p_ < es_dump_.size(); ++es_p_) {                              \
      INFO("partition " << es_p_);                                                               \
      CHECK(es_dump_[es_p_].position == es_expected_[es_p_].position);                           \
      CHECK(es_dump_[es_p_].heartbeats == es_expected_[es_p_].heartbeats);                       \
      CHECK(es_dump_[es_p_].live == es_expected_[es_p_].live);                                   \
      CHECK(es_dump_[es_p_].index == es_expected_[es_p_].index);                                 \
    }                                                                                            \
    CHECK(::es::test::total_heartbeats(es_dump_) == ::es::test::total_heartbeats(es_expected_)); \
  } while (false)

}  // namespace es::test
