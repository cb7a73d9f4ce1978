// Why: see secret_file.hpp.
#include "samples/support/secret_file.hpp"

#include "domain/errors.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <set>

namespace es::samples {
namespace {

// A secret is short; the bound keeps a mistaken path (a device, a log) from being read whole.
constexpr std::size_t kMaxSecretBytes = 64 * 1024;

// A program that reads a file again (a retried start, a check up front) warns once.
bool first_warning(const std::string& path) {
  static std::mutex mutex;
  static std::set<std::string> warned;
  std::lock_guard lock(mutex);
  return warned.insert(path).second;
}

}  // namespace

std::string read_secret_file(const std::string& path, const std::string& what,
                             const std::string& program) {
  const std::string name = "the " + what + " '" + path + "'";
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw ConfigurationError("cannot read " + name + ": " + std::strerror(errno));
  struct stat info {};
  if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    ::close(fd);
    throw ConfigurationError("cannot read " + name + ": not a regular file");
  }
  // The mode of the file actually read, not of whatever the path names by now.
  if ((info.st_mode & 077) != 0 && first_warning(path)) {
    std::fprintf(stderr, "%s%swarning: %s is readable or writable by others (chmod 600 it)\n",
                 program.c_str(), program.empty() ? "" : ": ", name.c_str());
  }
  std::string content;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int error = errno;
      ::close(fd);
      throw ConfigurationError("cannot read " + name + ": " + std::strerror(error));
    }
    if (n == 0) break;
    content.append(buffer, static_cast<std::size_t>(n));
    if (content.size() > kMaxSecretBytes) {
      ::close(fd);
      throw ConfigurationError(name + " is too large for a secret");
    }
  }
  ::close(fd);
  const char* space = " \t\r\n\v\f";
  const auto first = content.find_first_not_of(space);
  if (first == std::string::npos) throw ConfigurationError(name + " is empty");
  const auto last = content.find_last_not_of(space);
  return content.substr(first, last - first + 1);
}

}  // namespace es::samples
