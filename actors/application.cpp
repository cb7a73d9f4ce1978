#include "actors/application.hpp"

#include "actors/error_code.hpp"
#include "domain/canonical_json.hpp"
#include "persistence/timebucketed_log_reader.hpp"

#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include <mutex>
#include <thread>

namespace es {

ExampleApplication::ExampleApplication(ApplicationConfig config)
    : config_(std::move(config)),
      owned_config_(std::make_unique<RuntimeConfig>(config_.scheduler_threads)),
      owned_system_(std::make_unique<caf::actor_system>(*owned_config_)),
      system_(owned_system_.get()) {
  start();
}

ExampleApplication::ExampleApplication(caf::actor_system& system, ApplicationConfig config)
    : config_(std::move(config)), system_(&system) {
  start();
}

ExampleApplication::~ExampleApplication() {
  close();
}

void ExampleApplication::start() {
  ExampleModel::register_types();
  TimebucketedLog::register_types();
  if (!config_.stores.events) config_.stores = memory_stores();
  auto& sys = *system_;
  auto rt = std::make_shared<EntityRuntime>();
  rt->mapper = std::make_shared<EventMapper>(config_.cipher);
  for (std::size_t i = 0; i < std::max<std::size_t>(config_.journal_writers, 1); ++i) {
    rt->journals.push_back(
        spawn_journal_writer(sys, config_.stores.events, {config_.journal_max_batch}));
  }
  rt->loader = spawn_loader_pool(sys, config_.stores.events, config_.stores.snapshots, rt->mapper,
                                 config_.loaders);
  rt->snapshot_writer = spawn_snapshot_writer(sys, config_.stores.snapshots);
  rt->bus = std::make_shared<EventBus>();
  rt->partitions = config_.stores.events->partitions();
  rt->snapshot_period = config_.snapshot_period;
  rt->passivate_after = config_.passivate_after;
  rt->store_timeout = config_.store_timeout;
  rt->max_in_flight = config_.max_in_flight;
  runtime_ = rt;
  if (config_.stores.logs) log_writer_ = spawn_log_writer(sys, config_.stores.logs);
  repository_ = sys.spawn(repository_behavior<ExampleModel>, runtime_);
}

void ExampleApplication::close() {
  if (closed_) return;
  closed_ = true;
  // Let commands in flight finish (bounded), so nothing acknowledged is cut off.
  auto deadline = std::chrono::steady_clock::now() + config_.store_timeout * 2;
  while (runtime_->in_flight->load() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  caf::anon_send_exit(repository_, caf::exit_reason::user_shutdown);
  for (auto& j : runtime_->journals) caf::anon_send_exit(j, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(runtime_->loader, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(runtime_->snapshot_writer, caf::exit_reason::user_shutdown);
  if (log_writer_) caf::anon_send_exit(log_writer_, caf::exit_reason::user_shutdown);
  // Drop our handles: CAF waits for a detached actor's last reference before its thread ends.
  repository_ = nullptr;
  log_writer_ = nullptr;
  runtime_->journals.clear();
  runtime_->loader = nullptr;
  runtime_->snapshot_writer = nullptr;
  if (owned_system_) {
    owned_system_->await_all_actors_done();
    owned_system_.reset();
  }
}

template <class T, class Dest, class... Ts>
T ExampleApplication::ask(const Dest& dest, Ts&&... xs) {
  if (closed_) throw Error("the application is closed");
  caf::scoped_actor self{*system_};
  std::optional<T> result;
  caf::error failure;
  self->request(dest, config_.request_timeout, std::forward<Ts>(xs)...)
      .receive([&](T& value) { result = std::move(value); },
               [&](caf::error& error) { failure = std::move(error); });
  if (failure) throw_as_exception(failure);
  return std::move(*result);
}

ExampleView ExampleApplication::create_new_example(const boost::json::value& foo,
                                                   const boost::json::value& a,
                                                   const boost::json::value& b) {
  return create(ExampleCommand::make_create(
      {{"foo", canonical_json(foo)}, {"a", canonical_json(a)}, {"b", canonical_json(b)}}));
}

ExampleView ExampleApplication::create(ExampleCommand command) {
  return call<ExampleView>(create_atom::value, std::move(command));
}

ExampleView ExampleApplication::execute(const Uuid& id, ExampleCommand command) {
  return call<ExampleView>(execute_atom::value, to_string(id), std::move(command));
}

ExampleView ExampleApplication::set_attribute(const Uuid& id, const std::string& name,
                                              const boost::json::value& value) {
  return execute(id, ExampleCommand::make_change({{name, canonical_json(value)}}));
}

ExampleView ExampleApplication::beat_heart(const Uuid& id, int count) {
  return execute(id, ExampleCommand::make_beat(count));
}

ExampleView ExampleApplication::discard(const Uuid& id) {
  return execute(id, ExampleCommand::make_discard());
}

ExampleView ExampleApplication::get(const Uuid& id) {
  return call<ExampleView>(get_atom::value, to_string(id));
}

bool ExampleApplication::contains(const Uuid& id) {
  try {
    get(id);
    return true;
  } catch (const RepositoryKeyError&) {
    return false;
  }
}

std::optional<ExampleView> ExampleApplication::get_at(const Uuid& id, std::int64_t version) {
  try {
    return call<ExampleView>(get_at_atom::value, to_string(id), version);
  } catch (const RepositoryKeyError&) {
    return std::nullopt;
  }
}

std::vector<EventView> ExampleApplication::events(const Uuid& id) {
  return call<std::vector<EventView>>(events_atom::value, to_string(id));
}

std::optional<SnapshotTaken> ExampleApplication::take_snapshot(const Uuid& id) {
  try {
    return call<SnapshotTaken>(snapshot_atom::value, to_string(id));
  } catch (const RepositoryKeyError&) {
    return std::nullopt;
  }
}

RepositoryStats ExampleApplication::stats() {
  return call<RepositoryStats>(stats_atom::value);
}

TimebucketedLog ExampleApplication::start_new_timebucketedlog(const std::string& name,
                                                              BucketSize size) {
  TimebucketedLog log = TimebucketedLog::start(name, size);
  AppendRequest request;
  request.sequence_id = log.id();
  request.expected_version = -1;
  for (const auto& e : log.pending_events()) request.records.push_back(mapper().to_record(e));
  ask<std::int64_t>(runtime_->journal_for(log.id()), append_atom::value, std::move(request));
  log.collect_pending_events();
  return log;
}

TimebucketedLog ExampleApplication::get_timebucketedlog(const std::string& name) {
  TimebucketedLog::register_types();
  const Uuid id = timebucketed_log_id(name);
  auto records = config_.stores.events->read(id, {});
  if (records.empty()) throw RepositoryKeyError("no log named '" + name + "'");
  TimebucketedLog log;
  for (const auto& r : records) log.apply(mapper().from_record(r));
  return log;
}

LoggedMessage ExampleApplication::log_message(const TimebucketedLog& log,
                                              const std::string& message) {
  if (!log_writer_) throw Error("this application has no log store");
  LoggedMessage m;
  m.timestamp = now_micros();
  m.bucket_id = make_timebucket_id(log.id(), m.timestamp, log.bucket_size());
  m.message = message;
  ask<std::int64_t>(log_writer_, log_atom::value, mapper().message_to_record(m));
  return m;
}

std::vector<LoggedMessage> ExampleApplication::read_messages(const TimebucketedLog& log,
                                                             const ReadQuery& query) {
  if (!config_.stores.logs) throw Error("this application has no log store");
  return TimebucketedLogReader(log, config_.stores.logs, runtime_->mapper).get_messages(query);
}

namespace {
std::mutex global_mutex;
std::unique_ptr<ExampleApplication> global_application;
}  // namespace

std::unique_ptr<ExampleApplication> construct_example_application(ApplicationConfig config) {
  return std::make_unique<ExampleApplication>(std::move(config));
}

ExampleApplication& init_example_application(ApplicationConfig config) {
  std::lock_guard lock(global_mutex);
  if (global_application) throw Error("the example application is already initialised");
  global_application = construct_example_application(std::move(config));
  return *global_application;
}

ExampleApplication& get_example_application() {
  std::lock_guard lock(global_mutex);
  if (!global_application) throw Error("the example application is not initialised");
  return *global_application;
}

void close_example_application() {
  std::unique_ptr<ExampleApplication> app;
  {
    std::lock_guard lock(global_mutex);
    app = std::move(global_application);
  }
  if (app) app->close();
}

}  // namespace es
