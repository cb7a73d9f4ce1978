// Why: see http_test_support.hpp.
#include "http_test_support.hpp"

#include "persistence/redis_connection.hpp"
#include "support/redis_fixture.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/parse.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <optional>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>

#ifndef ES_EXAMPLE_SERVER
#error "ES_EXAMPLE_SERVER must name the example-server binary"
#endif
#ifndef ES_HTTP_TEST_DIR
#error "ES_HTTP_TEST_DIR must name tests/http"
#endif

namespace es::test {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// fork + exec with stdout to a pipe and stderr to a file; the child dies with this thread.
pid_t spawn(const std::vector<std::string>& args, int stdout_fd, int stderr_fd) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    // Only async-signal-safe calls from here on.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::dup2(stdout_fd, 1);
    ::dup2(stderr_fd, 2);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  return pid;
}

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

// ---- ServerProcess ----

ServerProcess::ServerProcess(std::vector<std::string> args) {
  auto dir = temp_dir("server");
  stderr_path_ = dir / "stderr.log";
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  int err_fd = ::open(stderr_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (err_fd < 0) throw std::runtime_error("cannot open " + stderr_path_.string());
  std::vector<std::string> all = {ES_EXAMPLE_SERVER, "--http", "127.0.0.1:0"};
  all.insert(all.end(), args.begin(), args.end());
  pid_ = spawn(all, pipe_fds[1], err_fd);
  ::close(pipe_fds[1]);
  ::close(err_fd);
  stdout_fd_ = pipe_fds[0];

  const auto deadline = Clock::now() + std::chrono::seconds(30);
  std::string out;
  while (out.find('\n') == std::string::npos) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) break;
    pollfd p{stdout_fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char buf[256];
    const auto n = ::read(stdout_fd_, buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  const auto newline = out.find('\n');
  if (newline == std::string::npos) {
    stop(SIGKILL, std::chrono::seconds(5));
    throw std::runtime_error("example-server did not start: stdout '" + out + "', stderr '" +
                             stderr_text() + "'");
  }
  line_ = out.substr(0, newline);
  static const std::regex form(R"(^listening on http://127\.0\.0\.1:([0-9]+)$)");
  std::smatch m;
  if (!std::regex_match(line_, m, form)) {
    stop(SIGKILL, std::chrono::seconds(5));
    throw std::runtime_error("unexpected start-up line: '" + line_ + "'");
  }
  port_ = std::stoi(m[1].str());
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0) stop(SIGKILL, std::chrono::seconds(10));
  if (stdout_fd_ >= 0) ::close(stdout_fd_);
}

bool ServerProcess::running() {
  if (pid_ <= 0) return false;
  int status = 0;
  const pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    pid_ = -1;
    return false;
  }
  return true;
}

int ServerProcess::stop(int signal, std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, signal);
  const auto deadline = Clock::now() + timeout;
  int status = 0;
  while (true) {
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      pid_ = -1;
      return decode_status(status);
    }
    if (Clock::now() > deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  return -1;
}

std::string ServerProcess::stderr_text() const {
  return read_file(stderr_path_);
}

std::unique_ptr<ServerProcess> start_server(const std::vector<std::string>& extra, bool log) {
  std::vector<std::string> args = {"--redis", redis_url()};
  if (!log) args.push_back("--quiet");
  args.insert(args.end(), extra.begin(), extra.end());
  return std::make_unique<ServerProcess>(args);
}

ProgramResult run_server_program(const std::vector<std::string>& args) {
  auto dir = temp_dir("program");
  const auto out_path = dir / "stdout";
  const auto err_path = dir / "stderr";
  int out_fd = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  int err_fd = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  std::vector<std::string> all = {ES_EXAMPLE_SERVER};
  all.insert(all.end(), args.begin(), args.end());
  const pid_t pid = spawn(all, out_fd, err_fd);
  ::close(out_fd);
  ::close(err_fd);
  ProgramResult result;
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  int status = 0;
  while (true) {
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      result.status = decode_status(status);
      break;
    }
    if (Clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  result.out = read_file(out_path);
  result.err = read_file(err_path);
  return result;
}

// ---- HttpResponse ----

std::string HttpResponse::header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? std::string() : it->second;
}

bool HttpResponse::has_header(const std::string& name) const {
  return headers.count(name) > 0;
}

boost::json::value HttpResponse::json() const {
  return boost::json::parse(body);
}

// ---- HttpClient ----

struct HttpClient::Impl {
  int port;
  std::chrono::milliseconds timeout;
  net::io_context io;
  std::optional<beast::tcp_stream> stream;
  beast::flat_buffer buffer;

  void run() {
    io.restart();
    io.run();
  }

  void connect() {
    disconnect();
    stream.emplace(io);
    stream->expires_after(timeout);
    beast::error_code ec;
    stream->async_connect(
        tcp::endpoint(net::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)),
        [&](beast::error_code e) { ec = e; });
    run();
    if (ec) {
      disconnect();
      throw std::runtime_error("connect: " + ec.message());
    }
    stream->socket().set_option(tcp::no_delay(true));
    buffer.clear();
  }

  void disconnect() {
    if (stream) {
      beast::error_code ignored;
      stream->socket().close(ignored);
      stream.reset();
    }
    buffer.clear();
  }

  HttpResponse read_response(Clock::time_point started, bool head = false) {
    std::optional<bhttp::response_parser<bhttp::string_body>> parser;
    do {  // interim 1xx answers (100 Continue) are skipped
      parser.emplace();
      parser->body_limit(64u << 20);
      parser->skip(head);
      beast::error_code ec;
      stream->expires_after(timeout);
      bhttp::async_read(*stream, buffer, *parser,
                        [&](beast::error_code e, std::size_t) { ec = e; });
      run();
      if (ec) {
        disconnect();
        throw std::runtime_error("reading the response: " + ec.message());
      }
    } while (parser->get().result_int() / 100 == 1);
    auto res = parser->release();
    HttpResponse out;
    out.seconds = std::chrono::duration<double>(Clock::now() - started).count();
    out.status = res.result_int();
    for (const auto& field : res) {
      std::string name(field.name_string());
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      auto& slot = out.headers[name];
      if (!slot.empty()) slot += ", ";
      slot += std::string(field.value());
    }
    out.body = std::move(res.body());
    out.keep_alive = res.keep_alive();
    if (!out.keep_alive) disconnect();
    return out;
  }
};

HttpClient::HttpClient(int port, std::chrono::milliseconds timeout) : impl_(new Impl) {
  impl_->port = port;
  impl_->timeout = timeout;
}

HttpClient::~HttpClient() {
  impl_->disconnect();
}

void HttpClient::disconnect() {
  impl_->disconnect();
}

HttpResponse HttpClient::request(const std::string& method, const std::string& target,
                                 const std::string& body,
                                 const std::vector<std::pair<std::string, std::string>>& headers,
                                 unsigned version) {
  auto& d = *impl_;
  if (!d.stream || !d.stream->socket().is_open()) d.connect();
  bhttp::request<bhttp::string_body> req;
  const auto verb = bhttp::string_to_verb(method);
  if (verb == bhttp::verb::unknown) {
    req.method_string(method);
  } else {
    req.method(verb);
  }
  req.target(target);
  req.version(version);
  req.set(bhttp::field::host, "127.0.0.1:" + std::to_string(d.port));
  for (const auto& [name, value] : headers) req.insert(name, value);
  req.body() = body;
  req.prepare_payload();
  const auto started = Clock::now();
  beast::error_code ec;
  d.stream->expires_after(d.timeout);
  bhttp::async_write(*d.stream, req, [&](beast::error_code e, std::size_t) { ec = e; });
  d.run();
  if (ec) {
    d.disconnect();
    throw std::runtime_error("writing the request: " + ec.message());
  }
  return d.read_response(started, verb == bhttp::verb::head);
}

HttpResponse HttpClient::raw(const std::string& bytes) {
  return raw_many(bytes, 1).front();
}

std::vector<HttpResponse> HttpClient::raw_many(const std::string& bytes, std::size_t count) {
  auto& d = *impl_;
  d.connect();
  const auto started = Clock::now();
  beast::error_code ec;
  d.stream->expires_after(d.timeout);
  net::async_write(*d.stream, net::buffer(bytes),
                   [&](beast::error_code e, std::size_t) { ec = e; });
  d.run();
  if (ec) {
    d.disconnect();
    throw std::runtime_error("writing raw bytes: " + ec.message());
  }
  std::vector<HttpResponse> out;
  for (std::size_t i = 0; i < count; ++i) out.push_back(d.read_response(started));
  d.disconnect();
  return out;
}

// ---- Redis ----

namespace {

void flatten(const RedisReplyView& reply, std::vector<std::string>& out) {
  switch (reply.kind()) {
    case RedisReplyView::Kind::array:
      for (std::size_t i = 0; i < reply.size(); ++i) flatten(reply[i], out);
      break;
    case RedisReplyView::Kind::integer:
      out.push_back(std::to_string(reply.integer()));
      break;
    case RedisReplyView::Kind::nil:
      out.push_back("(nil)");
      break;
    case RedisReplyView::Kind::error:
      throw std::runtime_error("redis error: " + std::string(reply.str()));
    default:
      out.emplace_back(reply.str());
  }
}

RedisArgs args_of(const std::vector<std::string>& args) {
  RedisArgs a;
  for (const auto& s : args) a.add_copy(s);
  return a;
}

}  // namespace

std::string redis_url() {
  return redis_server().url();
}

std::vector<std::string> redis_command(const std::vector<std::string>& args) {
  auto lease = redis_pool()->acquire();
  auto reply = lease->command(args_of(args));
  std::vector<std::string> out;
  flatten(reply.view(), out);
  return out;
}

std::vector<std::string> redis_keys(const std::string& pattern) {
  std::vector<std::string> keys;
  std::string cursor = "0";
  auto lease = redis_pool()->acquire();
  do {
    auto reply = lease->command(args_of({"SCAN", cursor, "MATCH", pattern, "COUNT", "1000"}));
    if (reply.is_error() || reply.size() != 2) throw std::runtime_error("SCAN failed");
    cursor = std::string(reply[0].str());
    auto batch = reply[1];
    for (std::size_t i = 0; i < batch.size(); ++i) keys.emplace_back(batch[i].str());
  } while (cursor != "0");
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  return keys;
}

std::string entity_key(const std::string& id) {
  auto keys = redis_keys("*:entity:" + id);
  if (keys.empty()) return {};
  if (keys.size() > 1) throw std::runtime_error("more than one stream for " + id);
  return keys.front();
}

std::vector<StreamEntry> stream_entries(const std::string& key) {
  auto lease = redis_pool()->acquire();
  auto reply = lease->command(args_of({"XRANGE", key, "-", "+"}));
  if (reply.is_error()) throw std::runtime_error("XRANGE failed: " + std::string(reply.str()));
  std::vector<StreamEntry> out;
  for (std::size_t i = 0; i < reply.size(); ++i) {
    StreamEntry e;
    e.id = std::string(reply[i][0].str());
    auto fields = reply[i][1];
    for (std::size_t f = 0; f + 1 < fields.size(); f += 2) {
      e.fields[std::string(fields[f].str())] = std::string(fields[f + 1].str());
    }
    out.push_back(std::move(e));
  }
  return out;
}

namespace {

// The contents of a non-stream key, by its type (nothing for a stream or an unknown type).
std::vector<std::string> key_contents(const std::string& key, const std::string& type) {
  if (type == "hash") return redis_command({"HGETALL", key});
  if (type == "string") return redis_command({"GET", key});
  if (type == "list") return redis_command({"LRANGE", key, "0", "-1"});
  if (type == "set") return redis_command({"SMEMBERS", key});
  if (type == "zset") return redis_command({"ZRANGE", key, "0", "-1", "WITHSCORES"});
  return {};
}

}  // namespace

std::map<std::string, std::string> redis_fingerprint() {
  std::map<std::string, std::string> out;
  for (const auto& key : redis_keys()) {
    const auto type = redis_command({"TYPE", key}).at(0);
    std::string print = type + ":";
    std::vector<std::string> parts;
    if (type == "stream") {
      parts = redis_command({"XLEN", key});
      auto last = redis_command({"XREVRANGE", key, "+", "-", "COUNT", "1"});
      if (!last.empty()) parts.push_back(last.front());
    } else {
      parts = key_contents(key, type);
      if (type == "set") std::sort(parts.begin(), parts.end());
    }
    for (const auto& p : parts) print += p + "|";
    out[key] = print;
  }
  return out;
}

std::map<std::string, std::string> redis_fingerprint_when_still() {
  auto print = redis_fingerprint();
  for (int i = 0; i < 40; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    auto again = redis_fingerprint();
    if (again == print) break;
    print = std::move(again);
  }
  return print;
}

std::string redis_everything() {
  std::string out;
  for (const auto& key : redis_keys()) {
    out += key + "\n";
    const auto type = redis_command({"TYPE", key}).at(0);
    const auto parts =
        type == "stream" ? redis_command({"XRANGE", key, "-", "+"}) : key_contents(key, type);
    for (const auto& p : parts) out += p + "\n";
  }
  return out;
}

// ---- misc ----

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (true) {
    if (condition()) return true;
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::string id_of(const HttpResponse& created) {
  return std::string(created.json().at("id").as_string());
}

std::filesystem::path http_test_dir() {
  return ES_HTTP_TEST_DIR;
}

}  // namespace es::test
