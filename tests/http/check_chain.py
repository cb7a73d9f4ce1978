#!/usr/bin/env python3
# Why: the hash chain of stored events is a normative format (DESIGN.md, "Stored event
# format") that outside tools verify; this script is such an outside tool, independent of
# the C++ code: Python's hashlib and json (sort_keys, compact separators, which equal
# RFC 8785 for the ASCII strings and integers the tests store).
#
# Usage: check_chain.py ENTITY_ID FILE, FILE holding one JSON array [topic, state] per line,
# the stream's entries in order (as XRANGE returned them). Exit 0 and "ok N" when the chain
# holds, else exit 1 with the reason.
import hashlib
import json
import sys


def canonical(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def main():
    entity_id, path = sys.argv[1], sys.argv[2]
    previous = ""
    count = 0
    with open(path, encoding="utf-8") as f:
        for version, line in enumerate(f):
            topic, state = json.loads(line)
            event = json.loads(state)
            if canonical(event) != state:
                return f"entry {version}: stored state is not canonical JSON"
            if event.get("originator_id") != entity_id:
                return f"entry {version}: originator_id {event.get('originator_id')!r}"
            if event.get("originator_version") != version:
                return f"entry {version}: originator_version {event.get('originator_version')!r}"
            if event.get("topic") != topic:
                return f"entry {version}: topic field {event.get('topic')!r} != entry topic {topic!r}"
            if event.get("previous_hash") != previous:
                return f"entry {version}: previous_hash does not link to the event before"
            stated = event.pop("event_hash")
            computed = hashlib.sha256(canonical(event).encode("utf-8")).hexdigest()
            if computed != stated:
                return f"entry {version}: event_hash {stated} != sha256 {computed}"
            previous = stated
            count += 1
    if count == 0:
        return "no entries"
    print(f"ok {count} {previous}")
    return None


if __name__ == "__main__":
    failure = main()
    if failure:
        print(failure)
        sys.exit(1)
