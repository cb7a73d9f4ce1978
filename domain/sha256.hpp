// SHA-256 digests (OpenSSL), as used by the event hash chain.
#pragma once

#include <string>
#include <string_view>

namespace es {

// Lowercase hex (64 characters) of the SHA-256 digest of `data`. Thread-safe.
std::string sha256_hex(std::string_view data);

}  // namespace es
