#!/usr/bin/env bash
# The secrets of the sample programs end to end (issue 11, part 5): the Redis password from
# --redis-password-file or REDIS_PASSWORD against a redis-server of our own that requires it,
# a wrong one refused at once, a URL password besides either refused (exit 2); warnings for
# key and password files others may read; the private redis-server refusing clients without
# its random password. The password never appears in any output, argv or --help. A missing
# tool is a reported skip (CTest: skipped), never a silent pass.
set -uo pipefail
source "$(dirname "$0")/../support/scenario.sh" "$@"
bin=$2
all="$work/all-output.txt"  # every program's stdout and stderr, checked for the password
touch "$all"
pids=()

cleanup() {
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null; done
  return 0
}
trap cleanup EXIT
no_line() {
  grep -Eq -e "$1" "$out" && fail "a line matching: $1"
  return 0
}
# Runs a program (bounded: a wrong password must fail, not hang) with its output in $out.
run() {
  timeout 120 "$@" >"$out" 2>&1
  status=$?
  cat "$out" >>"$all"
  [ "$status" -ne 124 ] || fail "timed out: $*"
  [ "$status" -lt 128 ] || fail "crashed (status $status): $*"
}
expect_status() {
  [ "$status" -eq "$1" ] || fail "exit status $status, expected $1"
}
no_password_anywhere() {
  if grep -qF -e "$password" "$all" "$@"; then
    grep -nF -e "$password" "$all" "$@" | sed "s/$password/<PASSWORD>/g"
    fail "the password appeared in the output"
  fi
}
# The argv of a running process, with the password nowhere in it.
argv_without_password() {
  tr '\0' ' ' <"/proc/$1/cmdline" >"$work/cmdline" || fail "no process $1"
  grep -qF -e "$password" "$work/cmdline" && fail "the password is in the argv of process $1"
  return 0
}
# Starts a long-running program in the background; waits for a line matching $2 in its stdout.
start_program() {
  local name=$1 ready=$2
  shift 2
  "$@" >"$work/$name.out" 2>"$work/$name.err" &
  program_pid=$!
  pids+=("$program_pid")
  for _ in $(seq 1 300); do
    grep -Eq -e "$ready" "$work/$name.out" && return 0
    kill -0 "$program_pid" 2>/dev/null || break
    sleep 0.05
  done
  cat "$work/$name.out" "$work/$name.err" >"$out"
  fail "$name did not print a line matching: $ready"
}
stop_program() {
  local name=$1
  kill -TERM "$program_pid"
  wait "$program_pid"
  status=$?
  cat "$work/$name.out" "$work/$name.err" >"$out"
  cat "$out" >>"$all"
  expect_status 0
}

require_tool redis-server redis-cli timeout curl
for program in example-sim example-server example-projector bank-sim; do
  [ -x "$bin/$program" ] || fail "$bin/$program is missing"
done
unset REDIS_PASSWORD REDISCLI_AUTH
password="pw-$RANDOM$RANDOM-Correct-Horse"
(umask 077 && echo "  $password  " >"$work/password")
wrong_password="wrong-$RANDOM-Pony"
(umask 077 && echo "$wrong_password" >"$work/wrong")
sim=("$bin/example-sim" --entities 50 --commands 200 --concurrency 8 --quiet)

case "$scenario" in
  sim)
    start_protected_redis
    run "${sim[@]}" --store redis --redis "$url" --redis-password-file "$work/password"
    expect_status 0
    expect_line '^recovery check: passed$'
    expect_line "^store: redis at redis://:\*\*\*@127\.0\.0\.1:$port\$"
    no_line 'warning'

    REDIS_PASSWORD="$password" run "${sim[@]}" --redis "$url"
    expect_status 0
    expect_line '^recovery check: passed$'

    # The file wins over the environment.
    REDIS_PASSWORD="not-$password" run "${sim[@]}" --redis "$url" \
      --redis-password-file "$work/password"
    expect_status 0

    run "${sim[@]}" --redis "$url" --redis-password-file "$work/wrong"
    expect_status 2
    expect_line '^example-sim: Redis authentication failed at redis://:\*\*\*@127\.0\.0\.1:'
    grep -qF -e "$wrong_password" "$out" && fail "the wrong password was shown"

    run "${sim[@]}" --redis "$url"
    [ "$status" -ne 0 ] || fail "accepted without a password"
    expect_line 'requires a password'

    run "${sim[@]}" --redis "redis://:$password@127.0.0.1:$port" \
      --redis-password-file "$work/password"
    expect_status 2
    expect_line '^example-sim: the --redis URL holds a password and --redis-password-file gives one too'

    REDIS_PASSWORD="$password" run "${sim[@]}" --redis "redis://:other@127.0.0.1:$port"
    expect_status 2
    expect_line 'the --redis URL holds a password and REDIS_PASSWORD gives one too'

    run "${sim[@]}" --redis "$url" --redis-password-file "$work/missing"
    expect_status 2
    expect_line "^example-sim: cannot read the Redis password file '$work/missing'"

    run "${sim[@]}" --store memory --redis-password-file "$work/password"
    expect_status 2

    REDIS_PASSWORD="$password" run "$bin/example-sim" --help
    expect_status 0
    expect_line '--redis-password-file'
    expect_line 'REDIS_PASSWORD'
    no_password_anywhere
    ;;
  warnings)
    head -c 32 /dev/urandom | base64 >"$work/open.key"
    chmod 644 "$work/open.key"
    key=$(tr -d '\n' <"$work/open.key")
    run "${sim[@]}" --store memory --cipher-key-file "$work/open.key"
    expect_status 0
    [ "$(grep -c warning "$out")" -eq 1 ] || fail "not exactly one warning"
    expect_line "^example-sim: warning: the cipher key file '$work/open\.key' is readable or writable by others"
    grep -qF -e "$key" "$out" && fail "the key was shown"

    cp "$work/open.key" "$work/own.key"
    chmod 600 "$work/own.key"
    run "${sim[@]}" --store memory --cipher-key-file "$work/own.key"
    expect_status 0
    no_line 'warning'

    chmod 660 "$work/open.key"
    # bank-sim reads the key twice (once to refuse bad flags up front): still one warning.
    run "$bin/bank-sim" --store memory --cipher-key-file "$work/open.key" \
      --accounts 10 --transfers 50 --quiet
    expect_status 0
    [ "$(grep -c warning "$out")" -eq 1 ] || fail "bank-sim: not exactly one warning"
    expect_line "^bank-sim: warning: the cipher key file '$work/open\.key' is readable or writable by others"

    start_protected_redis
    cp "$work/password" "$work/open-password"
    chmod 644 "$work/open-password"
    run "${sim[@]}" --redis "$url" --redis-password-file "$work/open-password"
    expect_status 0
    expect_line "^example-sim: warning: the Redis password file '$work/open-password' is readable or writable by others"
    no_password_anywhere
    ;;
  private)
    start_program server '^listening on http://' "$bin/example-server" --http 127.0.0.1:0 \
      --data-dir "$work/data" --quiet
    server_pid=$program_pid
    private_port=$(grep -Eo 'private redis-server on 127\.0\.0\.1:[0-9]+' "$work/server.err" |
      grep -Eo '[0-9]+$')
    [ -n "$private_port" ] || { cat "$work/server.err" >"$out"; fail "no private redis-server line"; }
    http=$(grep -Eo 'http://[0-9.:]+' "$work/server.out")

    # A local client without the password can neither read nor write.
    redis-cli -p "$private_port" ping >"$out" 2>&1
    expect_line '^NOAUTH'
    redis-cli -p "$private_port" set intruder 1 >"$out" 2>&1
    expect_line '^NOAUTH'
    [ "$(stat -c %a "$work/data/example-server-redis")" = 700 ] ||
      fail "the private data directory is open to others"
    [ "$(stat -c %a "$work/data/example-server-redis/redis.conf")" = 600 ] ||
      fail "redis.conf is open to others"

    # The password is the one in its 0600 config file (read here, never printed): the
    # server's data is there for whoever holds it.
    conf_password=$(sed -n 's/^requirepass "\(.*\)"$/\1/p' \
      "$work/data/example-server-redis/redis.conf")
    [ -n "$conf_password" ] || fail "no requirepass in the private redis.conf"
    password=$(printf '%b' "$conf_password")
    [[ "$password" =~ ^[0-9a-f]{64}$ ]] || fail "the private password is not 64 hex digits"
    curl -sf -X POST "$http/examples" -d '{"a": 1}' >/dev/null || fail "POST /examples failed"
    REDISCLI_AUTH="$password" redis-cli -p "$private_port" dbsize >"$out" 2>&1
    grep -Eq '^[1-9][0-9]*$' "$out" || fail "no keys with the private password"
    REDISCLI_AUTH="$password" redis-cli -p "$private_port" ping >"$out" 2>&1
    expect_line '^PONG$'
    argv_without_password "$server_pid"
    for child in $(pgrep -P "$server_pid"); do argv_without_password "$child"; done
    stop_program server
    no_password_anywhere "$work/data/example-server-redis/redis.log"

    # A second start draws another password.
    start_program server '^listening on http://' "$bin/example-server" --http 127.0.0.1:0 \
      --data-dir "$work/data" --quiet
    second=$(sed -n 's/^requirepass "\(.*\)"$/\1/p' "$work/data/example-server-redis/redis.conf")
    [ "$(printf '%b' "$second")" != "$password" ] || fail "the same password twice"
    stop_program server
    ;;
  programs)
    start_protected_redis
    run "$bin/bank-sim" --redis "$url" --redis-password-file "$work/password" \
      --accounts 10 --transfers 100 --quiet
    expect_status 0
    expect_line '^invariant holds: '
    expect_line "^store: redis at redis://:\*\*\*@127\.0\.0\.1:$port\$"
    run "$bin/bank-sim" --redis "redis://:x@127.0.0.1:$port" \
      --redis-password-file "$work/password" --quiet
    expect_status 2
    REDIS_PASSWORD="$password" run "$bin/bank-sim" --redis "$url" --resume --quiet
    expect_status 0

    start_program projector '^example-projector: ready' "$bin/example-projector" --redis "$url" \
      --redis-password-file "$work/password"
    grep -Eq "store=redis at redis://:\*\*\*@127\.0\.0\.1:$port\$" "$work/projector.out" ||
      { cat "$work/projector.out" >"$out"; fail "no masked store in the projector's ready line"; }
    argv_without_password "$program_pid"
    stop_program projector
    run "$bin/example-projector" --redis "$url" --redis-password-file "$work/wrong" --quiet
    expect_status 2
    expect_line '^example-projector: Redis authentication failed'

    export REDIS_PASSWORD="$password"
    start_program server '^listening on http://' "$bin/example-server" --http 127.0.0.1:0 \
      --redis "$url" --quiet
    unset REDIS_PASSWORD REDISCLI_AUTH
    grep -Eq "^example-server: redis at redis://:\*\*\*@127\.0\.0\.1:$port\$" "$work/server.err" ||
      { cat "$work/server.err" >"$out"; fail "no masked store line"; }
    argv_without_password "$program_pid"
    stop_program server
    run "$bin/example-server" --http 127.0.0.1:0 --redis "$url" \
      --redis-password-file "$work/wrong" --quiet
    expect_status 2
    expect_line '^example-server: Redis authentication failed'
    REDIS_PASSWORD="$password" run "$bin/example-server" --http 127.0.0.1:0 \
      --redis "redis://:other@127.0.0.1:$port" --quiet
    expect_status 2
    expect_line 'the --redis URL holds a password and REDIS_PASSWORD gives one too'
    for program in example-server example-projector bank-sim; do
      REDIS_PASSWORD="$password" run "$bin/$program" --help
      expect_status 0
      expect_line '--redis-password-file'
    done
    no_password_anywhere
    ;;
  *)
    echo "unknown scenario $scenario"
    exit 2
    ;;
esac
echo "passed ($scenario)"
