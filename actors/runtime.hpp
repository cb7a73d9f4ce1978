// The runtime: one object that owns what every hosted entity type shares (the three stores
// and their persistence policies: journal writers, snapshot writer, log writer; the loaders;
// the event bus) and hosts any number of entity types side by side, each with its own
// repository actor and a typed handle:
//
//   es::Runtime runtime(settings);                    // memory stores unless given others
//   auto accounts = runtime.host<AccountBinding>();   // spawns the repository, once per type
//   auto view = accounts.create(Open{"ada", 100});
//   accounts.execute(view.id, Deposit{50});
//
// Handles block (for callers outside actors); actors talk to handle.repository() directly.
// close() stops every actor the runtime spawned, bounded in time, and never hangs on actors
// that others spawned: it reports them instead.
#pragma once

#include "actors/entity_handle.hpp"
#include "actors/entity_runtime.hpp"
#include "actors/repository_actor.hpp"
#include "actors/runtime_config.hpp"
#include "domain/cipher.hpp"
#include "domain/timebucketed_log.hpp"
#include "persistence/read_query.hpp"
#include "persistence/stores.hpp"

#include <caf/actor_system.hpp>

#include <chrono>
#include <memory>
#include <mutex>
#include <typeindex>
#include <unordered_map>

namespace es {

struct RuntimeSettings {
  Stores stores;  // memory_stores() when left empty
  std::shared_ptr<const AesGcmCipher> cipher;
  std::int64_t snapshot_period = 0;  // a snapshot every N events per entity; 0: off
  std::chrono::milliseconds passivate_after{std::chrono::minutes(5)};
  std::chrono::milliseconds store_timeout{std::chrono::seconds(5)};
  std::chrono::milliseconds request_timeout{std::chrono::seconds(10)};  // handle calls
  std::int64_t max_in_flight = 200000;
  // Live entity actors at most, over every hosted type; beyond, the least recently used idle
  // ones are passivated. 0: derived from the machine's memory (default_max_live_entities()).
  std::int64_t max_live_entities = 0;
  std::size_t journal_writers = 2;
  std::size_t journal_max_batch = 1024;
  std::size_t loaders = 8;            // concurrent recoveries at most
  std::size_t scheduler_threads = 0;  // 0: one per core (only when the runtime owns the system)
  // How long close() waits with no actor stopping before it reports and lets go.
  std::chrono::milliseconds close_timeout{std::chrono::seconds(10)};
};

// A cap on live entities for this machine: an eighth of its physical memory at 4 KiB per
// live entity (an idle actor with a small state takes about 2 KiB), at least 10,000.
std::int64_t default_max_live_entities();

class Runtime {
 public:
  // Owns its actor system (local only; for nodes, build the system from a RuntimeConfig
  // with add_binding<B>() and use the other constructor).
  explicit Runtime(RuntimeSettings settings = {});
  // Runs in the caller's actor system, which must outlive it.
  Runtime(caf::actor_system& system, RuntimeSettings settings);
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  // Hosts entity type B: its repository is spawned on the first call; later calls return a
  // handle to the same one.
  template <class B>
  EntityHandle<B> host() {
    std::lock_guard lock(mutex_);
    if (closed_) throw Error("the runtime is closed");
    auto& slot = repositories_[std::type_index(typeid(B))];
    if (!slot) slot = caf::actor_cast<caf::actor>(system_->spawn(repository_behavior<B>, runtime_));
    return EntityHandle<B>(*system_, caf::actor_cast<repository_actor<B>>(slot),
                           settings_.request_timeout);
  }

  caf::actor_system& system() { return *system_; }
  EventBus& bus() { return *runtime_->bus; }
  const Stores& stores() const { return settings_.stores; }
  const EventMapper& mapper() const { return *runtime_->mapper; }
  const RuntimeSettings& settings() const { return settings_; }
  // What entity actors share (for spawning repositories or cluster routers by hand).
  std::shared_ptr<const EntityRuntime> entity_runtime() const { return runtime_; }
  // What the runtime's actors count (GET /metrics, docs/OPERATIONS.md).
  std::shared_ptr<RuntimeMetrics> metrics() const { return runtime_->metrics; }

  // Stops `actor` with the runtime: close() sends it an exit and waits for it, like the
  // runtime's own actors (for subscribers, process managers, cluster routers).
  void adopt(caf::actor actor);

  // Time-bucketed logs, as the reference's start_new_timebucketedlog and log_message.
  // Starting a log stores its Started event in the entity store (ConcurrencyError when a
  // log of that name exists); messages go to the log store through the log writer.
  TimebucketedLog start_new_timebucketedlog(const std::string& name,
                                            BucketSize size = BucketSize::year);
  // The log of that name; RepositoryKeyError when none was started.
  TimebucketedLog get_timebucketedlog(const std::string& name);
  LoggedMessage log_message(const TimebucketedLog& log, const std::string& message);
  // Messages within the query's timestamp bounds, in its direction (set ascending = false
  // for newest first, the reference reader's default).
  std::vector<LoggedMessage> read_messages(const TimebucketedLog& log, const ReadQuery& query);

  // Stops accepting work, waits (bounded) for commands in flight, stops every actor the
  // runtime spawned or adopted. When it owns the actor system, waits for all actors to
  // finish as long as one stops at least every close_timeout, and reports on stderr those that did
  // not (actors spawned outside the runtime and never stopped) instead of hanging. Idempotent; the
  // destructor calls it.
  void close();

 private:
  void start();

  RuntimeSettings settings_;
  std::unique_ptr<RuntimeConfig> owned_config_;
  std::unique_ptr<caf::actor_system> owned_system_;
  caf::actor_system* system_ = nullptr;
  std::shared_ptr<EntityRuntime> runtime_;
  log_writer_actor log_writer_;
  std::mutex mutex_;
  std::unordered_map<std::type_index, caf::actor> repositories_;
  std::vector<caf::actor> adopted_;
  bool closed_ = false;
};

}  // namespace es
