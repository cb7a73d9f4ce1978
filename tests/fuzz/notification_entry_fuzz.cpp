// Fuzzes the notification-log entry decoder (decode_log_entry: one XRANGE/XREAD item of a
// partition's log, as Redis sends it). The input is the reply in RESP, read by hiredis as
// the store reads it. Invariants: the only error is RecordDecodingError, and it adds nothing;
// a decoded entry gives one event per line of its packed `events` field, or per (id, version,
// topic) triple of the earlier forms, at contiguous positions >= 1, with versions >= 0.
#include "domain/errors.hpp"
#include "persistence/redis_connection.hpp"
#include "persistence/redis_keys.hpp"
#include "tests/fuzz/fuzz_check.hpp"

#include <hiredis/hiredis.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

namespace {

// hiredis 0.14 allocates an array or bulk string of the announced size before reading it; a
// count larger than the input itself can only be a lie that would make the fuzzer report
// hiredis' allocation, not our decoder. Such inputs are skipped.
bool announces_more_than(std::string_view text, std::size_t limit) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '*' && text[i] != '$') continue;
    std::size_t j = i + 1;
    if (j < text.size() && text[j] == '-') ++j;
    std::size_t digits = 0;
    for (; j < text.size() && std::isdigit(static_cast<unsigned char>(text[j])); ++j) {
      if (++digits > 9) return true;
    }
    if (digits > 0 && std::stoul(std::string(text.substr(j - digits, digits))) > limit) {
      return true;
    }
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (announces_more_than(text, size)) return 0;
  std::unique_ptr<redisReader, void (*)(redisReader*)> reader(redisReaderCreate(), redisReaderFree);
  FUZZ_CHECK(reader != nullptr, "hiredis could not create a reader");
  if (redisReaderFeed(reader.get(), text.data(), text.size()) != REDIS_OK) return 0;
  void* raw = nullptr;
  if (redisReaderGetReply(reader.get(), &raw) != REDIS_OK || raw == nullptr) return 0;
  std::unique_ptr<redisReply, void (*)(void*)> reply(static_cast<redisReply*>(raw),
                                                     freeReplyObject);
  const es::RedisReplyView entry(reply.get());
  std::vector<es::Notification> out(1);  // what was there before stays, whatever happens
  try {
    es::decode_log_entry(entry, 3, out);
    FUZZ_CHECK(entry.is_array() && entry.size() == 2 && entry[1].size() > 0,
               "decoded an entry that is not [id, fields]");
    const auto fields = entry[1];
    if (fields.size() == 2 && fields[0].str() == "events") {
      const auto lines = fields[1].str();
      FUZZ_CHECK(
          out.size() == 1 + static_cast<std::size_t>(std::count(lines.begin(), lines.end(), '\n')),
          "decoded a packed entry to another count of events than its lines");
      std::string_view rest = lines;
      for (std::size_t i = 1; i < out.size(); ++i) {
        const auto logged = es::next_logged_event(rest);
        FUZZ_CHECK(logged && es::parse_uuid(logged->id) == out[i].sequence_id &&
                       es::parse_number(logged->version) == out[i].version &&
                       logged->topic == out[i].topic,
                   "a decoded event differs from its line");
      }
    } else {
      FUZZ_CHECK(fields.size() % 6 == 0 && out.size() == 1 + fields.size() / 6,
                 "decoded an entry without (id, version, topic) per event");
    }
    for (std::size_t i = 1; i < out.size(); ++i) {
      FUZZ_CHECK(out[i].position >= 1, "a position below 1");
      FUZZ_CHECK(out[i].version >= 0, "negative version");
      FUZZ_CHECK(i == 1 || out[i].position == out[i - 1].position + 1, "positions not contiguous");
    }
  } catch (const es::RecordDecodingError&) {
    FUZZ_CHECK(out.size() == 1, "a refused entry left events behind");
  } catch (const std::exception& e) {
    FUZZ_UNEXPECTED("decode_log_entry", e.what());
  }
  return 0;
}
