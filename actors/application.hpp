// The reference's ExampleApplication as actors: the three stores and their persistence
// policies (journal writers, snapshot writer, log writer), the loaders, the event bus and
// the repository supervisor of Example actors. A blocking facade serves callers outside
// actors; callers inside use repository() directly.
#pragma once

#include "actors/example_actors.hpp"
#include "actors/runtime_config.hpp"
#include "domain/cipher.hpp"
#include "domain/timebucketed_log.hpp"
#include "persistence/read_query.hpp"
#include "persistence/stores.hpp"

#include <caf/actor_system.hpp>

#include <chrono>
#include <memory>
#include <optional>

namespace es {

struct ApplicationConfig {
  Stores stores;  // memory_stores() when left empty
  std::shared_ptr<const AesGcmCipher> cipher;
  std::int64_t snapshot_period = 0;  // a snapshot every N events per entity; 0: off
  std::chrono::milliseconds passivate_after{std::chrono::minutes(5)};
  std::chrono::milliseconds store_timeout{std::chrono::seconds(5)};
  std::chrono::milliseconds request_timeout{std::chrono::seconds(10)};  // facade calls
  std::int64_t max_in_flight = 200000;
  std::size_t journal_writers = 2;
  std::size_t journal_max_batch = 1024;
  std::size_t loaders = 8;            // concurrent recoveries at most
  std::size_t scheduler_threads = 0;  // 0: one per core (only when the application owns the system)
};

class ExampleApplication {
 public:
  // Owns its actor system.
  explicit ExampleApplication(ApplicationConfig config = {});
  // Runs in the caller's actor system, which must outlive it.
  ExampleApplication(caf::actor_system& system, ApplicationConfig config);
  ~ExampleApplication();
  ExampleApplication(const ExampleApplication&) = delete;
  ExampleApplication& operator=(const ExampleApplication&) = delete;

  caf::actor_system& system() { return *system_; }
  const example_repository_actor& repository() const { return repository_; }
  EventBus& bus() { return *runtime_->bus; }
  const Stores& stores() const { return config_.stores; }
  const EventMapper& mapper() const { return *runtime_->mapper; }
  std::shared_ptr<const EntityRuntime> runtime() const { return runtime_; }

  // The blocking facade. Each call throws the domain's typed errors (RepositoryKeyError,
  // EntityIsDiscarded, ConcurrencyError, PreconditionFailed, DataIntegrityError,
  // InvalidInput, StoreUnavailable, Overloaded).
  ExampleView create_new_example(const boost::json::value& foo = "",
                                 const boost::json::value& a = "",
                                 const boost::json::value& b = "");
  ExampleView create(ExampleCommand command);
  ExampleView execute(const Uuid& id, ExampleCommand command);
  ExampleView set_attribute(const Uuid& id, const std::string& name,
                            const boost::json::value& value);
  ExampleView beat_heart(const Uuid& id, int count = 1);
  ExampleView discard(const Uuid& id);
  ExampleView get(const Uuid& id);
  bool contains(const Uuid& id);
  // The entity as of `version`; nothing when it has no event at or below it.
  std::optional<ExampleView> get_at(const Uuid& id, std::int64_t version);
  std::vector<EventView> events(const Uuid& id);
  // Nothing for an unknown id, as the reference's take_snapshot.
  std::optional<SnapshotTaken> take_snapshot(const Uuid& id);
  RepositoryStats stats();

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

  // Stops accepting work, waits (bounded) for commands in flight, stops every actor.
  // Idempotent; the destructor calls it.
  void close();

 private:
  void start();
  template <class T, class Dest, class... Ts>
  T ask(const Dest& dest, Ts&&... xs);
  template <class T, class... Ts>
  T call(Ts&&... xs) {
    return ask<T>(repository_, std::forward<Ts>(xs)...);
  }

  ApplicationConfig config_;
  std::unique_ptr<RuntimeConfig> owned_config_;
  std::unique_ptr<caf::actor_system> owned_system_;
  caf::actor_system* system_ = nullptr;
  std::shared_ptr<EntityRuntime> runtime_;
  log_writer_actor log_writer_;
  example_repository_actor repository_;
  bool closed_ = false;
};

// The reference's module functions around one global instance.
std::unique_ptr<ExampleApplication> construct_example_application(ApplicationConfig config = {});
// Fails (Error) when an instance exists.
ExampleApplication& init_example_application(ApplicationConfig config = {});
// Fails (Error) before init.
ExampleApplication& get_example_application();
// Closes and forgets the instance; nothing when there is none.
void close_example_application();

}  // namespace es
