// Why: DESIGN.md promises that the store scales out on Redis Cluster by partitions: every key
// one append touches carries its partition's hash tag, so the append script is single-slot.
// This is checked against a real 3-master Redis Cluster made by Debian's redis-server and
// `redis-cli --cluster create` on loopback, together with what our client does NOT do today
// (follow MOVED redirects), so docs/CLUSTER.md can say exactly what works.
#include "cluster/cluster_support.hpp"

#include "domain/errors.hpp"
#include "domain/uuid.hpp"
#include "persistence/redis_connection.hpp"
#include "persistence/redis_keys.hpp"
#include "persistence/redis_launcher.hpp"
#include "persistence/redis_record_manager.hpp"
#include "persistence/redis_scripts.hpp"
#include "persistence/redis_url.hpp"
#include "support/redis_fixture.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <memory>
#include <set>

using namespace es;
using namespace es::test;
using namespace std::chrono_literals;

namespace {

struct RedisCluster {
  std::vector<std::unique_ptr<RedisServer>> masters;
  std::map<int, std::unique_ptr<RedisConnection>> connections;  // by port

  RedisConnection& on(int port) {
    auto& c = connections[port];
    if (!c) {
      c = std::make_unique<RedisConnection>(
          RedisUrl::parse("redis://127.0.0.1:" + std::to_string(port)), test_connection_options());
    }
    return *c;
  }
  int any() const { return masters.front()->port(); }
  long long slot(const std::string& key) {
    auto r = on(any()).command({"CLUSTER", "KEYSLOT", key});
    REQUIRE(!r.is_error());
    return r.integer();
  }
  // The port of the master serving `slot`.
  int master_of(long long slot) {
    auto r = on(any()).command({"CLUSTER", "SLOTS"});
    REQUIRE(r.view().is_array());
    for (std::size_t i = 0; i < r.size(); ++i) {
      if (r[i][0].integer() <= slot && slot <= r[i][1].integer()) {
        return static_cast<int>(r[i][2][1].integer());
      }
    }
    FAIL("no master serves slot " << slot);
    return -1;
  }
};

bool redis_cli_available() {
  return std::system("redis-cli --version >/dev/null 2>&1") == 0;
}

}  // namespace

TEST_CASE("every key of an append maps to one Redis Cluster slot and the script runs on its master",
          "[cluster][redis-cluster]") {
  if (!redis_cli_available()) {
    WARN("redis-cli not found: the Redis Cluster check is skipped");
    return;
  }
  RedisCluster cluster;
  std::string nodes;
  for (int i = 0; i < 3; ++i) {
    RedisServerOptions options;
    options.data_dir = temp_dir("redis-cluster");
    // The cluster bus port must be given: Redis derives it as port + 10000 otherwise, which
    // fails for ports above 55535.
    options.extra_config = {"cluster-enabled yes", "cluster-config-file nodes.conf",
                            "cluster-node-timeout 5000",
                            "cluster-port " + std::to_string(free_port())};
    cluster.masters.push_back(std::make_unique<RedisServer>(options));
    nodes += " 127.0.0.1:" + std::to_string(cluster.masters.back()->port());
  }
  const auto log = temp_dir("redis-cli") / "create.log";
  const std::string create = "redis-cli --cluster create" + nodes +
                             " --cluster-replicas 0 --cluster-yes >'" + log.string() + "' 2>&1";
  REQUIRE(std::system(create.c_str()) == 0);
  REQUIRE(eventually(
      [&] {
        for (const auto& m : cluster.masters) {
          auto r = cluster.on(m->port()).command({"CLUSTER", "INFO"});
          if (r.is_error() || std::string(r.str()).find("cluster_state:ok") == std::string::npos) {
            return false;
          }
        }
        return true;
      },
      30s));

  // Every key of one partition shares the partition's slot; the partitions spread over the
  // masters.
  RedisKeys keys("es", 16);
  std::set<int> masters_used;
  std::map<int, Uuid> sample;  // partition -> an entity id in it
  while (sample.size() < 16) {
    auto id = new_uuid();
    sample.emplace(keys.partition_of(id), id);
  }
  for (const auto& [partition, id] : sample) {
    INFO("partition " << partition);
    const auto slot = cluster.slot(keys.log(partition));
    CHECK(cluster.slot(keys.deleted(partition)) == slot);
    CHECK(cluster.slot(keys.entity(id)) == slot);
    CHECK(cluster.slot(keys.snapshot(id)) == slot);
    masters_used.insert(cluster.master_of(slot));
  }
  CHECK(masters_used.size() >= 2);

  // The append script on the owning master: one entity stream and the partition's log.
  const Uuid id = sample.begin()->second;
  const int partition = sample.begin()->first;
  const auto slot = cluster.slot(keys.entity(id));
  const int owner = cluster.master_of(slot);
  auto& master = cluster.on(owner);
  auto loaded = master.command({"SCRIPT", "LOAD", kAppendScript});
  REQUIRE(!loaded.is_error());
  const std::string sha(loaded.str());
  const std::string state = "{\"a\":\"\",\"b\":\"\",\"foo\":\"on-a-cluster\",\"originator_id\":\"" +
                            to_string(id) + "\"}";
  auto appended = master.command({"EVALSHA", sha, "3", keys.log(partition), keys.deleted(partition),
                                  keys.entity(id), "1", to_string(id), "-1", "1",
                                  "example.Example.Created", state});
  INFO(appended.str());
  REQUIRE(appended.view().is_array());
  CHECK(appended[0].integer() == 1);  // stored
  CHECK(master.command({"XLEN", keys.entity(id)}).integer() == 1);
  CHECK(master.command({"XLEN", keys.log(partition)}).integer() == 1);
  // The same append again is a conflict: the version check works in the cluster too.
  auto again = master.command({"EVALSHA", sha, "3", keys.log(partition), keys.deleted(partition),
                               keys.entity(id), "1", to_string(id), "-1", "1",
                               "example.Example.Created", state});
  REQUIRE(again.view().is_array());
  CHECK(again[0].integer() == 0);

  // Any other master redirects; our hiredis client does not follow MOVED.
  int other = -1;
  for (const auto& m : cluster.masters) {
    if (m->port() != owner) other = m->port();
  }
  auto& elsewhere = cluster.on(other);
  REQUIRE(!elsewhere.command({"SCRIPT", "LOAD", kAppendScript}).is_error());
  auto moved = elsewhere.command({"EVALSHA", sha, "3", keys.log(partition), keys.deleted(partition),
                                  keys.entity(id), "1", to_string(id), "0", "1",
                                  "example.Example.Heartbeat", state});
  REQUIRE(moved.is_error());
  CHECK(std::string(moved.str()).rfind("MOVED " + std::to_string(slot), 0) == 0);

  // The store as it is today, pointed at one master: it opens only on the master holding
  // the untagged `es:meta` key, and there it serves only that master's partitions.
  const int meta_master = cluster.master_of(cluster.slot(keys.meta()));
  int not_meta = -1;
  for (const auto& m : cluster.masters) {
    if (m->port() != meta_master) not_meta = m->port();
  }
  auto pool_for = [](int port) {
    return std::make_shared<RedisPool>("redis://127.0.0.1:" + std::to_string(port),
                                       test_connection_options(), 2);
  };
  CHECK_THROWS(RedisRecordManager(pool_for(not_meta)));
  RedisRecordManager store(pool_for(meta_master));
  std::optional<Uuid> here, there;
  for (const auto& [p, uuid] : sample) {
    (cluster.master_of(cluster.slot(keys.log(p))) == meta_master ? here : there) = uuid;
  }
  REQUIRE(here);
  REQUIRE(there);
  auto record = [](const Uuid& uuid) {
    AppendRequest request;
    request.sequence_id = uuid;
    request.expected_version = -1;
    SequencedRecord r;
    r.sequence_id = uuid;
    r.position = 0;
    r.topic = "example.Example.Created";
    r.state = "{\"originator_id\":\"" + to_string(uuid) + "\"}";
    request.records.push_back(r);
    return request;
  };
  auto stored = store.append_batch({record(*here)});
  REQUIRE(stored.size() == 1);
  CHECK(stored[0].status == AppendStatus::stored);
  // Another master's partition: refused with the MOVED redirect, nothing written.
  auto refused = store.append_batch({record(*there)});
  REQUIRE(refused.size() == 1);
  CHECK(refused[0].status == AppendStatus::invalid);
  CHECK(refused[0].message.find("MOVED") != std::string::npos);

  // A store told to put several partitions in one call (as behind a proxy that hides the
  // cluster): the node refuses with CROSSSLOT, and the store sends the appends again, one
  // partition per call, so both are stored.
  std::vector<int> local;  // partitions whose slot is on the meta master
  for (int p = 0; p < 16; ++p) {
    if (cluster.master_of(cluster.slot(keys.log(p))) == meta_master) local.push_back(p);
  }
  REQUIRE(local.size() >= 2);
  auto fresh_in = [&](int partition) {
    for (;;) {
      auto uuid = new_uuid();
      if (keys.partition_of(uuid) == partition) return uuid;
    }
  };
  RedisStoreOptions forced;
  forced.cross_partition_calls = RedisStoreOptions::CrossPartitionCalls::always;
  RedisRecordManager proxied(pool_for(meta_master), forced);
  const Uuid first = fresh_in(local[0]), second = fresh_in(local[1]);
  auto both = proxied.append_batch({record(first), record(second)});
  REQUIRE(both.size() == 2);
  CHECK(both[0].status == AppendStatus::stored);
  CHECK(both[1].status == AppendStatus::stored);
  CHECK(proxied.highest_position(first) == 0);
  CHECK(proxied.highest_position(second) == 0);
  // From then on one partition per call: no further refusal.
  const Uuid third = fresh_in(local[0]), fourth = fresh_in(local[1]);
  auto again_both = proxied.append_batch({record(third), record(fourth)});
  CHECK(again_both.at(0).status == AppendStatus::stored);
  CHECK(again_both.at(1).status == AppendStatus::stored);
}
