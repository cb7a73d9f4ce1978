// The reference's ExampleApplication: a thin facade over the generic Runtime that hosts the
// Example entity type, with the reference's lifecycle (construct, init a single global
// instance, get it, close it) and its blocking calls. Callers inside actors use
// repository() directly.
#pragma once

#include "actors/runtime.hpp"
#include "samples/example/example_binding.hpp"

#include <memory>
#include <optional>

namespace es {

using ApplicationConfig = RuntimeSettings;

class ExampleApplication {
 public:
  // Owns its actor system.
  explicit ExampleApplication(ApplicationConfig config = {});
  // Runs in the caller's actor system, which must outlive it.
  ExampleApplication(caf::actor_system& system, ApplicationConfig config);
  ExampleApplication(const ExampleApplication&) = delete;
  ExampleApplication& operator=(const ExampleApplication&) = delete;

  Runtime& runtime() { return runtime_; }
  caf::actor_system& system() { return runtime_.system(); }
  const example_repository_actor& repository() const { return examples_.repository(); }
  EntityHandle<ExampleBinding>& examples() { return examples_; }
  EventBus& bus() { return runtime_.bus(); }
  const Stores& stores() const { return runtime_.stores(); }
  const EventMapper& mapper() const { return runtime_.mapper(); }

  // The blocking facade; each call throws the domain's typed errors (entity_handle.hpp).
  ExampleView create_new_example(boost::json::value foo = "", boost::json::value a = "",
                                 boost::json::value b = "");
  ExampleView set_attribute(const Uuid& id, const std::string& name, boost::json::value value);
  ExampleView beat_heart(const Uuid& id, int count = 1);
  ExampleView discard(const Uuid& id);
  ExampleView get(const Uuid& id) { return examples_.get(id); }
  bool contains(const Uuid& id) { return examples_.contains(id); }
  std::optional<ExampleView> get_at(const Uuid& id, std::int64_t version) {
    return examples_.get_at(id, version);
  }
  std::vector<EventView> events(const Uuid& id) { return examples_.events(id); }
  std::optional<SnapshotTaken> take_snapshot(const Uuid& id) { return examples_.take_snapshot(id); }
  RepositoryStats stats() { return examples_.stats(); }

  // The reference's time-bucketed logs (Runtime).
  TimebucketedLog start_new_timebucketedlog(const std::string& name,
                                            BucketSize size = BucketSize::year) {
    return runtime_.start_new_timebucketedlog(name, size);
  }
  TimebucketedLog get_timebucketedlog(const std::string& name) {
    return runtime_.get_timebucketedlog(name);
  }
  LoggedMessage log_message(const TimebucketedLog& log, const std::string& message) {
    return runtime_.log_message(log, message);
  }
  std::vector<LoggedMessage> read_messages(const TimebucketedLog& log, const ReadQuery& query) {
    return runtime_.read_messages(log, query);
  }

  // Stops the runtime (bounded; see Runtime::close). Idempotent; the destructor calls it.
  void close() { runtime_.close(); }

 private:
  Runtime runtime_;
  EntityHandle<ExampleBinding> examples_;
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
