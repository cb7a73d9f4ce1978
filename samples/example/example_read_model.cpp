// Why: see example_read_model.hpp. The in-memory model applies the same entries, with the
// same rules, as the Redis script (example_read_model_redis.cpp), so both backends agree.
#include "samples/example/example_read_model.hpp"

#include "domain/errors.hpp"

#include <algorithm>

namespace es {
namespace {

void check_partition(int partition, int partitions) {
  if (partition < 0 || partition >= partitions) throw InvalidInput("no such partition");
}

bool is_run_kind(ExampleChangeKind kind) {
  return kind == ExampleChangeKind::heartbeat || kind == ExampleChangeKind::none;
}

// The effect of one entry on a partition (the Lua body in example_read_model_redis.cpp says
// the same).
void apply_entry(ExamplePartitionDump& part, const std::vector<std::string>& args,
                 std::int64_t count) {
  const char kind = args.at(0).empty() ? 'o' : args[0][0];
  auto unindex = [&](const std::string& id) -> bool {
    auto it = part.live.find(id);
    if (it == part.live.end()) return false;
    if (!it->second.empty()) part.index.erase(it->second + ":" + id);
    return true;
  };
  auto set = [&](const std::string& id, const std::string& token) {
    part.live[id] = token;
    if (!token.empty()) part.index.insert(token + ":" + id);
  };
  switch (kind) {
    case 'h':
      part.heartbeats += count;
      break;
    case 'c':
      unindex(args.at(1));
      set(args.at(1), args.at(2));
      break;
    case 'f':
      if (unindex(args.at(1))) set(args.at(1), args.at(2));
      break;
    case 'd':
      if (unindex(args.at(1))) part.live.erase(args.at(1));
      break;
    default:
      break;
  }
}

}  // namespace

boost::json::object to_json(const ExampleStats& stats) {
  boost::json::object position;
  for (std::size_t p = 0; p < stats.positions.size(); ++p) {
    position[std::to_string(p)] = stats.positions[p];
  }
  boost::json::object out;
  out["examples"] = stats.examples;
  out["heartbeats"] = stats.heartbeats;
  out["position"] = std::move(position);
  return out;
}

std::vector<TrackedEntry> to_tracked_entries(const std::vector<ExampleChange>& changes) {
  std::vector<TrackedEntry> entries;
  entries.reserve(changes.size());
  ExampleChangeKind run_kind = ExampleChangeKind::none;
  for (const auto& c : changes) {
    if (is_run_kind(c.kind) && !entries.empty() && entries.back().last + 1 == c.position &&
        entries.back().args.size() == 1 && run_kind == c.kind) {
      entries.back().last = c.position;
      continue;
    }
    TrackedEntry e;
    e.first = e.last = c.position;
    e.args.emplace_back(1, static_cast<char>(c.kind));
    if (!is_run_kind(c.kind)) {
      e.args.push_back(to_string(c.id));
      e.args.push_back(c.kind == ExampleChangeKind::discarded ? std::string() : c.token);
    }
    run_kind = c.kind;
    entries.push_back(std::move(e));
  }
  return entries;
}

MemoryExampleReadModel::MemoryExampleReadModel(int partitions) {
  if (partitions < 1) throw ConfigurationError("partitions must be >= 1");
  parts_.resize(static_cast<std::size_t>(partitions));
}

std::vector<std::int64_t> MemoryExampleReadModel::positions(
    const std::vector<int>& partitions) const {
  std::lock_guard lock(mutex_);
  std::vector<std::int64_t> out;
  for (int p : partitions) {
    check_partition(p, this->partitions());
    out.push_back(parts_[static_cast<std::size_t>(p)].position);
  }
  return out;
}

std::vector<TrackedResult> MemoryExampleReadModel::apply(
    const std::vector<ExampleChanges>& batches) {
  std::vector<TrackedResult> out;
  out.reserve(batches.size());
  for (const auto& b : batches) check_partition(b.partition, partitions());
  std::lock_guard lock(mutex_);
  for (const auto& b : batches) {
    auto& part = parts_[static_cast<std::size_t>(b.partition)];
    const auto entries = to_tracked_entries(b.changes);
    std::int64_t stored = part.position;
    out.push_back(apply_tracked(stored, entries, [&](const auto& args, std::int64_t count) {
      apply_entry(part, args, count);
    }));
    part.position = stored;
  }
  return out;
}

ExampleStats MemoryExampleReadModel::stats() const {
  std::lock_guard lock(mutex_);
  ExampleStats s;
  for (const auto& part : parts_) {
    s.examples += static_cast<std::int64_t>(part.live.size());
    s.heartbeats += part.heartbeats;
    s.positions.push_back(part.position);
  }
  return s;
}

std::vector<std::string> MemoryExampleReadModel::ids_with_token(const std::string& token) const {
  std::vector<std::string> out;
  const std::string prefix = token + ":";
  std::lock_guard lock(mutex_);
  for (const auto& part : parts_) {
    for (auto it = part.index.lower_bound(prefix);
         it != part.index.end() && it->compare(0, prefix.size(), prefix) == 0; ++it) {
      out.push_back(it->substr(prefix.size()));
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

void MemoryExampleReadModel::clear() {
  std::lock_guard lock(mutex_);
  for (auto& part : parts_) part = ExamplePartitionDump{};
}

std::vector<ExamplePartitionDump> MemoryExampleReadModel::dump() const {
  std::lock_guard lock(mutex_);
  return parts_;
}

}  // namespace es
