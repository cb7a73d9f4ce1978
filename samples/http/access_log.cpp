// Why: see access_log.hpp.
#include "samples/http/access_log.hpp"

#include <algorithm>

namespace es::http {

namespace {
constexpr std::size_t kFlushBytes = 16 * 1024;
constexpr std::size_t kMaxPath = 256;
}  // namespace

AccessLog::AccessLog(std::FILE* out) : out_(out) {
  buffer_.reserve(2 * kFlushBytes);
  thread_ = std::thread([this] { run(); });
}

AccessLog::~AccessLog() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
  flush();
}

void AccessLog::record(std::string_view method, std::string_view path, unsigned status,
                       std::int64_t micros) {
  std::string line;
  line.reserve(method.size() + std::min(path.size(), kMaxPath) + 32);
  line.append(method.empty() ? std::string_view("-") : method);
  line.push_back(' ');
  if (path.empty()) line.push_back('-');
  for (std::size_t i = 0; i < path.size() && i < kMaxPath; ++i) {
    const char c = path[i];
    line.push_back(c > 0x20 && c < 0x7f ? c : '?');
  }
  if (path.size() > kMaxPath) line += "...";
  line.push_back(' ');
  line += std::to_string(status);
  line.push_back(' ');
  line += std::to_string(micros);
  line += "us\n";
  bool full = false;
  {
    std::lock_guard lock(mutex_);
    buffer_ += line;
    full = buffer_.size() >= kFlushBytes;
  }
  if (full) wake_.notify_one();
}

void AccessLog::flush() {
  std::string text;
  {
    std::lock_guard lock(mutex_);
    text.swap(buffer_);
  }
  write_out(text);
}

void AccessLog::write_out(std::string& text) {
  if (text.empty()) return;
  std::fwrite(text.data(), 1, text.size(), out_);
  std::fflush(out_);
}

void AccessLog::run() {
  std::unique_lock lock(mutex_);
  while (!stop_) {
    wake_.wait_for(lock, std::chrono::milliseconds(100),
                   [&] { return stop_ || buffer_.size() >= kFlushBytes; });
    if (buffer_.empty()) continue;
    std::string text;
    text.swap(buffer_);
    buffer_.reserve(2 * kFlushBytes);
    lock.unlock();
    write_out(text);
    lock.lock();
  }
}

}  // namespace es::http
