// Why: what a node needs to take part in a multi-node deployment (docs/CLUSTER.md), checked
// before the actor system exists, and CAF's heartbeats, which must be switched on identically
// on every node (0.17 has them off, and a node that times connections out drops a healthy peer
// that sends no heartbeats).
#pragma once

#include "actors/cluster_handshake.hpp"

#include <caf/actor_system_config.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace es {

struct PeerAddress {
  std::string host;
  std::uint16_t port = 0;
  std::string text() const;  // "host:port" ("[v6]:port")
};

// "HOST:PORT" or "[V6]:PORT"; ConfigurationError naming `flag` otherwise.
PeerAddress parse_peer_address(const std::string& text, const std::string& flag = "--peer");

// Certificates for TLS between nodes (mutual authentication, in cluster_transport.hpp).
struct TlsFiles {
  std::string cert, key, ca;
  bool enabled() const { return !cert.empty() || !key.empty() || !ca.empty(); }
};

// All three files or none; each a readable PEM file (an unencrypted key). Throws
// ConfigurationError naming the flag (never a file's content).
void check_tls_files(const TlsFiles& tls);

struct ClusterTimings {
  // CAF's heartbeats: every node sends one per interval and drops a connection silent for
  // the timeout (a frozen node is noticed after about that long; a killed one at once).
  std::chrono::milliseconds heartbeat{500};
  std::chrono::milliseconds connection_timeout{3000};
  // A request forwarded to another node fails (503) when unanswered after this.
  std::chrono::milliseconds remote_timeout{3000};
  // Joining a peer: the TCP connect; then the transport's authentication (TLS and the link
  // proofs, also the deadline of every incoming connection); then BASP's handshake and each
  // step of the join.
  std::chrono::milliseconds connect_timeout{3000};
  std::chrono::milliseconds auth_timeout{3000};
  std::chrono::milliseconds handshake_timeout{2000};
  // Peers that are down are retried with a backoff up to this.
  std::chrono::milliseconds retry_max{2000};
  std::chrono::milliseconds tick{250};
  // After a membership change, the first request for an id placed here asks the other
  // nodes to release it (bounded by release_timeout) before it is rebuilt here.
  std::chrono::milliseconds handover_window{10000};
  std::chrono::milliseconds release_timeout{2000};
};

struct ClusterSettings {
  std::string node_id;
  std::string host = "127.0.0.1";  // where the node port listens
  std::uint16_t port = 0;          // 0: the OS picks
  std::vector<PeerAddress> peers;
  ClusterSecret secret;
  TlsFiles tls;
  ClusterTimings timings;
  std::size_t max_pending = 20000;  // forwarded requests awaiting an answer
  // Membership changes and refused joins (never secrets); nothing when empty.
  std::function<void(const std::string&)> log;
};

// The peers without this node's own address (a shared peer list may name every node).
std::vector<PeerAddress> without_own_address(const ClusterSettings& settings);

// Sets CAF's heartbeat keys. The middleman must be loaded already (RuntimeConfig(threads,
// true)); it opens no port of its own: connections reach it only through the cluster
// transport (cluster_transport.hpp).
void configure_cluster_transport(caf::actor_system_config& cfg, const ClusterTimings& timings);

}  // namespace es
