// The registry of event topics: which stable names exist, the current schema version of
// each, how to check an event's own fields, and the upcasters that bring stored events of
// older schema versions up to date when they are read.
#pragma once

#include <boost/json/object.hpp>

#include <functional>
#include <map>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

namespace es {

class EventRegistry {
 public:
  // Throws RecordDecodingError when an event's own fields are missing or mistyped.
  using Validator = std::function<void(const boost::json::object& data)>;
  // Rewrites the own fields of an event stored at schema version v into version v + 1.
  using Upcaster = std::function<void(boost::json::object& data)>;

  // The registry that entity types register into by default.
  static EventRegistry& global();

  // Registers (or re-registers identically) a topic. A topic registered twice with a
  // different schema version is a programming error and throws ConfigurationError.
  void register_topic(std::string topic, int schema_version = 1, Validator validate = {});

  // Adds the step from `from_version` to `from_version + 1` for `topic`.
  void add_upcaster(const std::string& topic, int from_version, Upcaster upcast);

  bool contains(std::string_view topic) const;
  int schema_version(std::string_view topic) const;  // throws TopicResolutionError

  // Upcasts `data` from `stored_version` to the topic's current version, then validates it.
  // Throws TopicResolutionError (unknown topic) or RecordDecodingError (a version above the
  // current one, a missing upcaster, or invalid fields).
  void upcast_and_validate(std::string_view topic, int stored_version,
                           boost::json::object& data) const;

  std::vector<std::string> topics() const;

 private:
  struct Entry {
    int schema_version = 1;
    Validator validate;
    std::map<int, Upcaster> upcasters;  // keyed by the version they start from
  };
  const Entry& find(std::string_view topic) const;

  mutable std::shared_mutex mutex_;
  std::map<std::string, Entry, std::less<>> entries_;
};

}  // namespace es
