// SHA-256 digests (OpenSSL), as used by the event hash chain.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

namespace es {

// Lowercase hex (64 characters) of the SHA-256 digest of `data`. Thread-safe.
std::string sha256_hex(std::string_view data);
// The same digest of the concatenation of `parts`, without building it.
std::string sha256_hex(std::initializer_list<std::string_view> parts);

}  // namespace es
