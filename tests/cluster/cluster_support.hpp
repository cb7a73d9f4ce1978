// Why: the cluster suite starts several real example-server nodes on loopback (through the
// HTTP suite's ServerProcess) over the test's one private redis-server, kills and restarts
// them, and checks what it sees against an independent computation of the documented
// placement (rendezvous hashing over SHA-256, docs/CLUSTER.md) and of the hash chain.
#pragma once

#include "http/http_test_support.hpp"

#include <boost/json/value.hpp>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace es::test {

// A free TCP port on 127.0.0.1 (bound once and released).
int free_port();

// A file holding `text` (mode 0600) in a fresh temporary directory.
std::filesystem::path write_file(const std::string& name, const std::string& text);

// One example-server node of a test cluster.
struct ClusterNode {
  std::string id;
  int node_port = 0;
  std::vector<std::string> args;  // everything after --http
  std::unique_ptr<ServerProcess> process;

  int http() const { return process->port(); }
  void start();  // (re)starts it with the same arguments
  void kill9();
};

// Nodes with ids n1..nN, full-mesh --peer lists, one secret, on the test's Redis; `extra`
// is added to every node's arguments.
std::vector<ClusterNode> make_cluster(int nodes, const std::filesystem::path& secret,
                                      const std::vector<std::string>& extra = {});

// GET /cluster of a node, parsed; throws on a non-200 answer.
boost::json::object cluster_view(int http_port);
std::vector<std::string> live_of(int http_port);
// Polls until every node reports exactly `live` (sorted); false after `timeout`.
bool wait_for_live(const std::vector<const ClusterNode*>& nodes,
                   const std::vector<std::string>& live, std::chrono::milliseconds timeout);

// The documented placement, computed here independently of the code under test.
std::string owner_of(const std::vector<std::string>& live, const std::string& entity_id);

// Checks one entity's stream: versions 0..n-1 in order, each previous_hash links, each
// event_hash is the SHA-256 of the canonical JSON without it. Returns "" or the problem.
std::string chain_problem(const std::string& id, const std::vector<StreamEntry>& entries);

}  // namespace es::test
