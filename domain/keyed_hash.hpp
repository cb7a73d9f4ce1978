// Why: read models must be searchable by a value (e.g. a name) without holding that
// value in clear when events are encrypted. A keyed hash (HMAC-SHA256) under a key derived
// from the cipher key (HKDF-SHA256, RFC 5869) gives equal tokens for equal values and
// reveals nothing without the key. Keys are wiped when they go and never logged.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

namespace es {

class AesGcmCipher;

// HMAC-SHA256(key, data): 32 raw bytes. Thread-safe.
std::array<unsigned char, 32> hmac_sha256(std::string_view key, std::string_view data);

// HKDF-SHA256 (RFC 5869) with an empty salt: `length` (1..255*32) raw bytes of key material
// for the purpose named by `info`, from the input key material `ikm`.
std::string hkdf_sha256(std::string_view ikm, std::string_view info, std::size_t length = 32);

// Tokens of index values: lowercase hex (64 characters) of HMAC-SHA256 under a key derived
// for one purpose (`label`) from the cipher's key, or, without a cipher, from an empty key
// (then the token is only a fixed-key hash: nothing is secret anyway when events are stored
// in clear, and the token keeps arbitrary text out of Redis key names and members).
class IndexTokenizer {
 public:
  // cipher may be null; the label separates uses ("es/projection/example/foo/v1").
  IndexTokenizer(const AesGcmCipher* cipher, std::string_view label);
  IndexTokenizer(const IndexTokenizer& other) = default;
  IndexTokenizer& operator=(const IndexTokenizer& other) = delete;  // would leave key bytes behind
  ~IndexTokenizer();

  std::string token(std::string_view value) const;
  bool keyed() const { return keyed_; }

 private:
  std::string key_;  // 32 derived bytes
  bool keyed_ = false;
};

}  // namespace es
