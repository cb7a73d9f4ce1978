#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (tests/fuzz/corpus/<target>/) from the
inputs of the project's tests: the stored events of tests/data/example-chain.jsonl, the
bodies, queries and headers of tests/http/bad_input_test.cpp, the JSON texts of
tests/domain/json_parse_test.cpp, the URLs of tests/persistence/redis_url_test.cpp and the
scanner test's non-canonical forms. Rerun it after changing it; it rewrites the seeds it
owns (named <target>/<label>) and leaves other files alone."""
import base64
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
ID = "5f0e3c1a-8d2b-4c6e-9a7f-1b2c3d4e5f60"


def write(target, label, data):
    directory = os.path.join(HERE, "corpus", target)
    os.makedirs(directory, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogateescape")
    with open(os.path.join(directory, label), "wb") as f:
        f.write(data)


def nested(depth):
    return '{"foo": ' + "[" * depth + "]" * depth + "}"


def chain():
    with open(os.path.join(ROOT, "tests", "data", "example-chain.jsonl")) as f:
        return [json.loads(line) for line in f if line.strip()]


def canonical(value):
    # JCS for the ASCII strings and integers used here.
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


# JSON texts: json_parse_test.cpp and the bodies of bad_input_test.cpp.
JSON_TEXTS = {
    "double": '{"a": -97570.19231092371}',
    "escapes": r'"h\u00e9llo \ud834\udd1e \"q\" \\ \n\t"',
    "mixed": '{"a":2.5,"b":{"y":[true,null,1e+21,0,1e-7,123456789012345],"z":1},"c":[],"d":{}}',
    "duplicate": '{"a":1,"a":2}',
    "nested-duplicate": '{"x":{"b":1,"c":2,"b":3}}',
    "escaped-duplicate": r'[1,{"k\u00e9":1,"k\u00e9":2}]',
    "escaped-key": r'{"\u0061":1,"a":2}',
    "same-key-levels": '{"a":{"a":1},"b":{"a":2},"c":[{"a":3},{"a":4}]}',
    "lone-high-surrogate": r'"\ud800"',
    "lone-low-surrogate": r'"\udc00"',
    "surrogate-key": r'{"\ud800\u0041":1}',
    "truncated": '{"a":2.5,"b":{"y":[true,null,1e+21,0,1e-7,123456789012345],"z":1},',
    "not-json": "not json",
    "array": "[1, 2]",
    "string": '"text"',
    "null": "null",
    "number": "42",
    "space": " ",
    "open": "{",
    "trailing": "{} x",
    "two-texts": "{}{}",
    "unknown-key": '{"c": 1}',
    "invalid-utf8": '{"foo": "\udcff"}',
    "encoded-surrogate": '{"foo": "\udced\udca0\udc80"}',
    "overlong": '{"foo": "\udcc0\udcaf"}',
    "invalid-utf8-key": '{"fo\udcff": 1}',
    "depth-64": "[" * 64 + "]" * 64,
    "depth-65": nested(64),
    "two-pow-53": '{"a": 9007199254740992}',
    "minus-two-pow-53": '{"a": -9007199254740992}',
    "max-safe": '{"a": 9007199254740991, "b": -9007199254740991}',
    "overflow": '{"a": 1e400}',
    "underflow": '{"a": 1e-400}',
    "nan": '{"a": NaN}',
    "leading-zero": '{"a": 01}',
    "trailing-comma": '{"a": 1,}',
    "single-quotes": "{'a': 1}",
    "nul-after": '{"a": 1}\0',
    "minus-zero": "[-0, -0.0, 0e0, 1E+2, 1.5e-3]",
    "big-integers": "[18446744073709551615, 18446744073709551616, -9223372036854775808]",
    "long-doubles": "[0.1, 5e-324, 1.7976931348623157e308, 123456789012345678901234567890]",
}


def http(method, target, body="", headers=()):
    lines = [f"{method} {target} HTTP/1.1", "Host: localhost"]
    lines += [f"{name}: {value}" for name, value in headers]
    if body or method in ("POST", "PATCH"):
        lines.append(f"Content-Length: {len(body.encode('utf-8', 'surrogateescape'))}")
    return "\r\n".join(lines) + "\r\n\r\n" + body


def main():
    for label, text in JSON_TEXTS.items():
        write("ijson", label, text)

    # HTTP requests: the rows of bad_input_test.cpp and the routes' good forms.
    e = "/examples/" + ID
    requests = {
        "get-index": http("GET", "/"),
        "healthz": http("GET", "/healthz"),
        "create-empty": http("POST", "/examples"),
        "create": http("POST", "/examples", '{"foo": "x", "a": 1, "b": [true, null]}'),
        "create-not-json": http("POST", "/examples", "not json"),
        "create-unknown-key": http("POST", "/examples", '{"a": 1, "extra": 2}'),
        "create-duplicate": http("POST", "/examples", '{"foo": 1, "foo": 2}'),
        "create-invalid-utf8": http("POST", "/examples", '{"fo\udcff": 1}'),
        "create-deep": http("POST", "/examples", nested(64)),
        "get": http("GET", e),
        "get-at": http("GET", e + "?at=3"),
        "get-at-twice": http("GET", e + "?at=1&at=1"),
        "get-at-bad-escape": http("GET", e + "?at=%zz"),
        "get-at-plus": http("GET", e + "?at=%2B1"),
        "get-not-uuid": http("GET", "/examples/not-a-uuid"),
        "get-escaped-braces": http("GET", "/examples/%7B" + ID + "%7D"),
        "get-nul": http("GET", "/examples/%00"),
        "patch": http("PATCH", e, '{"b": 2, "foo": "x", "a": 1}', [("If-Match", '"1"')]),
        "patch-empty": http("PATCH", e, "{}"),
        "patch-weak-tag": http("PATCH", e, '{"a": 3}', [("If-Match", 'W/"1"')]),
        "patch-two-tags": http("PATCH", e, '{"a": 3}', [("If-Match", '"1"'), ("If-Match", '"1"')]),
        "delete": http("DELETE", e, "", [("If-Match", '"7"')]),
        "heartbeats": http("POST", e + "/heartbeats", '{"count": 10000}'),
        "heartbeats-fraction": http("POST", e + "/heartbeats", '{"count": 1.0}'),
        "heartbeats-big": http("POST", e + "/heartbeats", '{"count": 4294967297}'),
        "snapshot": http("POST", e + "/snapshot"),
        "events": http("GET", e + "/events?after=0&limit=10000"),
        "events-limit-zero": http("GET", e + "/events?limit=0&x=1"),
        "notifications": http("GET", "/notifications?partition=0&start=21&limit=20"),
        "notifications-unknown": http("GET", "/notifications?partition=0&x%ff=1"),
        "notifications-missing": http("GET", "/notifications?start=1"),
        "examples-foo": http("GET", "/examples?foo=a+b%20c"),
        "examples-foo-twice": http("GET", "/examples?foo=1&foo=2"),
        "stats": http("GET", "/stats"),
        "cluster": http("GET", "/cluster"),
        "method-not-allowed": http("PUT", e),
        "no-route": http("GET", "/nope/x"),
        "absolute-form": http("GET", "http://localhost:8080" + e + "?at=0#frag"),
        "not-a-path": http("GET", "*"),
        "http10": "GET / HTTP/1.0\r\n\r\n",
        "chunked": "POST /examples HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                   "5\r\n{\"a\":\r\n3\r\n 1}\r\n0\r\n\r\n",
        "pipelined": http("GET", "/healthz") + http("POST", e + "/heartbeats", "") +
                     http("GET", e + "/events?after=1"),
        "expect-continue": http("POST", "/examples", '{"a": 1}', [("Expect", "100-continue")]),
    }
    for label, text in requests.items():
        write("http_request", label, text)

    # Redis URLs: redis_url_test.cpp.
    urls = ["redis://", "redis://:6379", "redis://:@localhost:6379", "redis://:p@ss@h:1",
            "redis://:s3cr%40t@127.0.0.1:7000/3", "redis://:top%zzsecret@localhost:6379",
            "redis://:topsecret@loc al:6379", "redis://:topsecret@localhost",
            "redis://[::1:6379", "redis://[::1]:6379", "redis://app:pw@redis.example.com:6379/",
            "redis://localhost", "redis://localhost:", "redis://localhost:0",
            "redis://localhost:6379/1/2", "redis://localhost:6379/x",
            "redis://localhost:6379?db=1", "redis://localhost:6380", "redis://localhost:63a9",
            "redis://localhost:65536", "redis://topsecret@localhost:6379",
            "redis://u%3Aser:p%25w@[fe80::1%25eth0]:6379/15", "redis://h:1/99999",
            "http://localhost:6379"]
    for i, url in enumerate(urls):
        write("redis_url", f"url-{i:02d}", url)

    # Notification-log entries, as XRANGE items in RESP.
    def bulk(s):
        b = s.encode()
        return b"$%d\r\n%s\r\n" % (len(b), b)

    def entry(entry_id, fields):
        out = b"*2\r\n" + bulk(entry_id) + b"*%d\r\n" % len(fields)
        return out + b"".join(bulk(f) for f in fields)

    good = ["id", ID, "version", "4", "topic", "example.Example.Heartbeat"]
    entries = {
        "entry": entry("17-1", good),
        # Refused since the packed form: the fields of the earlier forms go in this order.
        "entry-reordered": entry("1-1", good[4:] + good[:4]),
        "entry-auto-id": entry("1700000000000-0", good),
        "entry-bad-id": entry("17-1", ["id", "x", "version", "4", "topic", "t"]),
        "entry-bad-version": entry("17-1", ["id", ID, "version", "-4", "topic", "t"]),
        "entry-version-with-dash": entry("17-1", ["id", ID, "version", "5-1", "topic", "t"]),
        "entry-missing-topic": entry("17-1", good[:4]),
        "entry-extra-field": entry("17-1", good + ["state", "{}"]),
        "entry-duplicate-field": entry("17-1", good + ["id", ID]),
        "entry-odd": entry("17-1", good[:5]),
        "entry-nil-fields": b"*2\r\n" + bulk("17-1") + b"$-1\r\n",
        "entry-integer": b"*2\r\n:17\r\n*0\r\n",
        "entry-error": b"-ERR no such key\r\n",
        "entry-three": b"*3\r\n" + bulk("17-1") + b"*0\r\n*0\r\n",
        "entry-nested": b"*2\r\n" + bulk("17-1") + b"*2\r\n*1\r\n:1\r\n" + bulk("x"),
        "entry-status": b"*2\r\n+17-1\r\n*2\r\n+id\r\n+x\r\n",
        # A group: (id, version, topic) per event, the ID the last event's position (the
        # third event out of order: refused).
        "entry-group": entry("19-1", good + good[:3] + ["5"] + good[4:] + good[4:] + good[:4]),
        "entry-group-in-order": entry("19-1", good + good[:3] + ["5"] + good[4:] + good),
        "entry-group-below-one": entry("1-1", good + good),
        "entry-group-partial": entry("19-1", good + good[:4]),
        # Packed (the store's form since append script v5): a line per event.
        "packed": entry("19-1", ["events", f"{ID} 4 example.Example.Heartbeat\n"
                                           f"{ID} 5 example.Example.AttributeChanged\n"]),
        "packed-one": entry("17-1", ["events", f"{ID} 4 example.Example.Heartbeat\n"]),
        "packed-no-break": entry("17-1", ["events", f"{ID} 4 example.Example.Heartbeat"]),
        "packed-spaced-topic": entry("17-1", ["events", f"{ID} 4 a topic with spaces\n"]),
        "packed-no-version": entry("17-1", ["events", f"{ID}\n"]),
        "packed-empty": entry("17-1", ["events", ""]),
        "packed-below-one": entry("1-1", ["events", f"{ID} 4 t\n{ID} 5 t\n"]),
        "packed-extra-field": entry("17-1", ["events", f"{ID} 4 t\n", "x", "y"]),
    }
    for label, data in entries.items():
        write("notification_entry", label, data)

    # Stored events (tests/data/example-chain.jsonl) and the scanner test's other forms.
    events = chain()
    for i, e_ in enumerate(events):
        write("canonical_scanner", f"chain-{i}", e_["state"])
    text = events[1]["state"]  # AttributeChanged a = 50
    def replace(frm, to):
        assert frm in text, frm
        return text.replace(frm, to, 1)
    others = {
        "spaces": replace(",", ", "),
        "no-name": replace('"name":"a",', ""),
        "duplicate": replace('"name":"a"', '"name":"a","name":"a"'),
        "unsorted": replace('"name":"a"', '"value":1.5,"name":"a"'),
        "leading-zero": replace('"originator_version":1', '"originator_version":01'),
        "fraction": replace('"originator_version":1', '"originator_version":1.0'),
        "string-version": replace('"originator_version":1', '"originator_version":"1"'),
        "huge-version": replace('"originator_version":1', '"originator_version":99999999999999999999'),
        "escaped-topic": replace('"topic":"example', '"topic":"\\u0065xample'),
        "escaped-key": replace('"name"', '"n\\u0061me"'),
        "nested-value": replace('"value":50', '"value":{"event_hash":"x","l":[1,2.5,"\\"",null]}'),
        "deep-value": replace('"value":50', '"value":' + "[" * 130 + "]" * 130),
        "unbalanced": replace('"value":50', '"value":[1,2'),
        "minus-zero": replace('"value":50', '"value":-0'),
        "schema-version": replace('"previous_hash"', '"schema_version":2,"previous_hash"'),
        "uint64-value": replace('"value":50', '"value":18446744073709551615'),
    }
    for label, t in others.items():
        write("canonical_scanner", label, t)

    # Stored records: mode byte (decoder = mode % 3, path = mode / 3 % 5), topic, '\n', state.
    def record(kind, path, topic, state):
        return bytes([path * 3 + kind]) + topic.encode() + b"\n" + state.encode("utf-8", "surrogateescape")
    for i, e_ in enumerate(events):
        for path in (0, 1):
            write("stored_record", f"event-{i}-path-{path}", record(0, path, e_["topic"], e_["state"]))
    write("stored_record", "event-tampered", record(0, 0, events[1]["topic"], replace('"value":50', '"value":51')))
    write("stored_record", "event-wrong-topic", record(0, 0, "example.Example.Created", text))
    write("stored_record", "event-unknown-topic", record(0, 0, "no.such.Topic", text))
    write("stored_record", "event-spaces", record(0, 0, events[1]["topic"], others["spaces"]))
    snapshot = canonical({"originator_id": ID, "originator_version": 7, "timestamp": 1795735065946010,
                          "topic": "example.Example", "state": {"foo": "x", "a": [1, 2], "heartbeats": 3}})
    message = canonical({"originator_id": ID, "timestamp": 1795735065946010,
                         "topic": "timebucketedlog.MessageLogged", "message": "hello"})
    for path in (0, 1):
        write("stored_record", f"snapshot-path-{path}", record(1, path, "example.Example", snapshot))
        write("stored_record", f"message-path-{path}", record(2, path, "timebucketedlog.MessageLogged", message))
    write("stored_record", "snapshot-null-state", record(1, 0, "example.Example", snapshot.replace('{"a":[1,2],"foo":"x","heartbeats":3}', "null")))
    write("stored_record", "snapshot-no-state", record(1, 0, "example.Example", snapshot.replace(',"state":{"a":[1,2],"foo":"x","heartbeats":3}', "")))
    write("stored_record", "message-missing", record(2, 0, "timebucketedlog.MessageLogged", '{"message":"m"}'))
    write("stored_record", "garbage-raw", record(0, 2, events[0]["topic"], "not base64!"))
    write("stored_record", "garbage-base64", record(0, 3, events[0]["topic"], "x" * 40))
    # Inflater inputs: a zlib stream (stored block), a truncated one, a bad header.
    zlib_stored = b"\x78\x01\x01\x02\x00\xfd\xff{}\x00\x00\x00\x00"
    for label, raw in {"inflate-stored": zlib_stored, "inflate-truncated": zlib_stored[:6],
                       "inflate-bad-header": b"\x00\x00abc", "inflate-empty": b""}.items():
        write("stored_record", label, bytes([4 * 3 + 1]) + b"example.Example\n" + raw)
    import zlib
    write("stored_record", "inflate-snapshot", bytes([4 * 3 + 1]) + b"example.Example\n" + zlib.compress(snapshot.encode()))
    write("stored_record", "inflate-event", bytes([4 * 3]) + events[2]["topic"].encode() + b"\n" + zlib.compress(events[2]["state"].encode()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
