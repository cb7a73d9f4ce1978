// Why: CAF 0.17 delivers an exit_msg, a down_msg or an error from another node like any other
// message, and a node's long-lived actors (router, gatekeeper, repository) are addressable by
// every node they were handed to. `exit_msg::source` cannot tell a remote exit from a local
// one: anon_send_exit fills in the receiver's own address, so a remote `anon_send_exit` to a
// proxy of our router arrives with our router as its source. The sender can: a message from
// another node carries that node's proxy as its sender, or none. So these actors honor only
// exits sent by an actor of their own node (local code stops them with send_local_exit, never
// anon_send_exit), and ignore errors sent as messages (CAF's default handler would end them).
//
// Limits: exit_reason::kill ends an actor before any handler runs (CAF 0.17), and a node that
// passed the transport's authentication can forge a local sender in a routed BASP message. A
// member is trusted (it may write and delete any entity anyway); these handlers keep stray
// and anonymous exits out, the transport (cluster_transport.hpp) keeps strangers out.
#pragma once

#include <caf/actor_system.hpp>
#include <caf/error.hpp>
#include <caf/exit_reason.hpp>
#include <caf/scheduled_actor.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/system_messages.hpp>

namespace es {

// True when `msg`, now being handled by `self`, was sent by an actor of this node about an
// actor of this node.
inline bool is_local_exit(caf::scheduled_actor* self, const caf::exit_msg& msg) {
  const auto& sender = self->current_sender();
  return sender != nullptr && sender->node() == self->node() && msg.source.node() == self->node();
}

// Stops `whom` with an exit that is_local_exit accepts (from threads outside actors).
template <class Handle>
void send_local_exit(caf::actor_system& sys, const Handle& whom, caf::exit_reason reason) {
  if (!whom) return;
  caf::scoped_actor self{sys};
  self->send_exit(whom, reason);
}

// Installs the exit and error handlers described above on a node's long-lived actor.
inline void guard_against_remote_exits(caf::scheduled_actor* self) {
  self->set_exit_handler([self](caf::exit_msg& msg) {
    if (is_local_exit(self, msg) && msg.reason) self->quit(msg.reason);
  });
  self->set_error_handler([](caf::error&) {});
}

}  // namespace es
