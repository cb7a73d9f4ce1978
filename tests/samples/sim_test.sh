#!/usr/bin/env bash
# example-sim end to end (the program scripts/demo runs): small runs on the in-memory store,
# on a private redis-server, encrypted with snapshots, and refused flags. Each scenario checks
# the exit status and the summary lines the issue names, and, where Redis holds the data,
# the stored files themselves.
set -uo pipefail
source "$(dirname "$0")/../support/scenario.sh" "$@"
sim=$2

summary_lines() {
  expect_line '^BENCH sim\.events_per_s [0-9.]+ events/s$'
  expect_line '^BENCH sim\.latency_p99 [0-9.]+ ms$'
  expect_line '^BENCH sim\.rss_peak [0-9.]+ MiB$'
  expect_line '^  errors               0, state mismatches 0$'
  expect_line '^recovery check: passed$'
}
aof_files() {
  find "$work/data/example-sim-redis" -name '*.aof' -type f
}

case "$scenario" in
  memory)
    "$sim" --store memory --entities 300 --commands 3000 --concurrency 16 --quiet >"$out" 2>&1 ||
      fail "exit status $?"
    summary_lines
    expect_line '^  events persisted     3000 \(\+300 Created\)'
    # The runtime's own counters (docs/OPERATIONS.md) agree with what was done.
    expect_line '^  commands             ok 3300, conflict 0, invalid 0, not_found 0, unavailable 0, error 0$'
    expect_line '^  events appended      3300 in [0-9]+ store round trips'
    expect_line '^  recoveries           300 in the recovery check'
    ;;
  redis)
    "$sim" --data-dir "$work/data" --entities 300 --commands 3000 --concurrency 16 --quiet \
      >"$out" 2>&1 || fail "exit status $?"
    summary_lines
    expect_line '^store: private redis-server on 127\.0\.0\.1:[0-9]+'
    expect_line '^  redis memory         [0-9]+ bytes per entity'
    expect_line '^  recovery             300 entities rebuilt from the store'
    [ -n "$(aof_files)" ] || fail "no AOF file in the data directory"
    # Plain storage: the events' JSON is in the AOF as written.
    aof_files | xargs grep -l '"previous_hash"' >/dev/null || fail "no event JSON in the AOF"
    # A second run starts from an empty store: only its own 300 entities are rebuilt.
    "$sim" --data-dir "$work/data" --entities 300 --commands 300 --concurrency 8 --quiet \
      >"$out" 2>&1 || fail "second run: exit status $?"
    expect_line '^  recovery             300 entities rebuilt from the store'
    ;;
  encrypted)
    head -c 32 /dev/urandom | base64 >"$work/key"
    "$sim" --data-dir "$work/data" --cipher-key-file "$work/key" --snapshot-period 5 \
      --entities 200 --commands 2000 --concurrency 16 --quiet >"$out" 2>&1 ||
      fail "exit status $?"
    summary_lines
    expect_line 'encrypted \(AES-GCM\), snapshot every 5 events'
    [ -n "$(aof_files)" ] || fail "no AOF file in the data directory"
    if aof_files | xargs grep -l -e '"previous_hash"' -e '"originator_id"' >/dev/null; then
      fail "plaintext event JSON in the AOF of an encrypted run"
    fi
    ;;
  open-loop)
    # --rate: commands sent on a schedule, not as answers come. 2,000 at 2,000/s take about
    # a second however fast the store is; 3 entities at 20,000/s keep every entity busy, so
    # commands wait for their entity and each entity's state must still come out exact.
    "$sim" --store memory --entities 50 --commands 2000 --rate 2000 --quiet >"$out" 2>&1 ||
      fail "exit status $?"
    summary_lines
    expect_line '^open loop: 2000 commands/s'
    expect_line '^example-sim: 50 entities, 2000 commands, 1 concurrent senders'
    secs=$(sed -nE 's/^  events persisted     2000 \(\+50 Created\) in ([0-9.]+) s.*/\1/p' "$out")
    [ -n "$secs" ] || fail "no 'events persisted' line"
    awk -v s="$secs" 'BEGIN { exit !(s >= 0.9 && s < 10) }' ||
      fail "2000 commands at 2000/s took $secs s (expected about 1 s)"
    "$sim" --store memory --entities 3 --commands 3000 --rate 20000 --concurrency 3 --quiet \
      >"$out" 2>&1 || fail "busy entities: exit status $?"
    summary_lines
    expect_line '^  events persisted     3000 \(\+3 Created\)'
    ;;
  bad-flags)
    for args in "--rate -5" "--rate fast" "--rate 1e-10" "--entities 0" "--concurrency -3" "--threads -1" "--store paper" \
                "--store memory --redis redis://127.0.0.1:1" "--cipher-key-file $work/missing" \
                "--snapshot-period -1" "--no-such-flag"; do
      # shellcheck disable=SC2086
      "$sim" $args --quiet >"$out" 2>&1
      status=$?
      [ "$status" -ne 0 ] || fail "'$args' was accepted"
      [ "$status" -lt 128 ] || fail "'$args' crashed (status $status)"
      expect_line '^example-sim: '
      [ -z "$(ls -A "$work" | grep -v out.txt)" ] || fail "'$args' left files behind"
    done
    "$sim" --help >"$out" 2>&1 || fail "--help: exit status $?"
    for flag in --entities --commands --concurrency --rate --threads --redis --store --cipher-key-file \
                --snapshot-period --quiet; do
      expect_line "$flag"
    done
    ;;
  *)
    echo "unknown scenario $scenario"
    exit 2
    ;;
esac
echo "passed ($scenario)"
