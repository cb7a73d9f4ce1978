// Why: the Redis Cluster routing layer (docs/CLUSTER.md "Redis Cluster") in its parts: slots
// computed exactly as Redis does (a wrong slot would still work through MOVED, slowly, so it is
// checked against CLUSTER KEYSLOT and against a map that is never read again), redirects
// parsed, routing keys found; then on a real private cluster: a URL naming a replica, no
// redirect in steady state, SCAN over every master, WAIT confirmed by replicas.
#include <catch2/catch.hpp>

#include "domain/errors.hpp"
#include "persistence/redis_cluster_redirect.hpp"
#include "persistence/redis_cluster_slot.hpp"
#include "persistence/redis_command_key.hpp"
#include "persistence/redis_key_scan.hpp"
#include "persistence/redis_record_manager.hpp"
#include "support/redis_cluster_fixture.hpp"
#include "support/redis_fixture.hpp"

#include <set>

using namespace es;

TEST_CASE("cluster routing: hash slots as Redis computes them", "[cluster-routing]") {
  CHECK(redis_key_slot("123456789") == 12739);  // CRC16/XMODEM check value 0x31C3
  CHECK(redis_key_slot("foo") == 12182);
  CHECK(redis_key_slot("bar") == 5061);
  CHECK(redis_key_slot("{user1000}.following") == redis_key_slot("{user1000}.followers"));
  CHECK(redis_key_slot("{user1000}.following") == redis_key_slot("user1000"));
  CHECK(redis_key_slot("foo{}{bar}") != redis_key_slot("bar"));  // empty tag: the whole key
  CHECK(redis_key_slot("foo{{bar}}zap") == redis_key_slot("{bar"));
  CHECK(redis_key_slot("es:{p07}:log") == redis_key_slot("es:{p07}:entity:x"));
  CHECK(redis_key_slot("") == 0);
}

TEST_CASE("cluster routing: redirects and routing keys", "[cluster-routing]") {
  auto moved = parse_redirect("MOVED 3999 127.0.0.1:6381");
  REQUIRE(moved);
  CHECK(moved->kind == RedisRedirect::Kind::moved);
  CHECK(moved->slot == 3999);
  CHECK(moved->address == "127.0.0.1:6381");
  auto ask = parse_redirect("ASK 1 10.0.0.2:7000");
  REQUIRE(ask);
  CHECK(ask->kind == RedisRedirect::Kind::ask);
  CHECK_FALSE(parse_redirect("MOVED x 127.0.0.1:1"));
  CHECK_FALSE(parse_redirect("MOVED 1"));
  CHECK_FALSE(parse_redirect("ERR MOVED 1 a:1"));
  CHECK(is_tryagain("TRYAGAIN Multiple keys request during rehashing of slot"));
  CHECK(means_map_changed("CLUSTERDOWN The cluster is down"));

  CHECK(routing_key(RedisArgs{"XRANGE", "k1", "-", "+"}) == std::string_view("k1"));
  CHECK(routing_key(RedisArgs{"EVALSHA", "sha", "2", "k1", "k2", "a"}) == std::string_view("k1"));
  CHECK_FALSE(routing_key(RedisArgs{"EVALSHA", "sha", "0", "a"}));
  CHECK(routing_key(RedisArgs{"XREAD", "COUNT", "5", "BLOCK", "10", "STREAMS", "s", "0"}) ==
        std::string_view("s"));
  CHECK(routing_key(RedisArgs{"XGROUP", "CREATE", "s", "g", "0"}) == std::string_view("s"));
  CHECK(routing_key(RedisArgs{"xinfo", "stream", "s"}) == std::string_view("s"));
  CHECK_FALSE(routing_key(RedisArgs{"INFO", "memory"}));
  CHECK_FALSE(routing_key(RedisArgs{"PING"}));
  CHECK(command_scope(RedisArgs{"SCRIPT", "LOAD", "return 1"}) == CommandScope::every_master);
  CHECK(command_scope(RedisArgs{"SCAN", "0"}) == CommandScope::any_master);
  CHECK(command_scope(RedisArgs{"HGET", "h", "f"}) == CommandScope::keyed);
}

TEST_CASE("cluster routing: on a real cluster, from a replica's URL, without redirects",
          "[.][redis-cluster]") {
  test::RedisClusterFixture cluster(test::temp_dir("routing-cluster"));
  // The slot computation agrees with the server's.
  {
    auto node = cluster.node(cluster.nodes.front()->port());
    for (int i = 0; i < 300; ++i) {
      const std::string key =
          "es:{p" + std::to_string(i % 40) + "}:entity:" + to_string(new_uuid());
      CHECK(node.command({"CLUSTER", "KEYSLOT", key}).integer() == redis_key_slot(key));
    }
  }
  // --redis naming a replica: the store finds the masters.
  const auto masters = cluster.master_ports();
  REQUIRE(masters.size() == 3);
  int replica = 0;
  for (const auto& n : cluster.nodes) {
    if (std::find(masters.begin(), masters.end(), n->port()) == masters.end()) replica = n->port();
  }
  REQUIRE(replica > 0);
  auto pool =
      std::make_shared<RedisPool>(cluster.url_of(replica), test::test_connection_options(), 4);
  RedisRecordManager records(pool);
  std::set<Uuid> ids;
  std::vector<AppendRequest> batch;
  for (int i = 0; i < 200; ++i) {
    AppendRequest r;
    r.sequence_id = new_uuid();
    r.expected_version = -1;
    r.records.push_back(
        {r.sequence_id, 0, "test.Thing.Happened", "{\"i\":" + std::to_string(i) + "}"});
    ids.insert(r.sequence_id);
    batch.push_back(std::move(r));
  }
  for (const auto& result : records.append_batch(batch))
    CHECK(result.status == AppendStatus::stored);
  for (const auto& id : ids) CHECK(records.highest_position(id) == 0);
  // Steady state: the map was read once (on first use) and no MOVED corrected it.
  CHECK(pool->cluster_map()->mode() == RedisClusterMap::Mode::cluster);
  CHECK(pool->cluster_map()->refreshes() == 1);
  // Every entity key is found by the walk over all masters, once.
  std::set<Uuid> listed;
  std::string cursor;
  do {
    auto page = records.list_sequence_ids(cursor, 50);
    for (const auto& id : page.ids) CHECK(listed.insert(id).second);
    cursor = page.next_cursor;
  } while (!cursor.empty());
  CHECK(listed == ids);
  std::size_t scanned = 0;
  auto lease = pool->acquire();
  scan_every_master(*lease, records.keys().entity_pattern(),
                    [&](const std::vector<std::string>& keys) { scanned += keys.size(); });
  CHECK(scanned == ids.size());
  CHECK(lease->masters().size() == 3);
  // WAIT: each master's replica confirms what this connection wrote.
  for (const auto& id : ids) {
    REQUIRE_FALSE(lease->command({"HSET", "w:" + to_string(id), "f", "v"}).is_error());
  }
  CHECK(lease->wait_for_replicas(1, std::chrono::milliseconds(2000)) >= 1);
  RedisStoreOptions acked;
  acked.replica_acks = 1;
  RedisRecordManager confirmed(pool, acked);
  AppendRequest one;
  one.sequence_id = new_uuid();
  one.expected_version = -1;
  one.records.push_back({one.sequence_id, 0, "test.Thing.Happened", "{}"});
  CHECK(confirmed.append_batch({one}).at(0).status == AppendStatus::stored);
  // More replicas than exist: stored on the master, but not confirmed.
  acked.replica_acks = 2;
  acked.replica_ack_timeout = std::chrono::milliseconds(200);
  RedisRecordManager overasked(pool, acked);
  one.sequence_id = new_uuid();
  one.records[0].sequence_id = one.sequence_id;
  CHECK_THROWS_AS(overasked.append_batch({one}), StoreUnavailable);
}
