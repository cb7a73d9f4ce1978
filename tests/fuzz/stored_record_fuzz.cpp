// Fuzzes the stored-record decoders (EventMapper::from_record, snapshot_from_record,
// message_from_record), without and with the cipher.
//
// Input: one mode byte, then the entry's topic up to the first '\n', then the stored state.
// The mode picks the decoder (mode % 3: event, snapshot, log message) and what the state
// goes through (mode / 3 % 5):
//   0 plain      the state as stored without a cipher;
//   1 encrypted  the state encrypted with the test key, decoded through the cipher: the
//                outcome must be exactly that of 0 (same value, or same error);
//   2 garbage    the bytes as the cipher's base64 text;
//   3 base64     the bytes base64-encoded (valid base64, so the nonce/tag checks run):
//                2 and 3 must fail with RecordDecodingError (or TopicResolutionError for an
//                unknown topic), never decode: the tag cannot be forged;
//   4 inflate    the bytes sealed with AES-GCM under the test key but not compressed, so
//                that arbitrary bytes reach the inflater (zlib errors, zip bombs).
// Invariants: a decoder throws nothing but RecordDecodingError and TopicResolutionError;
// a decoded value encodes and decodes back to itself, as canonical JSON (which keeps
// numbers, not whether they were written as integers: `2.0` comes back as `2`).
#include "domain/base64.hpp"
#include "domain/canonical_json.hpp"
#include "domain/cipher.hpp"
#include "domain/errors.hpp"
#include "domain/mapper.hpp"
#include "samples/example/example.hpp"
#include "tests/fuzz/fuzz_check.hpp"

#include <openssl/evp.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace {

const std::string kKey(32, '\x42');

template <class T>
using Outcome = std::variant<T, std::string>;  // the value, or the error's type: text

template <class T, class F>
Outcome<T> attempt(const char* what, F decode) {
  try {
    return decode();
  } catch (const es::RecordDecodingError& e) {
    return std::string("RecordDecodingError: ") + e.what();
  } catch (const es::TopicResolutionError& e) {
    return std::string("TopicResolutionError: ") + e.what();
  } catch (const std::exception& e) {
    FUZZ_UNEXPECTED(what, e.what());
  }
}

bool same_event(const es::Event& a, const es::Event& b) {
  return a == b && a.hash_matches() == b.hash_matches() && a.schema_version() == b.schema_version();
}
bool same_message(const es::LoggedMessage& a, const es::LoggedMessage& b) {
  return a.bucket_id == b.bucket_id && a.timestamp == b.timestamp && a.message == b.message;
}

// base64(nonce | tag | AES-256-GCM(bytes)) under kKey: the cipher's format, minus zlib.
std::string seal_uncompressed(std::string_view bytes) {
  std::string record(12 + 16 + bytes.size(), '\0');
  auto* nonce = reinterpret_cast<unsigned char*>(record.data());
  auto* tag = nonce + 12;
  auto* body = tag + 16;
  std::unique_ptr<EVP_CIPHER_CTX, void (*)(EVP_CIPHER_CTX*)> ctx(EVP_CIPHER_CTX_new(),
                                                                 EVP_CIPHER_CTX_free);
  int len = 0, final_len = 0;
  const bool ok =
      ctx &&
      EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr,
                         reinterpret_cast<const unsigned char*>(kKey.data()), nonce) == 1 &&
      EVP_EncryptUpdate(ctx.get(), body, &len, reinterpret_cast<const unsigned char*>(bytes.data()),
                        static_cast<int>(bytes.size())) == 1 &&
      EVP_EncryptFinal_ex(ctx.get(), body + len, &final_len) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, 16, tag) == 1;
  FUZZ_CHECK(ok, "OpenSSL could not seal the test input");
  return es::base64_encode(record);
}

// Equal as canonical JSON: the stored form, where 2.0 and 2 are the same number.
bool same_json(const boost::json::value& a, const boost::json::value& b) {
  return es::canonical_json(a) == es::canonical_json(b);
}

template <class T>
void check_same(const Outcome<T>& a, const Outcome<T>& b, bool (*same)(const T&, const T&),
                const char* what) {
  FUZZ_CHECK(a.index() == b.index(), what);
  if (a.index() == 0) {
    FUZZ_CHECK(same(std::get<0>(a), std::get<0>(b)), what);
  } else {
    FUZZ_CHECK(std::get<1>(a) == std::get<1>(b), what);
  }
}

// Decodes `record` with `mapper` as `kind`; checks the re-encoding round trip of a success
// with `plain`, and returns the outcome for comparisons.
struct Decoded {
  Outcome<es::Event> event = std::string();
  Outcome<es::Snapshot> snapshot = std::string();
  Outcome<es::LoggedMessage> message = std::string();
  bool ok = false;
};

Decoded decode(int kind, const es::EventMapper& mapper, const es::SequencedRecord& record) {
  Decoded out;
  if (kind == 0) {
    out.event = attempt<es::Event>("from_record", [&] { return mapper.from_record(record); });
    if (auto* event = std::get_if<es::Event>(&out.event)) {
      out.ok = true;
      const auto again = attempt<es::Event>(
          "from_record of to_record", [&] { return mapper.from_record(mapper.to_record(*event)); });
      FUZZ_CHECK(again.index() == 0 && same_json(std::get<0>(again).state(), event->state()),
                 "a decoded event does not encode and decode back to itself");
    }
  } else if (kind == 1) {
    out.snapshot = attempt<es::Snapshot>("snapshot_from_record",
                                         [&] { return mapper.snapshot_from_record(record); });
    if (auto* snapshot = std::get_if<es::Snapshot>(&out.snapshot)) {
      out.ok = true;
      const auto again = attempt<es::Snapshot>("snapshot_from_record of snapshot_to_record", [&] {
        return mapper.snapshot_from_record(mapper.snapshot_to_record(*snapshot));
      });
      FUZZ_CHECK(again.index() == 0, "a decoded snapshot does not encode and decode");
      const auto& b = std::get<0>(again);
      FUZZ_CHECK(b.originator_id == snapshot->originator_id &&
                     b.originator_version == snapshot->originator_version &&
                     b.timestamp == snapshot->timestamp && b.topic == snapshot->topic &&
                     same_json(b.state, snapshot->state),
                 "a decoded snapshot does not encode and decode back to itself");
    }
  } else {
    out.message = attempt<es::LoggedMessage>("message_from_record",
                                             [&] { return mapper.message_from_record(record); });
    if (auto* message = std::get_if<es::LoggedMessage>(&out.message)) {
      out.ok = true;
      const auto again = attempt<es::LoggedMessage>(
          "message_from_record of message_to_record",
          [&] { return mapper.message_from_record(mapper.message_to_record(*message)); });
      FUZZ_CHECK(again.index() == 0 && same_message(std::get<0>(again), *message),
                 "a decoded log message does not encode and decode back to itself");
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool registered = (es::Example::register_types(), true);
  (void)registered;
  static const auto cipher = std::make_shared<const es::AesGcmCipher>(kKey);
  static const es::EventMapper plain_mapper;
  static const es::EventMapper cipher_mapper(cipher);
  if (size < 1) return 0;
  const int kind = data[0] % 3;
  const int mode = data[0] / 3 % 5;
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  const auto newline = rest.find('\n');
  if (newline == std::string_view::npos) return 0;
  es::SequencedRecord record;
  record.topic = std::string(rest.substr(0, newline));
  const std::string_view state = rest.substr(newline + 1);

  switch (mode) {
    case 0:
      record.state = std::string(state);
      decode(kind, plain_mapper, record);
      break;
    case 1: {
      record.state = std::string(state);
      const Decoded plain = decode(kind, plain_mapper, record);
      record.state = cipher->encrypt(state);
      const Decoded sealed = decode(kind, cipher_mapper, record);
      check_same(plain.event, sealed.event, same_event, "the cipher changes the decoded event");
      check_same<es::Snapshot>(
          plain.snapshot, sealed.snapshot,
          [](const es::Snapshot& a, const es::Snapshot& b) { return a == b; },
          "the cipher changes the decoded snapshot");
      check_same(plain.message, sealed.message, same_message,
                 "the cipher changes the decoded log message");
      break;
    }
    case 2:
    case 3:
      record.state = mode == 2 ? std::string(state) : es::base64_encode(state);
      FUZZ_CHECK(!decode(kind, cipher_mapper, record).ok, "a forged ciphertext decoded");
      break;
    default:
      record.state = seal_uncompressed(state);
      decode(kind, cipher_mapper, record);
      break;
  }
  return 0;
}
