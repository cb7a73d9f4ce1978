// Why: readers of a partition's notification log need stable, cacheable pages with links,
// as the reference's NotificationLog (Vaughn Vernon's linked sections): section ids
// "first,last" (1-based, e.g. "1,20"), "current" for the section holding the head, and
// previous/next links; plus the plain page of GET /notifications. Works over any
// RecordManager (memory or Redis) through read_notifications.
#pragma once

#include "persistence/record_manager.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace es {

inline constexpr std::size_t kDefaultSectionSize = 20;

// One section of a partition's log: positions first..first+size-1 (fewer at the head).
struct NotificationSection {
  std::string section_id;                  // "21,40"
  std::vector<Notification> items;         // in position order
  std::optional<std::string> previous_id;  // absent for the first section
  std::optional<std::string> next_id;      // present when this section is full
};

// A page of GET /notifications: items from `start`, and the position after the last item
// when the page is full (there may be more), else nothing.
struct NotificationPage {
  std::vector<Notification> items;
  std::optional<std::int64_t> next;
};

class NotificationLog {
 public:
  explicit NotificationLog(std::shared_ptr<const RecordManager> records,
                           std::size_t section_size = kDefaultSectionSize);

  std::size_t section_size() const { return section_size_; }
  int partitions() const { return records_->partitions(); }

  // The section named `section_id`: "current" (the section after the last full one, as the
  // reference: with 40 items of size 20 that is "41,60", empty), or "first,last" / "first,"
  // where only `first` counts and is rounded down to its section's start. InvalidInput for
  // a malformed id or partition.
  NotificationSection section(int partition, std::string_view section_id) const;

  // The page of GET /notifications: start >= 1, limit 1..max_limit (InvalidInput otherwise).
  NotificationPage page(int partition, std::int64_t start, std::size_t limit,
                        std::size_t max_limit = 1000) const;

  static std::string format_section_id(std::int64_t first, std::int64_t last);

 private:
  std::shared_ptr<const RecordManager> records_;
  std::size_t section_size_;
};

// Reads a partition's notifications in order by following the sections' links, as the
// reference's NotificationLogReader: starts in the section holding the position after the
// last one read, goes forward through next links.
class NotificationLogReader {
 public:
  NotificationLogReader(const NotificationLog& log, int partition, std::int64_t position = 0);

  // The position of the last notification read (0: none); the next read starts after it.
  void seek(std::int64_t position);
  std::int64_t position() const { return position_; }

  // The notifications after position(), up to `advance_by` of them (all when absent);
  // advances position(). `sections_read()` tells how many sections that took.
  std::vector<Notification> read(std::optional<std::size_t> advance_by = std::nullopt);
  std::size_t sections_read() const { return sections_read_; }

 private:
  const NotificationLog& log_;
  int partition_;
  std::int64_t position_ = 0;
  std::size_t sections_read_ = 0;
};

}  // namespace es
