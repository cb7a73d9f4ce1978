#include "domain/cipher.hpp"

#include "domain/base64.hpp"
#include "domain/errors.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <zlib.h>

#include <climits>
#include <optional>

namespace es {
namespace {

// Wipes a string's bytes (used for key material passed in or decoded here).
void cleanse(std::string& s) {
  if (!s.empty()) OPENSSL_cleanse(s.data(), s.size());
}

struct CipherCtxDeleter {
  void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxDeleter>;

const char* gcm_name(std::size_t key_size) {
  switch (key_size) {
    case 16:
      return "AES-128-GCM";
    case 24:
      return "AES-192-GCM";
    case 32:
      return "AES-256-GCM";
    default:
      return nullptr;
  }
}

// One deflate/inflate stream per thread, reset between uses: avoids allocating and zeroing
// zlib's ~270 KiB deflate state for every small event.
struct Deflater {
  z_stream zs{};
  bool ok = false;
  Deflater() { ok = deflateInit(&zs, Z_DEFAULT_COMPRESSION) == Z_OK; }
  ~Deflater() {
    if (ok) deflateEnd(&zs);
  }
  Deflater(const Deflater&) = delete;
  Deflater& operator=(const Deflater&) = delete;
};

struct Inflater {
  z_stream zs{};
  bool ok = false;
  Inflater() { ok = inflateInit(&zs) == Z_OK; }
  ~Inflater() {
    if (ok) inflateEnd(&zs);
  }
  Inflater(const Inflater&) = delete;
  Inflater& operator=(const Inflater&) = delete;
};

// zlib format (RFC 1950), identical to compress2(..., Z_DEFAULT_COMPRESSION).
std::string zlib_compress(std::string_view in) {
  thread_local Deflater d;
  if (!d.ok || deflateReset(&d.zs) != Z_OK || in.size() > UINT_MAX / 2) {
    throw Error("cipher: zlib compression failed");
  }
  std::string out(deflateBound(&d.zs, static_cast<uLong>(in.size())), '\0');
  d.zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  d.zs.avail_in = static_cast<uInt>(in.size());
  d.zs.next_out = reinterpret_cast<Bytef*>(out.data());
  d.zs.avail_out = static_cast<uInt>(out.size());
  if (deflate(&d.zs, Z_FINISH) != Z_STREAM_END) throw Error("cipher: zlib compression failed");
  out.resize(d.zs.total_out);
  return out;
}

// Inflates one complete zlib stream, refusing trailing bytes and outputs over the limit.
std::string zlib_decompress(const unsigned char* in, std::size_t size) {
  thread_local Inflater f;
  if (!f.ok || inflateReset(&f.zs) != Z_OK || size > UINT_MAX) {
    throw RecordDecodingError("cipher: zlib decompression failed");
  }
  constexpr std::size_t kLimit = AesGcmCipher::kMaxPlaintextSize;
  std::string out(std::min<std::size_t>(kLimit + 1, std::max<std::size_t>(4 * size, 256)), '\0');
  f.zs.next_in = const_cast<Bytef*>(in);
  f.zs.avail_in = static_cast<uInt>(size);
  std::size_t produced = 0;
  for (;;) {
    f.zs.next_out = reinterpret_cast<Bytef*>(out.data() + produced);
    f.zs.avail_out = static_cast<uInt>(out.size() - produced);
    const int rc = inflate(&f.zs, Z_NO_FLUSH);
    produced = out.size() - f.zs.avail_out;
    if (produced > kLimit) {
      throw RecordDecodingError("cipher: decompressed data exceeds the size limit");
    }
    if (rc == Z_STREAM_END) break;
    if (rc != Z_OK || f.zs.avail_out != 0) {  // corrupt, or input ended before the stream did
      throw RecordDecodingError("cipher: zlib decompression failed (corrupt or truncated data)");
    }
    out.resize(std::min(kLimit + 1, out.size() * 2));
  }
  if (f.zs.avail_in != 0) {
    throw RecordDecodingError("cipher: zlib decompression failed (trailing data)");
  }
  out.resize(produced);
  return out;
}

}  // namespace

AesGcmCipher::AesGcmCipher(std::string key_bytes) {
  const std::size_t size = key_bytes.size();
  const char* name = gcm_name(size);
  if (name == nullptr) {
    cleanse(key_bytes);
    throw ConfigurationError("cipher: key must be 16, 24 or 32 bytes, got " +
                             std::to_string(size));
  }
  key_.fill(0);
  for (std::size_t i = 0; i < size; ++i) key_[i] = static_cast<unsigned char>(key_bytes[i]);
  key_size_ = size;
  cleanse(key_bytes);
  EVP_CIPHER* fetched = EVP_CIPHER_fetch(nullptr, name, nullptr);
  if (fetched == nullptr) {
    OPENSSL_cleanse(key_.data(), key_.size());
    throw ConfigurationError(std::string("cipher: OpenSSL provides no ") + name);
  }
  cipher_.reset(fetched, [](EVP_CIPHER* c) { EVP_CIPHER_free(c); });
}

AesGcmCipher AesGcmCipher::from_base64_key(std::string_view text) {
  constexpr std::string_view kSpace = " \t\n\r\f\v";
  const auto first = text.find_first_not_of(kSpace);
  text = first == std::string_view::npos
             ? std::string_view{}
             : text.substr(first, text.find_last_not_of(kSpace) - first + 1);
  std::optional<std::string> key = base64_decode(text);
  if (!key) throw ConfigurationError("cipher: key is not valid base64");
  return AesGcmCipher(std::move(*key));  // the constructor wipes its copy
}

AesGcmCipher::AesGcmCipher(const AesGcmCipher& other) = default;
AesGcmCipher& AesGcmCipher::operator=(const AesGcmCipher& other) = default;

AesGcmCipher::~AesGcmCipher() { OPENSSL_cleanse(key_.data(), key_.size()); }

std::string AesGcmCipher::encrypt(std::string_view plaintext) const {
  const std::string compressed = zlib_compress(plaintext);
  if (compressed.size() > static_cast<std::size_t>(INT_MAX) - kNonceSize - kTagSize) {
    throw Error("cipher: plaintext too large");
  }
  std::string record(kNonceSize + kTagSize + compressed.size(), '\0');
  auto* nonce = reinterpret_cast<unsigned char*>(record.data());
  auto* tag = nonce + kNonceSize;
  auto* body = tag + kTagSize;
  if (RAND_bytes(nonce, static_cast<int>(kNonceSize)) != 1) {
    throw Error("cipher: RAND_bytes failed to produce a nonce");
  }
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  int final_len = 0;
  if (!ctx || EVP_EncryptInit_ex2(ctx.get(), cipher_.get(), key_.data(), nonce, nullptr) != 1 ||
      EVP_EncryptUpdate(ctx.get(), body, &len,
                        reinterpret_cast<const unsigned char*>(compressed.data()),
                        static_cast<int>(compressed.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), body + len, &final_len) != 1 ||
      static_cast<std::size_t>(len + final_len) != compressed.size() ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kTagSize), tag) != 1) {
    throw Error("cipher: AES-GCM encryption failed");
  }
  return base64_encode(record);
}

std::string AesGcmCipher::decrypt(std::string_view ciphertext_base64) const {
  const std::optional<std::string> record = base64_decode(ciphertext_base64);
  if (!record) throw RecordDecodingError("cipher: state is not valid base64");
  if (record->size() < kNonceSize + kTagSize) {
    throw RecordDecodingError("cipher: state too short for nonce and tag (" +
                              std::to_string(record->size()) + " bytes)");
  }
  if (record->size() - kNonceSize - kTagSize > static_cast<std::size_t>(INT_MAX)) {
    throw RecordDecodingError("cipher: state too large");
  }
  const auto* nonce = reinterpret_cast<const unsigned char*>(record->data());
  const auto* tag = nonce + kNonceSize;
  const auto* body = tag + kTagSize;
  const std::size_t body_size = record->size() - kNonceSize - kTagSize;

  std::string compressed(body_size, '\0');
  auto* out = reinterpret_cast<unsigned char*>(compressed.data());
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  int final_len = 0;
  if (!ctx || EVP_DecryptInit_ex2(ctx.get(), cipher_.get(), key_.data(), nonce, nullptr) != 1 ||
      EVP_DecryptUpdate(ctx.get(), out, &len, body, static_cast<int>(body_size)) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kTagSize),
                          const_cast<unsigned char*>(tag)) != 1) {
    throw RecordDecodingError("cipher: AES-GCM decryption failed");
  }
  if (EVP_DecryptFinal_ex(ctx.get(), out + len, &final_len) != 1) {
    throw RecordDecodingError("cipher: authentication failed (wrong key or corrupt data)");
  }
  return zlib_decompress(out, body_size);
}

}  // namespace es
