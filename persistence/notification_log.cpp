// Why: see notification_log.hpp; the section arithmetic follows the reference's
// LocalNotificationLog (0-based start rounded down to a multiple of the section size).
#include "persistence/notification_log.hpp"

#include "domain/errors.hpp"

#include <charconv>

namespace es {
namespace {

std::int64_t parse_first(std::string_view section_id) {
  const auto comma = section_id.find(',');
  if (comma == std::string_view::npos) {
    throw InvalidInput("a section id is \"current\" or \"first,last\"");
  }
  auto text = section_id.substr(0, comma);
  auto rest = section_id.substr(comma + 1);
  std::int64_t first = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), first);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || first < 1) {
    throw InvalidInput("a section id starts with a position >= 1");
  }
  if (!rest.empty()) {
    std::int64_t last = 0;
    auto [e2, ec2] = std::from_chars(rest.data(), rest.data() + rest.size(), last);
    if (ec2 != std::errc() || e2 != rest.data() + rest.size()) {
      throw InvalidInput("a section id's last position must be a number");
    }
  }
  return first;
}

void check_partition(const RecordManager& records, int partition) {
  if (partition < 0 || partition >= records.partitions()) {
    throw InvalidInput("partition must be 0.." + std::to_string(records.partitions() - 1));
  }
}

}  // namespace

NotificationLog::NotificationLog(std::shared_ptr<const RecordManager> records,
                                 std::size_t section_size)
    : records_(std::move(records)), section_size_(section_size) {
  if (!records_) throw ConfigurationError("a notification log needs a record manager");
  if (section_size_ < 1) throw ConfigurationError("section size must be >= 1");
}

std::string NotificationLog::format_section_id(std::int64_t first, std::int64_t last) {
  return std::to_string(first) + "," + std::to_string(last);
}

NotificationSection NotificationLog::section(int partition, std::string_view section_id) const {
  check_partition(*records_, partition);
  const auto size = static_cast<std::int64_t>(section_size_);
  std::int64_t start = 0;  // 0-based
  if (section_id == "current") {
    const std::int64_t next_position = records_->last_notification_position(partition);
    start = next_position / size * size;
  } else {
    start = (parse_first(section_id) - 1) / size * size;
  }
  NotificationSection s;
  s.section_id = format_section_id(start + 1, start + size);
  s.items = records_->read_notifications(partition, start + 1, section_size_);
  if (start > 0) s.previous_id = format_section_id(start + 1 - size, start);
  if (s.items.size() == section_size_) {
    s.next_id = format_section_id(start + 1 + size, start + 2 * size);
  }
  return s;
}

NotificationPage NotificationLog::page(int partition, std::int64_t start, std::size_t limit,
                                       std::size_t max_limit) const {
  check_partition(*records_, partition);
  if (start < 1) throw InvalidInput("start must be >= 1");
  if (limit < 1 || limit > max_limit) {
    throw InvalidInput("limit must be 1.." + std::to_string(max_limit));
  }
  NotificationPage p;
  p.items = records_->read_notifications(partition, start, limit);
  if (p.items.size() == limit) p.next = p.items.back().position + 1;
  return p;
}

NotificationLogReader::NotificationLogReader(const NotificationLog& log, int partition,
                                             std::int64_t position)
    : log_(log), partition_(partition) {
  seek(position);
}

void NotificationLogReader::seek(std::int64_t position) {
  if (position < 0) throw InvalidInput("a reader position must be >= 0");
  position_ = position;
}

std::vector<Notification> NotificationLogReader::read(std::optional<std::size_t> advance_by) {
  sections_read_ = 0;
  std::vector<Notification> out;
  const auto size = static_cast<std::int64_t>(log_.section_size());
  // The section holding the next position (no backtracking from "current").
  const std::int64_t start = position_ / size * size;
  auto section =
      log_.section(partition_, NotificationLog::format_section_id(start + 1, start + size));
  for (;;) {
    ++sections_read_;
    for (auto& item : section.items) {
      if (item.position <= position_) continue;
      if (advance_by && out.size() >= *advance_by) return out;
      position_ = item.position;
      out.push_back(std::move(item));
    }
    if (!section.next_id || (advance_by && out.size() >= *advance_by)) return out;
    section = log_.section(partition_, *section.next_id);
  }
}

}  // namespace es
