#include "actors/runtime.hpp"

#include "actors/cluster_guard.hpp"

#include "persistence/event_store.hpp"
#include "persistence/timebucketed_log_reader.hpp"

#include <caf/send.hpp>

#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <thread>

namespace es {

std::int64_t default_max_live_entities() {
  const long pages = ::sysconf(_SC_PHYS_PAGES);
  const long page_size = ::sysconf(_SC_PAGE_SIZE);
  if (pages <= 0 || page_size <= 0) return 100000;
  const auto bytes = static_cast<std::int64_t>(pages) * page_size;
  return std::max<std::int64_t>(10000, bytes / 8 / 4096);
}

Runtime::Runtime(RuntimeSettings settings)
    : settings_(std::move(settings)),
      owned_config_(std::make_unique<RuntimeConfig>(settings_.scheduler_threads)),
      owned_system_(std::make_unique<caf::actor_system>(*owned_config_)),
      system_(owned_system_.get()) {
  start();
}

Runtime::Runtime(caf::actor_system& system, RuntimeSettings settings)
    : settings_(std::move(settings)), system_(&system) {
  start();
}

Runtime::~Runtime() {
  close();
}

void Runtime::start() {
  TimebucketedLog::register_types();
  if (!settings_.stores.events) settings_.stores = memory_stores();
  auto& sys = *system_;
  auto rt = std::make_shared<EntityRuntime>();
  rt->mapper = std::make_shared<EventMapper>(settings_.cipher);
  rt->metrics->live = rt->live;
  for (std::size_t i = 0; i < std::max<std::size_t>(settings_.journal_writers, 1); ++i) {
    rt->journals.push_back(spawn_journal_writer(sys, settings_.stores.events,
                                                {settings_.journal_max_batch, rt->metrics}));
  }
  rt->loader = spawn_loader_pool(sys, settings_.stores.events, settings_.stores.snapshots,
                                 rt->mapper, settings_.loaders);
  rt->snapshot_writer = spawn_snapshot_writer(sys, settings_.stores.snapshots);
  rt->bus = std::make_shared<EventBus>();
  rt->partitions = settings_.stores.events->partitions();
  rt->snapshot_period = settings_.snapshot_period;
  rt->passivate_after = settings_.passivate_after;
  rt->store_timeout = settings_.store_timeout;
  rt->max_in_flight = settings_.max_in_flight;
  rt->max_live_entities =
      settings_.max_live_entities > 0 ? settings_.max_live_entities : default_max_live_entities();
  runtime_ = rt;
  if (settings_.stores.logs) log_writer_ = spawn_log_writer(sys, settings_.stores.logs);
}

void Runtime::adopt(caf::actor actor) {
  std::lock_guard lock(mutex_);
  if (closed_) {
    caf::anon_send_exit(actor, caf::exit_reason::user_shutdown);
    return;
  }
  adopted_.push_back(std::move(actor));
}

void Runtime::close() {
  std::vector<caf::actor> repositories;
  std::vector<caf::actor> adopted;
  {
    std::lock_guard lock(mutex_);
    if (closed_) return;
    closed_ = true;
    for (auto& kv : repositories_) repositories.push_back(std::move(kv.second));
    repositories_.clear();
    adopted.swap(adopted_);
  }
  // Let commands in flight finish (bounded), so nothing acknowledged is cut off.
  auto deadline = std::chrono::steady_clock::now() + settings_.store_timeout * 2;
  while (runtime_->in_flight->load() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  for (auto& a : adopted) caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  for (auto& r : repositories) send_local_exit(*system_, r, caf::exit_reason::user_shutdown);
  for (auto& j : runtime_->journals) caf::anon_send_exit(j, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(runtime_->loader, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(runtime_->snapshot_writer, caf::exit_reason::user_shutdown);
  if (log_writer_) caf::anon_send_exit(log_writer_, caf::exit_reason::user_shutdown);
  // Drop our handles: CAF waits for a detached actor's last reference before its thread ends.
  adopted.clear();
  repositories.clear();
  log_writer_ = nullptr;
  runtime_->journals.clear();
  runtime_->loader = nullptr;
  runtime_->snapshot_writer = nullptr;
  if (!owned_system_) return;
  // Bounded: an actor spawned outside the runtime and never stopped would otherwise keep
  // await_all_actors_done() waiting for ever. The bound is on a stall, not on the whole
  // wait: a million live entities take longer than close_timeout to stop (about 10 us each
  // on 2 cores), and each one that stops shows the rest are on their way.
  auto& registry = owned_system_->registry();
  // Only a new low counts: actors that come and go (a helper spawned again and again) are
  // not progress.
  auto lowest = registry.running();
  auto until = std::chrono::steady_clock::now() + settings_.close_timeout;
  while (lowest > 0 && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    if (const auto running = registry.running(); running < lowest) {
      lowest = running;
      until = std::chrono::steady_clock::now() + settings_.close_timeout;
    }
  }
  if (const auto left = registry.running(); left > 0) {
    std::cerr << "es::Runtime::close: " << left << " actor(s) still running, none stopped for "
              << settings_.close_timeout.count()
              << " ms (spawned outside the runtime and not stopped, nor adopted); not waiting "
                 "for them\n";
    owned_system_->await_actors_before_shutdown(false);
  }
  owned_system_.reset();
}

TimebucketedLog Runtime::start_new_timebucketedlog(const std::string& name, BucketSize size) {
  TimebucketedLog log = TimebucketedLog::start(name, size);
  ask<std::int64_t>(*system_, runtime_->journal_for(log.id()), settings_.request_timeout,
                    append_atom::value, append_request_for(mapper(), log.pending_events()));
  log.collect_pending_events();
  return log;
}

TimebucketedLog Runtime::get_timebucketedlog(const std::string& name) {
  const Uuid id = timebucketed_log_id(name);
  auto records = settings_.stores.events->read(id, {});
  if (records.empty()) throw RepositoryKeyError("no log named '" + name + "'");
  TimebucketedLog log;
  for (const auto& r : records) log.apply(mapper().from_record(r));
  return log;
}

LoggedMessage Runtime::log_message(const TimebucketedLog& log, const std::string& message) {
  if (!log_writer_) throw Error("this runtime has no log store");
  LoggedMessage m;
  m.timestamp = now_micros();
  m.bucket_id = make_timebucket_id(log.id(), m.timestamp, log.bucket_size());
  m.message = message;
  ask<std::int64_t>(*system_, log_writer_, settings_.request_timeout, log_atom::value,
                    mapper().message_to_record(m));
  return m;
}

std::vector<LoggedMessage> Runtime::read_messages(const TimebucketedLog& log,
                                                  const ReadQuery& query) {
  if (!settings_.stores.logs) throw Error("this runtime has no log store");
  return TimebucketedLogReader(log, settings_.stores.logs, runtime_->mapper).get_messages(query);
}

}  // namespace es
