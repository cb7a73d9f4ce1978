#!/usr/bin/env bash
# es-verify end to end (docs/OPERATIONS.md): a store filled by example-sim in a redis-server
# of the test's own verifies (exit 0, counts equal to what Redis holds, --json parsed); an
# event changed by hand is named by stream key and version (exit 1); a deleted, duplicated or
# dangling notification-log entry fails the audit (exit 1); the right cipher key verifies, a
# wrong one is an integrity failure; bad flags and an unreachable Redis exit 2 quickly; a
# store of another application (bank-sim) verifies once its topics are named with --topic,
# and an event changed by hand is named there too. It also checks that es-verify wrote
# nothing. A missing tool is a failure, never a skip.
# Usage: verify_test.sh clean|tamper|logs|cipher|topics|usage BIN_DIR WORK_DIR
set -uo pipefail
source "$(dirname "$0")/../support/scenario.sh" "$@"
bin=$2
verify=$bin/es-verify
sim=$bin/example-sim
for tool in redis-server redis-cli python3 "$verify" "$sim"; do
  command -v "$tool" >/dev/null 2>&1 || fail "missing tool: $tool"
done
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null; done
  return 0
}
trap cleanup EXIT

password=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
printf '%s\n' "$password" >"$work/password" && chmod 600 "$work/password"
rcli() { REDISCLI_AUTH="$password" redis-cli --no-auth-warning -p "$port" "$@"; }
fill() {  # example-sim into our Redis: 120 entities, 1200 more events
  timeout 300 "$sim" --redis "$url" --redis-password-file "$work/password" --entities 120 \
    --commands 1200 --concurrency 16 --quiet "$@" >"$out" 2>&1 || fail "example-sim failed"
}
# Runs es-verify with our Redis and password; status in $status, output in $out.
run_verify() {
  local started=$SECONDS
  timeout 60 "$verify" --redis "$url" --redis-password-file "$work/password" "$@" >"$out" 2>&1
  status=$?
  elapsed=$((SECONDS - started))
  [ "$status" -ne 124 ] || fail "es-verify timed out: $*"
  [ "$status" -lt 128 ] || fail "es-verify crashed (status $status): $*"
}
expect_status() {
  [ "$status" -eq "$1" ] || fail "exit status $status, expected $1"
}
# A field of the --json document (python3, strict JSON), e.g. json_field "['logs']['missing']".
json_field() {
  python3 -c "import json,sys; d=json.loads(sys.stdin.read()); print(d$1)" <"$out" ||
    fail "--json output is not one JSON document with $1"
}
stored_events() {  # what Redis holds: the sum of the partitions' last log positions
  local total=0 last
  for key in $(rcli --scan --pattern 'es:{p*}:log'); do
    last=$(rcli xrevrange "$key" + - count 1 | head -1)
    total=$((total + ${last%-1}))
  done
  echo "$total"
}
# Rewrites the timestamp in the state of entry ID of stream KEY, the stream otherwise as it
# was (its entries written again in order): rewrite_timestamp KEY ID
rewrite_timestamp() {
  rcli eval "local e = redis.call('XRANGE', KEYS[1], '-', '+')
    redis.call('DEL', KEYS[1])
    for _, x in ipairs(e) do
      local f = x[2]
      if x[1] == ARGV[1] then f[4] = string.gsub(f[4], '\"timestamp\":%d+', '\"timestamp\":1', 1) end
      redis.call('XADD', KEYS[1], x[1], f[1], f[2], f[3], f[4])
    end
    return #e" 1 "$1" "$2" >"$out" 2>&1 || fail "cannot tamper with $1"
}
fingerprint() {  # every key with its type and length: unchanged means nothing was written
  rcli --scan | sort | while read -r key; do
    printf '%s %s %s\n' "$key" "$(rcli type "$key")" "$(rcli xlen "$key" 2>/dev/null)"
  done
}

case "$scenario" in
clean)
  start_protected_redis
  fill
  before=$(fingerprint)
  run_verify
  expect_status 0
  expect_line '^  streams +120 \(0 broken\)$'
  expect_line "^  events +$(stored_events)$"
  expect_line '^  events +1320$'
  expect_line '^BENCH verify.events_per_s [0-9]+ events/s$'
  expect_line '^verify: passed$'
  run_verify --json --jobs 3
  expect_status 0
  [ "$(json_field "['ok']")" = True ] || fail "ok is not true"
  [ "$(json_field "['streams']")" = 120 ] || fail "streams is not 120"
  [ "$(json_field "['events']")" = 1320 ] || fail "events is not 1320"
  [ "$(json_field "['broken']")" = 0 ] || fail "broken is not 0"
  [ "$(json_field "['logs']['entries']")" = 1320 ] || fail "log entries are not 1320"
  [ "$(json_field "['broken_streams']")" = "[]" ] || fail "broken_streams is not empty"
  python3 -c "import json,sys; d=json.loads(sys.stdin.read()); assert d['seconds'] > 0 and d['events_per_s'] > 0" <"$out" ||
    fail "seconds or events_per_s missing"
  [ "$(fingerprint)" = "$before" ] || fail "es-verify changed the store"
  ;;
tamper)
  start_protected_redis
  fill
  key=
  for k in $(rcli --scan --pattern 'es:{p*}:entity:*'); do
    if [ "$(rcli xlen "$k")" -ge 3 ]; then
      key=$k
      break
    fi
  done
  [ -n "$key" ] || fail "no entity stream with 3 events"
  id=${key##*:}
  # Version 1's state rewritten with another timestamp, the stream otherwise as it was.
  rewrite_timestamp "$key" 1-1
  run_verify
  expect_status 1
  expect_line "^BROKEN $(printf '%s' "$key" | sed 's/[{}]/\\&/g') version 1: integrity failure"
  grep -q "$id" "$out" || fail "the output does not name entity $id"
  expect_line '^  streams +120 \(1 broken\)$'
  expect_line '^verify: FAILED$'
  run_verify --json
  expect_status 1
  [ "$(json_field "['broken']")" = 1 ] || fail "broken is not 1"
  [ "$(json_field "['broken_streams'][0]['key']")" = "$key" ] || fail "wrong key"
  [ "$(json_field "['broken_streams'][0]['id']")" = "$id" ] || fail "wrong id"
  [ "$(json_field "['broken_streams'][0]['version']")" = 1 ] || fail "wrong version"
  # A missing version (entry 2 deleted): the chain has a gap at 2.
  rcli eval "redis.call('XDEL', KEYS[1], '2-1') return 1" 1 "$key" >/dev/null
  run_verify --json
  expect_status 1
  [ "$(json_field "['broken_streams'][0]['version']")" = 1 ] || fail "first problem not kept"
  # An unregistered topic in another stream.
  other=$(rcli --scan --pattern 'es:{p*}:entity:*' | grep -v "$id" | head -1)
  rcli eval "local e = redis.call('XRANGE', KEYS[1], '-', '+')
    redis.call('DEL', KEYS[1])
    for i, x in ipairs(e) do
      local f = x[2]
      if i == 1 then f[2] = 'example.Example.Renamed' end
      redis.call('XADD', KEYS[1], x[1], f[1], f[2], f[3], f[4])
    end
    return #e" 1 "$other" >/dev/null
  run_verify
  expect_status 1
  expect_line "version 0: topic 'example.Example.Renamed' is not registered"
  expect_line '^  streams +120 \(2 broken\)$'
  ;;
logs)
  start_protected_redis
  fill
  log=$(rcli --scan --pattern 'es:{p*}:log' | sort | head -1)
  last=$(rcli xrevrange "$log" + - count 1 | head -1)
  next=$((${last%-1} + 1))
  # The first entry: its ID, the field name events, then a line per event
  # ("<id> <version> <topic>", docs/STORAGE.md).
  mapfile -t first < <(rcli xrange "$log" - + count 1)
  [ "${first[1]}" = events ] || fail "the log entry is not packed: ${first[*]}"
  read -r first_id first_version first_topic <<<"${first[2]}"
  # A duplicated entry: the first one's first event again at the next position, in the form
  # stores wrote before the packed one (id, version, topic fields), which es-verify still reads.
  rcli xadd "$log" "$next-1" id "$first_id" version "$first_version" topic "$first_topic" >/dev/null
  run_verify --json
  expect_status 1
  [ "$(json_field "['logs']['duplicates']")" = 1 ] || fail "duplicates is not 1"
  [ "$(json_field "['logs']['gaps']")" = 0 ] || fail "gaps is not 0"
  [ "$(json_field "['broken']")" = 0 ] || fail "a stream is reported broken"
  run_verify
  expect_status 1
  expect_line "entity $first_id version $first_version appears in the log more than once"
  # Removed again: the store verifies.
  rcli xdel "$log" "$next-1" >/dev/null
  run_verify
  expect_status 0
  # A dangling entry: an entity that has no stream (at the position after: a stream's IDs
  # only grow, so the deleted one cannot be reused).
  rcli xadd "$log" "$((next + 1))-1" events \
    $'00000000-0000-4000-8000-0000000000ff 0 example.Example.Created\n' >/dev/null
  run_verify
  expect_status 1
  expect_line "points at entity 00000000-0000-4000-8000-0000000000ff version 0, which is not stored"
  rcli xdel "$log" "$((next + 1))-1" >/dev/null
  # A packed line without its version: named at its position.
  rcli xadd "$log" "$((next + 2))-1" events $'not-a-line\n' >/dev/null
  run_verify
  expect_status 1
  expect_line "LOG partition [0-9]+ position $((next + 2)): the log entry's line is not '<id> <version> <topic>'"
  rcli xdel "$log" "$((next + 2))-1" >/dev/null
  # A deleted entry (the first: the events of one append call, a line each): its events are
  # in no log, and its positions are a gap.
  mapfile -t gone < <(rcli xrange "$log" - + count 1)
  gone_events=$(printf '%s\n' "${gone[@]:2}" | grep -c .)
  read -r gone_id gone_version _ <<<"${gone[2]}"
  rcli xdel "$log" "${gone[0]}" >/dev/null
  run_verify --json
  expect_status 1
  [ "$(json_field "['logs']['missing']")" = "$gone_events" ] || fail "missing is not $gone_events"
  [ "$(json_field "['logs']['gaps']")" = 1 ] || fail "gaps is not 1"
  run_verify
  expect_status 1
  expect_line "entity $gone_id version $gone_version is in no log entry"
  expect_line "positions 1..${gone[0]%-1} are missing from the log"
  ;;
cipher)
  start_protected_redis
  head -c 32 /dev/urandom | base64 >"$work/key" && chmod 600 "$work/key"
  head -c 32 /dev/urandom | base64 >"$work/wrong" && chmod 600 "$work/wrong"
  fill --cipher-key-file "$work/key"
  run_verify --cipher-key-file "$work/key"
  expect_status 0
  expect_line '^  streams +120 \(0 broken\)$'
  run_verify --cipher-key-file "$work/wrong"
  expect_status 1
  expect_line 'version 0: integrity failure: cannot decrypt'
  expect_line '^  streams +120 \(120 broken\)$'
  run_verify  # no key: the states are not JSON
  expect_status 1
  expect_line 'version 0: cannot decode the state'
  ;;
topics)
  bank=$bin/bank-sim
  command -v "$bank" >/dev/null 2>&1 || fail "missing tool: $bank"
  start_protected_redis
  timeout 300 "$bank" --redis "$url" --redis-password-file "$work/password" --accounts 20 \
    --transfers 200 --concurrency 16 --quiet >"$out" 2>&1 || fail "bank-sim failed"
  keys=$(rcli --scan --pattern 'es:{p*}:entity:*' | sort)
  streams=$(printf '%s\n' "$keys" | grep -c .)
  # The topics the store holds, as Redis lists them (each entry: topic, state).
  mapfile -t topics < <(for k in $keys; do rcli xrange "$k" - + | awk 'prev == "topic" { print } { prev = $0 }'; done | sort -u)
  [ "${#topics[@]}" -ge 5 ] || fail "bank-sim stored fewer topics than expected: ${topics[*]}"
  run_verify
  expect_status 1
  expect_line "topic 'bank\.[A-Za-z]+\.[A-Za-z]+' is not registered"
  named=()
  for t in "${topics[@]}"; do named+=(--topic "$t"); done
  run_verify "${named[@]}"
  expect_status 0
  expect_line "^  streams +$streams \(0 broken\)$"
  expect_line '^verify: passed$'
  # The chain of another application's events is checked all the same.
  key=$(printf '%s\n' "$keys" | head -1)
  rewrite_timestamp "$key" 0-1
  run_verify "${named[@]}"
  expect_status 1
  expect_line "^BROKEN $(printf '%s' "$key" | sed 's/[{}]/\\&/g') version 0: integrity failure"
  expect_line "^  streams +$streams \(1 broken\)$"
  # A topic of more than one line is bad usage.
  run_verify --topic $'two\nlines'
  expect_status 2
  expect_line '--topic needs a name of one line'
  ;;
usage)
  run_verify_bare() {
    local started=$SECONDS
    timeout 60 "$verify" "$@" >"$out" 2>&1
    status=$?
    elapsed=$((SECONDS - started))
    [ "$status" -lt 124 ] || fail "es-verify timed out or crashed (status $status): $*"
  }
  run_verify_bare --help
  expect_status 0
  expect_line '^Usage: es-verify --redis URL'
  expect_line '--cipher-key-file'
  expect_line '--jobs'
  expect_line '--json'
  expect_line '--redis-password-file'
  run_verify_bare
  expect_status 2
  expect_line '--redis URL is required'
  run_verify_bare --redis redis://127.0.0.1:1 --jobs 0
  expect_status 2
  run_verify_bare --redis redis://127.0.0.1:1 --frobnicate
  expect_status 2
  run_verify_bare --redis 'http://nowhere'
  expect_status 2
  run_verify_bare --redis redis://127.0.0.1:1 --cipher-key-file "$work/none"
  expect_status 2
  # Nothing listens there: exit 2 within a few seconds, with a clear message.
  dead=$(free_port) || fail "no free port"
  run_verify_bare --redis "redis://127.0.0.1:$dead"
  expect_status 2
  [ "$elapsed" -le 5 ] || fail "took $elapsed s to give up on an unreachable Redis"
  expect_line "cannot read the store redis://127.0.0.1:$dead"
  # A wrong password: exit 2, and the password shows nowhere.
  start_protected_redis
  printf 'not-the-password\n' >"$work/bad" && chmod 600 "$work/bad"
  run_verify_bare --redis "$url" --redis-password-file "$work/bad"
  expect_status 2
  grep -q 'not-the-password' "$out" && fail "the password appeared in the output"
  ;;
*)
  fail "unknown scenario"
  ;;
esac
echo "PASSED ($scenario)"
