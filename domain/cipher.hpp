// Optional cipher of the stored event format (DESIGN.md "Stored event format"):
//   state = base64( nonce (12 bytes) | GCM tag (16 bytes) | AES-GCM(zlib(plaintext)) )
// standard base64 with padding; zlib format (RFC 1950, what compress2 / Python's zlib.compress
// write and any inflater reads); no AAD. Inputs up to 4 KiB are compressed by a built-in
// fixed-Huffman encoder (zlib's deflate costs ~7 us per small input); larger ones by zlib.
#pragma once

#include <array>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

struct evp_cipher_st;  // OpenSSL's EVP_CIPHER

namespace es {

class AesGcmCipher {
 public:
  static constexpr std::size_t kNonceSize = 12;
  static constexpr std::size_t kTagSize = 16;
  // decrypt() refuses to inflate more than this (zip-bomb guard).
  static constexpr std::size_t kMaxPlaintextSize = std::size_t{64} << 20;

  // key_bytes: 16, 24 or 32 raw bytes -> AES-128/192/256-GCM; otherwise ConfigurationError.
  // The argument is wiped after being copied.
  explicit AesGcmCipher(std::string key_bytes);
  // Base64 of the key; surrounding whitespace (e.g. a trailing newline) is ignored.
  // ConfigurationError on bad base64 or a bad key length (the message never shows the key).
  static AesGcmCipher from_base64_key(std::string_view text);

  AesGcmCipher(const AesGcmCipher& other);
  AesGcmCipher& operator=(const AesGcmCipher& other);
  ~AesGcmCipher();  // wipes the key

  // zlib-compress, encrypt under a fresh random nonce, base64. Thread-safe. InvalidInput for a
  // plaintext over kMaxPlaintextSize.
  std::string encrypt(std::string_view plaintext) const;
  // The inverse; any failure throws es::RecordDecodingError naming the failed step
  // (never the key or the plaintext). Thread-safe.
  std::string decrypt(std::string_view ciphertext_base64) const;

  // 32 bytes of key material for another purpose, derived from this cipher's key with
  // HKDF-SHA256 (RFC 5869; empty salt, info = label), so the cipher key never leaves this
  // object. Different labels give independent keys. Wipe the result after use.
  std::string derive_key(std::string_view label) const;

 private:
  struct ContextPool;  // keyed OpenSSL contexts reused across calls (see cipher.cpp)

  std::array<unsigned char, 32> key_{};    // the first 16, 24 or 32 bytes are used
  std::shared_ptr<evp_cipher_st> cipher_;  // fetched once; immutable, shared between copies
  std::unique_ptr<ContextPool> encrypt_pool_;
  std::unique_ptr<ContextPool> decrypt_pool_;
};

}  // namespace es
