// Why: the one place that speaks to hiredis; see redis_node_connection.hpp. Error messages
// name the server by its masked URL and never include command arguments (they hold event data).
#include "persistence/redis_node_connection.hpp"

#include "domain/errors.hpp"

#include <hiredis/hiredis.h>

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>
#include <cerrno>
#include <thread>

namespace es {
namespace {

timeval to_timeval(std::chrono::milliseconds ms) {
  timeval tv{};
  tv.tv_sec = static_cast<decltype(tv.tv_sec)>(ms.count() / 1000);
  tv.tv_usec = static_cast<decltype(tv.tv_usec)>((ms.count() % 1000) * 1000);
  return tv;
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// hiredis writes with write(2): a write to a connection the server has just closed raises
// SIGPIPE, which would end the whole process. While this guard lives, SIGPIPE is blocked in
// the calling thread (the signal goes to the writing thread), and one raised meanwhile is
// consumed; the write then fails with EPIPE and becomes a StoreUnavailable.
class SigpipeGuard {
 public:
  SigpipeGuard() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    sigset_t pending;
    sigemptyset(&pending);
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
    blocked_ = pthread_sigmask(SIG_BLOCK, &pipe_, &old_) == 0;
  }
  ~SigpipeGuard() {
    if (!blocked_) return;
    if (!was_pending_) {
      sigset_t pending;
      sigemptyset(&pending);
      sigpending(&pending);
      if (sigismember(&pending, SIGPIPE) == 1) {
        timespec zero{};
        while (sigtimedwait(&pipe_, nullptr, &zero) < 0 && errno == EINTR) {
        }
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  SigpipeGuard(const SigpipeGuard&) = delete;
  SigpipeGuard& operator=(const SigpipeGuard&) = delete;

 private:
  sigset_t pipe_{};
  sigset_t old_{};
  bool was_pending_ = false;
  bool blocked_ = false;
};

}  // namespace

RedisNodeConnection::RedisNodeConnection(RedisUrl url, RedisConnectionOptions options)
    : url_(std::move(url)), options_(options) {}

RedisNodeConnection::~RedisNodeConnection() {
  disconnect();
}

void RedisNodeConnection::disconnect() {
  if (context_ != nullptr) {
    redisFree(context_);
    context_ = nullptr;
  }
  pending_ = 0;
  unsent_ = false;
}

void RedisNodeConnection::fail_io(const char* what) {
  std::string reason = "connection lost";
  if (context_ != nullptr) {
    const std::string_view text = context_->errstr;
    if (context_->err == REDIS_ERR_IO &&
        (errno == EAGAIN || errno == EWOULDBLOCK ||
         text.find("temporarily unavailable") != std::string_view::npos)) {
      reason = "no reply within " + std::to_string(options_.command_timeout.count()) + " ms";
    } else if (context_->err == REDIS_ERR_EOF) {
      reason = "server closed the connection";
    } else if (context_->errstr[0] != '\0') {
      reason = context_->errstr;
    }
  }
  disconnect();
  throw StoreUnavailable("Redis at " + url_.to_string() + ": " + what + " failed: " + reason);
}

bool RedisNodeConnection::peer_closed() const {
  // Between commands nothing may be readable: readable means EOF, an error or garbage.
  pollfd p{};
  p.fd = context_->fd;
  p.events = POLLIN;
  int n = ::poll(&p, 1, 0);
  if (n < 0) return errno != EINTR;
  if (n == 0) return false;
  return (p.revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL)) != 0;
}

void RedisNodeConnection::connect() {
  if (context_ != nullptr) return;
  if (failed_connects_ > 0) {
    auto now = std::chrono::steady_clock::now();
    if (now < next_attempt_) std::this_thread::sleep_for(next_attempt_ - now);
  }
  auto note_failure = [&] {
    ++failed_connects_;
    auto delay = options_.backoff_initial;
    for (int i = 1; i < failed_connects_ && delay < options_.backoff_max; ++i) delay *= 2;
    delay = std::min(delay, options_.backoff_max);
    next_attempt_ = std::chrono::steady_clock::now() + delay;
  };

  redisContext* c =
      redisConnectWithTimeout(url_.host.c_str(), url_.port, to_timeval(options_.connect_timeout));
  if (c == nullptr || c->err) {
    std::string reason = c == nullptr ? "out of memory" : c->errstr;
    if (c != nullptr) redisFree(c);
    note_failure();
    throw StoreUnavailable("cannot connect to Redis at " + url_.to_string() + ": " + reason);
  }
  if (redisSetTimeout(c, to_timeval(options_.command_timeout)) != REDIS_OK) {
    redisFree(c);
    note_failure();
    throw StoreUnavailable("cannot set timeouts on the connection to " + url_.to_string());
  }
  redisEnableKeepAlive(c);
  context_ = c;
  pending_ = 0;

  // AUTH and SELECT in one round trip, then PING to learn whether the server needs a password.
  std::vector<RedisArgs> setup;
  if (!url_.password.empty()) {
    RedisArgs auth{"AUTH"};
    if (!url_.user.empty()) auth.add(url_.user);
    auth.add(url_.password);
    setup.push_back(std::move(auth));
  }
  if (url_.db != 0) {
    RedisArgs select{"SELECT"};
    select.add(std::int64_t{url_.db});
    setup.push_back(std::move(select));
  }
  setup.push_back(RedisArgs{"PING"});
  std::vector<RedisReply> replies;
  try {
    replies = pipeline(setup);
  } catch (const StoreUnavailable&) {
    note_failure();
    throw;
  }
  for (std::size_t i = 0; i < replies.size(); ++i) {
    if (!replies[i].is_error()) continue;
    std::string text(replies[i].str().substr(0, 200));
    disconnect();
    note_failure();
    if (is_unavailable_error(text)) {
      throw StoreUnavailable("Redis at " + url_.to_string() + " cannot serve now: " + text);
    }
    const bool auth_step = !url_.password.empty() && i == 0;
    if (auth_step || starts_with(text, "NOAUTH") || starts_with(text, "WRONGPASS")) {
      throw ConfigurationError(
          "Redis authentication failed at " + url_.to_string() + ": " + text +
          (url_.password.empty() ? " (the server requires a password)" : " (check the password)"));
    }
    throw ConfigurationError("Redis at " + url_.to_string() +
                             " refused the connection setup: " + text);
  }
  failed_connects_ = 0;
}

void RedisNodeConnection::ensure_connected() {
  if (context_ != nullptr && pending_ == 0 && peer_closed()) disconnect();
  if (context_ == nullptr) connect();
}

void RedisNodeConnection::append(const RedisArgs& args) {
  if (pending_ == 0) ensure_connected();
  if (context_ == nullptr) connect();
  if (redisAppendCommandArgv(context_, static_cast<int>(args.size()),
                             const_cast<const char**>(args.argv()), args.lengths()) != REDIS_OK) {
    fail_io("sending a command");
  }
  ++pending_;
  unsent_ = true;
}

RedisReply RedisNodeConnection::read_reply() {
  if (context_ == nullptr || pending_ == 0) {
    throw Error("Redis connection: read_reply() without a pending command");
  }
  void* reply = nullptr;
  int status = REDIS_OK;
  if (unsent_) {
    // The first read sends the appended commands.
    SigpipeGuard guard;
    status = redisGetReply(context_, &reply);
    unsent_ = false;
  } else {
    status = redisGetReply(context_, &reply);
  }
  if (status != REDIS_OK || reply == nullptr) {
    if (reply != nullptr) freeReplyObject(reply);
    fail_io("reading a reply");
  }
  --pending_;
  return RedisReply(static_cast<redisReply*>(reply));
}

void RedisNodeConnection::flush() {
  if (context_ == nullptr || !unsent_) return;
  SigpipeGuard guard;
  int done = 0;
  do {
    if (redisBufferWrite(context_, &done) != REDIS_OK) fail_io("sending a command");
  } while (!done);
  unsent_ = false;
}

RedisReply RedisNodeConnection::command(const RedisArgs& args) {
  append(args);
  return read_reply();
}

std::vector<RedisReply> RedisNodeConnection::pipeline(const std::vector<RedisArgs>& commands) {
  for (const auto& c : commands) append(c);
  std::vector<RedisReply> replies;
  replies.reserve(commands.size());
  for (std::size_t i = 0; i < commands.size(); ++i) replies.push_back(read_reply());
  return replies;
}

}  // namespace es
