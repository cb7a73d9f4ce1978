// Why: see redis_launcher.hpp. fork/exec with only async-signal-safe calls in the child
// (the owner may be multi-threaded); the configuration goes through a 0600 file so that the
// password never appears in `ps`.
#include "persistence/redis_launcher.hpp"

#include "domain/errors.hpp"
#include "persistence/redis_connection.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

namespace es {
namespace {

using Clock = std::chrono::steady_clock;

// A currently free loopback port (the kernel picks one for port 0).
int free_loopback_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw StoreUnavailable("cannot create a socket to find a free port");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    throw StoreUnavailable("cannot find a free loopback port");
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

// A redis.conf string: every byte hex-escaped inside double quotes (sdssplitargs syntax).
std::string quoted(const std::string& s) {
  static const char* hex = "0123456789abcdef";
  std::string out = "\"";
  for (unsigned char c : s) {
    out += "\\x";
    out += hex[c >> 4];
    out += hex[c & 15];
  }
  return out + "\"";
}

std::string tail_of(const std::filesystem::path& file, std::size_t lines) {
  std::ifstream in(file);
  std::vector<std::string> all;
  for (std::string line; std::getline(in, line);) {
    // Redis echoes a configuration line it rejects: never pass the password on.
    if (line.find("requirepass") != std::string::npos) line = "(a line about requirepass)";
    all.push_back(line);
  }
  std::string out;
  for (std::size_t i = all.size() > lines ? all.size() - lines : 0; i < all.size(); ++i) {
    out += all[i] + "\n";
  }
  return out;
}

}  // namespace

std::filesystem::path find_redis_server() {
  if (const char* path = std::getenv("PATH")) {
    std::stringstream dirs(path);
    for (std::string dir; std::getline(dirs, dir, ':');) {
      if (dir.empty()) continue;
      auto candidate = std::filesystem::path(dir) / "redis-server";
      if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    }
  }
  if (::access("/usr/bin/redis-server", X_OK) == 0) return "/usr/bin/redis-server";
  return {};
}

RedisServer::RedisServer(RedisServerOptions options) : options_(std::move(options)) {
  if (options_.data_dir.empty()) throw ConfigurationError("RedisServer needs a data directory");
  executable_ = options_.executable.empty() ? find_redis_server() : options_.executable;
  if (executable_.empty() || ::access(executable_.c_str(), X_OK) != 0) {
    throw ConfigurationError("redis-server not found on PATH or in /usr/bin");
  }
  std::error_code ec;
  std::filesystem::create_directories(options_.data_dir, ec);
  if (ec) {
    throw ConfigurationError("cannot create the Redis data directory " +
                             options_.data_dir.string() + ": " + ec.message());
  }
  options_.data_dir = std::filesystem::absolute(options_.data_dir);
  port_ = options_.port;
  start();
}

RedisServer::~RedisServer() {
  try {
    stop();
  } catch (...) {
  }
}

std::string RedisServer::url() const {
  return redis_url().to_string_with_password();
}

RedisUrl RedisServer::redis_url() const {
  RedisUrl url;
  url.host = "127.0.0.1";
  url.port = port_;
  url.password = options_.password;
  return url;
}

std::filesystem::path RedisServer::log_file() const {
  return options_.data_dir / "redis.log";
}

void RedisServer::write_config() const {
  const auto path = options_.data_dir / "redis.conf";
  // Created 0600 before anything is written: it may hold the password.
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) throw ConfigurationError("cannot write " + path.string());
  ::fchmod(fd, 0600);
  ::close(fd);
  std::ofstream out(path, std::ios::trunc);
  out << "# Written by es::RedisServer; rewritten at every start.\n"
      << "bind 127.0.0.1\n"
      << "port " << port_ << "\n"
      << "daemonize no\n"
      << "dir " << quoted(options_.data_dir.string()) << "\n"
      << "logfile " << quoted(log_file().string()) << "\n"
      << "appendonly yes\n"
      << "appendfsync " << (options_.fsync_always ? "always" : "everysec") << "\n"
      << "save \"\"\n"
      << "stream-node-max-bytes " << options_.stream_node_max_bytes << "\n"
      << "stream-node-max-entries 100\n"
      // AOF rewrites (with an RDB preamble) fork and serialise everything: on a small machine
      // that competes with the server itself, so rewrite less often and skip LZF compression.
      << "auto-aof-rewrite-min-size 256mb\n"
      << "rdbcompression no\n";
  if (!options_.password.empty()) out << "requirepass " << quoted(options_.password) << "\n";
  for (const auto& line : options_.extra_config) out << line << "\n";
  out.flush();
  if (!out) throw ConfigurationError("cannot write " + path.string());
}

bool RedisServer::spawn_and_wait(std::string& failure) {
  write_config();
  const std::string exe = executable_.string();
  const std::string conf = (options_.data_dir / "redis.conf").string();
  const std::string out_log = (options_.data_dir / "redis-stdout.log").string();
  char* argv[] = {const_cast<char*>(exe.c_str()), const_cast<char*>(conf.c_str()), nullptr};
  const pid_t parent = ::getpid();

  pid_t pid = ::fork();
  if (pid < 0) throw StoreUnavailable("cannot fork redis-server");
  if (pid == 0) {
    // Child: async-signal-safe calls only.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);  // the owner already died
    ::setpgid(0, 0);                          // the terminal's Ctrl-C is for the owner
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGPIPE, SIG_DFL);
    ::signal(SIGTERM, SIG_DFL);
    ::signal(SIGINT, SIG_DFL);
    int in = ::open("/dev/null", O_RDONLY);
    int out = ::open(out_log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (in >= 0) ::dup2(in, 0);
    if (out >= 0) {
      ::dup2(out, 1);
      ::dup2(out, 2);
    }
#ifdef SYS_close_range
    if (::syscall(SYS_close_range, 3U, ~0U, 0U) != 0)
#endif
    {
      for (int fd = 3; fd < 4096; ++fd) ::close(fd);
    }
    ::execv(argv[0], argv);
    ::_exit(127);
  }
  pid_ = pid;

  RedisConnectionOptions probe;
  probe.connect_timeout = std::chrono::milliseconds(200);
  probe.command_timeout = std::chrono::milliseconds(1000);
  const auto deadline = Clock::now() + options_.start_timeout;
  while (Clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      failure = tail_of(log_file(), 5) + tail_of(options_.data_dir / "redis-stdout.log", 5);
      return false;
    }
    try {
      RedisNodeConnection connection(redis_url(), probe);
      auto reply = connection.command({"PING"});
      if (!reply.is_error() && reply.str() == "PONG") return true;
    } catch (const StoreUnavailable&) {
      // not listening yet, or loading its data
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  failure = "no answer to PING within " + std::to_string(options_.start_timeout.count()) + " ms";
  kill();
  throw StoreUnavailable("redis-server did not start: " + failure);
}

void RedisServer::start() {
  const bool choose_port = options_.port == 0 && port_ == 0;
  std::string failure;
  for (int attempt = 0; attempt < 5; ++attempt) {
    if (choose_port) port_ = free_loopback_port();
    if (spawn_and_wait(failure)) return;
    // Another process may have taken the port between our probe and redis' bind.
    if (!choose_port || failure.find("Address already in use") == std::string::npos) break;
    port_ = 0;
  }
  throw StoreUnavailable("redis-server exited at start-up (see " + log_file().string() + "):\n" +
                         failure);
}

void RedisServer::wait_for_exit(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_ || (r < 0 && errno == ECHILD)) {
      pid_ = -1;
      return;
    }
    if (Clock::now() >= deadline) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

void RedisServer::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  wait_for_exit(options_.stop_timeout);
  if (pid_ > 0) kill();
}

void RedisServer::kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
}

void RedisServer::restart() {
  stop();
  start();
}

}  // namespace es
