#!/usr/bin/env bash
# The event browser in a real headless Chromium (tests/browser/event_browser.js): starts its
# own redis-server and example-server on free loopback ports, runs the four steps, saves a
# screenshot per step in <screenshots>, stops both. A missing tool (node, chromium, the
# pinned puppeteer-core, es-verify) is a failure with the reason, never a skip.
# Usage: event_browser_test.sh browser <bin dir> <work dir> <screenshots dir>
set -uo pipefail
source "$(dirname "$0")/../support/scenario.sh" "$@"
bin=$2
shots=$4
here=$(cd "$(dirname "$0")" && pwd)
chromium=${CHROMIUM:-/usr/bin/chromium}
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
  sleep 0.5
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null; done
  return 0
}
trap cleanup EXIT

command -v node >/dev/null || fail "node is missing: scripts/install-deps installs nodejs and npm"
[ -x "$chromium" ] || fail "chromium is missing ($chromium): scripts/install-deps installs it"
[ -f "$here/node_modules/puppeteer-core/package.json" ] ||
  fail "tests/browser/node_modules is missing: run 'npm ci' in tests/browser (scripts/install-deps does)"
command -v redis-server >/dev/null && command -v redis-cli >/dev/null ||
  fail "redis-server or redis-cli is missing: scripts/install-deps installs them"
[ -x "$bin/example-server" ] || fail "no $bin/example-server: build it first"

free_port() {
  local port
  for _ in $(seq 1 50); do
    port=$((20000 + RANDOM % 40000))
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && continue  # taken
    echo "$port"
    return 0
  done
  return 1
}

# A private redis-server, nothing persisted.
for attempt in 1 2 3; do
  redis_port=$(free_port) || fail "no free port"
  redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no \
    --dir "$work" >"$work/redis.log" 2>&1 &
  redis_pid=$!
  for _ in $(seq 1 100); do
    redis-cli -p "$redis_port" ping 2>/dev/null | grep -q PONG && break
    kill -0 "$redis_pid" 2>/dev/null || break
    sleep 0.1
  done
  if redis-cli -p "$redis_port" ping 2>/dev/null | grep -q PONG; then
    pids+=("$redis_pid")
    break
  fi
  kill -9 "$redis_pid" 2>/dev/null
  [ "$attempt" -eq 3 ] && { cat "$work/redis.log" >>"$out"; fail "redis-server did not start"; }
done

"$bin/example-server" --http 127.0.0.1:0 --redis "redis://127.0.0.1:$redis_port" --quiet \
  >"$work/server.out" 2>"$work/server.err" &
pids=("$!" "${pids[@]}")
for _ in $(seq 1 300); do
  grep -q '^listening on ' "$work/server.out" && break
  sleep 0.1
done
url=$(sed -n 's/^listening on //p' "$work/server.out")
[ -n "$url" ] || { cat "$work/server.err" >>"$out"; fail "example-server did not start"; }

rm -rf "$shots"
mkdir -p "$shots"
timeout 180 node "$here/event_browser.js" --url "$url" --redis-port "$redis_port" \
  --chromium "$chromium" --shots "$shots" --es-verify "$bin/es-verify" >"$out" 2>&1
status=$?
[ "$status" -eq 0 ] || fail "the browser test failed (status $status); screenshots in $shots"
cat "$out"
echo "PASSED (browser): screenshots in $shots"
