#!/usr/bin/env bash
# bank-sim end to end: small runs on the in-memory store and on a private redis-server (then
# resumed on the same data), refused flags, and the crash test: bank-sim on a redis-server of
# our own is killed with SIGKILL in the middle of its transfers, and a --resume run on the
# same Redis must finish every transfer and find the invariant holding. Each scenario checks
# exit statuses and the lines the issue names. A missing tool is a reported skip, never a silent pass.
set -uo pipefail
source "$(dirname "$0")/../support/scenario.sh" "$@"
sim=$2

bench_lines() {
  expect_line '^BENCH bank\.transfers_per_s [0-9.]+ transfers/s$'
  expect_line '^BENCH bank\.transfer_latency_p99 [0-9.]+ ms$'
}
invariant_holds() {
  expect_line '^invariant holds: '
  grep -q 'invariant FAILED' "$out" && fail "the invariant failed"
  grep -q '^  problem: ' "$out" && fail "problems reported"
  return 0
}

case "$scenario" in
  memory)
    "$sim" --store memory --accounts 60 --transfers 3000 --concurrency 16 --quiet >"$out" 2>&1 ||
      fail "exit status $?"
    bench_lines
    invariant_holds
    expect_line '; 3000 transfers all ended \([0-9]+ completed, [0-9]+ declined\)'
    expect_line '^    declined: credit refused: the account is closed'
    expect_line '^  failed requests      0$'
    ;;
  redis)
    "$sim" --data-dir "$work/data" --accounts 60 --transfers 2000 --concurrency 16 --quiet \
      >"$out" 2>&1 || fail "exit status $?"
    bench_lines
    invariant_holds
    expect_line '^store: private redis-server on 127\.0\.0\.1:[0-9]+'
    expect_line '; 2000 transfers all ended'
    [ -n "$(find "$work/data/bank-sim-redis" -name '*.aof' -type f)" ] ||
      fail "no AOF file in the data directory"
    # The data outlives the process: a resume finds every transfer ended and checks it again.
    "$sim" --data-dir "$work/data" --resume --quiet >"$out" 2>&1 || fail "resume: exit status $?"
    expect_line '^bank-sim: resuming .*: 2000 transfers requested before, 0 of them in progress$'
    invariant_holds
    expect_line '; 2000 transfers all ended'
    ;;
  bad-flags)
    for args in "--accounts 1" "--transfers -1" "--concurrency 0" "--timeout 0" "--threads -1" \
                "--store paper" "--store memory --redis redis://127.0.0.1:1" \
                "--store memory --resume" "--resume --transfers 10" \
                "--cipher-key-file $work/missing" "--snapshot-period -1" "--no-such-flag" \
                "--accounts many"; do
      # shellcheck disable=SC2086
      "$sim" $args --quiet >"$out" 2>&1
      status=$?
      [ "$status" -eq 2 ] || fail "'$args' gave exit status $status, not 2"
      expect_line '^bank-sim: '
      [ -z "$(ls -A "$work" | grep -v out.txt)" ] || fail "'$args' left files behind"
    done
    "$sim" --help >"$out" 2>&1 || fail "--help: exit status $?"
    for flag in --accounts --transfers --concurrency --redis --store --data-dir --resume --quiet \
                --help; do
      expect_line "$flag"
    done
    ;;
  crash)
    require_tool redis-server redis-cli
    mkdir -p "$work/redis"
    redis_pid=""
    cleanup() {
      [ -n "$redis_pid" ] && kill "$redis_pid" 2>/dev/null && wait "$redis_pid" 2>/dev/null
      [ -n "${sim_pid:-}" ] && kill -9 "$sim_pid" 2>/dev/null
      return 0
    }
    trap cleanup EXIT
    # Our own redis-server on a free loopback port (never 6379), AOF on, in the build tree.
    for attempt in 1 2 3 4 5 6 7 8 9 10; do
      port=$((20000 + RANDOM % 40000))
      [ "$port" -eq 6379 ] && continue
      redis-cli -p "$port" ping >/dev/null 2>&1 && continue  # taken
      redis-server --port "$port" --bind 127.0.0.1 --dir "$work/redis" --appendonly yes \
        --appendfsync everysec --save "" --logfile "$work/redis/redis.log" &
      redis_pid=$!
      for _ in $(seq 1 100); do
        redis-cli -p "$port" ping 2>/dev/null | grep -q PONG && break
        kill -0 "$redis_pid" 2>/dev/null || break
        sleep 0.05
      done
      redis-cli -p "$port" ping 2>/dev/null | grep -q PONG && break
      kill "$redis_pid" 2>/dev/null
      wait "$redis_pid" 2>/dev/null
      redis_pid=""
    done
    [ -n "$redis_pid" ] || fail "could not start redis-server on a free port"
    url="redis://127.0.0.1:$port"

    # Far more transfers than it can do before the kill.
    "$sim" --redis "$url" --accounts 40 --transfers 1000000 --concurrency 32 --quiet \
      >"$work/run1.txt" 2>&1 &
    sim_pid=$!
    # Until transfers are under way: the log holds more than the accounts' events.
    for _ in $(seq 1 400); do
      [ "$(redis-cli -p "$port" dbsize 2>/dev/null || echo 0)" -gt 400 ] && break
      kill -0 "$sim_pid" 2>/dev/null || break
      sleep 0.05
    done
    sleep "0.$((RANDOM % 8 + 2))"
    kill -9 "$sim_pid" 2>/dev/null
    wait "$sim_pid"
    status=$?
    sim_pid=""
    cp "$work/run1.txt" "$out"
    [ "$status" -eq 137 ] || fail "bank-sim was not killed by SIGKILL (exit status $status)"
    [ "$(redis-cli -p "$port" dbsize)" -gt 400 ] || fail "no transfers were under way at the kill"

    # Resume, killed again early, then resumed to the end: the invariant holds.
    "$sim" --redis "$url" --resume --quiet >"$work/run2.txt" 2>&1 &
    sim_pid=$!
    sleep 0.3
    kill -9 "$sim_pid" 2>/dev/null
    wait "$sim_pid" 2>/dev/null
    sim_pid=""
    "$sim" --redis "$url" --resume --quiet >"$out" 2>&1 || fail "resume: exit status $?"
    expect_line '^bank-sim: resuming .*: [0-9]+ transfers requested before'
    invariant_holds
    expect_line '; [0-9]+ transfers all ended'
    # Transfers were in flight at the first kill; the first resume saw them.
    grep -Eq ', [1-9][0-9]* of them in progress$' "$work/run2.txt" "$out" ||
      fail "no transfer was in progress after the kill"
    ;;
  *)
    echo "unknown scenario $scenario"
    exit 2
    ;;
esac
echo "passed ($scenario)"
