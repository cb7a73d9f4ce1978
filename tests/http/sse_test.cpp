// Why: GET /notifications/stream (server-sent events, docs/OPERATIONS.md, "Event browser") end to
// end against the real server: new log items arrive within 2 s with the item JSON of GET
// /notifications, a stream resumes with Last-Event-ID or ?start, bad requests get JSON
// errors, heartbeats keep a stream open past the idle timeout, and a stream ends cleanly
// (terminating chunk) when the server shuts down. Also the event browser's own routes
// (/ui/, its files, /ui/api/examples, /cluster/locate/<id>). The stream is read with a raw
// socket and a hand-written chunk and event parser, independent of the server's code.
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

#include <chrono>
#include <cstring>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace es::test;
namespace json = boost::json;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

struct SseEvent {
  std::string id;
  std::string data;
};

// One streamed response read from a raw socket: the head, then the chunked body, parsed
// into events (blank-line separated; "id:" and "data:" fields, ':' comments counted).
class SseClient {
 public:
  SseClient(int port, const std::string& target,
            const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw std::runtime_error("socket");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      throw std::runtime_error("connect");
    }
    std::string request =
        "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + "Accept: text/event-stream\r\n";
    for (const auto& [k, v] : headers) request += k + ": " + v + "\r\n";
    request += "\r\n";
    if (::send(fd_, request.data(), request.size(), MSG_NOSIGNAL) !=
        static_cast<ssize_t>(request.size())) {
      throw std::runtime_error("send");
    }
    // The head.
    const auto deadline = Clock::now() + 5s;
    while (raw_.find("\r\n\r\n") == std::string::npos) {
      if (!fill(deadline)) throw std::runtime_error("no response head within 5 s: " + raw_);
    }
    const auto end = raw_.find("\r\n\r\n");
    head_ = raw_.substr(0, end);
    raw_.erase(0, end + 4);
    status_ = std::stoi(head_.substr(9, 3));
    chunked_ = lower(head_).find("transfer-encoding: chunked") != std::string::npos;
    if (!chunked_) {
      // An error answer with a Content-Length: read it whole.
      const auto at = lower(head_).find("content-length: ");
      if (at != std::string::npos) {
        const auto length = std::stoul(head_.substr(at + 16));
        while (raw_.size() < length && fill(deadline)) {
        }
        body_ = raw_.substr(0, length);
      }
    }
  }
  ~SseClient() {
    if (fd_ >= 0) ::close(fd_);
  }
  SseClient(const SseClient&) = delete;
  SseClient& operator=(const SseClient&) = delete;

  int status() const { return status_; }
  std::string header_text() const { return lower(head_); }
  const std::string& error_body() const { return body_; }
  int comments() const { return comments_; }
  bool finished() const { return finished_; }

  // The next event, or nothing when none came within `timeout` (or the stream ended).
  std::optional<SseEvent> next(std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (true) {
      decode();
      auto event = take_event();
      if (event) return event;
      if (finished_ || closed_) return std::nullopt;
      if (!fill(deadline)) return std::nullopt;
    }
  }

  // Reads until the stream ends (terminating chunk, then the close); false on timeout.
  bool wait_end(std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (!closed_) {
      decode();
      while (take_event()) {
      }
      if (!fill(deadline) && !closed_) return false;
    }
    decode();
    return finished_;
  }

  // Reads for `duration`, counting comments (heartbeats); false when the stream closed.
  bool stay(std::chrono::milliseconds duration) {
    const auto deadline = Clock::now() + duration;
    while (Clock::now() < deadline) {
      decode();
      while (take_event()) {
      }
      if (closed_) return false;
      fill(deadline);
    }
    return !closed_;
  }

 private:
  static std::string lower(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  }

  bool fill(Clock::time_point deadline) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0 || closed_) return false;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    char buf[4096];
    const auto n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) {
      closed_ = true;
      return false;
    }
    raw_.append(buf, static_cast<std::size_t>(n));
    return true;
  }

  // Moves complete chunks of raw_ into body_.
  void decode() {
    while (chunked_ && !finished_) {
      const auto line_end = raw_.find("\r\n");
      if (line_end == std::string::npos) return;
      const auto size = std::stoul(raw_.substr(0, line_end), nullptr, 16);
      if (raw_.size() < line_end + 2 + size + 2) return;
      if (size == 0) {
        finished_ = true;
        raw_.erase(0, line_end + 4);
        return;
      }
      REQUIRE(raw_.substr(line_end + 2 + size, 2) == "\r\n");
      body_ += raw_.substr(line_end + 2, size);
      raw_.erase(0, line_end + 2 + size + 2);
    }
  }

  std::optional<SseEvent> take_event() {
    while (true) {
      const auto end = body_.find("\n\n");
      if (end == std::string::npos) return std::nullopt;
      const std::string block = body_.substr(0, end);
      body_.erase(0, end + 2);
      SseEvent event;
      bool any = false;
      std::size_t start = 0;
      while (start <= block.size()) {
        auto nl = block.find('\n', start);
        if (nl == std::string::npos) nl = block.size();
        const auto line = block.substr(start, nl - start);
        start = nl + 1;
        if (line.empty()) continue;
        if (line[0] == ':') {
          ++comments_;
        } else if (line.rfind("id: ", 0) == 0) {
          event.id = line.substr(4);
        } else if (line.rfind("data: ", 0) == 0) {
          event.data += line.substr(6);
          any = true;
        }
      }
      if (any) return event;
    }
  }

  int fd_ = -1;
  std::string raw_, head_, body_;
  int status_ = 0;
  bool chunked_ = false;
  bool finished_ = false;
  bool closed_ = false;
  int comments_ = 0;
};

int partition_of(const std::string& id, int partitions) {
  return static_cast<int>(std::stoul(id.substr(0, 8), nullptr, 16) %
                          static_cast<unsigned>(partitions));
}

// The item of GET /notifications at `position` of `partition`, as text.
std::string notification_item(HttpClient& client, int partition, const std::string& position) {
  auto r = client.get("/notifications?partition=" + std::to_string(partition) +
                      "&start=" + position + "&limit=1");
  REQUIRE(r.status == 200);
  const auto items = r.json().at("items").as_array();
  REQUIRE(items.size() == 1);
  return json::serialize(items[0]);
}

}  // namespace

TEST_CASE("notification stream: new items within 2 s and resumed with Last-Event-ID or start",
          "[http][sse]") {
  redis_command({"FLUSHALL"});
  auto server = start_server();
  HttpClient client(server->port());
  const int partitions = 16;
  // One stream per partition, from the log's current end (nothing before it is sent).
  std::vector<std::unique_ptr<SseClient>> streams;
  for (int p = 0; p < partitions; ++p) {
    streams.push_back(std::make_unique<SseClient>(
        server->port(), "/notifications/stream?partition=" + std::to_string(p)));
    REQUIRE(streams.back()->status() == 200);
    CHECK(streams.back()->header_text().find("content-type: text/event-stream") !=
          std::string::npos);
  }
  auto created = client.post("/examples", R"({"foo": "tail me"})");
  const auto t0 = Clock::now();
  REQUIRE(created.status == 201);
  const auto id = id_of(created);
  const int p = partition_of(id, partitions);
  auto& stream = *streams[static_cast<std::size_t>(p)];
  auto first = stream.next(2000ms);
  REQUIRE(first);
  CHECK(Clock::now() - t0 < 2s);
  const auto item = json::parse(first->data).as_object();
  CHECK(item.at("id").as_string() == id);
  CHECK(item.at("version").as_int64() == 0);
  CHECK(item.at("topic").as_string() == "example.Example.Created");
  CHECK(std::to_string(item.at("position").as_int64()) == first->id);
  // Byte for byte the item of GET /notifications.
  CHECK(first->data == notification_item(client, p, first->id));

  REQUIRE(client.patch("/examples/" + id, R"({"a": 1, "b": 2})").status == 200);
  const auto t1 = Clock::now();
  auto second = stream.next(2000ms);
  auto third = stream.next(2000ms);
  REQUIRE(second);
  REQUIRE(third);
  CHECK(Clock::now() - t1 < 2s);
  CHECK(json::parse(second->data).at("version").as_int64() == 1);
  CHECK(json::parse(third->data).at("version").as_int64() == 2);
  CHECK(std::stoll(third->id) == std::stoll(first->id) + 2);
  // The other partitions saw nothing of it.
  for (int q = 0; q < partitions; ++q) {
    if (q != p) CHECK_FALSE(streams[static_cast<std::size_t>(q)]->next(10ms));
  }

  SECTION("Last-Event-ID resumes after that position, and wins over ?start") {
    SseClient resumed(server->port(),
                      "/notifications/stream?partition=" + std::to_string(p) + "&start=1",
                      {{"Last-Event-ID", first->id}});
    REQUIRE(resumed.status() == 200);
    auto next = resumed.next(2000ms);
    REQUIRE(next);
    CHECK(next->id == second->id);
    CHECK(next->data == second->data);
  }
  SECTION("?start replays from that position") {
    SseClient replay(server->port(), "/notifications/stream?partition=" + std::to_string(p) +
                                         "&start=" + first->id);
    REQUIRE(replay.status() == 200);
    std::vector<std::string> ids;
    for (int i = 0; i < 3; ++i) {
      auto e = replay.next(2000ms);
      REQUIRE(e);
      ids.push_back(e->id);
    }
    CHECK(ids == std::vector<std::string>{first->id, second->id, third->id});
    CHECK_FALSE(replay.next(300ms));  // and then waits for more
  }
}

TEST_CASE("notification stream: bad requests answer JSON errors", "[http][sse]") {
  auto server = start_server();
  HttpClient client(server->port());
  for (const std::string target :
       {"/notifications/stream?partition=16", "/notifications/stream",
        "/notifications/stream?partition=-1", "/notifications/stream?partition=x",
        "/notifications/stream?partition=0&start=0", "/notifications/stream?partition=0&foo=1",
        "/notifications/stream?partition=0&partition=1"}) {
    INFO(target);
    auto r = client.get(target);
    CHECK(r.status == 400);
    CHECK(r.header("content-type").find("application/json") != std::string::npos);
    CHECK(r.json().at("error").is_string());
  }
  auto bad_id =
      client.request("GET", "/notifications/stream?partition=0", "", {{"Last-Event-ID", "abc"}});
  CHECK(bad_id.status == 400);
  CHECK(bad_id.json().at("error").is_string());
  CHECK(client.request("POST", "/notifications/stream?partition=0").status == 405);
  // The server still serves, and a good stream still opens.
  SseClient ok(server->port(), "/notifications/stream?partition=0");
  CHECK(ok.status() == 200);
}

TEST_CASE("notification stream: heartbeats keep it open past the idle timeout and shutdown ends it",
          "[http][sse]") {
  auto server = start_server({"--idle-timeout", "1"});
  SseClient stream(server->port(), "/notifications/stream?partition=3");
  REQUIRE(stream.status() == 200);
  // Heartbeats come at least every half idle timeout: 3 s later it is still open.
  REQUIRE(stream.stay(3000ms));
  CHECK(stream.comments() >= 1 + 4);  // the opening comment, then a heartbeat per 0.5 s
  // (limits_test.cpp shows the same server closing a plain connection idle for 1 s.)

  const auto t0 = Clock::now();
  ::kill(server->pid(), SIGTERM);
  CHECK(stream.wait_end(5000ms));  // terminating chunk, then the close
  CHECK(stream.finished());
  CHECK(server->stop(15, 10s) == 0);
  CHECK(Clock::now() - t0 < 10s);
}

TEST_CASE("event browser: the page and its files and the examples list and locate", "[http][ui]") {
  redis_command({"FLUSHALL"});
  auto server = start_server();
  HttpClient client(server->port());
  auto page = client.get("/ui/");
  REQUIRE(page.status == 200);
  CHECK(page.header("content-type").rfind("text/html", 0) == 0);
  CHECK(page.body.find("Event browser") != std::string::npos);
  CHECK(page.header("content-security-policy").find("default-src 'self'") != std::string::npos);
  CHECK(client.get("/ui").status == 308);
  CHECK(client.get("/ui").header("location") == "/ui/");
  for (const std::string file : {"app.js", "jcs.js", "style.css"}) {
    auto r = client.get("/ui/" + file);
    CHECK(r.status == 200);
    CHECK(r.body.size() > 100);
  }
  CHECK(client.get("/ui/app.js").header("content-type").rfind("text/javascript", 0) == 0);
  auto missing = client.get("/ui/nothing.js");
  CHECK(missing.status == 404);
  CHECK(missing.json().at("error").is_string());

  std::set<std::string> created;
  for (int i = 0; i < 7; ++i) created.insert(id_of(client.post("/examples", "{}")));
  const auto node = std::string(client.get("/cluster").json().at("node").as_string());
  // Paged with limit=2 through `next`: every created id is listed, each with its node.
  std::set<std::string> listed;
  std::string cursor;
  for (int pages = 0; pages < 100; ++pages) {
    auto r = client.get("/ui/api/examples?limit=2" + (cursor.empty() ? "" : "&cursor=" + cursor));
    REQUIRE(r.status == 200);
    const auto body = r.json().as_object();
    for (const auto& e : body.at("examples").as_array()) {
      listed.insert(std::string(e.at("id").as_string()));
      CHECK(e.at("node").as_string() == node);
    }
    if (body.at("next").is_null()) break;
    cursor = std::string(body.at("next").as_string());
  }
  CHECK(listed == created);
  CHECK(client.get("/ui/api/examples?cursor=abc").status == 400);
  CHECK(client.get("/ui/api/examples?limit=0").status == 400);
  CHECK(client.get("/ui/api/examples?limit=101").status == 400);
  CHECK(client.get("/ui/api/examples?what=1").status == 400);

  const auto id = *created.begin();
  auto located = client.get("/cluster/locate/" + id);
  REQUIRE(located.status == 200);
  CHECK(located.json().at("id").as_string() == id);
  CHECK(located.json().at("node").as_string() == node);
  CHECK(client.get("/cluster/locate/not-a-uuid").status == 400);
}

TEST_CASE("notification stream: counts under --max-connections and frees its place on close",
          "[http][sse]") {
  auto server = start_server({"--max-connections", "2"});
  {
    SseClient a(server->port(), "/notifications/stream?partition=0");
    SseClient b(server->port(), "/notifications/stream?partition=1");
    REQUIRE(a.status() == 200);
    REQUIRE(b.status() == 200);
    // Two streams hold the cap: a third connection is refused as any connection would be.
    SseClient c(server->port(), "/notifications/stream?partition=2");
    CHECK(c.status() == 503);
  }
  // Both clients closed: their places are free again (the server notices at once).
  CHECK(eventually(
      [&] {
        try {
          SseClient again(server->port(), "/notifications/stream?partition=2");
          return again.status() == 200;
        } catch (const std::exception&) {
          return false;
        }
      },
      5s));
  HttpClient client(server->port());
  CHECK(client.get("/healthz").status == 200);
}

TEST_CASE("notification stream: heartbeats go on while Redis is frozen and items follow after",
          "[http][sse][resilience]") {
  auto& redis = redis_server();
  auto server = start_server({"--idle-timeout", "2"});  // a heartbeat at least every second
  HttpClient client(server->port(), 20s);
  const auto id = id_of(client.post("/examples", "{}"));
  SseClient stream(server->port(),
                   "/notifications/stream?partition=" + std::to_string(partition_of(id, 16)));
  REQUIRE(stream.status() == 200);
  REQUIRE(::kill(redis.pid(), SIGSTOP) == 0);
  struct Resume {  // resumes Redis whatever happens below
    pid_t pid;
    ~Resume() { ::kill(pid, SIGCONT); }
  } resume{redis.pid()};
  const int before = stream.comments();
  // The poller's reads hang on the frozen store; the heartbeats do not wait for them.
  // (A read waits up to the store's 2 s command timeout: heartbeats sent between reads would
  // come every 2 s or more, about two in this time.)
  CHECK(stream.stay(4500ms));
  CHECK(stream.comments() - before >= 3);
  ::kill(redis.pid(), SIGCONT);
  // A new connection: the old one was closed by the 2 s idle timeout meanwhile.
  HttpClient after(server->port(), 20s);
  CHECK(
      eventually([&] { return after.patch("/examples/" + id, R"({"a": 1})").status == 200; }, 20s));
  auto item = stream.next(5000ms);
  REQUIRE(item);
  CHECK(json::parse(item->data).at("id").as_string() == id);
  CHECK(json::parse(item->data).at("version").as_int64() >= 1);
}
