// Why: the secrets the sample programs take (Redis password, cipher key) must reach Redis and
// the cipher without ever being shown, a file others may read must be reported, and the
// private redis-server must refuse local users who do not know its random password. These
// tests drive the shared start-up code (store_setup, secret_file) against real redis-servers;
// tests/samples/secrets_test.sh checks the same through the programs.
#include <catch2/catch.hpp>

#include "domain/errors.hpp"
#include "persistence/redis_connection.hpp"
#include "persistence/redis_launcher.hpp"
#include "samples/support/secret_file.hpp"
#include "samples/support/store_setup.hpp"
#include "support/redis_fixture.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <string>

using namespace es;
namespace fs = std::filesystem;

namespace {

const std::string kPassword = "pw-Staple-Battery-8142";

fs::path write_file(const fs::path& path, const std::string& content, fs::perms mode) {
  std::ofstream(path, std::ios::trunc) << content;
  fs::permissions(path, mode, fs::perm_options::replace);
  return path;
}

constexpr auto kPrivate = fs::perms::owner_read | fs::perms::owner_write;
constexpr auto kWorldReadable = kPrivate | fs::perms::group_read | fs::perms::others_read;

// What `fn` writes to stderr (file descriptor 2), with the exception it throws, if any.
struct Captured {
  std::string err;
  std::optional<std::string> error;
};

Captured capture_stderr(const std::function<void()>& fn) {
  const auto file = test::temp_dir("stderr") / "stderr.txt";
  std::fflush(stderr);
  const int saved = ::dup(2);
  REQUIRE(saved >= 0);
  std::FILE* sink = std::fopen(file.c_str(), "w");
  REQUIRE(sink != nullptr);
  ::dup2(::fileno(sink), 2);
  Captured out;
  try {
    fn();
  } catch (const std::exception& e) {
    out.error = e.what();
  }
  std::fflush(stderr);
  ::dup2(saved, 2);
  ::close(saved);
  std::fclose(sink);
  std::stringstream text;
  text << std::ifstream(file).rdbuf();
  out.err = text.str();
  return out;
}

// Sets an environment variable for the scope, restoring what was there.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value != nullptr) {
      ::setenv(name, value, 1);
    } else {
      ::unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

// A redis-server of the test's own that requires kPassword.
RedisServer& protected_server() {
  static RedisServer server([] {
    RedisServerOptions options;
    options.data_dir = test::temp_dir("protected-redis");
    options.password = kPassword;
    return options;
  }());
  return server;
}

std::string plain_url(const RedisServer& server) {
  return "redis://127.0.0.1:" + std::to_string(server.port());
}

samples::StoreFlags flags_for(const std::string& url) {
  samples::StoreFlags flags;
  flags.redis_url = url;
  flags.connection = test::test_connection_options();
  flags.pool_connections = 2;
  return flags;
}

// The first line a server answers to `command` on a connection that never authenticated.
std::string raw_reply(int port, const std::string& command) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  timeval timeout{2, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::write(fd, command.data(), command.size()) == static_cast<ssize_t>(command.size()));
  std::string reply;
  char c = 0;
  while (::read(fd, &c, 1) == 1 && c != '\n') reply.push_back(c);
  ::close(fd);
  return reply;
}

void check_no_secret(const std::string& text) {
  INFO(text);
  CHECK(text.find(kPassword) == std::string::npos);
}

}  // namespace

TEST_CASE("secret file: content trimmed, clear errors without the content", "[secrets]") {
  const auto dir = test::temp_dir("secret-file");
  const auto file = write_file(dir / "pw", "  \n\t" + kPassword + " \r\n\n", kPrivate);
  CHECK(samples::read_secret_file(file.string(), "Redis password file", "prog") == kPassword);

  auto error_of = [](const fs::path& path) {
    try {
      samples::read_secret_file(path.string(), "Redis password file", "prog");
    } catch (const ConfigurationError& e) {
      return std::string(e.what());
    }
    FAIL("no ConfigurationError for " << path);
    return std::string();
  };
  const auto missing = error_of(dir / "missing");
  CHECK(missing.find("cannot read the Redis password file") != std::string::npos);
  CHECK(missing.find("missing") != std::string::npos);
  CHECK(error_of(write_file(dir / "blank", " \n\t\n", kPrivate)).find("is empty") !=
        std::string::npos);
  CHECK(error_of(dir).find("not a regular file") != std::string::npos);

  // A cipher key that is not base64: the error does not repeat the file's content.
  const auto bad_key = write_file(dir / "bad-key", kPassword + "!!", kPrivate);
  samples::StoreFlags flags;
  flags.cipher_key_file = bad_key.string();
  auto bad = capture_stderr([&] { samples::load_cipher(flags, "prog"); });
  REQUIRE(bad.error);
  check_no_secret(*bad.error);
}

TEST_CASE("secret file: one warning when group or others may access it", "[secrets]") {
  const auto dir = test::temp_dir("secret-mode");
  const auto shared = write_file(dir / "shared-pw", kPassword + "\n", kWorldReadable);
  const auto writable =
      write_file(dir / "writable-pw", kPassword + "\n", kPrivate | fs::perms::group_write);
  const auto own = write_file(dir / "own-pw", kPassword + "\n", kPrivate);

  auto first = capture_stderr(
      [&] { samples::read_secret_file(shared.string(), "Redis password file", "prog"); });
  CHECK_FALSE(first.error);
  CHECK(first.err == "prog: warning: the Redis password file '" + shared.string() +
                         "' is readable or writable by others (chmod 600 it)\n");
  // Read again (a retried start): no second warning.
  auto again = capture_stderr(
      [&] { samples::read_secret_file(shared.string(), "Redis password file", "prog"); });
  CHECK(again.err.empty());

  auto group = capture_stderr(
      [&] { samples::read_secret_file(writable.string(), "Redis password file", "prog"); });
  CHECK(group.err.find("warning") != std::string::npos);
  check_no_secret(group.err);

  auto quiet = capture_stderr(
      [&] { samples::read_secret_file(own.string(), "Redis password file", "prog"); });
  CHECK_FALSE(quiet.error);
  CHECK(quiet.err.empty());
}

TEST_CASE("cipher key file: a warning for 0644, none for 0600", "[secrets]") {
  const auto dir = test::temp_dir("cipher-key");
  const std::string key = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";  // 32 bytes
  samples::StoreFlags flags;
  flags.cipher_key_file = write_file(dir / "open.key", key + "\n", kWorldReadable).string();
  auto open = capture_stderr([&] { CHECK(samples::load_cipher(flags, "prog") != nullptr); });
  CHECK_FALSE(open.error);
  CHECK(open.err.find("prog: warning: the cipher key file '" + flags.cipher_key_file +
                      "' is readable or writable by others") == 0);
  CHECK(open.err.find(key) == std::string::npos);

  flags.cipher_key_file = write_file(dir / "own.key", key + "\n", kPrivate).string();
  auto own = capture_stderr([&] { CHECK(samples::load_cipher(flags, "prog") != nullptr); });
  CHECK_FALSE(own.error);
  CHECK(own.err.empty());
}

TEST_CASE("store flags: a URL password besides a file or REDIS_PASSWORD is refused", "[secrets]") {
  ScopedEnv no_env(samples::kRedisPasswordVariable, nullptr);
  const auto dir = test::temp_dir("flags");
  const auto file = write_file(dir / "pw", kPassword, kPrivate);

  auto refused = [](const samples::StoreFlags& flags, const std::string& naming) {
    try {
      samples::check_store_flags(flags);
      FAIL("accepted");
    } catch (const ConfigurationError& e) {
      const std::string message = e.what();
      INFO(message);
      CHECK(message.find(naming) != std::string::npos);
      check_no_secret(message);
    }
  };
  auto with_url_password = flags_for("redis://:" + kPassword + "@127.0.0.1:6000");
  samples::check_store_flags(with_url_password);  // alone it is fine

  auto both = with_url_password;
  both.redis_password_file = file.string();
  refused(both, "--redis-password-file");
  {
    ScopedEnv env(samples::kRedisPasswordVariable, "from-the-environment");
    refused(with_url_password, "REDIS_PASSWORD");
    // Without a password in the URL the environment's is used.
    samples::check_store_flags(flags_for("redis://127.0.0.1:6000"));
  }
  auto memory = flags_for("");
  memory.store = "memory";
  memory.redis_password_file = file.string();
  refused(memory, "--store memory");
}

TEST_CASE("open_stores: the password from a file or REDIS_PASSWORD, never shown",
          "[secrets][redis]") {
  ScopedEnv no_env(samples::kRedisPasswordVariable, nullptr);
  auto& server = protected_server();
  const auto dir = test::temp_dir("open-stores");
  auto flags = flags_for(plain_url(server));

  SECTION("from a file") {
    flags.redis_password_file = write_file(dir / "pw", kPassword + "\n", kPrivate).string();
    auto out = capture_stderr([&] {
      auto setup = samples::open_stores(flags, "prog");
      CHECK(setup.description ==
            "redis at redis://:***@127.0.0.1:" + std::to_string(server.port()));
      CHECK((*setup.pool->acquire()).command({"PING"}).str() == "PONG");
    });
    CHECK_FALSE(out.error);
    CHECK(out.err.empty());
  }
  SECTION("from REDIS_PASSWORD") {
    ScopedEnv env(samples::kRedisPasswordVariable, kPassword.c_str());
    auto setup = samples::open_stores(flags, "prog");
    check_no_secret(setup.description);
    CHECK((*setup.pool->acquire()).command({"PING"}).str() == "PONG");
  }
  SECTION("the file wins over REDIS_PASSWORD") {
    ScopedEnv env(samples::kRedisPasswordVariable, "not-the-password");
    flags.redis_password_file = write_file(dir / "pw2", kPassword, kPrivate).string();
    auto setup = samples::open_stores(flags, "prog");
    CHECK((*setup.pool->acquire()).command({"PING"}).str() == "PONG");
  }
  SECTION("a wrong one is a ConfigurationError at once, without either password") {
    flags.redis_password_file = write_file(dir / "wrong", "wrong-Pony-77\n", kPrivate).string();
    auto out = capture_stderr([&] { samples::open_stores(flags, "prog"); });
    REQUIRE(out.error);
    INFO(*out.error);
    CHECK(out.error->find("authentication failed") != std::string::npos);
    CHECK(out.error->find("wrong-Pony-77") == std::string::npos);
    check_no_secret(*out.error);
    CHECK_THROWS_AS(samples::open_stores(flags, "prog"), ConfigurationError);
  }
  SECTION("none: the server's refusal") {
    CHECK_THROWS_AS(samples::open_stores(flags, "prog"), ConfigurationError);
  }
}

TEST_CASE("open_stores: the private redis-server gets a random password", "[secrets][redis]") {
  ScopedEnv no_env(samples::kRedisPasswordVariable, nullptr);
  const auto dir = test::temp_dir("private");
  auto flags = flags_for("");
  flags.data_dir = dir.string();

  auto setup = samples::open_stores(flags, "prog");
  REQUIRE(setup.server);
  const auto password = setup.server->redis_url().password;
  CHECK(password.size() == 64);
  CHECK(password.find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(setup.description.find(password) == std::string::npos);
  CHECK(setup.description.find("private redis-server on 127.0.0.1:" +
                               std::to_string(setup.server->port())) == 0);
  CHECK((*setup.pool->acquire()).command({"PING"}).str() == "PONG");

  // Another local user, without the password, can neither read nor write.
  const int port = setup.server->port();
  CHECK(raw_reply(port, "PING\r\n").rfind("-NOAUTH", 0) == 0);
  CHECK(raw_reply(port, "SET intruder 1\r\n").rfind("-NOAUTH", 0) == 0);
  RedisUrl anonymous;
  anonymous.host = "127.0.0.1";
  anonymous.port = port;
  RedisConnection connection(anonymous, test::test_connection_options());
  CHECK_THROWS_AS(connection.command({"PING"}), ConfigurationError);
  // Nor read its files.
  struct stat info {};
  REQUIRE(::stat(setup.server->data_dir().c_str(), &info) == 0);
  CHECK((info.st_mode & 077) == 0);

  // Another start draws another password.
  auto other_flags = flags;
  other_flags.data_dir = test::temp_dir("private-2").string();
  auto other = samples::open_stores(other_flags, "prog");
  CHECK(other.server->redis_url().password != password);
}

TEST_CASE("open_stores: a password file without --redis is the private server's",
          "[secrets][redis]") {
  ScopedEnv no_env(samples::kRedisPasswordVariable, nullptr);
  const auto dir = test::temp_dir("private-chosen");
  auto flags = flags_for("");
  flags.data_dir = (dir / "data").string();
  flags.redis_password_file = write_file(dir / "pw", kPassword + "\n", kPrivate).string();
  auto setup = samples::open_stores(flags, "prog");
  REQUIRE(setup.server);
  check_no_secret(setup.description);
  RedisUrl url;
  url.host = "127.0.0.1";
  url.port = setup.server->port();
  url.password = kPassword;
  RedisConnection connection(url, test::test_connection_options());
  CHECK(connection.command({"PING"}).str() == "PONG");
  CHECK(raw_reply(setup.server->port(), "PING\r\n").rfind("-NOAUTH", 0) == 0);
}
