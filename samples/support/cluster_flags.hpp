// Why: example-server (a node) and example-sim (a client of a deployment) take the same
// cluster flags with the same meaning, and every check that can fail is made before an actor
// system exists: a bad flag is a clear message and exit status 2, not a half-started node, and
// a node without the shared Redis would silently keep its own copy of the data. See
// docs/CLUSTER.md.
#pragma once

#include "actors/cluster_config.hpp"
#include "samples/support/store_setup.hpp"

#include <boost/program_options/options_description.hpp>

#include <optional>
#include <string>
#include <vector>

namespace es::samples {

struct ClusterFlags {
  // Nodes (example-server).
  std::string node_id;                  // --node-id
  std::string node_host = "127.0.0.1";  // --node-host
  int node_port = -1;                   // --node-port; -1: not a cluster node
  std::vector<std::string> peers;       // --peer, repeatable
  // Clients (example-sim): --connect HOST:PORT[,HOST:PORT...], repeatable.
  std::vector<std::string> connect;
  // Both.
  std::string secret_file;  // --cluster-secret-file
  TlsFiles tls;             // --tls-cert, --tls-key, --tls-ca
};

// --node-id, --node-host, --node-port, --peer and the shared ones.
void add_cluster_node_options(boost::program_options::options_description& options,
                              ClusterFlags& flags);
// --connect and the shared ones.
void add_cluster_client_options(boost::program_options::options_description& options,
                                ClusterFlags& flags);

// The settings of a node, or nothing when no cluster flag asks for one (--node-port or
// --peer). Throws ConfigurationError for bad or missing flags: a node needs --redis (the
// shared store), a non-loopback --node-host needs --cluster-secret-file, TLS needs all three
// files. Without a secret file on loopback it warns on stderr and uses the empty secret.
std::optional<ClusterSettings> node_settings(const ClusterFlags& flags, const StoreFlags& store,
                                             const std::string& program);

// The nodes to drive (--connect), with the secret and TLS files checked; nothing when none.
struct ClientSettings {
  std::vector<PeerAddress> nodes;
  ClusterSecret secret;
  TlsFiles tls;
};
std::optional<ClientSettings> client_settings(const ClusterFlags& flags, const StoreFlags& store,
                                              const std::string& program);

// The id a standalone node reports in GET /cluster: --node-id, else "local".
std::string standalone_node_id(const ClusterFlags& flags);

}  // namespace es::samples
