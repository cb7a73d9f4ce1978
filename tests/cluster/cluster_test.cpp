// Why: the promises of a multi-node deployment (HTTP_API.md, "Cluster"; docs/CLUSTER.md)
// only mean something against real processes: real example-server nodes on loopback over one
// private redis-server, joined through their gatekeepers, killed with SIGKILL mid-load and
// restarted, or split so that two of them host the same entity. What Redis holds is read
// with raw commands and checked independently (placement, hash chain, every acknowledged
// write).
#include "cluster/cluster_support.hpp"

#include "support/redis_fixture.hpp"
#include "support/required_tool.hpp"

#include <boost/json.hpp>

#include <catch2/catch.hpp>

#include <signal.h>

#include <atomic>
#include <csignal>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

using namespace es::test;
namespace json = boost::json;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

const std::vector<std::string> kAll3 = {"n1", "n2", "n3"};

std::filesystem::path secret_file(const std::string& text = "0123456789abcdef-cluster-secret") {
  return write_file("secret", text + "\n");
}

std::vector<const ClusterNode*> pointers(const std::vector<ClusterNode>& nodes) {
  std::vector<const ClusterNode*> out;
  for (const auto& n : nodes) out.push_back(&n);
  return out;
}

std::string diagnostics(const std::vector<ClusterNode>& nodes) {
  std::string out;
  for (const auto& n : nodes) {
    out += "--- " + n.id + " stderr:\n" + (n.process ? n.process->stderr_text() : "(stopped)");
  }
  return out;
}

// Waits until every node (or those given) reports exactly `live`; fails with every node's
// log otherwise.
void require_live(const std::vector<ClusterNode>& nodes, const std::vector<std::string>& live,
                  std::chrono::milliseconds timeout, std::vector<const ClusterNode*> which = {}) {
  if (which.empty()) which = pointers(nodes);
  if (!wait_for_live(which, live, timeout))
    FAIL("the nodes do not agree on live\n" << diagnostics(nodes));
}

std::int64_t hosted(int http_port) {
  return cluster_view(http_port).at("hosted").as_int64();
}

// Acknowledged writes of a write load: (entity, version, value written).
struct Ack {
  std::string id;
  std::int64_t version;
  std::string value;
};

// Threads that PATCH foo with unique values through given nodes until stopped.
class WriteLoad {
 public:
  void start(int http_port, std::vector<std::string> ids, const std::string& tag) {
    threads_.emplace_back([this, http_port, ids = std::move(ids), tag] {
      HttpClient client(http_port, 15s);
      for (std::size_t i = 0; !stop_.load(); ++i) {
        const auto& id = ids[i % ids.size()];
        const std::string value = tag + "-" + std::to_string(i);
        try {
          auto r = client.patch("/examples/" + id, "{\"foo\": \"" + value + "\"}");
          std::lock_guard lock(mutex_);
          ++statuses_[r.status];
          if (r.seconds > 6.0)
            problems_.push_back("an answer took " + std::to_string(r.seconds) + " s");
          if (r.status == 200) {
            acks_.push_back({id, r.json().at("version").as_int64(), value});
          } else if (r.status != 409 && r.status != 503) {
            problems_.push_back("PATCH answered " + std::to_string(r.status) + ": " + r.body);
          } else if (!r.json().as_object().contains("error")) {
            problems_.push_back("an error without a JSON error: " + r.body);
          }
        } catch (const std::exception& e) {
          std::lock_guard lock(mutex_);
          problems_.push_back(std::string("request failed: ") + e.what());
          std::this_thread::sleep_for(50ms);
        }
      }
    });
  }
  void stop() {
    stop_ = true;
    for (auto& t : threads_) t.join();
    threads_.clear();
  }
  ~WriteLoad() { stop(); }
  std::size_t acked() {
    std::lock_guard lock(mutex_);
    return acks_.size();
  }
  const std::vector<Ack>& acks() const { return acks_; }
  const std::map<unsigned, int>& statuses() const { return statuses_; }
  const std::vector<std::string>& problems() const { return problems_; }

 private:
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::vector<std::thread> threads_;
  std::vector<Ack> acks_;
  std::map<unsigned, int> statuses_;
  std::vector<std::string> problems_;
};

std::string describe(const std::map<unsigned, int>& statuses) {
  std::string out;
  for (const auto& [status, count] : statuses) {
    out += std::to_string(status) + "x" + std::to_string(count) + " ";
  }
  return out;
}

// Every stream is linear and chained, and holds every acknowledged write at its version.
void check_streams(const std::vector<std::string>& ids, const std::vector<Ack>& acks) {
  std::map<std::string, std::vector<StreamEntry>> streams;
  for (const auto& id : ids) {
    const auto key = entity_key(id);
    REQUIRE(!key.empty());
    streams[id] = stream_entries(key);
    INFO("entity " << id);
    CHECK(chain_problem(id, streams[id]) == "");
  }
  std::size_t missing = 0;
  std::string first_missing;
  for (const auto& ack : acks) {
    const auto& entries = streams.at(ack.id);
    bool found = false;
    if (ack.version >= 0 && static_cast<std::size_t>(ack.version) < entries.size()) {
      auto event = json::parse(entries[static_cast<std::size_t>(ack.version)].fields.at("state"))
                       .as_object();
      found = event.at("topic").as_string() == "example.Example.AttributeChanged" &&
              event.at("name").as_string() == "foo" && event.at("value").is_string() &&
              event.at("value").as_string() == ack.value;
    }
    if (!found && missing++ == 0) {
      first_missing = ack.id + " v" + std::to_string(ack.version) + " " + ack.value;
    }
  }
  INFO("first acknowledged write not in Redis: " << first_missing);
  CHECK(missing == 0);
}

// Every node answers GET with the same entity, which is what the stream holds.
void check_agreement(const std::vector<const ClusterNode*>& nodes,
                     const std::vector<std::string>& ids) {
  for (const auto& id : ids) {
    const auto entries = stream_entries(entity_key(id));
    const auto last = json::parse(entries.back().fields.at("state")).as_object();
    for (const auto* node : nodes) {
      HttpClient client(node->http(), 15s);
      auto r = client.get("/examples/" + id);
      INFO("GET " << id << " through " << node->id << ": " << r.status << " " << r.body);
      REQUIRE(r.status == 200);
      auto body = r.json().as_object();
      CHECK(body.at("version").as_int64() == static_cast<std::int64_t>(entries.size()) - 1);
      CHECK(body.at("head").as_string() == last.at("event_hash").as_string());
    }
  }
}

}  // namespace

TEST_CASE("three nodes serve every entity through every node and agree", "[cluster]") {
  auto nodes = make_cluster(3, secret_file());
  for (auto& n : nodes) n.start();
  require_live(nodes, kAll3, 30s);
  for (const auto& n : nodes) CHECK(cluster_view(n.http()).at("node").as_string() == n.id);

  HttpClient c1(nodes[0].http()), c2(nodes[1].http()), c3(nodes[2].http());
  std::vector<std::string> ids;
  for (int i = 0; i < 24; ++i) {
    auto r = c1.post("/examples", "{\"foo\": \"f" + std::to_string(i) + "\", \"b\": [1, 2]}");
    REQUIRE(r.status == 201);
    ids.push_back(id_of(r));
    CHECK(r.header("location") == "/examples/" + ids.back());
  }
  for (std::size_t i = 0; i < ids.size(); ++i) {
    auto r = c2.patch("/examples/" + ids[i], "{\"a\": " + std::to_string(i) + "}");
    REQUIRE(r.status == 200);
    CHECK(r.json().at("version").as_int64() == 1);
    auto beat = c3.post("/examples/" + ids[i] + "/heartbeats", "{\"count\": 2}");
    REQUIRE(beat.status == 200);
    CHECK(beat.json().at("heartbeats").as_int64() == 2);
  }
  // Reads through every node agree, with every route of the contract.
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const auto path = "/examples/" + ids[i];
    auto a = c3.get(path), b = c1.get(path), c = c2.get(path);
    REQUIRE(a.status == 200);
    CHECK(a.body == b.body);
    CHECK(a.body == c.body);
    CHECK(a.header("etag") == "\"3\"");
    auto body = a.json().as_object();
    CHECK(body.at("foo").as_string() == "f" + std::to_string(i));
    CHECK(body.at("a").as_int64() == static_cast<std::int64_t>(i));
    auto at0 = c2.get(path + "?at=0");
    REQUIRE(at0.status == 200);
    CHECK(at0.json().at("version").as_int64() == 0);
    auto events = c1.get(path + "/events");
    REQUIRE(events.status == 200);
    CHECK(events.json().as_array().size() == 4);
    CHECK(chain_problem(ids[i], stream_entries(entity_key(ids[i]))) == "");
  }
  // Each entity lives on the node the documented placement names, and only there.
  std::map<std::string, std::int64_t> expected;
  for (const auto& id : ids) ++expected[owner_of(kAll3, id)];
  for (const auto& n : nodes) {
    INFO("node " << n.id);
    CHECK(hosted(n.http()) == expected[n.id]);
  }
  auto snap = c2.post("/examples/" + ids[0] + "/snapshot");
  CHECK(snap.status == 201);
  CHECK(c3.post("/examples/" + ids[0] + "/snapshot").status == 200);
  REQUIRE(c3.del("/examples/" + ids[1]).status == 204);
  CHECK(c1.get("/examples/" + ids[1]).status == 404);
  CHECK(c2.get("/examples/" + ids[1]).status == 404);
  CHECK(c1.get("/examples/" + ids[1] + "/events").status == 200);
  CHECK(c2.get("/").status == 200);
  CHECK(c1.get("/examples/00000000-0000-4000-8000-000000000000").status == 404);
}

TEST_CASE("killing a node under write load loses nothing acknowledged as the survivors take over",
          "[cluster][failover]") {
  auto nodes = make_cluster(3, secret_file());
  for (auto& n : nodes) n.start();
  require_live(nodes, kAll3, 30s);

  HttpClient c1(nodes[0].http());
  std::vector<std::string> ids, on_n3;
  while (ids.size() < 30 || on_n3.size() < 4) {
    auto r = c1.post("/examples", "{\"foo\": \"start\"}");
    REQUIRE(r.status == 201);
    ids.push_back(id_of(r));
    if (owner_of(kAll3, ids.back()) == "n3") on_n3.push_back(ids.back());
  }

  WriteLoad load;
  load.start(nodes[0].http(), ids, "w1");
  load.start(nodes[1].http(), ids, "w2");
  // A steady load: at least a second and 100 acknowledged writes before each step.
  auto keep_writing = [&load](std::size_t from) {
    const auto until = Clock::now() + 1s;
    REQUIRE(eventually([&] { return load.acked() >= from + 100 && Clock::now() >= until; }, 30s));
  };
  keep_writing(0);

  const auto killed_at = Clock::now();
  nodes[2].kill9();
  const std::vector<const ClusterNode*> survivors = {&nodes[0], &nodes[1]};
  require_live(nodes, {"n1", "n2"}, 10s, survivors);
  // The dead node's entities answer again through the survivors within 10 s; until then only
  // 503 with a JSON error, and never a hang.
  HttpClient probe(nodes[1].http(), 10s);
  double worst = 0;
  for (const auto& id : on_n3) {
    while (true) {
      auto r = probe.get("/examples/" + id);
      CHECK(r.seconds < 5.0);
      if (r.status == 200) break;
      INFO(r.status << " " << r.body);
      REQUIRE(r.status == 503);
      REQUIRE(r.json().as_object().contains("error"));
      REQUIRE(Clock::now() - killed_at < 10s);
      std::this_thread::sleep_for(50ms);
    }
    worst = std::max(worst, std::chrono::duration<double>(Clock::now() - killed_at).count());
  }
  WARN("the dead node's entities answered again " << worst << " s after the kill");
  CHECK(worst < 10.0);
  keep_writing(load.acked());

  // Restart: it rejoins, placement moves its entities back, and it serves them.
  nodes[2].start();
  require_live(nodes, kAll3, 30s);
  keep_writing(load.acked());
  {
    HttpClient c3(nodes[2].http());
    for (const auto& id : ids) REQUIRE(c3.get("/examples/" + id).status == 200);
  }
  CHECK(eventually([&] { return hosted(nodes[2].http()) > 0; }, 10s));
  load.stop();

  WARN("failover load: " << load.acks().size() << " acknowledged writes; statuses "
                         << describe(load.statuses()));
  for (const auto& p : load.problems()) WARN(p);
  CHECK(load.problems().empty());
  check_streams(ids, load.acks());
  check_agreement(pointers(nodes), ids);
  // The old owners let go: each entity is hosted once, on its owner.
  std::map<std::string, std::int64_t> owned;
  for (const auto& id : ids) ++owned[owner_of(kAll3, id)];
  for (const auto& n : nodes) {
    INFO("node " << n.id);
    CHECK(eventually([&] { return hosted(n.http()) == owned[n.id]; }, 10s));
  }
}

TEST_CASE("a frozen node leaves within 10 s without hanging requests and reloads when it thaws",
          "[cluster][freeze]") {
  auto nodes = make_cluster(3, secret_file());
  for (auto& n : nodes) n.start();
  require_live(nodes, kAll3, 30s);
  HttpClient c1(nodes[0].http(), 15s), c3(nodes[2].http(), 15s);
  std::vector<std::string> on_n3;
  while (on_n3.size() < 3) {
    auto r = c1.post("/examples", "{\"foo\": \"before\"}");
    REQUIRE(r.status == 201);
    if (owner_of(kAll3, id_of(r)) == "n3") on_n3.push_back(id_of(r));
  }
  for (const auto& id : on_n3) REQUIRE(c3.get("/examples/" + id).status == 200);  // hosted on n3

  const auto frozen_at = Clock::now();
  REQUIRE(::kill(nodes[2].process->pid(), SIGSTOP) == 0);
  // Until the heartbeat timeout notices, requests for its entities answer 503 (never hang);
  // then they are served by a survivor.
  double worst = 0;
  for (const auto& id : on_n3) {
    while (true) {
      auto r = c1.patch("/examples/" + id, "{\"foo\": \"while-frozen\"}");
      CHECK(r.seconds < 5.0);
      if (r.status == 200) break;
      INFO(r.status << " " << r.body);
      REQUIRE(r.status == 503);
      REQUIRE(Clock::now() - frozen_at < 10s);
    }
    worst = std::max(worst, std::chrono::duration<double>(Clock::now() - frozen_at).count());
  }
  require_live(nodes, {"n1", "n2"}, 10s, {&nodes[0], &nodes[1]});
  WARN("a frozen node's entities were served again " << worst << " s after SIGSTOP");
  CHECK(std::chrono::duration<double>(Clock::now() - frozen_at).count() < 10.0);

  // Thawed, it rejoins; its old actors must not answer from memory what others changed.
  REQUIRE(::kill(nodes[2].process->pid(), SIGCONT) == 0);
  require_live(nodes, kAll3, 30s);
  for (const auto& id : on_n3) {
    auto r = c3.get("/examples/" + id);
    REQUIRE(r.status == 200);
    CHECK(r.json().at("foo").as_string() == "while-frozen");
  }
  check_agreement(pointers(nodes), on_n3);
}

TEST_CASE("two nodes hosting the same entities at once keep every stream linear",
          "[cluster][split]") {
  // Two single-node clusters over one Redis (no --peer): each believes it owns everything.
  auto secret = secret_file();
  std::vector<ClusterNode> nodes(2);
  for (int i = 0; i < 2; ++i) {
    auto& n = nodes[static_cast<std::size_t>(i)];
    n.id = "s" + std::to_string(i + 1);
    n.node_port = free_port();
    n.args = {"--redis",
              redis_url(),
              "--quiet",
              "--node-id",
              n.id,
              "--node-port",
              std::to_string(n.node_port),
              "--cluster-secret-file",
              secret.string()};
    n.start();
  }
  CHECK(live_of(nodes[0].http()) == std::vector<std::string>{"s1"});
  CHECK(live_of(nodes[1].http()) == std::vector<std::string>{"s2"});

  HttpClient c1(nodes[0].http());
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    auto r = c1.post("/examples", "{}");
    REQUIRE(r.status == 201);
    ids.push_back(id_of(r));
  }
  WriteLoad load;
  load.start(nodes[0].http(), ids, "x1");
  load.start(nodes[0].http(), ids, "x2");
  load.start(nodes[1].http(), ids, "y1");
  load.start(nodes[1].http(), ids, "y2");
  REQUIRE(eventually([&] { return load.acked() >= 300; }, 60s));
  load.stop();

  WARN("split load: " << load.acks().size() << " acknowledged writes; statuses "
                      << describe(load.statuses()));
  for (const auto& p : load.problems()) WARN(p);
  CHECK(load.problems().empty());
  std::set<std::string> through;
  for (const auto& ack : load.acks()) through.insert(ack.value.substr(0, 1));
  CHECK(through == std::set<std::string>{"x", "y"});  // both nodes wrote
  check_streams(ids, load.acks());
  // Each conflict wrote nothing: every event but Created is an acknowledged write, or one
  // whose answer was lost (none here).
  std::size_t events = 0;
  for (const auto& id : ids) events += stream_entries(entity_key(id)).size();
  if (load.statuses().count(503) == 0) {
    CHECK(events == ids.size() + load.acks().size());
  } else {
    CHECK(events >= ids.size() + load.acks().size());
  }
}

TEST_CASE("nodes join over TLS with the secret while a wrong secret or plain TCP is refused",
          "[cluster][tls]") {
  ES_SKIP_WITHOUT_TOOL("openssl");
  auto dir = temp_dir("tls");
  const std::string ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
  const std::string script =
      "cd '" + dir.string() + "' && openssl req -x509 " + ec +
      " -keyout ca.key -out ca.pem -days 2 -subj /CN=test-cluster-ca && openssl req " + ec +
      " -keyout node.key -out node.csr -subj /CN=node && openssl x509 -req -in node.csr -CA "
      "ca.pem -CAkey ca.key -CAcreateserial -out node.pem -days 2";
  REQUIRE(std::system(("(" + script + ") >/dev/null 2>&1").c_str()) == 0);
  const std::vector<std::string> tls = {"--tls-cert", (dir / "node.pem").string(),
                                        "--tls-key",  (dir / "node.key").string(),
                                        "--tls-ca",   (dir / "ca.pem").string()};
  const std::string secret_text = "tls-cluster-secret-0123456789";
  auto nodes = make_cluster(2, secret_file(secret_text), tls);
  for (auto& n : nodes) n.start();
  require_live(nodes, {"n1", "n2"}, 30s);
  CHECK(nodes[0].process->stderr_text().find("TLS") != std::string::npos);

  HttpClient c1(nodes[0].http()), c2(nodes[1].http());
  // Until both nodes own some: then requests crossed the TLS link both ways.
  std::vector<std::string> ids;
  std::set<std::string> owners;
  while (ids.size() < 8 || owners.size() < 2) {
    auto r = c1.post("/examples", "{\"foo\": \"tls\"}");
    REQUIRE(r.status == 201);
    ids.push_back(id_of(r));
    owners.insert(owner_of({"n1", "n2"}, ids.back()));
    auto read = c2.get("/examples/" + ids.back());
    REQUIRE(read.status == 200);
    CHECK(read.body == r.body);
  }

  // A node with the right certificates but the wrong secret, and one without TLS.
  ClusterNode wrong;
  wrong.id = "intruder";
  wrong.node_port = free_port();
  wrong.args = {"--redis",
                redis_url(),
                "--quiet",
                "--node-id",
                wrong.id,
                "--node-port",
                std::to_string(wrong.node_port),
                "--cluster-secret-file",
                secret_file("not-the-cluster-secret-at-all").string(),
                "--peer",
                "127.0.0.1:" + std::to_string(nodes[0].node_port)};
  wrong.args.insert(wrong.args.end(), tls.begin(), tls.end());
  wrong.start();
  ClusterNode plain;
  plain.id = "plain";
  plain.node_port = free_port();
  plain.args = {"--redis",
                redis_url(),
                "--quiet",
                "--node-id",
                plain.id,
                "--node-port",
                std::to_string(plain.node_port),
                "--cluster-secret-file",
                secret_file(secret_text).string(),
                "--peer",
                "127.0.0.1:" + std::to_string(nodes[0].node_port)};
  plain.start();
  // Refused by the node port's authentication, before CAF or the gatekeeper see anything.
  REQUIRE(eventually(
      [&] {
        const auto err = nodes[0].process->stderr_text();
        return err.find("refused a cluster connection from 127.0.0.1:") != std::string::npos &&
               err.find(": wrong cluster secret") != std::string::npos;
      },
      20s));
  REQUIRE(eventually(
      [&] { return plain.process->stderr_text().find("cannot join") != std::string::npos; }, 20s));
  std::this_thread::sleep_for(1s);
  CHECK(live_of(nodes[0].http()) == std::vector<std::string>{"n1", "n2"});
  CHECK(live_of(nodes[1].http()) == std::vector<std::string>{"n1", "n2"});
  // The refused connections did not disturb the established link (CAF 0.17's OpenSSL error
  // queue, see actors/cluster_tls_fix.cpp).
  CHECK(nodes[0].process->stderr_text().find("node n2 left") == std::string::npos);
  CHECK(nodes[1].process->stderr_text().find("node n1 left") == std::string::npos);
  CHECK(live_of(wrong.http()) == std::vector<std::string>{"intruder"});
  CHECK(live_of(plain.http()) == std::vector<std::string>{"plain"});
  CHECK(wrong.process->stderr_text().find("cannot join") != std::string::npos);
  // No secret and no key ever reaches a log.
  std::string key_text;
  {
    std::ifstream in(dir / "node.key");
    std::getline(in, key_text);
    std::getline(in, key_text);  // the first line of base64
  }
  for (const auto* n : {&nodes[0], &nodes[1], &wrong, &plain}) {
    const auto err = n->process->stderr_text();
    CHECK(err.find(secret_text) == std::string::npos);
    CHECK(err.find("not-the-cluster-secret") == std::string::npos);
    CHECK(err.find(key_text) == std::string::npos);
  }
}

TEST_CASE("cluster flags are checked before anything starts", "[cluster][flags]") {
  auto dir = temp_dir("flags");
  auto partial =
      run_server_program({"--http", "127.0.0.1:0", "--redis", redis_url(), "--node-id", "a",
                          "--node-port", "0", "--tls-ca", (dir / "ca.pem").string()});
  CHECK(partial.status == 2);  // a clear error, not CAF's abort
  CHECK(partial.err.find("--tls-cert") != std::string::npos);
  CHECK(partial.err.find("--tls-key") != std::string::npos);

  auto no_redis = run_server_program(
      {"--http", "127.0.0.1:0", "--store", "memory", "--node-id", "a", "--node-port", "0"});
  CHECK(no_redis.status == 2);
  CHECK(no_redis.err.find("--redis") != std::string::npos);

  auto short_secret = write_file("short", "tooshort");
  auto weak =
      run_server_program({"--http", "127.0.0.1:0", "--redis", redis_url(), "--node-id", "a",
                          "--node-port", "0", "--cluster-secret-file", short_secret.string()});
  CHECK(weak.status == 2);
  CHECK(weak.err.find("16 bytes") != std::string::npos);
  CHECK(weak.err.find("tooshort") == std::string::npos);

  auto open = run_server_program({"--http", "127.0.0.1:0", "--redis", redis_url(), "--node-id", "a",
                                  "--node-port", "0", "--node-host", "0.0.0.0"});
  CHECK(open.status == 2);
  CHECK(open.err.find("--cluster-secret-file") != std::string::npos);

  auto bad_id = run_server_program(
      {"--http", "127.0.0.1:0", "--redis", redis_url(), "--node-id", "a b", "--node-port", "0"});
  CHECK(bad_id.status == 2);
  auto bad_peer = run_server_program({"--http", "127.0.0.1:0", "--redis", redis_url(), "--node-id",
                                      "a", "--node-port", "0", "--peer", "nohost"});
  CHECK(bad_peer.status == 2);

  // A standalone server reports itself alone.
  auto server = start_server({"--node-id", "solo"});
  CHECK(cluster_view(server->port()).at("node").as_string() == "solo");
  CHECK(live_of(server->port()) == std::vector<std::string>{"solo"});
  auto plain = start_server();
  CHECK(live_of(plain->port()) == std::vector<std::string>{"local"});
}
