// Why: see cluster_flags.hpp.
#include "samples/support/cluster_flags.hpp"

#include "domain/errors.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/program_options/value_semantic.hpp>

#include <sys/stat.h>

#include <cstdio>

namespace po = boost::program_options;

namespace es::samples {

namespace {

void add_shared(po::options_description& options, ClusterFlags& flags) {
  options.add_options()(
      "cluster-secret-file", po::value(&flags.secret_file)->value_name("FILE"),
      "file holding the cluster's shared secret (at least 16 bytes); nodes and clients must "
      "prove it to join; required unless every node is on loopback")(
      "tls-cert", po::value(&flags.tls.cert)->value_name("FILE"),
      "TLS between nodes: this node's PEM certificate (with --tls-key and --tls-ca)")(
      "tls-key", po::value(&flags.tls.key)->value_name("FILE"),
      "TLS between nodes: its unencrypted PEM private key")(
      "tls-ca", po::value(&flags.tls.ca)->value_name("FILE"),
      "TLS between nodes: the PEM CA that signed every node's certificate");
}

bool is_loopback(const std::string& host) {
  if (host == "localhost") return true;
  boost::system::error_code ec;
  auto address = boost::asio::ip::make_address(host, ec);
  return !ec && address.is_loopback();
}

ClusterSecret load_secret(const ClusterFlags& flags, bool loopback, const std::string& program) {
  if (!flags.secret_file.empty()) {
    struct stat info {};
    if (::stat(flags.secret_file.c_str(), &info) == 0 && (info.st_mode & 077) != 0) {
      std::fprintf(stderr, "%s: warning: the cluster secret file '%s' is readable by others\n",
                   program.c_str(), flags.secret_file.c_str());
    }
    return ClusterSecret::from_file(flags.secret_file);
  }
  if (!loopback) {
    throw ConfigurationError(
        "a cluster reachable beyond loopback needs --cluster-secret-file (and should use TLS)");
  }
  std::fprintf(stderr,
               "%s: warning: no --cluster-secret-file; any local process may join this "
               "loopback cluster\n",
               program.c_str());
  return ClusterSecret{};
}

}  // namespace

void add_cluster_node_options(po::options_description& options, ClusterFlags& flags) {
  options.add_options()("node-id", po::value(&flags.node_id)->value_name("NAME"),
                        "this node's id in the cluster (1-64 of [A-Za-z0-9._:-]; unique)")(
      "node-port", po::value(&flags.node_port)->value_name("PORT"),
      "join a cluster: the port other nodes reach this one on (0 picks a free one)")(
      "node-host", po::value(&flags.node_host)->value_name("HOST")->default_value(flags.node_host),
      "address the node port binds to")(
      "peer", po::value(&flags.peers)->value_name("HOST:PORT")->composing(),
      "another node's HOST:PORT; repeat for each (this node's own address is skipped)");
  add_shared(options, flags);
}

void add_cluster_client_options(po::options_description& options, ClusterFlags& flags) {
  options.add_options()(
      "connect", po::value(&flags.connect)->value_name("HOST:PORT,...")->composing(),
      "drive a running cluster through these nodes (round robin) instead of an embedded "
      "application; needs --redis for the recovery check");
  add_shared(options, flags);
}

std::string standalone_node_id(const ClusterFlags& flags) {
  if (flags.node_id.empty()) return "local";
  if (!valid_node_id(flags.node_id)) {
    throw ConfigurationError("--node-id must be 1-64 characters of [A-Za-z0-9._:-]");
  }
  return flags.node_id;
}

std::optional<ClusterSettings> node_settings(const ClusterFlags& flags, const StoreFlags& store,
                                             const std::string& program) {
  const bool clustered = flags.node_port >= 0 || !flags.peers.empty();
  if (!clustered) {
    if (flags.tls.enabled() || !flags.secret_file.empty()) {
      throw ConfigurationError("--tls-* and --cluster-secret-file need --node-port");
    }
    return std::nullopt;
  }
  if (flags.node_port < 0 || flags.node_port > 65535) {
    throw ConfigurationError("a cluster node needs --node-port PORT (0..65535)");
  }
  if (store.store != "redis" || store.redis_url.empty()) {
    throw ConfigurationError(
        "a cluster node needs the cluster's shared Redis: give --redis URL (a private "
        "redis-server or --store memory would give each node its own data)");
  }
  ClusterSettings settings;
  settings.host = flags.node_host;
  settings.port = static_cast<std::uint16_t>(flags.node_port);
  settings.node_id = flags.node_id;
  if (settings.node_id.empty()) {
    if (settings.port == 0) throw ConfigurationError("--node-port 0 needs a --node-id");
    settings.node_id = settings.host + ":" + std::to_string(settings.port);
  }
  if (!valid_node_id(settings.node_id)) {
    throw ConfigurationError("--node-id must be 1-64 characters of [A-Za-z0-9._:-]");
  }
  for (const auto& p : flags.peers) settings.peers.push_back(parse_peer_address(p, "--peer"));
  settings.peers = without_own_address(settings);
  check_tls_files(flags.tls);
  settings.tls = flags.tls;
  settings.secret = load_secret(flags, is_loopback(settings.host), program);
  return settings;
}

std::optional<ClientSettings> client_settings(const ClusterFlags& flags, const StoreFlags& store,
                                              const std::string& program) {
  if (flags.connect.empty()) {
    if (flags.tls.enabled() || !flags.secret_file.empty()) {
      throw ConfigurationError("--tls-* and --cluster-secret-file need --connect");
    }
    return std::nullopt;
  }
  if (store.store != "redis" || store.redis_url.empty()) {
    throw ConfigurationError(
        "--connect needs --redis URL, the cluster's store, for the "
        "recovery check");
  }
  ClientSettings settings;
  bool loopback = true;
  for (const auto& list : flags.connect) {
    std::size_t start = 0;
    while (start <= list.size()) {
      auto comma = list.find(',', start);
      if (comma == std::string::npos) comma = list.size();
      if (comma > start) {
        settings.nodes.push_back(
            parse_peer_address(list.substr(start, comma - start), "--connect"));
        loopback = loopback && is_loopback(settings.nodes.back().host);
      }
      start = comma + 1;
    }
  }
  if (settings.nodes.empty()) throw ConfigurationError("--connect names no node");
  check_tls_files(flags.tls);
  settings.tls = flags.tls;
  settings.secret = load_secret(flags, loopback, program);
  return settings;
}

}  // namespace es::samples
