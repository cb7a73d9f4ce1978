// Why: the resource bounds of docs/RELIABILITY.md as an outside client meets them: /events
// answers in pages (after, limit, the Link header) that stitch together exactly; the
// connection cap answers a fast 503 and frees its slots when connections close; idle
// connections are closed after --idle-timeout; a client that gives up is not answered; and
// the flags that set these bounds are checked.
#include "http_test_support.hpp"
#include "support/redis_fixture.hpp"

#include <catch2/catch.hpp>

#include <boost/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <optional>
#include <regex>
#include <set>
#include <thread>

using namespace es::test;
using namespace std::chrono_literals;
namespace json = boost::json;
using Clock = std::chrono::steady_clock;

namespace {

void check_json_error(const HttpResponse& r) {
  INFO("status " << r.status << " body " << r.body);
  CHECK(r.header("content-type") == "application/json");
  auto body = r.json();
  REQUIRE(body.is_object());
  REQUIRE(body.as_object().contains("error"));
  CHECK_FALSE(body.at("error").as_string().empty());
}

std::vector<std::int64_t> versions_of(const HttpResponse& r) {
  std::vector<std::int64_t> out;
  const auto body = r.json();
  for (const auto& item : body.as_array()) out.push_back(item.at("version").as_int64());
  return out;
}

std::vector<std::int64_t> range(std::int64_t first, std::int64_t last) {
  std::vector<std::int64_t> out;
  for (auto v = first; v <= last; ++v) out.push_back(v);
  return out;
}

std::string next_link(const std::string& id, std::int64_t after, std::int64_t limit) {
  return "</examples/" + id + "/events?after=" + std::to_string(after) +
         "&limit=" + std::to_string(limit) + ">; rel=\"next\"";
}

// The target of a `Link: <target>; rel="next"` header.
std::string link_target(const HttpResponse& r) {
  static const std::regex form(R"(^<([^>]+)>; rel="next"$)");
  std::smatch m;
  const auto link = r.header("link");
  REQUIRE(std::regex_match(link, m, form));
  return m[1].str();
}

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// A plain loopback socket, for what the keep-alive client hides (the server closing).
class RawConnection {
 public:
  explicit RawConnection(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  }
  ~RawConnection() { close(); }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  void send(const std::string& bytes) {
    REQUIRE(::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
            static_cast<ssize_t>(bytes.size()));
  }
  // Reads until the end of a response with a Content-Length (headers and body), or nothing.
  std::optional<std::string> read_response(std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    std::string in;
    while (true) {
      const auto end = in.find("\r\n\r\n");
      if (end != std::string::npos) {
        static const std::regex length("\r\n[Cc]ontent-[Ll]ength: *([0-9]+)");
        std::smatch m;
        const std::string head = in.substr(0, end);
        const std::size_t body = std::regex_search(head, m, length) ? std::stoul(m[1].str()) : 0;
        if (in.size() >= end + 4 + body) return in;
      }
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) return std::nullopt;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char buf[4096];
      const auto n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return std::nullopt;
      in.append(buf, static_cast<std::size_t>(n));
    }
  }
  // Waits until the server closes the connection (end of stream or reset); false on timeout
  // or when bytes arrive instead.
  bool closed_by_server(std::chrono::milliseconds timeout) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return false;
    char byte = 0;
    return ::recv(fd_, &byte, 1, 0) <= 0;
  }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

const std::string kHealthz = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

}  // namespace

TEST_CASE("/events pages: after, limit, the Link header, bounds and bad values",
          "[http][limits][events]") {
  auto server = start_server();
  HttpClient c(server->port());
  const auto id = id_of(c.post("/examples"));
  const auto path = "/examples/" + id + "/events";
  // Versions 0 (created) to 24.
  REQUIRE(c.request("POST", "/examples/" + id + "/heartbeats", R"({"count": 24})").status == 200);

  auto all = c.get(path);
  REQUIRE(all.status == 200);
  CHECK(all.header("content-type") == "application/json");
  CHECK(versions_of(all) == range(0, 24));
  CHECK_FALSE(all.has_header("link"));

  // Following the Link headers walks every version once.
  auto first = c.get(path + "?limit=10");
  REQUIRE(first.status == 200);
  CHECK(versions_of(first) == range(0, 9));
  CHECK(first.header("link") == next_link(id, 9, 10));
  auto second = c.get(link_target(first));
  REQUIRE(second.status == 200);
  CHECK(versions_of(second) == range(10, 19));
  CHECK(second.header("link") == next_link(id, 19, 10));
  auto last = c.get(link_target(second));
  REQUIRE(last.status == 200);
  CHECK(versions_of(last) == range(20, 24));
  CHECK_FALSE(last.has_header("link"));  // the last page has none

  // after alone, limit alone, both, in either order; a limit of exactly what remains.
  CHECK(versions_of(c.get(path + "?after=0")) == range(1, 24));
  CHECK_FALSE(c.get(path + "?after=0").has_header("link"));
  CHECK(versions_of(c.get(path + "?after=23")) == range(24, 24));
  CHECK(versions_of(c.get(path + "?limit=1")) == range(0, 0));
  CHECK(c.get(path + "?limit=1").header("link") == next_link(id, 0, 1));
  CHECK(versions_of(c.get(path + "?limit=3&after=5")) == range(6, 8));
  CHECK(c.get(path + "?limit=3&after=5").header("link") == next_link(id, 8, 3));
  CHECK(c.get(path + "?after=22&limit=1").header("link") == next_link(id, 23, 1));
  CHECK_FALSE(c.get(path + "?after=23&limit=1").has_header("link"));
  CHECK_FALSE(c.get(path + "?limit=25").has_header("link"));
  CHECK(c.get(path + "?limit=24").header("link") == next_link(id, 23, 24));
  CHECK(versions_of(c.get(path + "?limit=10000")) == range(0, 24));

  // Past the end: an empty page, 200.
  for (const std::string past : {"24", "25", "1000", "9223372036854775807"}) {
    auto r = c.get(path + "?after=" + past);
    INFO("after=" << past);
    CHECK(r.status == 200);
    CHECK(r.body == "[]");
    CHECK_FALSE(r.has_header("link"));
  }

  // The Link names the id in lowercase, whatever the request's case.
  CHECK(c.get("/examples/" + upper(id) + "/events?limit=5").header("link") == next_link(id, 4, 5));
  // Unknown parameters are ignored, as on GET /examples/<id>.
  CHECK(versions_of(c.get(path + "?limit=2&page=7&x")) == range(0, 1));

  // Malformed, out of range or repeated: 400 with a JSON error.
  for (const std::string query : {"limit=0",
                                  "limit=10001",
                                  "limit=-1",
                                  "limit=01",
                                  "limit=+5",
                                  "limit=1.5",
                                  "limit=1e3",
                                  "limit=",
                                  "limit",
                                  "limit=abc",
                                  "limit=%31%30%30%30%31",
                                  "limit=99999999999999999999",
                                  "after=-1",
                                  "after=01",
                                  "after=+1",
                                  "after=1.0",
                                  "after=",
                                  "after",
                                  "after=x",
                                  "after=9223372036854775808",
                                  "after=%zz",
                                  "after=1&after=2",
                                  "after=1&after=1",
                                  "limit=5&limit=5",
                                  "limit=5&after=1&limit=6"}) {
    auto r = c.get(path + "?" + query);
    INFO(query);
    CHECK(r.status == 400);
    check_json_error(r);
  }
  // Percent-encoded digits are digits.
  CHECK(versions_of(c.get(path + "?after=%32%33")) == range(24, 24));

  // An entity without events: 404 whatever the page; a malformed id stays 400.
  const std::string unknown = "00000000-0000-4000-8000-000000000000";
  for (const std::string query : {"", "?after=0", "?after=5&limit=3", "?limit=1"}) {
    auto r = c.get("/examples/" + unknown + "/events" + query);
    INFO(query);
    CHECK(r.status == 404);
    check_json_error(r);
  }
  CHECK(c.get("/examples/not-a-uuid/events?after=0").status == 400);

  // A discarded entity keeps its events, and its pages.
  REQUIRE(c.del("/examples/" + id).status == 204);
  CHECK(versions_of(c.get(path + "?after=20")) == range(21, 25));
  CHECK(c.get(path + "?after=25").body == "[]");
  CHECK(server->stop() == 0);
}

TEST_CASE("/events pages over tens of thousands of events stitch together exactly",
          "[http][limits][events]") {
  auto server = start_server();
  HttpClient c(server->port(), 60s);
  const auto id = id_of(c.post("/examples"));
  const auto path = "/examples/" + id + "/events";
  constexpr std::int64_t kBatches = 3;
  for (int i = 0; i < kBatches; ++i) {
    REQUIRE(c.request("POST", "/examples/" + id + "/heartbeats", R"({"count": 10000})").status ==
            200);
  }
  const std::int64_t last_version = kBatches * 10000;  // version 0 is the creation

  // Pages of an uneven size, then pages of the default size, each by its Link headers.
  for (const auto& start : {path + "?limit=7001", path}) {
    INFO(start);
    std::vector<std::int64_t> seen;
    std::string previous_hash;
    std::string target = start;
    int pages = 0;
    while (true) {
      auto page = c.get(target);
      REQUIRE(page.status == 200);
      ++pages;
      const auto items = page.json().as_array();
      REQUIRE_FALSE(items.empty());
      for (const auto& item : items) {
        if (!seen.empty()) {
          // Contiguous across page boundaries, the chain too.
          REQUIRE(item.at("version").as_int64() == seen.back() + 1);
          REQUIRE(item.at("previous_hash").as_string() == previous_hash);
        }
        seen.push_back(item.at("version").as_int64());
        previous_hash = std::string(item.at("hash").as_string());
      }
      if (!page.has_header("link")) break;
      target = link_target(page);
    }
    CHECK(seen.front() == 0);
    CHECK(seen.back() == last_version);
    CHECK(seen.size() == static_cast<std::size_t>(last_version + 1));
    CHECK(std::set<std::int64_t>(seen.begin(), seen.end()).size() == seen.size());
    CHECK(pages == (start == path ? 4 : 5));
  }
  // One page never holds more than 10,000.
  auto full = c.get(path);
  CHECK(full.json().as_array().size() == 10000);
  CHECK(full.header("link") == next_link(id, 9999, 10000));
  CHECK(server->stop() == 0);
}

TEST_CASE("connection cap: past --max-connections a fast 503, served again once some close",
          "[http][limits][connections]") {
  auto server = start_server({"--max-connections", "20"});
  std::vector<std::unique_ptr<HttpClient>> held;
  for (int i = 0; i < 20; ++i) {
    held.push_back(std::make_unique<HttpClient>(server->port(), 10s));
    REQUIRE(held.back()->get("/healthz").status == 200);
  }

  for (int attempt = 0; attempt < 3; ++attempt) {
    HttpClient extra(server->port(), 10s);
    auto r = extra.get("/healthz");
    CHECK(r.status == 503);
    CHECK(r.seconds < 2.0);
    CHECK_FALSE(r.keep_alive);
    CHECK(r.header("connection") == "close");
    check_json_error(r);
  }
  {
    // The server closes a refused connection itself, without waiting for the client.
    RawConnection raw(server->port());
    raw.send(kHealthz);
    auto answer = raw.read_response(5s);
    REQUIRE(answer);
    CHECK(answer->rfind("HTTP/1.1 503", 0) == 0);
    CHECK(raw.closed_by_server(5s));
  }
  // The connections under the cap are still served.
  for (auto& c : held) CHECK(c->get("/healthz").status == 200);

  // Closing some frees their places (the server notices the close at once).
  for (int i = 0; i < 5; ++i) held[static_cast<std::size_t>(i)]->disconnect();
  CHECK(eventually(
      [&] {
        HttpClient again(server->port(), 10s);
        return again.get("/healthz").status == 200;
      },
      5s));
  std::vector<std::unique_ptr<HttpClient>> more;
  for (int i = 0; i < 5; ++i) {
    more.push_back(std::make_unique<HttpClient>(server->port(), 10s));
    CHECK(more.back()->get("/healthz").status == 200);
  }
  HttpClient over(server->port(), 10s);
  CHECK(over.get("/healthz").status == 503);
  CHECK(server->stop() == 0);
}

TEST_CASE("idle timeout: a connection idle past --idle-timeout is closed by the server",
          "[http][limits][connections]") {
  auto server = start_server({"--idle-timeout", "1"});
  {
    // After a request, kept alive for the idle timeout, then closed.
    RawConnection conn(server->port());
    conn.send(kHealthz);
    auto answer = conn.read_response(10s);
    REQUIRE(answer);
    CHECK(answer->rfind("HTTP/1.1 200", 0) == 0);
    const auto answered = Clock::now();
    CHECK(conn.closed_by_server(10s));
    const auto idle = std::chrono::duration<double>(Clock::now() - answered).count();
    CHECK(idle >= 0.9);  // timers never fire early
    CHECK(idle < 8.0);
  }
  {
    // A connection that never sends anything is closed alike.
    RawConnection silent(server->port());
    CHECK(silent.closed_by_server(10s));
  }
  {
    // Requests within the idle time keep the connection.
    RawConnection busy(server->port());
    for (int i = 0; i < 3; ++i) {
      busy.send(kHealthz);
      auto answer = busy.read_response(10s);
      REQUIRE(answer);
      CHECK(answer->rfind("HTTP/1.1 200", 0) == 0);
      std::this_thread::sleep_for(300ms);
    }
  }
  CHECK(server->stop() == 0);
}

TEST_CASE("a client that closes while its request is handled is not answered",
          "[http][limits][connections]") {
  auto& redis = redis_server();
  auto server = start_server({}, true);
  HttpClient c(server->port(), 20s);
  const auto id = id_of(c.post("/examples"));
  const auto path = "/examples/" + id + "/events";
  REQUIRE(c.get(path).status == 200);

  // With Redis frozen the read waits (up to the 4 s handler deadline); the client leaves
  // long before.
  REQUIRE(::kill(redis.pid(), SIGSTOP) == 0);
  struct Resume {
    pid_t pid;
    ~Resume() { ::kill(pid, SIGCONT); }
  } resume{redis.pid()};
  // One leaves before the server starts watching its connection (it looks a while after a
  // request came), one after.
  for (const auto wait : {50ms, 400ms}) {
    RawConnection leaving(server->port());
    leaving.send("GET " + path + "?limit=5 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    std::this_thread::sleep_for(wait);
  }
  // The access log says 499 (client closed request) for both, well before the deadline.
  const auto abandoned = "GET " + path + " 499 ";
  CHECK(eventually(
      [&] {
        const auto log = server->stderr_text();
        const auto first = log.find(abandoned);
        return first != std::string::npos &&
               log.find(abandoned, first + abandoned.size()) != std::string::npos;
      },
      3s));
  ::kill(redis.pid(), SIGCONT);
  CHECK(eventually([&] { return c.get("/healthz").status == 200; }, 20s));
  CHECK(eventually([&] { return c.get(path).status == 200; }, 20s));
  CHECK(server->stop() == 0);
}

TEST_CASE("flags: --max-connections and --idle-timeout", "[http][limits][flags]") {
  auto help = run_server_program({"--help"});
  CHECK(help.status == 0);
  CHECK(help.out.find("--max-connections") != std::string::npos);
  CHECK(help.out.find("--idle-timeout") != std::string::npos);
  for (const auto& args : {std::vector<std::string>{"--max-connections", "0"},
                           {"--max-connections", "-1"},
                           {"--max-connections", "abc"},
                           {"--max-connections", "1.5"},
                           {"--max-connections", ""},
                           {"--max-connections", "99999999999"},
                           {"--idle-timeout", "0"},
                           {"--idle-timeout", "-1"},
                           {"--idle-timeout", "1.5"},
                           {"--idle-timeout", "x"},
                           {"--idle-timeout", "86401"}}) {
    auto r = run_server_program(args);
    INFO(args[0] << " " << args[1] << ": " << r.err);
    CHECK(r.status == 2);
    CHECK(r.err.find(args[0]) != std::string::npos);
    CHECK(r.out.find("listening") == std::string::npos);
  }
}
