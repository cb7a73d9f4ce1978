// Why: HTTP requests arrive on Asio threads, which are not actors; the repository only
// speaks request/response with actors. A scoped_actor per call costs a blocking actor and a
// thread hand-off each time (and is not thread-safe to share), so requests are instead
// handed as jobs to a few long-lived event-based bridge actors: each job issues
// `request(...).then(ok, error)`, and the reply (or the error) is passed to a callback on the
// CAF worker that received it. Nothing ever blocks, and many requests are in flight per
// bridge actor. A CAF request timeout costs two events through CAF's single clock thread
// (a 64-slot ring buffer) per request, which caps throughput; so the server may use no CAF
// timeout (0) and enforce its deadline on the HTTP side instead (ServerOptions::
// handler_timeout), where the Responder's exactly-once rule drops a late reply.
#pragma once

#include "actors/error_code.hpp"

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/duration.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/expected.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <tuple>
#include <vector>

namespace es::http {

// A piece of work run inside a bridge actor. Local only.
struct BridgeJob {
  std::function<void(caf::event_based_actor*)> run;
};

}  // namespace es::http

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(es::http::BridgeJob)

namespace es::http {

class ActorBridge {
 public:
  // `actors` bridge actors (at least 1); every request gets `timeout` (0: none).
  ActorBridge(caf::actor_system& system, std::size_t actors, std::chrono::milliseconds timeout);
  ~ActorBridge();
  ActorBridge(const ActorBridge&) = delete;
  ActorBridge& operator=(const ActorBridge&) = delete;

  std::chrono::milliseconds timeout() const { return timeout_; }
  caf::duration caf_timeout() const {
    return timeout_.count() > 0 ? caf::duration{timeout_} : caf::duration{caf::infinite};
  }

  // Runs `job` in one of the bridge actors (round robin). Thread-safe. After shutdown()
  // the job is dropped (its captures are destroyed, which answers any Responder in them).
  void post(std::function<void(caf::event_based_actor*)> job);

  // Sends (xs...) to `dest` and calls `done` with the reply or the error (CAF's timeout
  // included, when one is set) on a CAF worker thread. `done` must not block. Exceptions
  // from it are dropped.
  template <class T, class Dest, class... Ts>
  void request(Dest dest, std::function<void(caf::expected<T>)> done, Ts... xs) {
    auto timeout = caf_timeout();
    post([dest = std::move(dest), done = std::move(done), timeout,
          args = std::make_tuple(std::move(xs)...)](caf::event_based_actor* self) mutable {
      auto callback = std::make_shared<std::function<void(caf::expected<T>)>>(std::move(done));
      std::apply(
          [&](auto&... a) {
            self->request(dest, timeout, std::move(a)...)
                .then(
                    [callback](T& value) { invoke(*callback, caf::expected<T>(std::move(value))); },
                    [callback](caf::error& error) {
                      invoke(*callback, caf::expected<T>(std::move(error)));
                    });
          },
          args);
    });
  }

  // Stops the bridge actors and releases their handles (before the actor system goes).
  void shutdown();

 private:
  template <class T>
  static void invoke(std::function<void(caf::expected<T>)>& f, caf::expected<T>&& x) {
    try {
      f(std::move(x));
    } catch (...) {
      // A callback failure must not kill the bridge actor; its Responder answers 500.
    }
  }

  std::chrono::milliseconds timeout_;
  std::mutex mutex_;
  std::vector<caf::actor> actors_;
  std::atomic<std::size_t> next_{0};
};

}  // namespace es::http
