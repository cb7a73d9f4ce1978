// Why: see cluster_support.hpp.
#include "cluster/cluster_support.hpp"

#include "support/redis_fixture.hpp"

#include <boost/json.hpp>

#include <openssl/sha.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <stdexcept>

namespace es::test {

namespace json = boost::json;

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("socket failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    throw std::runtime_error("bind failed");
  }
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

std::filesystem::path write_file(const std::string& name, const std::string& text) {
  auto path = temp_dir("file") / name;
  {
    std::ofstream out(path, std::ios::binary);
    out << text;
  }
  std::filesystem::permissions(
      path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  return path;
}

void ClusterNode::start() {
  process = std::make_unique<ServerProcess>(args);
}

void ClusterNode::kill9() {
  if (process) process->stop(9, std::chrono::seconds(10));
}

std::vector<ClusterNode> make_cluster(int nodes, const std::filesystem::path& secret,
                                      const std::vector<std::string>& extra) {
  std::vector<ClusterNode> out(static_cast<std::size_t>(nodes));
  for (int i = 0; i < nodes; ++i) {
    out[static_cast<std::size_t>(i)].id = "n" + std::to_string(i + 1);
    out[static_cast<std::size_t>(i)].node_port = free_port();
  }
  for (auto& node : out) {
    node.args = {"--redis",
                 redis_url(),
                 "--quiet",
                 "--node-id",
                 node.id,
                 "--node-port",
                 std::to_string(node.node_port),
                 "--cluster-secret-file",
                 secret.string()};
    for (const auto& peer : out) {
      if (&peer == &node) continue;
      node.args.push_back("--peer");
      node.args.push_back("127.0.0.1:" + std::to_string(peer.node_port));
    }
    node.args.insert(node.args.end(), extra.begin(), extra.end());
  }
  return out;
}

json::object cluster_view(int http_port) {
  HttpClient client(http_port, std::chrono::seconds(10));
  auto r = client.get("/cluster");
  if (r.status != 200) {
    throw std::runtime_error("GET /cluster: " + std::to_string(r.status) + " " + r.body);
  }
  return r.json().as_object();
}

std::vector<std::string> live_of(int http_port) {
  std::vector<std::string> out;
  const auto view = cluster_view(http_port);
  for (const auto& v : view.at("live").as_array()) {
    out.emplace_back(v.as_string());
  }
  return out;
}

bool wait_for_live(const std::vector<const ClusterNode*>& nodes,
                   const std::vector<std::string>& live, std::chrono::milliseconds timeout) {
  return eventually(
      [&] {
        for (const auto* node : nodes) {
          try {
            if (live_of(node->http()) != live) return false;
          } catch (const std::exception&) {
            return false;
          }
        }
        return true;
      },
      timeout);
}

std::string owner_of(const std::vector<std::string>& live, const std::string& entity_id) {
  std::string best;
  std::uint64_t best_weight = 0;
  for (const auto& node : live) {
    const std::string input = node + "/" + entity_id;
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
    std::uint64_t weight = 0;
    for (int i = 0; i < 8; ++i) weight = (weight << 8) | digest[i];
    if (best.empty() || weight > best_weight || (weight == best_weight && node < best)) {
      best = node;
      best_weight = weight;
    }
  }
  return best;
}

namespace {

// RFC 8785 for what the tests store (ASCII strings, integers): keys sorted, compact.
json::value sorted(const json::value& v) {
  if (v.is_object()) {
    std::map<std::string, json::value> keys;
    for (const auto& kv : v.as_object()) keys.emplace(std::string(kv.key()), sorted(kv.value()));
    json::object out;
    for (auto& kv : keys) out.emplace(kv.first, std::move(kv.second));
    return out;
  }
  if (v.is_array()) {
    json::array out;
    for (const auto& x : v.as_array()) out.push_back(sorted(x));
    return out;
  }
  return v;
}

std::string sha256_hex_of(const std::string& text) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  static const char hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : digest) {
    out.push_back(hex[c >> 4]);
    out.push_back(hex[c & 15]);
  }
  return out;
}

}  // namespace

std::string chain_problem(const std::string& id, const std::vector<StreamEntry>& entries) {
  if (entries.empty()) return "no events";
  std::string previous;
  for (std::size_t version = 0; version < entries.size(); ++version) {
    const auto& e = entries[version];
    const std::string where = "entry " + std::to_string(version) + ": ";
    if (e.id != std::to_string(version) + "-1") return where + "stream id " + e.id;
    if (!e.fields.count("state") || !e.fields.count("topic")) return where + "fields missing";
    auto event = json::parse(e.fields.at("state")).as_object();
    if (json::serialize(sorted(event)) != e.fields.at("state")) return where + "not canonical";
    if (event.at("originator_id").as_string() != id) return where + "originator_id";
    if (event.at("originator_version").as_int64() != static_cast<std::int64_t>(version)) {
      return where + "originator_version";
    }
    if (event.at("previous_hash").as_string() != previous) return where + "previous_hash";
    const std::string stated(event.at("event_hash").as_string());
    event.erase("event_hash");
    if (sha256_hex_of(json::serialize(sorted(event))) != stated) return where + "event_hash";
    previous = stated;
  }
  return {};
}

}  // namespace es::test
