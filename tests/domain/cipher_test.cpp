// The optional cipher of the stored event format: base64(nonce 12 | tag 16 | AES-GCM(zlib(json))).
#include "domain/cipher.hpp"
#include "domain/base64.hpp"
#include "domain/errors.hpp"

#include <catch2/catch.hpp>

#include <openssl/evp.h>
#include <zlib.h>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace {

const std::string kKey = "0123456789abcdef";  // the reference's test key (AES-128)

const std::string kEventJson =
    R"({"a":1,"b":{"nested":[1,2,3]},"event_hash":"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822c)"
    R"(d15d6c15b0f00a08","foo":"bar","originator_id":"0f8fad5b-d9cb-469f-a165-70867728950e","origin)"
    R"(ator_version":1,"previous_hash":"","timestamp":1700000000.123456,"topic":"example.Example.Created"})";

std::string key_of_size(std::size_t n) {
  std::string key;
  for (std::size_t i = 0; i < n; ++i) key.push_back(static_cast<char>(0xA0 + i));
  return key;
}

std::string random_bytes(std::mt19937& rng, std::size_t n) {
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng() & 0xFF);
  return s;
}

// Text with JSON-like redundancy (the compressor finds matches of many lengths and distances).
std::string random_text(std::mt19937& rng, std::size_t n) {
  static const char* const kWords[] = {
      "\"originator_id\":", "\"value\":", "true", "null",      "{", "}", ",",
      "0f8fad5b-d9cb",      "\xc3\xa9",   "abc",  "1234567890"};
  std::string s;
  while (s.size() < n) {
    if (rng() % 4 == 0) {
      s.push_back(static_cast<char>(' ' + rng() % 90));
    } else {
      s += kWords[rng() % (sizeof(kWords) / sizeof(kWords[0]))];
    }
  }
  s.resize(n);
  return s;
}

// Standard base64 decoding through OpenSSL, independent of es::base64_decode.
std::string openssl_base64_decode(const std::string& text) {
  REQUIRE(text.size() % 4 == 0);
  std::string out(text.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  REQUIRE(n == static_cast<int>(out.size()));
  const std::size_t padding =
      std::count(text.end() - std::min<std::size_t>(2, text.size()), text.end(), '=');
  out.resize(out.size() - padding);
  return out;
}

std::string openssl_base64_encode(const std::string& bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

const EVP_CIPHER* gcm_for(const std::string& key) {
  return key.size() == 16   ? EVP_aes_128_gcm()
         : key.size() == 24 ? EVP_aes_192_gcm()
                            : EVP_aes_256_gcm();
}

// The layout, opened by hand: nonce = bytes 0..11, tag = 12..27, ciphertext = 28.., then zlib.
std::string manual_open(const std::string& key, const std::string& state) {
  const std::string record = openssl_base64_decode(state);
  REQUIRE(record.size() >= 28);
  const auto* bytes = reinterpret_cast<const unsigned char*>(record.data());
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  REQUIRE(ctx != nullptr);
  std::string compressed(record.size() - 28, '\0');
  int len = 0;
  int final_len = 0;
  const bool ok =
      EVP_DecryptInit_ex(ctx, gcm_for(key), nullptr, nullptr, nullptr) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, 12, nullptr) == 1 &&
      EVP_DecryptInit_ex(ctx, nullptr, nullptr, reinterpret_cast<const unsigned char*>(key.data()),
                         bytes) == 1 &&
      EVP_DecryptUpdate(ctx, reinterpret_cast<unsigned char*>(compressed.data()), &len, bytes + 28,
                        static_cast<int>(compressed.size())) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, const_cast<unsigned char*>(bytes + 12)) ==
          1 &&
      EVP_DecryptFinal_ex(ctx, reinterpret_cast<unsigned char*>(compressed.data()) + len,
                          &final_len) == 1;
  EVP_CIPHER_CTX_free(ctx);
  REQUIRE(ok);
  std::string plain(std::max<std::size_t>(64, compressed.size() * 8 + (1u << 20)), '\0');
  uLongf plain_len = plain.size();
  REQUIRE(uncompress(reinterpret_cast<Bytef*>(plain.data()), &plain_len,
                     reinterpret_cast<const Bytef*>(compressed.data()), compressed.size()) == Z_OK);
  plain.resize(plain_len);
  return plain;
}

// base64(nonce | tag | AES-GCM(payload)) of an arbitrary payload (not necessarily zlib).
std::string manual_seal(const std::string& key, const std::string& payload) {
  const unsigned char nonce[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  std::string record(28 + payload.size(), '\0');
  auto* out = reinterpret_cast<unsigned char*>(record.data());
  std::memcpy(out, nonce, 12);
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  int len = 0;
  int final_len = 0;
  const bool ok =
      EVP_EncryptInit_ex(ctx, gcm_for(key), nullptr,
                         reinterpret_cast<const unsigned char*>(key.data()), nonce) == 1 &&
      EVP_EncryptUpdate(ctx, out + 28, &len, reinterpret_cast<const unsigned char*>(payload.data()),
                        static_cast<int>(payload.size())) == 1 &&
      EVP_EncryptFinal_ex(ctx, out + 28 + len, &final_len) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, out + 12) == 1;
  EVP_CIPHER_CTX_free(ctx);
  REQUIRE(ok);
  return openssl_base64_encode(record);
}

std::string zlib_compress(const std::string& data, int level = Z_DEFAULT_COMPRESSION) {
  std::string out(compressBound(data.size()), '\0');
  uLongf out_len = out.size();
  REQUIRE(compress2(reinterpret_cast<Bytef*>(out.data()), &out_len,
                    reinterpret_cast<const Bytef*>(data.data()), data.size(), level) == Z_OK);
  out.resize(out_len);
  return out;
}

// Flips one bit of the decoded record at byte `index` and re-encodes.
std::string flip_bit(const std::string& state, std::size_t index) {
  std::string record = openssl_base64_decode(state);
  REQUIRE(index < record.size());
  record[index] = static_cast<char>(record[index] ^ 0x01);
  return openssl_base64_encode(record);
}

// Expects decrypt to fail with RecordDecodingError and returns the message.
std::string decrypt_error(const es::AesGcmCipher& cipher, const std::string& state) {
  try {
    cipher.decrypt(state);
  } catch (const es::RecordDecodingError& e) {
    return e.what();
  }
  FAIL("decrypt did not throw es::RecordDecodingError");
  return {};
}

}  // namespace

TEST_CASE("base64 encodes the RFC 4648 vectors", "[cipher][base64]") {
  const std::pair<std::string, std::string> vectors[] = {{"", ""},
                                                         {"f", "Zg=="},
                                                         {"fo", "Zm8="},
                                                         {"foo", "Zm9v"},
                                                         {"foob", "Zm9vYg=="},
                                                         {"fooba", "Zm9vYmE="},
                                                         {"foobar", "Zm9vYmFy"}};
  for (const auto& [bytes, text] : vectors) {
    CHECK(es::base64_encode(bytes) == text);
    CHECK(es::base64_decode(text) == bytes);
  }
  CHECK(es::base64_encode("\xfb\xff\xbf") == "+/+/");
}

TEST_CASE("base64 round-trips arbitrary bytes and agrees with OpenSSL", "[cipher][base64]") {
  std::mt19937 rng(7);
  std::string all;
  for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
  CHECK(es::base64_decode(es::base64_encode(all)) == all);
  for (std::size_t n = 0; n < 200; ++n) {
    const std::string bytes = random_bytes(rng, n);
    const std::string text = es::base64_encode(bytes);
    CHECK(text == openssl_base64_encode(bytes));
    CHECK(es::base64_decode(text) == bytes);
  }
}

TEST_CASE("base64 decoding is strict", "[cipher][base64]") {
  const char* const bad[] = {
      "Zg",       "Zg=",      "Zm9vY",  "Z===",  "====",  "=Zm9",  "Zm=v",
      "Zg==Zg==", "Zm9v====", "Zm9v\n", " Zm9v", "Zm9v ", "Zm 9v", "Zm9v\r\n",
      "Zm-v",     "Zm_v",     "Zm9v!",  "Zh==",  "Zm9=",  "Zg=a",  "\xff\xff\xff\xff"};
  for (const char* text : bad) {
    INFO("text: " << text);
    CHECK_FALSE(es::base64_decode(text).has_value());
  }
  CHECK(es::base64_decode(std::string("AAAA\0AAA", 8)) == std::nullopt);
}

TEST_CASE("cipher round-trips with 16, 24 and 32 byte keys", "[cipher]") {
  const std::string non_ascii =
      "{\"name\":\"Gr\xc3\xbc\xc3\x9f"
      "e, \xe4\xb8\x96\xe7\x95\x8c \xf0\x9f\x8e\x89\"}";
  const std::string binary("a\0b\xff\x00\x01", 6);
  for (const std::size_t size : {16u, 24u, 32u}) {
    const std::string key = size == 16 ? kKey : key_of_size(size);
    const es::AesGcmCipher cipher(key);
    for (const std::string& text : {kEventJson, std::string(), non_ascii, binary}) {
      INFO("key size " << size << ", plaintext size " << text.size());
      const std::string state = cipher.encrypt(text);
      CHECK(cipher.decrypt(state) == text);
      CHECK(manual_open(key, state) == text);
    }
  }
}

TEST_CASE("cipher output is zlib data any inflater reads, for many sizes and shapes", "[cipher]") {
  // Covers the fast small-input encoder (up to 4 KiB) and zlib's deflate above it: literals,
  // matches of every length up to 258, overlapping matches, distances up to the input size.
  const es::AesGcmCipher cipher(kKey);
  std::mt19937 rng(42);
  std::vector<std::string> inputs;
  for (std::size_t n : {1u, 2u, 3u, 4u, 5u, 7u, 8u, 9u, 255u, 256u, 257u, 258u, 259u, 4095u, 4096u,
                        4097u, 10000u}) {
    inputs.push_back(std::string(n, 'x'));
    inputs.push_back(random_bytes(rng, n));
    inputs.push_back(random_text(rng, n));
  }
  for (int i = 0; i < 300; ++i) inputs.push_back(random_text(rng, rng() % 4200));
  std::string periodic;
  for (int i = 0; i < 4000; ++i)
    periodic.push_back(static_cast<char>('a' + (i % 7 == 0 ? i % 26 : i % 3)));
  inputs.push_back(periodic);
  inputs.push_back(std::string(70000, '\0'));
  for (const std::string& text : inputs) {
    INFO("plaintext size " << text.size());
    const std::string state = cipher.encrypt(text);
    REQUIRE(manual_open(kKey, state) == text);
    REQUIRE(cipher.decrypt(state) == text);
  }
  // Redundant text gets smaller than it was.
  CHECK(openssl_base64_decode(cipher.encrypt(std::string(3000, 'x'))).size() < 100);
  CHECK(openssl_base64_decode(cipher.encrypt(kEventJson)).size() < 28 + kEventJson.size());
}

TEST_CASE("cipher layout is nonce | tag | ciphertext of zlib data", "[cipher]") {
  const es::AesGcmCipher cipher(kKey);
  const std::string state = cipher.encrypt(kEventJson);
  CHECK(state.find_first_not_of(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") ==
        std::string::npos);
  CHECK(state.size() % 4 == 0);
  CHECK(manual_open(kKey, state) == kEventJson);
  // GCM ciphertext is as long as its plaintext: the body is the compressed text exactly.
  const std::string record = openssl_base64_decode(state);
  const std::string zlib_stream = [&] {
    std::string s(record.size() - 28, '\0');
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    int len = 0;
    EVP_DecryptInit_ex(ctx, EVP_aes_128_gcm(), nullptr,
                       reinterpret_cast<const unsigned char*>(kKey.data()),
                       reinterpret_cast<const unsigned char*>(record.data()));
    EVP_DecryptUpdate(ctx, reinterpret_cast<unsigned char*>(s.data()), &len,
                      reinterpret_cast<const unsigned char*>(record.data()) + 28,
                      static_cast<int>(s.size()));
    EVP_CIPHER_CTX_free(ctx);
    return s;
  }();
  REQUIRE(zlib_stream.size() >= 6);
  CHECK(static_cast<unsigned char>(zlib_stream[0]) == 0x78);  // zlib header, not raw deflate/gzip
  CHECK((static_cast<unsigned char>(zlib_stream[0]) * 256 +
         static_cast<unsigned char>(zlib_stream[1])) %
            31 ==
        0);
}

TEST_CASE("cipher decrypts states written by other tools (known answers)", "[cipher]") {
  // Made with Python: base64(nonce + tag + AESGCM(key).encrypt(nonce, zlib.compress(json))),
  // nonce = bytes(range(12)).
  const es::AesGcmCipher cipher(kKey);
  const std::string json =
      "{\"a\":1,\"b\":\"Gr\xc3\xbc\xc3\x9f"
      "e\",\"foo\":\"bar\",\"originator_id\":\"0f8fad5b-d9cb-469f-"
      "a165-70867728950e\",\"originator_version\":1,\"previous_hash\":\"\",\"timestamp\":"
      "1700000000.5,\"topic\":\"example.Example.Created\"}";
  const std::string state =
      "AAECAwQFBgcICQoLwaD1xhXlpFQ90ebEyAA1aYWjkZDferkG5KDYv6fdNlwMb00ZZCPEPsUt8irJmppS1Th9Y+"
      "ddqZuGwsh"
      "lARKmJefMI+50dtTOfx+/JUZc29S9CBcM/"
      "4d1jZBbVwEorS2L4tnP2pxPt7vaTmqSTL4KsQl+nyzfMjJXuOgGC+matw7lg"
      "xS3OI39e6Xi1pdGWje5za5SPzX4uS8G1w5/f2wUSHldzJ7UuX4S5Due";
  CHECK(cipher.decrypt(state) == json);
  CHECK(manual_open(kKey, state) == json);

  std::string key32;
  for (int i = 0; i < 32; ++i) key32.push_back(static_cast<char>(i));
  CHECK(
      es::AesGcmCipher(key32).decrypt("AAECAwQFBgcICQoLobTkXN0M3fTxFFBYfzp4Xj+e1RvF5cIa").empty());
}

TEST_CASE("cipher uses a fresh random nonce per encryption", "[cipher]") {
  const es::AesGcmCipher cipher(kKey);
  const std::string a = cipher.encrypt(kEventJson);
  const std::string b = cipher.encrypt(kEventJson);
  CHECK(a != b);
  CHECK(openssl_base64_decode(a).substr(0, 12) != openssl_base64_decode(b).substr(0, 12));
  CHECK(cipher.decrypt(a) == kEventJson);
  CHECK(cipher.decrypt(b) == kEventJson);
  std::set<std::string> nonces;
  for (int i = 0; i < 2000; ++i)
    nonces.insert(openssl_base64_decode(cipher.encrypt("x")).substr(0, 12));
  CHECK(nonces.size() == 2000);
}

TEST_CASE("cipher rejects tampered, truncated and foreign states", "[cipher]") {
  const es::AesGcmCipher cipher(kKey);
  const std::string state = cipher.encrypt(kEventJson);
  const std::size_t record_size = openssl_base64_decode(state).size();

  SECTION("wrong key") {
    CHECK(decrypt_error(es::AesGcmCipher("fedcba9876543210"), state).find("authentication") !=
          std::string::npos);
    CHECK_THROWS_AS(es::AesGcmCipher(key_of_size(32)).decrypt(state), es::RecordDecodingError);
  }
  SECTION("flipped bit in nonce, tag or ciphertext") {
    for (std::size_t index : {std::size_t{0}, std::size_t{11}, std::size_t{12}, std::size_t{27},
                              std::size_t{28}, record_size - 1}) {
      INFO("byte " << index);
      CHECK(decrypt_error(cipher, flip_bit(state, index)).find("authentication") !=
            std::string::npos);
    }
  }
  SECTION("truncated") {
    const std::string record = openssl_base64_decode(state);
    for (std::size_t size : {std::size_t{0}, std::size_t{1}, std::size_t{12}, std::size_t{27},
                             std::size_t{28}, std::size_t{29}, record.size() - 1}) {
      INFO("record size " << size);
      decrypt_error(cipher, openssl_base64_encode(record.substr(0, size)));
    }
    CHECK(decrypt_error(cipher, state.substr(0, state.size() - 1)).find("base64") !=
          std::string::npos);
    CHECK(decrypt_error(cipher, openssl_base64_encode(record.substr(0, 27))).find("too short") !=
          std::string::npos);
  }
  SECTION("bad base64 and empty input") {
    for (const std::string& text : {std::string(), std::string("not base64!"), state + "\n",
                                    " " + state, std::string("====")}) {
      INFO("text: " << text);
      decrypt_error(cipher, text);
    }
    CHECK(decrypt_error(cipher, "").find("too short") != std::string::npos);
    CHECK(decrypt_error(cipher, "@@@@").find("base64") != std::string::npos);
  }
  SECTION("authentic GCM over data that is not zlib") {
    const std::string secret_text = "this plaintext is not zlib data";
    const std::string message = decrypt_error(cipher, manual_seal(kKey, secret_text));
    CHECK(message.find("zlib") != std::string::npos);
    CHECK(message.find(secret_text) == std::string::npos);
    decrypt_error(cipher, manual_seal(kKey, ""));
    decrypt_error(cipher, manual_seal(kKey, "\x78\x9c"));                       // header only
    decrypt_error(cipher, manual_seal(kKey, zlib_compress(kEventJson) + "x"));  // trailing data
    decrypt_error(cipher, manual_seal(kKey, zlib_compress(kEventJson).substr(0, 20)));  // truncated
    const std::string raw_deflate = zlib_compress(kEventJson).substr(2);
    decrypt_error(cipher, manual_seal(kKey, raw_deflate));
    CHECK(cipher.decrypt(manual_seal(kKey, zlib_compress(kEventJson))) == kEventJson);
  }
  SECTION("zip bomb beyond the size limit") {
    const std::string bomb =
        zlib_compress(std::string(es::AesGcmCipher::kMaxPlaintextSize + 1, 'a'), 1);
    CHECK(bomb.size() < es::AesGcmCipher::kMaxPlaintextSize / 100);
    CHECK(decrypt_error(cipher, manual_seal(kKey, bomb)).find("limit") != std::string::npos);
    const std::string largest = std::string(es::AesGcmCipher::kMaxPlaintextSize, 'a');
    CHECK(cipher.decrypt(manual_seal(kKey, zlib_compress(largest, 1))).size() == largest.size());
    CHECK_THROWS_AS(cipher.encrypt(largest + "a"), es::InvalidInput);
  }
}

TEST_CASE("cipher errors never show key bytes or plaintext", "[cipher]") {
  const es::AesGcmCipher cipher(kKey);
  const std::string state = cipher.encrypt(kEventJson);
  for (const std::string& bad :
       {flip_bit(state, 40), state.substr(4), std::string("AAAA"), manual_seal(kKey, kEventJson)}) {
    const std::string message = decrypt_error(cipher, bad);
    CHECK(message.find(kKey) == std::string::npos);
    CHECK(message.find("originator") == std::string::npos);
    CHECK(message.find("cipher") != std::string::npos);
  }
  try {
    es::AesGcmCipher("0123456789abcde");
    FAIL("no ConfigurationError");
  } catch (const es::ConfigurationError& e) {
    CHECK(std::string(e.what()).find("0123456789abcde") == std::string::npos);
  }
}

TEST_CASE("cipher key must be 16, 24 or 32 bytes", "[cipher]") {
  for (std::size_t size : {0u, 1u, 15u, 17u, 23u, 25u, 31u, 33u, 64u}) {
    INFO("key size " << size);
    CHECK_THROWS_AS(es::AesGcmCipher(key_of_size(size)), es::ConfigurationError);
  }
  for (std::size_t size : {16u, 24u, 32u}) CHECK_NOTHROW(es::AesGcmCipher(key_of_size(size)));
}

TEST_CASE("cipher key from base64 text", "[cipher]") {
  const std::string state = es::AesGcmCipher(kKey).encrypt(kEventJson);
  const std::string key_text = es::base64_encode(kKey);  // "MDEyMzQ1Njc4OWFiY2RlZg=="
  for (const std::string& text :
       {key_text, key_text + "\n", " \t" + key_text + "\r\n", "\n" + key_text + "  "}) {
    INFO("key text: " << text);
    CHECK(es::AesGcmCipher::from_base64_key(text).decrypt(state) == kEventJson);
  }
  for (std::size_t size : {24u, 32u}) {
    const es::AesGcmCipher from_text =
        es::AesGcmCipher::from_base64_key(es::base64_encode(key_of_size(size)) + "\n");
    CHECK(es::AesGcmCipher(key_of_size(size)).decrypt(from_text.encrypt("x")) == "x");
  }
  const std::string bad[] = {"",
                             "  \n",
                             "not base64",
                             "MDEyMzQ1Njc4OWFiY2RlZg",
                             "MDEyMzQ1 Njc4OWFiY2RlZg==",
                             "MDEyMzQ1Njc4OWFiY2RlZg==\nAAAA",
                             "MDEyMzQ1Njc4OWFiY2Rl",
                             es::base64_encode(key_of_size(15)),
                             es::base64_encode(key_of_size(33)),
                             "MDEyMzQ1Njc4OWFiY2RlZg-_"};
  for (const std::string& text : bad) {
    INFO("key text: " << text);
    CHECK_THROWS_AS(es::AesGcmCipher::from_base64_key(text), es::ConfigurationError);
  }
}

TEST_CASE("cipher copies and assignments keep working", "[cipher]") {
  const es::AesGcmCipher original(kKey);
  const std::string state = original.encrypt(kEventJson);
  es::AesGcmCipher copy(original);
  CHECK(copy.decrypt(state) == kEventJson);
  CHECK(original.decrypt(copy.encrypt("y")) == "y");
  es::AesGcmCipher other(key_of_size(32));
  const std::string other_state = other.encrypt("z");
  CHECK_THROWS_AS(copy.decrypt(other_state), es::RecordDecodingError);
  copy = other;
  CHECK(copy.decrypt(other_state) == "z");
  CHECK_THROWS_AS(copy.decrypt(state), es::RecordDecodingError);
  es::AesGcmCipher moved(std::move(other));
  CHECK(moved.decrypt(other_state) == "z");
}

TEST_CASE("cipher is safe to share between threads", "[cipher]") {
  const es::AesGcmCipher cipher(kKey);
  constexpr int kThreads = 4;
  constexpr int kRounds = 3000;
  std::vector<std::vector<std::string>> nonces(kThreads);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(static_cast<unsigned>(t));
      for (int i = 0; i < kRounds; ++i) {
        const std::string text = random_text(rng, rng() % 600);
        // No Catch2 macros in here: they are not thread-safe.
        const std::string state = cipher.encrypt(text);
        if (cipher.decrypt(state) != text) ++failures;
        std::string record = es::base64_decode(state).value_or(std::string(28, '\0'));
        nonces[static_cast<std::size_t>(t)].push_back(record.substr(0, 12));
        record[30 % record.size()] ^= 0x01;
        try {
          cipher.decrypt(es::base64_encode(record));
          ++failures;
        } catch (const es::RecordDecodingError&) {
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(failures == 0);
  std::set<std::string> all;
  for (const auto& list : nonces) all.insert(list.begin(), list.end());
  CHECK(all.size() == static_cast<std::size_t>(kThreads * kRounds));
}

TEST_CASE("cipher nonces differ between a process and its forked child", "[cipher]") {
  const es::AesGcmCipher cipher(kKey);
  cipher.encrypt("warm up the nonce batch of this thread");
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    const std::string nonce = es::base64_decode(cipher.encrypt("child")).value().substr(0, 12);
    const ssize_t written = write(fds[1], nonce.data(), nonce.size());
    _exit(written == 12 ? 0 : 1);
  }
  close(fds[1]);
  const std::string parent_nonce = openssl_base64_decode(cipher.encrypt("parent")).substr(0, 12);
  std::string child_nonce(12, '\0');
  const ssize_t got = read(fds[0], child_nonce.data(), child_nonce.size());
  close(fds[0]);
  int status = 0;
  waitpid(child, &status, 0);
  REQUIRE(got == 12);
  CHECK(WIFEXITED(status));
  CHECK(child_nonce != parent_nonce);
}
