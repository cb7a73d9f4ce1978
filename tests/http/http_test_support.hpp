// Why: the HTTP suite tests the real program: it starts build/bin/example-server as a child
// process (fork/exec, PDEATHSIG so it never outlives the test), reads its start-up line,
// talks to it over loopback with a small Beast client, and inspects Redis with raw commands,
// never through the code under test. Helpers live here, beside the suite (tests/support/
// is compiled into every suite, and the others do not need Beast).
#pragma once

#include <boost/json/value.hpp>

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace es::test {

// A running example-server. The constructor waits (up to 30 s) for the `listening on` line
// and checks its exact form; the destructor kills a server that is still running.
class ServerProcess {
 public:
  // Arguments after `--http 127.0.0.1:0`. stderr goes to a file (the access log).
  explicit ServerProcess(std::vector<std::string> args);
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  const std::string& listening_line() const { return line_; }
  // Sends `signal` and waits for the exit; the exit status, or 128 + signal when killed,
  // or -1 when it did not end within `timeout` (it is then killed).
  int stop(int signal = 15, std::chrono::milliseconds timeout = std::chrono::seconds(30));
  bool running();
  std::string stderr_text() const;

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  int stdout_fd_ = -1;
  std::string line_;
  std::filesystem::path stderr_path_;
};

// A server on the test's private Redis (`--redis <url>`), with `--quiet` unless `log`.
std::unique_ptr<ServerProcess> start_server(const std::vector<std::string>& extra = {},
                                            bool log = false);

// Runs the server binary with `args`, waits for its end (at most 30 s); exit status and output.
struct ProgramResult {
  int status = -1;
  std::string out, err;
};
ProgramResult run_server_program(const std::vector<std::string>& args);

struct HttpResponse {
  unsigned status = 0;
  std::map<std::string, std::string> headers;  // lowercase names; repeated ones joined by ", "
  std::string body;
  double seconds = 0;  // request written to response read
  bool keep_alive = true;
  std::string header(const std::string& lowercase_name) const;
  bool has_header(const std::string& lowercase_name) const;
  boost::json::value json() const;  // throws when the body is not JSON
};

// A keep-alive HTTP/1.1 client for one server (not thread-safe: one per thread). Every
// operation has a deadline (`timeout`); a failure throws std::runtime_error.
class HttpClient {
 public:
  explicit HttpClient(int port, std::chrono::milliseconds timeout = std::chrono::seconds(30));
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  HttpResponse request(const std::string& method, const std::string& target,
                       const std::string& body = "",
                       const std::vector<std::pair<std::string, std::string>>& headers = {},
                       unsigned version = 11);
  HttpResponse get(const std::string& target) { return request("GET", target); }
  HttpResponse post(const std::string& target, const std::string& body = "") {
    return request("POST", target, body);
  }
  HttpResponse patch(const std::string& target, const std::string& body) {
    return request("PATCH", target, body);
  }
  HttpResponse del(const std::string& target) { return request("DELETE", target); }
  // Sends these bytes as they are on a fresh connection and reads one response.
  HttpResponse raw(const std::string& bytes);
  // The same, reading `count` responses (pipelined requests).
  std::vector<HttpResponse> raw_many(const std::string& bytes, std::size_t count);
  void disconnect();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// ---- Redis, inspected with raw commands ----

std::string redis_url();  // the test's private redis-server
std::vector<std::string> redis_command(const std::vector<std::string>& args);  // flat strings
std::vector<std::string> redis_keys(const std::string& pattern = "*");
// The stream key of an entity (the one key ending with ":entity:<id>"); empty when none.
std::string entity_key(const std::string& id);
struct StreamEntry {
  std::string id;
  std::map<std::string, std::string> fields;
};
std::vector<StreamEntry> stream_entries(const std::string& key);
// Every key with its type and size (stream length and last id, hash length, ...): equal
// fingerprints before and after mean nothing was written.
std::map<std::string, std::string> redis_fingerprint();
// The fingerprint once Redis has been still for half a second (at most 20 s): the server's
// projection applies new events a moment after they are acknowledged, and an idle server
// writes nothing, so this is the baseline for "nothing changes" checks.
std::map<std::string, std::string> redis_fingerprint_when_still();
// Every byte stored under every key (names, fields, values), concatenated.
std::string redis_everything();

// ---- misc ----

// Polls `condition` every 20 ms until true or `timeout`; true when it became true.
bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout);
// The id of a created entity from a 201 answer.
std::string id_of(const HttpResponse& created);
std::filesystem::path http_test_dir();  // tests/http in the source tree

}  // namespace es::test
