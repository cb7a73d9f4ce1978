// Why: see redis_cluster_map.hpp.
#include "persistence/redis_cluster_map.hpp"

#include "domain/errors.hpp"
#include "persistence/redis_cluster_slot.hpp"
#include "persistence/redis_node_connection.hpp"

#include <algorithm>
#include <charconv>
#include <map>
#include <thread>

namespace es {
namespace {

// The map is not read again more often than this (a burst of failures, one refresh).
constexpr std::chrono::milliseconds kMinRefreshInterval{100};

std::string address_of(const RedisReplyView& node, const std::string& fallback_host) {
  std::string host(node[0].str());
  if (host.empty() || host == "?") host = fallback_host;
  return host + ":" + std::to_string(node[1].integer());
}

// Options for reading the map: a dead node must not hold the refresh long.
RedisConnectionOptions probe_options(RedisConnectionOptions options) {
  options.connect_timeout = std::min(options.connect_timeout, std::chrono::milliseconds(1000));
  options.command_timeout = std::min(options.command_timeout, std::chrono::milliseconds(2000));
  options.backoff_initial = std::chrono::milliseconds(0);
  return options;
}

}  // namespace

RedisClusterMap::RedisClusterMap(RedisUrl seed, RedisConnectionOptions options)
    : seed_(std::move(seed)), options_(options) {}

RedisClusterMap::Mode RedisClusterMap::mode() const {
  return mode_.load(std::memory_order_acquire);
}

std::uint64_t RedisClusterMap::refreshes() const {
  std::lock_guard lock(mutex_);
  return refreshes_;
}

RedisUrl RedisClusterMap::url_of(const std::string& address) const {
  RedisUrl url = seed_;
  const auto colon = address.rfind(':');
  url.host = address.substr(0, colon);
  int port = 0;
  const auto text = std::string_view(address).substr(colon + 1);
  std::from_chars(text.data(), text.data() + text.size(), port);
  url.port = port;
  return url;
}

RedisClusterMap::Mode RedisClusterMap::learn(RedisNodeConnection& seed) {
  std::lock_guard lock(mutex_);
  if (mode_ != Mode::unknown) return mode_.load();
  auto reply = seed.command({"CLUSTER", "SLOTS"});
  if (reply.is_error()) {
    if (is_unavailable_error(reply.str())) throw_redis_error(reply.view(), "reading the slot map");
    // "cluster support disabled", or CLUSTER not allowed (a proxy): one server as before.
    mode_ = Mode::standalone;
    return Mode::standalone;
  }
  if (!read_slots_locked(seed)) stale_ = true;
  mode_ = Mode::cluster;  // after the map: a thread that sees `cluster` finds it read
  return Mode::cluster;
}

bool RedisClusterMap::read_slots_locked(RedisNodeConnection& node) {
  auto reply = node.command({"CLUSTER", "SLOTS"});
  if (reply.is_error() || !reply.view().is_array()) return false;
  std::vector<std::string> masters;
  std::vector<std::int16_t> owner(kRedisClusterSlots, -1);
  std::vector<std::string> known;
  std::map<std::string, std::int16_t> index;
  // Ranges sorted by their first slot, so masters_ has a stable order.
  std::vector<std::size_t> order(reply.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return reply[a][0].integer() < reply[b][0].integer();
  });
  for (auto i : order) {
    auto range = reply[i];
    if (range.size() < 3) continue;
    const auto first = range[0].integer(), last = range[1].integer();
    if (first < 0 || last >= kRedisClusterSlots || first > last) continue;
    const std::string master = address_of(range[2], node.url().host);
    auto [at, added] = index.emplace(master, static_cast<std::int16_t>(masters.size()));
    if (added) masters.push_back(master);
    for (auto s = first; s <= last; ++s) owner[static_cast<std::size_t>(s)] = at->second;
    for (std::size_t r = 2; r < range.size(); ++r) {
      known.push_back(address_of(range[r], node.url().host));
    }
  }
  masters_ = std::move(masters);
  owner_ = std::move(owner);
  for (auto& k : known) {
    if (std::find(known_.begin(), known_.end(), k) == known_.end()) known_.push_back(k);
  }
  stale_ = false;
  ++refreshes_;
  last_refresh_ = std::chrono::steady_clock::now();
  return true;
}

void RedisClusterMap::refresh_locked() {
  const auto now = std::chrono::steady_clock::now();
  if (!owner_.empty() && now - last_refresh_ < kMinRefreshInterval) {
    return;  // read moments ago: keep it (a MOVED may still correct single slots)
  }
  std::vector<std::string> candidates = masters_;
  for (const auto& k : known_) {
    if (std::find(candidates.begin(), candidates.end(), k) == candidates.end()) {
      candidates.push_back(k);
    }
  }
  const std::string seed = seed_.host + ":" + std::to_string(seed_.port);
  if (std::find(candidates.begin(), candidates.end(), seed) == candidates.end()) {
    candidates.push_back(seed);
  }
  for (const auto& address : candidates) {
    try {
      RedisNodeConnection node(url_of(address), probe_options(options_));
      if (read_slots_locked(node)) return;
    } catch (const StoreUnavailable&) {
      // the next node
    }
  }
  last_refresh_ = now;
  throw StoreUnavailable("no node of the Redis Cluster answers with its slot map");
}

std::string RedisClusterMap::master_of(int slot) {
  std::lock_guard lock(mutex_);
  if (stale_ || owner_.empty()) refresh_locked();
  const auto at = owner_.empty() ? -1 : owner_[static_cast<std::size_t>(slot)];
  if (at < 0) {
    stale_ = true;
    throw StoreUnavailable("no Redis Cluster master serves slot " + std::to_string(slot));
  }
  return masters_[static_cast<std::size_t>(at)];
}

std::vector<std::string> RedisClusterMap::masters() {
  std::lock_guard lock(mutex_);
  if (stale_ || owner_.empty()) refresh_locked();
  return masters_;
}

void RedisClusterMap::moved(int slot, const std::string& address) {
  std::lock_guard lock(mutex_);
  if (slot < 0 || slot >= kRedisClusterSlots || owner_.empty()) {
    stale_ = true;
    return;
  }
  auto it = std::find(masters_.begin(), masters_.end(), address);
  if (it == masters_.end()) it = masters_.insert(masters_.end(), address);
  owner_[static_cast<std::size_t>(slot)] = static_cast<std::int16_t>(it - masters_.begin());
  stale_ = true;  // other slots probably moved too: read the whole map again soon
}

void RedisClusterMap::invalidate() {
  std::lock_guard lock(mutex_);
  stale_ = true;
}

}  // namespace es
