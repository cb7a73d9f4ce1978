#!/usr/bin/env bash
# Why: the memory an idle keep-alive connection costs example-server (docs/RELIABILITY.md):
# the server's RSS before and while ES_BENCH_CONNECTIONS connections are held open, once with
# connections that were answered one request (the usual idle keep-alive connection), once
# with connections that never sent a byte; a fresh server (store in memory) for each. The
# kernel's share (socket structures in its slabs, for both ends of each loopback connection,
# so roughly twice what the server's side costs) is read from /proc/meminfo alongside: it
# is machine-wide, so other activity on the machine blurs it.
#
# Usage: bench/http_idle_connections.sh   (after scripts/build; needs python3)
# Knobs: ES_BENCH_CONNECTIONS (default 2000), ES_BENCH_SERVER (the binary, default
#        build/bin/example-server), ES_BENCH_SERVER_ARGS (default --max-connections COUNT+64).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
server_bin=${ES_BENCH_SERVER:-$root/build/bin/example-server}
count=${ES_BENCH_CONNECTIONS:-2000}
server_args=${ES_BENCH_SERVER_ARGS---max-connections $((count + 64))}
command -v python3 >/dev/null || { echo "http_idle_connections: python3 is missing" >&2; exit 1; }
[[ -x "$server_bin" ]] || { echo "http_idle_connections: build first ($server_bin missing)" >&2; exit 1; }
ulimit -n "$(ulimit -Hn)"
(( $(ulimit -n) > count + 100 )) || { echo "http_idle_connections: descriptor limit too low" >&2; exit 1; }

work=$(mktemp -d /tmp/es-http-idle.XXXXXX)
server_pid=""
holder_pid=""
cleanup() {
  if [[ -n "$holder_pid" ]]; then kill "$holder_pid" 2>/dev/null || true; fi
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
slab_kb() { awk '/^Slab:/ {print $2}' /proc/meminfo; }

# measure MODE: sets per_kb (RSS per connection in KiB) and kernel_kb (slab per connection).
measure() {
  local mode=$1
  # shellcheck disable=SC2086
  "$server_bin" --http 127.0.0.1:0 --store memory --quiet $server_args \
    >"$work/stdout" 2>"$work/stderr" &
  server_pid=$!
  for _ in $(seq 300); do
    grep -q '^listening on ' "$work/stdout" 2>/dev/null && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/stderr" >&2; exit 1; }
    sleep 0.1
  done
  local url port
  url=$(sed -n 's/^listening on //p' "$work/stdout")
  port=${url##*:}
  # Warm up: the first connections and requests allocate what every later one reuses.
  python3 bench/http/hold_connections.py 127.0.0.1 "$port" 50 request </dev/null >/dev/null
  sleep 1
  local before after slab_before slab_after
  before=$(rss_kb "$server_pid")
  slab_before=$(slab_kb)
  mkfifo "$work/hold"
  python3 bench/http/hold_connections.py 127.0.0.1 "$port" "$count" "$mode" <"$work/hold" \
    >"$work/held" &
  holder_pid=$!
  exec 3>"$work/hold"
  for _ in $(seq 600); do
    grep -q '^held ' "$work/held" 2>/dev/null && break
    sleep 0.1
  done
  sleep 1
  after=$(rss_kb "$server_pid")
  slab_after=$(slab_kb)
  echo "== $mode: $(cat "$work/held"); server RSS $((before / 1024)) MiB before," \
       "$((after / 1024)) MiB while held"
  exec 3>&-
  wait "$holder_pid" || true
  holder_pid=""
  rm -f "$work/hold"
  per_kb=$(awk -v a="$after" -v b="$before" -v n="$count" 'BEGIN {printf "%.1f", (a - b) / n}')
  kernel_kb=$(awk -v a="$slab_after" -v b="$slab_before" -v n="$count" \
    'BEGIN {printf "%.1f", (a - b) / n}')
  echo "   $per_kb KiB of server RSS per connection; kernel slabs $kernel_kb KiB per connection" \
       "(both ends)"
  kill -TERM "$server_pid"
  wait "$server_pid" || true
  server_pid=""
}

echo "machine: $(nproc) cores, $count connections, server $server_bin ${server_args}"
measure request
request_kb=$per_kb request_kernel_kb=$kernel_kb
measure silent
silent_kb=$per_kb
echo "BENCH http.idle_connection_kb $request_kb KiB"
echo "BENCH http.silent_connection_kb $silent_kb KiB"
echo "BENCH http.idle_connection_kernel_kb $request_kernel_kb KiB"
