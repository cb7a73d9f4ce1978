// Why: the Lua run inside Redis is part of the stored format's guarantees (version check and
// writes in one atomic step), so it lives in one reviewed place, as C++ raw strings.
#pragma once

namespace es {

// The append script: several appends for entities of ONE partition in one call.
//   KEYS[1]      the partition's notification log, es:{pNN}:log
//   KEYS[1 + i]  the entity stream of append i (the same key may appear more than once)
//   ARGV[1]      n, the number of appends
//   then per append: entity id (uuid text), expected version, count c, and c pairs
//   (topic, state) for versions expected+1 .. expected+c.
// Every argument is checked before the first write (Redis does not roll a script back). Per
// append independently: when the stream's highest version (kept after deletes) equals the
// expected one, the events are added with IDs "<version>-1" and the log entries with IDs
// "<position>-1"; otherwise nothing is written for it. Later appends to the same stream in
// the same call see the earlier ones. Returns a flat array of 2n integers: per append 1
// (stored) or 0 (conflict), then the version the stream was at when checked.
extern const char* const kAppendScript;

}  // namespace es
