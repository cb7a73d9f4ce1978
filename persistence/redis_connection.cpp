// Why: see redis_connection.hpp. Error messages name servers by masked URLs or addresses and
// never include command arguments (they hold event data).
#include "persistence/redis_connection.hpp"

#include "domain/errors.hpp"
#include "persistence/redis_cluster_redirect.hpp"
#include "persistence/redis_cluster_slot.hpp"
#include "persistence/redis_command_key.hpp"

#include <algorithm>
#include <thread>

namespace es {
namespace {

// Redirects followed for one command before giving up (a map in flux settles in one or two).
constexpr int kMaxRedirects = 5;
constexpr std::chrono::milliseconds kMigrationWait{5000};

std::string address_of(const RedisUrl& url) {
  return url.host + ":" + std::to_string(url.port);
}

}  // namespace

// --- RedisConnection ---

RedisConnection::RedisConnection(RedisUrl url, RedisConnectionOptions options,
                                 std::shared_ptr<RedisClusterMap> map)
    : url_(std::move(url)),
      options_(options),
      map_(map ? std::move(map) : std::make_shared<RedisClusterMap>(url_, options_)),
      seed_(url_, options_) {}

RedisConnection::~RedisConnection() = default;

bool RedisConnection::clustered() {
  auto mode = map_->mode();
  if (mode == RedisClusterMap::Mode::unknown) mode = map_->learn(seed_);
  return mode == RedisClusterMap::Mode::cluster;
}

bool RedisConnection::is_cluster() {
  return clustered();
}

void RedisConnection::connect() {
  // The URL's node only: whether it is a cluster is learnt with the first command.
  if (map_->mode() != RedisClusterMap::Mode::cluster) seed_.connect();
}

void RedisConnection::disconnect() {
  seed_.disconnect();
  nodes_.clear();
  side_.clear();
  pending_.clear();
  written_.clear();
}

std::size_t RedisConnection::pending() const {
  return map_->mode() == RedisClusterMap::Mode::cluster ? pending_.size() : seed_.pending();
}

RedisNodeConnection& RedisConnection::node_at(const std::string& address) {
  auto& node = nodes_[address];
  if (!node) node = std::make_unique<RedisNodeConnection>(map_->url_of(address), options_);
  return *node;
}

RedisNodeConnection& RedisConnection::side_at(const std::string& address) {
  auto& node = side_[address];
  if (!node) node = std::make_unique<RedisNodeConnection>(map_->url_of(address), options_);
  return *node;
}

void RedisConnection::lost(const StoreUnavailable& error) {
  // A node failed: the map may be out of date (a failover), and replies still due on other
  // nodes are out of step with the caller. Start afresh.
  map_->invalidate();
  disconnect();
  throw error;
}

void RedisConnection::append(const RedisArgs& args) {
  if (!clustered()) {
    seed_.append(args);
    return;
  }
  Pending p;
  const auto scope = command_scope(args);
  if (scope == CommandScope::every_master) {
    p.ready = on_every_master(args);
    pending_.push_back(std::move(p));
    return;
  }
  try {
    if (scope == CommandScope::keyed) {
      p.slot = redis_key_slot(*routing_key(args));
      p.node = &node_at(map_->master_of(p.slot));
      written_.insert(p.node);
    } else {
      // Keyless: any master, or the URL's node while the cluster has no slots assigned.
      const auto masters = map_->masters();
      p.node = masters.empty() ? &seed_ : &node_at(masters.front());
    }
    p.args = owned_copy(args);
    p.node->append(p.args);
  } catch (const StoreUnavailable& e) {
    lost(e);
  }
  pending_.push_back(std::move(p));
}

void RedisConnection::flush() {
  if (!clustered()) {
    seed_.flush();
    return;
  }
  try {
    seed_.flush();
    for (auto& [address, node] : nodes_) node->flush();
  } catch (const StoreUnavailable& e) {
    lost(e);
  }
}

RedisReply RedisConnection::read_reply() {
  if (map_->mode() != RedisClusterMap::Mode::cluster) return seed_.read_reply();
  if (pending_.empty()) throw Error("Redis connection: read_reply() without a pending command");
  Pending p = std::move(pending_.front());
  pending_.pop_front();
  if (p.ready) return std::move(*p.ready);
  try {
    // Everything appended goes out before the first wait: the masters work in parallel.
    seed_.flush();
    for (auto& [address, node] : nodes_) node->flush();
    auto reply = p.node->read_reply();
    return follow(p, std::move(reply));
  } catch (const StoreUnavailable& e) {
    lost(e);
  }
}

RedisReply RedisConnection::follow(Pending& p, RedisReply reply) {
  // TRYAGAIN is waited out for the command timeout but at least kMigrationWait: moving a busy
  // slot's keys takes seconds, and a script call of an append meets it until the move ends.
  const auto deadline =
      std::chrono::steady_clock::now() + std::max(options_.command_timeout, kMigrationWait);
  auto pause = std::chrono::milliseconds(5);
  for (int redirects = 0; reply.is_error();) {
    const auto text = reply.str();
    if (auto redirect = parse_redirect(text)) {
      if (++redirects > kMaxRedirects) return reply;
      auto& target = side_at(redirect->address);
      if (redirect->kind == RedisRedirect::Kind::moved) {
        map_->moved(redirect->slot, redirect->address);
        reply = target.command(p.args);
      } else {
        target.append(RedisArgs{"ASKING"});
        target.append(p.args);
        target.read_reply();  // OK
        reply = target.read_reply();
      }
      written_.insert(&target);
      continue;
    }
    if (is_tryagain(text) && p.slot >= 0 && std::chrono::steady_clock::now() + pause < deadline) {
      // A multi-key command while its slot migrates: the keys come together again shortly.
      std::this_thread::sleep_for(pause);
      pause = std::min(pause * 2, std::chrono::milliseconds(200));
      redirects = 0;  // a retry starts afresh (it may meet ASK again)
      auto& target = side_at(map_->master_of(p.slot));
      reply = target.command(p.args);
      written_.insert(&target);
      continue;
    }
    if (means_map_changed(text)) map_->invalidate();
    return reply;
  }
  return reply;
}

RedisReply RedisConnection::on_every_master(const RedisArgs& args) {
  std::optional<RedisReply> first;
  try {
    for (const auto& master : map_->masters()) {
      auto reply = side_at(master).command(args);
      if (!first || (reply.is_error() && !first->is_error())) first = std::move(reply);
    }
  } catch (const StoreUnavailable& e) {
    lost(e);
  }
  if (!first) throw StoreUnavailable("the Redis Cluster has no master");
  return std::move(*first);
}

RedisReply RedisConnection::command(const RedisArgs& args) {
  append(args);
  return read_reply();
}

std::vector<RedisReply> RedisConnection::pipeline(const std::vector<RedisArgs>& commands) {
  for (const auto& c : commands) append(c);
  std::vector<RedisReply> replies;
  replies.reserve(commands.size());
  for (std::size_t i = 0; i < commands.size(); ++i) replies.push_back(read_reply());
  return replies;
}

std::vector<std::string> RedisConnection::masters() {
  if (!clustered()) return {address_of(url_)};
  return map_->masters();
}

RedisReply RedisConnection::command_on(const std::string& master, const RedisArgs& args) {
  if (!clustered()) return seed_.command(args);
  try {
    return side_at(master).command(args);
  } catch (const StoreUnavailable& e) {
    lost(e);
  }
}

long long RedisConnection::wait_for_replicas(int replicas, std::chrono::milliseconds timeout) {
  RedisArgs wait{"WAIT"};
  wait.add(static_cast<std::int64_t>(replicas)).add(static_cast<std::int64_t>(timeout.count()));
  auto check = [](const RedisReply& r) {
    if (r.is_error()) throw_redis_error(r.view(), "waiting for replica acknowledgements");
    return r.integer();
  };
  if (!clustered()) return check(seed_.command(wait));
  long long fewest = replicas;
  try {
    for (auto* node : written_) node->append(wait);
    for (auto* node : written_) fewest = std::min(fewest, check(node->read_reply()));
  } catch (const StoreUnavailable& e) {
    lost(e);
  }
  written_.clear();
  return fewest;
}

// --- RedisPool ---

RedisPool::RedisPool(RedisUrl url, RedisConnectionOptions options, std::size_t max_connections)
    : url_(std::move(url)),
      options_(options),
      map_(std::make_shared<RedisClusterMap>(url_, options_)),
      max_connections_(std::max<std::size_t>(1, max_connections)) {}

RedisPool::RedisPool(const std::string& url, RedisConnectionOptions options,
                     std::size_t max_connections)
    : RedisPool(RedisUrl::parse(url), options, max_connections) {}

RedisPool::Lease::~Lease() {
  if (connection_) pool_->release(std::move(connection_));
}

RedisPool::Lease RedisPool::acquire() {
  std::unique_lock lock(mutex_);
  const auto deadline =
      std::chrono::steady_clock::now() + options_.connect_timeout + options_.command_timeout;
  while (idle_.empty() && created_ >= max_connections_) {
    if (available_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
        created_ >= max_connections_) {
      throw StoreUnavailable("all " + std::to_string(max_connections_) +
                             " Redis connections stayed busy");
    }
  }
  if (!idle_.empty()) {
    auto c = std::move(idle_.back());
    idle_.pop_back();
    return Lease(this, std::move(c));
  }
  ++created_;
  lock.unlock();
  return Lease(this, std::make_unique<RedisConnection>(url_, options_, map_));
}

void RedisPool::release(std::unique_ptr<RedisConnection> connection) {
  // Unread replies (an exception between append and read): the stream is out of step.
  if (connection->pending() > 0) connection->disconnect();
  {
    std::lock_guard lock(mutex_);
    idle_.push_back(std::move(connection));
  }
  available_.notify_one();
}

}  // namespace es
