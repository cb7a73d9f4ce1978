#include "domain/event_registry.hpp"

#include "domain/errors.hpp"

#include <mutex>

namespace es {

EventRegistry& EventRegistry::global() {
  static EventRegistry registry;
  return registry;
}

void EventRegistry::register_topic(std::string topic, int schema_version, Validator validate) {
  if (schema_version < 1) throw ConfigurationError("schema version must be >= 1: " + topic);
  std::unique_lock lock(mutex_);
  auto it = entries_.find(topic);
  if (it != entries_.end()) {
    if (it->second.schema_version != schema_version) {
      throw ConfigurationError("topic '" + topic + "' registered with two schema versions");
    }
    if (validate) it->second.validate = std::move(validate);
    return;
  }
  Entry entry;
  entry.schema_version = schema_version;
  entry.validate = std::move(validate);
  entries_.emplace(std::move(topic), std::move(entry));
}

void EventRegistry::add_upcaster(const std::string& topic, int from_version, Upcaster upcast) {
  std::unique_lock lock(mutex_);
  auto it = entries_.find(topic);
  if (it == entries_.end()) throw TopicResolutionError("unknown event topic: " + topic);
  if (from_version < 1 || from_version >= it->second.schema_version) {
    throw ConfigurationError("upcaster for '" + topic + "' starts at version " +
                             std::to_string(from_version) + ", outside 1.." +
                             std::to_string(it->second.schema_version - 1));
  }
  it->second.upcasters[from_version] = std::move(upcast);
}

const EventRegistry::Entry& EventRegistry::find(std::string_view topic) const {
  auto it = entries_.find(topic);
  if (it == entries_.end()) {
    throw TopicResolutionError("unknown event topic: " + std::string(topic));
  }
  return it->second;
}

bool EventRegistry::contains(std::string_view topic) const {
  std::shared_lock lock(mutex_);
  return entries_.find(topic) != entries_.end();
}

int EventRegistry::schema_version(std::string_view topic) const {
  std::shared_lock lock(mutex_);
  return find(topic).schema_version;
}

void EventRegistry::upcast_and_validate(std::string_view topic, int stored_version,
                                        boost::json::object& data) const {
  std::shared_lock lock(mutex_);
  const Entry& entry = find(topic);
  if (stored_version < 1 || stored_version > entry.schema_version) {
    throw RecordDecodingError("event '" + std::string(topic) + "' has schema version " +
                              std::to_string(stored_version) + "; this program knows 1.." +
                              std::to_string(entry.schema_version));
  }
  for (int v = stored_version; v < entry.schema_version; ++v) {
    auto step = entry.upcasters.find(v);
    if (step == entry.upcasters.end()) {
      throw RecordDecodingError("no upcaster for '" + std::string(topic) + "' from version " +
                                std::to_string(v));
    }
    step->second(data);
  }
  if (entry.validate) entry.validate(data);
}

std::vector<std::string> EventRegistry::topics() const {
  std::shared_lock lock(mutex_);
  std::vector<std::string> out;
  for (const auto& kv : entries_) out.push_back(kv.first);
  return out;
}

}  // namespace es
