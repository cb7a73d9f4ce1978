// Why: CAF 0.17 schedules the receiver of a message sent from inside an actor on the sending
// worker's own queue, and idle workers then steal from that one queue, one job per lock,
// yielding the CPU while they wait for it. When one handler sends thousands of messages (a
// repository stopping all its children), the sender and the thieves spend their time in that
// lock: 100,000 exits from one handler took 14 - 20 s with 4 workers on 2 cores. Enqueued
// without an execution unit, the receivers go round-robin to every worker's queue instead:
// 0.3 - 0.4 s (docs/BENCHMARKS.md, "Stopping many actors").
#pragma once

#include <caf/local_actor.hpp>
#include <caf/message_id.hpp>
#include <caf/system_messages.hpp>

#include <utility>

namespace es {

// Sends `xs` from `self` to `dest`, scheduling `dest` on any worker rather than self's own.
// For loops that send to many actors; a single send keeps CAF's cache-friendly default.
template <class Handle, class... Ts>
void send_spread(caf::local_actor* self, const Handle& dest, Ts&&... xs) {
  if (dest) dest->eq_impl(caf::make_message_id(), self->ctrl(), nullptr, std::forward<Ts>(xs)...);
}

// An exit message from `self` to `dest`, as local_actor::send_exit sends it.
template <class Handle>
void send_exit_spread(caf::local_actor* self, const Handle& dest, caf::error reason) {
  send_spread(self, dest, caf::exit_msg{self->address(), std::move(reason)});
}

}  // namespace es
