#include "domain/timebucketed_log.hpp"

#include <boost/uuid/name_generator_sha1.hpp>

#include <cstdio>
#include <ctime>
#include <mutex>

namespace es {

namespace {

// The reference's Namespace_Timebuckets.
const Uuid kTimebucketsNamespace = *parse_uuid("0d7ee297-a976-4c29-91ff-84ffc79d8155");

std::tm utc_fields(std::int64_t timestamp_us) {
  std::time_t seconds =
      static_cast<std::time_t>(timestamp_us / 1'000'000 - (timestamp_us % 1'000'000 < 0 ? 1 : 0));
  std::tm fields{};
  gmtime_r(&seconds, &fields);
  return fields;
}

std::int64_t to_micros(std::tm fields) {
  return static_cast<std::int64_t>(timegm(&fields)) * 1'000'000;
}

// Truncates `t` to the start of its bucket.
std::tm truncate(std::tm t, BucketSize size) {
  switch (size) {
    case BucketSize::year:
      t.tm_mon = 0;
      [[fallthrough]];
    case BucketSize::month:
      t.tm_mday = 1;
      [[fallthrough]];
    case BucketSize::day:
      t.tm_hour = 0;
      [[fallthrough]];
    case BucketSize::hour:
      t.tm_min = 0;
      [[fallthrough]];
    case BucketSize::minute:
      t.tm_sec = 0;
      [[fallthrough]];
    case BucketSize::second:
      break;
  }
  return t;
}

// Moves a truncated `t` by `step` buckets; timegm normalises overflowing fields.
std::tm shift(std::tm t, BucketSize size, int step) {
  switch (size) {
    case BucketSize::year:
      t.tm_year += step;
      break;
    case BucketSize::month:
      t.tm_mon += step;
      break;
    case BucketSize::day:
      t.tm_mday += step;
      break;
    case BucketSize::hour:
      t.tm_hour += step;
      break;
    case BucketSize::minute:
      t.tm_min += step;
      break;
    case BucketSize::second:
      t.tm_sec += step;
      break;
  }
  return t;
}

}  // namespace

BucketSize parse_bucket_size(std::string_view text) {
  for (auto size : {BucketSize::year, BucketSize::month, BucketSize::day, BucketSize::hour,
                    BucketSize::minute, BucketSize::second}) {
    if (text == to_string(size)) return size;
  }
  throw InvalidInput("bucket size must be year, month, day, hour, minute or second");
}

const char* to_string(BucketSize size) {
  switch (size) {
    case BucketSize::year:
      return "year";
    case BucketSize::month:
      return "month";
    case BucketSize::day:
      return "day";
    case BucketSize::hour:
      return "hour";
    case BucketSize::minute:
      return "minute";
    case BucketSize::second:
      return "second";
  }
  return "year";
}

Uuid timebucketed_log_id(std::string_view name) {
  boost::uuids::name_generator_sha1 gen(kTimebucketsNamespace);
  return gen(name.data(), name.size());
}

Uuid make_timebucket_id(const Uuid& log_id, std::int64_t timestamp_us, BucketSize size) {
  const std::tm d = utc_fields(timestamp_us);
  char boundary[96];  // room for any int year, so no truncation is possible
  const int year = d.tm_year + 1900, month = d.tm_mon + 1;
  switch (size) {
    case BucketSize::year:
      std::snprintf(boundary, sizeof boundary, "%04d", year);
      break;
    case BucketSize::month:
      std::snprintf(boundary, sizeof boundary, "%04d-%02d", year, month);
      break;
    case BucketSize::day:
      std::snprintf(boundary, sizeof boundary, "%04d-%02d-%02d", year, month, d.tm_mday);
      break;
    case BucketSize::hour:
      std::snprintf(boundary, sizeof boundary, "%04d-%02d-%02d_%02d", year, month, d.tm_mday,
                    d.tm_hour);
      break;
    case BucketSize::minute:
      std::snprintf(boundary, sizeof boundary, "%04d-%02d-%02d_%02d-%02d", year, month, d.tm_mday,
                    d.tm_hour, d.tm_min);
      break;
    case BucketSize::second:
      std::snprintf(boundary, sizeof boundary, "%04d-%02d-%02d_%02d-%02d-%02d", year, month,
                    d.tm_mday, d.tm_hour, d.tm_min, d.tm_sec);
      break;
  }
  // The reference hashes log_id.hex (32 hex digits, no hyphens) + '_' + boundary.
  std::string hex;
  for (auto byte : log_id.data) {
    static const char digits[] = "0123456789abcdef";
    hex += digits[byte >> 4];
    hex += digits[byte & 15];
  }
  const std::string text = hex + "_" + boundary;
  boost::uuids::name_generator_sha1 gen(kTimebucketsNamespace);
  return gen(text.data(), text.size());
}

std::int64_t bucket_starts(std::int64_t timestamp_us, BucketSize size) {
  return to_micros(truncate(utc_fields(timestamp_us), size));
}

std::int64_t next_bucket_starts(std::int64_t timestamp_us, BucketSize size) {
  return to_micros(shift(truncate(utc_fields(timestamp_us), size), size, 1));
}

std::int64_t previous_bucket_starts(std::int64_t timestamp_us, BucketSize size) {
  return to_micros(shift(truncate(utc_fields(timestamp_us), size), size, -1));
}

boost::json::object TimebucketedLog::Started::to_data() const {
  return {{"name", name}, {"bucket_size", bucket_size}};
}

TimebucketedLog::Started TimebucketedLog::Started::from_data(const boost::json::object& data) {
  Started s{std::string(require_string(data, "name")),
            std::string(require_string(data, "bucket_size"))};
  try {
    parse_bucket_size(s.bucket_size);
  } catch (const InvalidInput&) {
    throw RecordDecodingError("Started has an unknown bucket size");
  }
  return s;
}

void TimebucketedLog::register_types() {
  static std::once_flag once;
  std::call_once(once, [] { Events::register_all(); });
}

TimebucketedLog TimebucketedLog::start(std::string name, BucketSize size) {
  register_types();
  TimebucketedLog log;
  const Uuid id = timebucketed_log_id(name);
  log.trigger_created(id, Started{std::move(name), to_string(size)});
  return log;
}

void TimebucketedLog::mutate(const Event& event) {
  Events::dispatch(event, [this](const Started& s) {
    name_ = s.name;
    bucket_size_ = parse_bucket_size(s.bucket_size);
  });
}

void TimebucketedLog::save_state(boost::json::object& state) const {
  state["name"] = name_;
  state["bucket_size"] = to_string(bucket_size_);
}

void TimebucketedLog::load_state(const boost::json::object& state) {
  name_ = std::string(require_string(state, "name"));
  bucket_size_ = parse_bucket_size(require_string(state, "bucket_size"));
}

}  // namespace es
