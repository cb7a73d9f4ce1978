// Why: CAF 0.17's middleman dispatches BASP messages from any TCP peer to any actor in its
// registry, by id, before anything of ours runs; the gatekeeper's join only guarded the polite
// path. So no socket reaches CAF before its peer proved the cluster secret (and, with TLS, a
// certificate of the cluster's CA): CAF listens on no port at all. Our own front (Boost.Asio,
// one thread) owns the node port, authenticates every connection in both directions, and only
// then hands the socket to CAF's BASP broker, through the broker's own messages
// `(publish_atom, scribe, port, actor, interfaces)` (a server-side connection) and
// `(connect_atom, scribe, port)` (a client-side one). Outgoing connections are dialled and
// authenticated by the same front before BASP sees them.
//
// The link handshake (docs/CLUSTER.md, "Transport security"), after the TLS handshake when
// TLS is on; C is the connecting side, A the accepting one:
//
//   hello  = "es-link1" | role ('C' or 'A', 1 byte) | 32 random bytes          (41 bytes)
//   proof  = HMAC-SHA256(secret, "es-cluster-link\n" | role | nonce_C | nonce_A | binding)
//   binding: 32 bytes of TLS exporter keying material ("EXPORTER-es-cluster-link") with TLS,
//            empty without
//
//   both send their hello at once; C sends its proof after reading A's hello; A checks it
//   (constant time) and only then sends its own, which C checks. Then the bytes are BASP's.
//
// A never computes a proof for a peer that has not proved the secret first, the role in the
// MAC stops a proof from being reflected, fresh nonces on both sides stop replays, and the
// binding stops a holder of a CA certificate without the secret from relaying two honest
// nodes' proofs (a man in the middle). Incoming handshakes have a deadline and a bound: beyond
// it the oldest pending one is dropped. With TLS the front also relays the decrypted bytes to
// CAF through a socket pair; without it CAF gets the TCP socket itself.
#pragma once

#include "actors/cluster_config.hpp"

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/atom.hpp>
#include <caf/node_id.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>

namespace es {

class TransportCore;  // cluster_transport.cpp

// Connects to a node port through the front: the answer is CAF's (as the middleman's connect
// answers): the node's CAF id and the actor published there.
using cluster_connector_actor =
    caf::typed_actor<caf::replies_to<caf::connect_atom, std::string, std::uint16_t>::with<
        caf::node_id, caf::strong_actor_ptr, std::set<std::string>>>;

struct TransportSettings {
  ClusterSecret secret;
  TlsFiles tls;                   // checked (check_tls_files) before
  ClusterTimings timings;         // connect_timeout, auth_timeout, handshake_timeout
  std::size_t max_pending = 256;  // incoming handshakes at once
  // Refused connections (rate-limited, never a secret); nothing when empty.
  std::function<void(const std::string&)> log;
};

class ClusterTransport {
 public:
  // Starts the front's thread (no port yet). Throws ConfigurationError when the TLS files
  // cannot be used. Destroy it before the actor system.
  ClusterTransport(caf::actor_system& sys, TransportSettings settings);
  ~ClusterTransport();
  ClusterTransport(const ClusterTransport&) = delete;
  ClusterTransport& operator=(const ClusterTransport&) = delete;

  // Opens the node port (0: the OS picks) and serves `published` to every connection that
  // authenticates. Returns the port; throws ConfigurationError when it cannot be opened.
  std::uint16_t listen(const std::string& host, std::uint16_t port, caf::strong_actor_ptr published,
                       std::set<std::string> interfaces);

  cluster_connector_actor connector() const { return connector_; }
  const ClusterSecret& secret() const;
  bool tls() const;

  // Closes the port and every connection still in the front's hands (handshakes, TLS relays)
  // and stops its thread. Connections already handed to CAF stay CAF's.
  void stop();

 private:
  std::shared_ptr<TransportCore> core_;
  cluster_connector_actor connector_;
};

}  // namespace es
