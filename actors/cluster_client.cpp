// Why: see cluster_client.hpp.
#include "actors/cluster_client.hpp"

#include "actors/cluster_protocol.hpp"
#include "actors/error_code.hpp"
#include "domain/errors.hpp"

#include <caf/scoped_actor.hpp>

#include <optional>

namespace es {

ClusterClientConnection join_cluster_as_client(caf::actor_system& sys, ClusterTransport& transport,
                                               const PeerAddress& node,
                                               const std::string& client_id,
                                               std::chrono::milliseconds timeout) {
  const auto where = node.text();
  const auto& secret = transport.secret();
  auto connector = transport.connector();
  caf::scoped_actor self{sys};
  caf::error failure;
  gatekeeper_actor gatekeeper;
  self->request(connector, timeout, caf::connect_atom::value, node.host, node.port)
      .receive(
          [&](const caf::node_id&, caf::strong_actor_ptr& ptr, const std::set<std::string>&) {
            gatekeeper = caf::actor_cast<gatekeeper_actor>(ptr);
          },
          [&](caf::error& e) { failure = std::move(e); });
  if (failure)
    throw StoreUnavailable("cannot connect to node " + where + ": " + reason_of(failure));
  if (!gatekeeper) throw StoreUnavailable("nothing is published at " + where);
  std::string server_nonce;
  self->request(gatekeeper, timeout, hello_atom::value)
      .receive([&](std::string& nonce) { server_nonce = std::move(nonce); },
               [&](caf::error& e) { failure = std::move(e); });
  if (failure) throw StoreUnavailable("no answer from node " + where + ": " + reason_of(failure));
  ClusterJoin join;
  join.node_id = client_id;
  join.member = false;
  join.server_nonce = server_nonce;
  join.client_nonce = random_nonce();
  join.proof = secret.join_proof(server_nonce, join.client_nonce, client_id, false);
  const auto client_nonce = join.client_nonce;
  std::optional<ClusterWelcome> welcome;
  self->request(gatekeeper, timeout, join_atom::value, std::move(join))
      .receive([&](ClusterWelcome& w) { welcome = std::move(w); },
               [&](caf::error& e) { failure = std::move(e); });
  if (failure) throw Error("node " + where + " refused to let us in: " + reason_of(failure));
  const auto expected = secret.welcome_proof(client_nonce, server_nonce, welcome->node_id);
  if (!constant_time_equal(expected, welcome->proof) || !welcome->router) {
    throw Error("node " + where + " does not prove the cluster secret");
  }
  return {welcome->node_id, welcome->router};
}

}  // namespace es
