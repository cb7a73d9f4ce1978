// Why: see keyed_hash.hpp. One-shot HMAC() of OpenSSL 3 (not deprecated), HKDF written out
// over it (two HMACs per 32 bytes), so no EVP_KDF setup is needed per call.
#include "domain/keyed_hash.hpp"

#include "domain/cipher.hpp"
#include "domain/errors.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace es {

std::array<unsigned char, 32> hmac_sha256(std::string_view key, std::string_view data) {
  std::array<unsigned char, 32> out{};
  unsigned int length = 0;
  static const unsigned char kEmpty = 0;
  const void* key_bytes = key.empty() ? static_cast<const void*>(&kEmpty) : key.data();
  const auto* data_bytes =
      data.empty() ? &kEmpty : reinterpret_cast<const unsigned char*>(data.data());
  if (HMAC(EVP_sha256(), key_bytes, static_cast<int>(key.size()), data_bytes, data.size(),
           out.data(), &length) == nullptr ||
      length != out.size()) {
    throw Error("hmac-sha256: OpenSSL HMAC failed");
  }
  return out;
}

std::string hkdf_sha256(std::string_view ikm, std::string_view info, std::size_t length) {
  if (length == 0 || length > 255 * 32) throw InvalidInput("hkdf: bad output length");
  // Extract: PRK = HMAC(salt = 32 zero bytes, IKM).
  const std::string salt(32, '\0');
  auto prk = hmac_sha256(salt, ikm);
  const std::string_view prk_view(reinterpret_cast<const char*>(prk.data()), prk.size());
  // Expand: T(i) = HMAC(PRK, T(i-1) | info | i).
  std::string out;
  std::string block;
  std::string input;
  for (unsigned char i = 1; out.size() < length; ++i) {
    input.assign(block);
    input.append(info);
    input.push_back(static_cast<char>(i));
    auto t = hmac_sha256(prk_view, input);
    block.assign(reinterpret_cast<const char*>(t.data()), t.size());
    OPENSSL_cleanse(t.data(), t.size());
    out.append(block, 0, std::min(block.size(), length - out.size()));
  }
  OPENSSL_cleanse(prk.data(), prk.size());
  if (!block.empty()) OPENSSL_cleanse(block.data(), block.size());
  if (!input.empty()) OPENSSL_cleanse(input.data(), input.size());
  return out;
}

IndexTokenizer::IndexTokenizer(const AesGcmCipher* cipher, std::string_view label)
    : key_(cipher != nullptr ? cipher->derive_key(label) : hkdf_sha256({}, label)),
      keyed_(cipher != nullptr) {}

IndexTokenizer::~IndexTokenizer() {
  if (!key_.empty()) OPENSSL_cleanse(key_.data(), key_.size());
}

std::string IndexTokenizer::token(std::string_view value) const {
  auto mac = hmac_sha256(key_, value);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex(64, '\0');
  for (std::size_t i = 0; i < mac.size(); ++i) {
    hex[2 * i] = kHex[mac[i] >> 4];
    hex[2 * i + 1] = kHex[mac[i] & 0xF];
  }
  return hex;
}

}  // namespace es
