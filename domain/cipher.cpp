#include "domain/cipher.hpp"

#include "domain/base64.hpp"
#include "domain/errors.hpp"
#include "domain/keyed_hash.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <zlib.h>

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <optional>
#include <vector>

namespace es {
namespace {

// Wipes a string's bytes (used for key material passed in or decoded here).
void cleanse(std::string& s) {
  if (!s.empty()) OPENSSL_cleanse(s.data(), s.size());
}

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
// zlib's ~270 KiB deflate state per call.
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

// Inputs up to this size go through compress_small(): zlib's deflate spends ~7 us per call
// building Huffman trees even for a 250-byte input, 4x the cost of the rest of encrypt().
constexpr std::size_t kSmallInput = 4096;

// LSB-first bit packing as deflate (RFC 1951 3.1.1) wants it, into a buffer sized in advance
// with 8 bytes of slack: every put() stores 8 bytes and advances by the whole bytes filled.
class BitWriter {
 public:
  explicit BitWriter(unsigned char* out) : out_(out) {}
  void put(std::uint32_t bits, int count) {  // count <= 24
    acc_ |= std::uint64_t{bits} << fill_;
    fill_ += count;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    const std::uint64_t little_endian = __builtin_bswap64(acc_);
#else
    const std::uint64_t little_endian = acc_;
#endif
    std::memcpy(out_, &little_endian, sizeof(little_endian));
    out_ += fill_ >> 3;
    acc_ >>= fill_ & ~7;
    fill_ &= 7;
  }
  unsigned char* finish() {
    if (fill_ > 0) *out_++ = static_cast<unsigned char>(acc_);
    return out_;
  }

 private:
  unsigned char* out_;
  std::uint64_t acc_ = 0;
  int fill_ = 0;
};

struct Code {
  std::uint16_t bits;  // bit-reversed: Huffman codes are sent most significant bit first
  std::uint8_t length;
};

constexpr std::uint16_t reverse_bits(std::uint32_t code, int count) {
  std::uint32_t reversed = 0;
  for (int i = 0; i < count; ++i, code >>= 1) reversed = (reversed << 1) | (code & 1);
  return static_cast<std::uint16_t>(reversed);
}

// The fixed literal/length code of RFC 1951 3.2.6.
constexpr std::array<Code, 288> make_fixed_codes() {
  std::array<Code, 288> codes{};
  for (unsigned s = 0; s < 288; ++s) {
    const std::uint32_t code = s < 144   ? 0x30 + s
                               : s < 256 ? 0x190 + s - 144
                               : s < 280 ? s - 256
                                         : 0xC0 + s - 280;
    const int length = s < 144 ? 8 : s < 256 ? 9 : s < 280 ? 7 : 8;
    codes[s] = Code{reverse_bits(code, length), static_cast<std::uint8_t>(length)};
  }
  return codes;
}
constexpr std::array<Code, 288> kFixedCodes = make_fixed_codes();

constexpr std::uint16_t kLengthBase[29] = {3,  4,  5,  6,   7,   8,   9,   10,  11, 13,
                                           15, 17, 19, 23,  27,  31,  35,  43,  51, 59,
                                           67, 83, 99, 115, 131, 163, 195, 227, 258};
constexpr std::uint8_t kLengthExtra[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
                                           2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
constexpr std::uint16_t kDistBase[30] = {
    1,   2,   3,   4,   5,   7,    9,    13,   17,   25,   33,   49,   65,    97,    129,
    193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577};
constexpr std::uint8_t kDistExtra[30] = {0, 0, 0, 0, 1, 1, 2, 2,  3,  3,  4,  4,  5,  5,  6,
                                         6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};

void put_symbol(BitWriter& bits, unsigned symbol) {
  bits.put(kFixedCodes[symbol].bits, kFixedCodes[symbol].length);
}

// zlib format (RFC 1950) holding one final fixed-Huffman deflate block, greedy LZ77 with a
// one-probe hash table. Any inflater (zlib.decompress, uncompress) reads it.
std::string compress_small(std::string_view in) {
  const auto* p = reinterpret_cast<const unsigned char*>(in.data());
  const std::size_t n = in.size();
  // Worst case: 9 bits per literal, plus header, block header, end of block, checksum and the
  // BitWriter's slack.
  std::string out(2 + (9 * n + 10 + 7) / 8 + 4 + 8, '\0');
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  o[0] = 0x78;  // CMF: deflate, 32 KiB window
  o[1] = 0x01;  // FLG: fastest level, no dictionary; (CMF * 256 + FLG) % 31 == 0
  BitWriter bits(o + 2);
  bits.put(1, 1);  // BFINAL
  bits.put(1, 2);  // BTYPE = fixed Huffman

  // The last position of a 3-byte prefix per hash; 0 when none (position 0 is a harmless
  // candidate: a match is always checked). No bigger than the input needs.
  std::uint16_t head[1 << 12];
  int hash_bits = 8;
  while (hash_bits < 12 && (std::size_t{1} << hash_bits) < n) ++hash_bits;
  std::memset(head, 0, sizeof(head[0]) << hash_bits);
  const auto prefix = [p](std::size_t i) {
    return p[i] | (std::uint32_t{p[i + 1]} << 8) | (std::uint32_t{p[i + 2]} << 16);
  };
  const int shift = 32 - hash_bits;
  std::size_t i = 0;
  while (i + 3 <= n) {
    const std::uint32_t v = prefix(i);
    const std::uint32_t h = (v * 2654435761u) >> shift;
    const std::size_t candidate = head[h];
    head[h] = static_cast<std::uint16_t>(i);
    if (candidate >= i || prefix(candidate) != v) {
      put_symbol(bits, p[i]);
      ++i;
      continue;
    }
    std::size_t length = 3;
    const std::size_t max = std::min<std::size_t>(258, n - i);
    while (length < max && p[candidate + length] == p[i + length]) ++length;
    const std::size_t distance = i - candidate;
    unsigned lc = 0;
    while (lc < 28 && kLengthBase[lc + 1] <= length) ++lc;
    put_symbol(bits, 257 + lc);
    bits.put(static_cast<std::uint32_t>(length - kLengthBase[lc]), kLengthExtra[lc]);
    unsigned dc = 0;
    while (dc < 29 && kDistBase[dc + 1] <= distance) ++dc;
    bits.put(reverse_bits(dc, 5), 5);
    bits.put(static_cast<std::uint32_t>(distance - kDistBase[dc]), kDistExtra[dc]);
    for (std::size_t j = i + 1; j < i + length && j + 3 <= n; ++j) {
      head[(prefix(j) * 2654435761u) >> shift] = static_cast<std::uint16_t>(j);
    }
    i += length;
  }
  for (; i < n; ++i) put_symbol(bits, p[i]);
  put_symbol(bits, 256);  // end of block
  o = bits.finish();
  const uLong adler = adler32(adler32(0, Z_NULL, 0), p, static_cast<uInt>(n));
  for (int shift = 24; shift >= 0; shift -= 8) *o++ = static_cast<unsigned char>(adler >> shift);
  out.resize(static_cast<std::size_t>(o - reinterpret_cast<unsigned char*>(out.data())));
  return out;
}

// zlib format (RFC 1950): compress_small() for small inputs, else as compress2(level 6).
std::string zlib_compress(std::string_view in) {
  if (in.size() <= kSmallInput) return compress_small(in);
  thread_local Deflater d;
  if (!d.ok || deflateReset(&d.zs) != Z_OK) {
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
  if (!f.ok || inflateReset(&f.zs) != Z_OK || size > INT_MAX) {
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

// Random nonces, drawn from RAND_bytes in batches: one RAND_bytes call costs ~2 us (its fork
// check and DRBG bookkeeping), more than the rest of encrypting an event. The batch is per
// thread and discarded in a forked child (pthread_atfork), so no two processes share nonces.
// (A child made by a raw clone(2) or _Fork() without exec would not be told; don't do that.)
std::atomic<std::uint64_t> fork_generation{0};

void next_nonce(unsigned char* nonce) {
  static const bool registered = [] {
    return pthread_atfork(nullptr, nullptr, [] { fork_generation.fetch_add(1); }) == 0;
  }();
  struct Batch {
    unsigned char bytes[AesGcmCipher::kNonceSize * 128];
    std::size_t used = sizeof(bytes);
    std::uint64_t generation = 0;
  };
  thread_local Batch batch;
  const std::uint64_t generation = fork_generation.load(std::memory_order_relaxed);
  if (!registered) {  // cannot learn about forks: no batching
    if (RAND_bytes(nonce, static_cast<int>(AesGcmCipher::kNonceSize)) != 1) {
      throw Error("cipher: RAND_bytes failed to produce a nonce");
    }
    return;
  }
  if (batch.used + AesGcmCipher::kNonceSize > sizeof(batch.bytes) ||
      batch.generation != generation) {
    if (RAND_bytes(batch.bytes, static_cast<int>(sizeof(batch.bytes))) != 1) {
      throw Error("cipher: RAND_bytes failed to produce a nonce");
    }
    batch.used = 0;
    batch.generation = generation;
  }
  std::memcpy(nonce, batch.bytes + batch.used, AesGcmCipher::kNonceSize);
  OPENSSL_cleanse(batch.bytes + batch.used, AesGcmCipher::kNonceSize);
  batch.used += AesGcmCipher::kNonceSize;
}

}  // namespace

// Contexts with the key schedule already set up; a call only sets the nonce (halves the AES
// cost of a small event). Freed, and so wiped by OpenSSL, with the cipher object.
struct AesGcmCipher::ContextPool {
  std::mutex mutex;
  std::vector<EVP_CIPHER_CTX*> idle;

  ContextPool() = default;
  ContextPool(const ContextPool&) = delete;
  ContextPool& operator=(const ContextPool&) = delete;
  ~ContextPool() {
    for (EVP_CIPHER_CTX* ctx : idle) EVP_CIPHER_CTX_free(ctx);
  }

  // A context taken from the pool (or made) for one call, given back afterwards.
  // ctx is null when OpenSSL failed to make one.
  class Lease {
   public:
    Lease(ContextPool& pool, const EVP_CIPHER* cipher, const unsigned char* key, int enc)
        : pool_(pool) {
      {
        std::lock_guard<std::mutex> lock(pool_.mutex);
        if (!pool_.idle.empty()) {
          ctx_ = pool_.idle.back();
          pool_.idle.pop_back();
          return;
        }
      }
      ctx_ = EVP_CIPHER_CTX_new();
      if (ctx_ != nullptr && EVP_CipherInit_ex2(ctx_, cipher, key, nullptr, enc, nullptr) != 1) {
        EVP_CIPHER_CTX_free(ctx_);
        ctx_ = nullptr;
      }
    }
    ~Lease() {
      if (ctx_ == nullptr) return;
      try {
        std::lock_guard<std::mutex> lock(pool_.mutex);
        pool_.idle.push_back(ctx_);
      } catch (...) {
        EVP_CIPHER_CTX_free(ctx_);
      }
    }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    EVP_CIPHER_CTX* get() const { return ctx_; }

   private:
    ContextPool& pool_;
    EVP_CIPHER_CTX* ctx_ = nullptr;
  };
};

AesGcmCipher::AesGcmCipher(std::string key_bytes)
    : encrypt_pool_(std::make_unique<ContextPool>()),
      decrypt_pool_(std::make_unique<ContextPool>()) {
  const std::size_t size = key_bytes.size();
  const char* name = gcm_name(size);
  if (name == nullptr) {
    cleanse(key_bytes);
    throw ConfigurationError("cipher: key must be 16, 24 or 32 bytes, got " + std::to_string(size));
  }
  std::memcpy(key_.data(), key_bytes.data(), size);
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

AesGcmCipher::AesGcmCipher(const AesGcmCipher& other)
    : key_(other.key_),
      cipher_(other.cipher_),
      encrypt_pool_(std::make_unique<ContextPool>()),
      decrypt_pool_(std::make_unique<ContextPool>()) {}

AesGcmCipher& AesGcmCipher::operator=(const AesGcmCipher& other) {
  if (this != &other) {
    auto encrypt_pool = std::make_unique<ContextPool>();
    auto decrypt_pool = std::make_unique<ContextPool>();
    key_ = other.key_;
    cipher_ = other.cipher_;
    encrypt_pool_ = std::move(encrypt_pool);  // frees the contexts keyed with the old key
    decrypt_pool_ = std::move(decrypt_pool);
  }
  return *this;
}

AesGcmCipher::~AesGcmCipher() {
  OPENSSL_cleanse(key_.data(), key_.size());
}

std::string AesGcmCipher::encrypt(std::string_view plaintext) const {
  if (plaintext.size() > kMaxPlaintextSize) {  // decrypt() would refuse it
    throw InvalidInput("cipher: plaintext larger than " + std::to_string(kMaxPlaintextSize) +
                       " bytes");
  }
  const std::string compressed = zlib_compress(plaintext);
  std::string record(kNonceSize + kTagSize + compressed.size(), '\0');
  auto* nonce = reinterpret_cast<unsigned char*>(record.data());
  auto* tag = nonce + kNonceSize;
  auto* body = tag + kTagSize;
  next_nonce(nonce);
  ContextPool::Lease ctx(*encrypt_pool_, cipher_.get(), key_.data(), 1);
  int len = 0;
  int final_len = 0;
  if (ctx.get() == nullptr ||
      EVP_EncryptInit_ex2(ctx.get(), nullptr, nullptr, nonce, nullptr) != 1 ||
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
  ContextPool::Lease ctx(*decrypt_pool_, cipher_.get(), key_.data(), 0);
  int len = 0;
  int final_len = 0;
  if (ctx.get() == nullptr ||
      EVP_DecryptInit_ex2(ctx.get(), nullptr, nullptr, nonce, nullptr) != 1 ||
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

std::string AesGcmCipher::derive_key(std::string_view label) const {
  const int size = EVP_CIPHER_get_key_length(cipher_.get());
  return hkdf_sha256(
      std::string_view(reinterpret_cast<const char*>(key_.data()), static_cast<std::size_t>(size)),
      label, 32);
}

}  // namespace es
