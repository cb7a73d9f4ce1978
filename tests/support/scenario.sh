# Sourced by the end-to-end shell tests: `scenario program work` arguments, a fresh work
# directory, the output file every check reads, and the two checks they all use.
# Usage: source "$(dirname "$0")/../support/scenario.sh" "$@"
scenario=$1
work=$3
rm -rf "$work"
mkdir -p "$work"
out="$work/out.txt"
touch "$out"

fail() {
  echo "FAILED ($scenario): $*"
  echo "--- output ---"
  cat "$out"
  exit 1
}
# A missing outside tool: reported as skipped by CTest (SKIP_REGULAR_EXPRESSION "SKIPPED:"),
# never a silent pass; scripts/test lists skips and CI fails on them.
skip() {
  echo "SKIPPED ($scenario): $*"
  exit 0
}
require_tool() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null || skip "$tool is not on PATH (scripts/install-deps installs it)"
  done
}
expect_line() {
  grep -Eq -e "$1" "$out" || fail "no line matching: $1"
}
# A free loopback port (never 6379), or status 1.
free_port() {
  local port
  for _ in $(seq 1 50); do
    port=$((20000 + RANDOM % 40000))
    [ "$port" -eq 6379 ] && continue
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && continue  # taken
    echo "$port"
    return 0
  done
  return 1
}
# A redis-server of the test's own on a free loopback port that requires $password (given in a
# 0600 config file, not in argv); sets $port and $url and adds its pid to $pids.
start_protected_redis() {
  mkdir -p "$work/redis"
  # A port found free may be taken before redis-server binds it (other tests run alongside),
  # and a loaded machine may take seconds to start it: three tries, 20 s each.
  for _ in 1 2 3; do
    port=$(free_port) || fail "no free port"
    (
      umask 077
      printf 'port %s\nbind 127.0.0.1\nsave ""\ndir %s\nlogfile %s\nrequirepass "%s"\n' \
        "$port" "$work/redis" "$work/redis/redis.log" "$password" >"$work/redis/redis.conf"
    )
    redis-server "$work/redis/redis.conf" &
    local pid=$!
    pids+=("$pid")
    for _ in $(seq 1 400); do
      REDISCLI_AUTH="$password" redis-cli -p "$port" ping 2>/dev/null | grep -q PONG && break
      kill -0 "$pid" 2>/dev/null || break  # it exited (port taken?)
      sleep 0.05
    done
    if REDISCLI_AUTH="$password" redis-cli -p "$port" ping 2>/dev/null | grep -q PONG; then
      url="redis://127.0.0.1:$port"
      return 0
    fi
    kill "$pid" 2>/dev/null || true
  done
  echo "--- redis log ---" >&2
  tail -n 20 "$work/redis/redis.log" >&2 || true
  fail "our redis-server did not start"
}
