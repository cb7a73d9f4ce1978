// Why: one line per request on stderr (method, path, status, microseconds) is what
// operators grep; a write(2) per line would cost more than the request itself at 20k/s, so
// lines are buffered and flushed by a small thread every 100 ms or when 16 KiB pile up. Only
// the path is logged, never the query or the body: no plaintext of event data in logs.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

namespace es::http {

class AccessLog {
 public:
  explicit AccessLog(std::FILE* out = stderr);
  ~AccessLog();  // flushes
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  // "<METHOD> <path> <status> <micros>us"; non-printable bytes of the path become '?'.
  void record(std::string_view method, std::string_view path, unsigned status, std::int64_t micros);
  void flush();

 private:
  void run();
  void write_out(std::string& text);

  std::FILE* out_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::string buffer_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace es::http
