// Why: see actor_bridge.hpp.
#include "samples/http/actor_bridge.hpp"

#include <caf/exit_reason.hpp>
#include <caf/send.hpp>

namespace es::http {

namespace {

caf::behavior bridge_actor(caf::event_based_actor* self) {
  return {
      [=](BridgeJob& job) {
        try {
          job.run(self);
        } catch (...) {
          // The job's captures answer their Responder (500) when they go.
        }
      },
  };
}

}  // namespace

ActorBridge::ActorBridge(caf::actor_system& system, std::size_t actors,
                         std::chrono::milliseconds timeout)
    : timeout_(timeout) {
  if (actors == 0) actors = 1;
  for (std::size_t i = 0; i < actors; ++i) actors_.push_back(system.spawn(bridge_actor));
}

ActorBridge::~ActorBridge() {
  shutdown();
}

void ActorBridge::post(std::function<void(caf::event_based_actor*)> job) {
  caf::actor target;
  {
    std::lock_guard lock(mutex_);
    if (actors_.empty()) return;
    target = actors_[next_.fetch_add(1, std::memory_order_relaxed) % actors_.size()];
  }
  caf::anon_send(target, BridgeJob{std::move(job)});
}

void ActorBridge::shutdown() {
  std::vector<caf::actor> actors;
  {
    std::lock_guard lock(mutex_);
    actors.swap(actors_);
  }
  for (auto& a : actors) caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
}

}  // namespace es::http
