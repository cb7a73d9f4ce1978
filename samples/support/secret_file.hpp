// Why: secrets (the Redis password, the cipher key) are given in files so that they stay out
// of `ps` and shell history; a file other users may read or change defeats that, so every
// program warns about it the same way, and no message ever carries the secret itself.
#pragma once

#include <string>

namespace es::samples {

// The content of a secret file without surrounding whitespace. Warns on stderr, one line
// naming `program`, `what` and the path, when group or others have any access to the file
// (mode & 077), as for the cluster secret file (once per path and process). ConfigurationError
// (naming the file, never its content) when it cannot be read or holds nothing but whitespace.
std::string read_secret_file(const std::string& path, const std::string& what,
                             const std::string& program);

}  // namespace es::samples
