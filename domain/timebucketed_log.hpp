// The reference's time-bucketed logs: a named log (an entity with a Started event) whose
// messages are stored in the log store, each in the bucket (year, month, day, hour, minute
// or second, UTC) its timestamp falls in. A bucket's id is a UUIDv5 of the log id and the
// bucket's boundary text, exactly as the reference's make_timebucket_id.
#pragma once

#include "domain/entity.hpp"

#include <string>
#include <string_view>

namespace es {

enum class BucketSize { year, month, day, hour, minute, second };

// "year", "month", ... (InvalidInput otherwise); the reference's default is "year".
BucketSize parse_bucket_size(std::string_view text);
const char* to_string(BucketSize size);

// The log's id: UUIDv5 of its name in the reference's namespace for time buckets.
Uuid timebucketed_log_id(std::string_view name);
// The reference's make_timebucket_id(log_id, timestamp, bucket_size).
Uuid make_timebucket_id(const Uuid& log_id, std::int64_t timestamp_us, BucketSize size);
// Start of the bucket holding `timestamp_us`, and of the buckets after and before it (µs).
std::int64_t bucket_starts(std::int64_t timestamp_us, BucketSize size);
std::int64_t next_bucket_starts(std::int64_t timestamp_us, BucketSize size);
std::int64_t previous_bucket_starts(std::int64_t timestamp_us, BucketSize size);

class TimebucketedLog final : public Entity {
 public:
  struct Started {
    static constexpr std::string_view topic = "timebucketedlog.Timebucketedlog.Started";
    std::string name;
    std::string bucket_size;
    boost::json::object to_data() const;
    static Started from_data(const boost::json::object& data);
  };
  using Events = EventTypes<Started>;
  static void register_types();

  static TimebucketedLog start(std::string name, BucketSize size);

  std::string_view type_topic() const override { return "timebucketedlog.Timebucketedlog"; }
  const std::string& name() const { return name_; }
  BucketSize bucket_size() const { return bucket_size_; }
  std::int64_t started_on() const { return created_on(); }

 protected:
  void mutate(const Event& event) override;
  void save_state(boost::json::object& state) const override;
  void load_state(const boost::json::object& state) override;

 private:
  std::string name_;
  BucketSize bucket_size_ = BucketSize::year;
};

// One logged message, as stored in the log store: position = timestamp.
struct LoggedMessage {
  static constexpr std::string_view topic = "timebucketedlog.MessageLogged";
  Uuid bucket_id{};
  std::int64_t timestamp = 0;
  std::string message;
};

}  // namespace es
