// Why: the Lua run inside Redis is part of the stored format's guarantees (version check and
// writes in one atomic step), so it lives in one reviewed place, as C++ raw strings.
#pragma once

namespace es {

// The append script: several appends in one call, in groups of one partition each.
// A group is
//   KEYS: the partition's notification log (es:{pNN}:log), then the entity stream of each
//         of its n appends (the same key may appear more than once);
//   ARGV: n, then per append: entity id (uuid text), expected version, count c, and c pairs
//         (topic, state) for versions expected+1 .. expected+c.
// Groups follow each other in KEYS and in ARGV. One group is the single-slot form that Redis
// Cluster needs; on a server that is not a cluster node, RedisRecordManager puts the groups
// of several partitions into one call (fewer calls per append, see docs/BENCHMARKS.md).
// Every argument is checked before the first write (Redis does not roll a script back). Per
// append independently: when the stream's highest version (kept after deletes) equals the
// expected one, the events are added with IDs "<version>-1"; otherwise nothing is written for
// it. Later appends to the same stream in the same call see the earlier ones. The events a
// group stored get one notification-log entry per 1,000 of them (one XADD instead of one per
// event) with the one field `events`: a line "<uuid> <version> <topic>\n" per event in
// position order (topics hold no line break: validate_append), the entry ID "<position of its
// last event>-1" (docs/STORAGE.md).
//
// The version check reads XLEN: the entries are versions 0, 1, 2, ... with IDs of their own,
// so length - 1 is the highest version of a stream nobody deleted from and never more than
// it. When it differs from the expected version, the highest version is read exactly
// (XREVRANGE + - COUNT 1, or XINFO STREAM's last-generated-id when emptied): deletes make
// the length smaller, and a stream that lost acknowledged events (a gap) is a conflict. When
// the length matches but the top entry is higher (deletes, entries written by hand), the
// append's first XADD meets that higher ID and fails before anything of the append is
// written, and the append is reported as a conflict.
//
// Returns a flat array of 2 integers per append, in argument order: 1 (stored), 0 (conflict)
// or 2 (the key holds something else than a stream: nothing written), then the version the
// stream was at when checked.
extern const char* const kAppendScript;

}  // namespace es
