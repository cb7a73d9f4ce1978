#!/usr/bin/env bash
# Why: GET /examples/<id>/events once built a whole history in memory (1.76 GB for 1,000,000
# events); now it answers pages of at most 10,000. This measures what a page costs
# example-server (docs/RELIABILITY.md): an entity with ES_BENCH_EVENTS heartbeats is built
# through POST /heartbeats {"count": 10000} on a private redis-server, then a fresh server
# (so that building it does not count) answers one page, then every page of it to one
# client, then to 4 at once; its peak RSS (VmHWM, reset through /proc/PID/clear_refs before
# each phase) is compared with its RSS when idle. The BENCH lines are those peaks over the
# idle RSS. Building 1,000,000 events takes under a minute.
#
# Usage: bench/http_events_memory.sh   (after scripts/build; needs curl and redis-server)
# Knobs: ES_BENCH_EVENTS (default 1000000, a multiple of 10000), ES_BENCH_SERVER (the binary),
#        ES_BENCH_SNAPSHOT (1, the default: snapshot the entity before the restart, so that
#        its recovery reads no events; 0: recover from the whole history).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
server_bin=${ES_BENCH_SERVER:-$root/build/bin/example-server}
events=${ES_BENCH_EVENTS:-1000000}
for tool in curl redis-server redis-cli; do
  command -v "$tool" >/dev/null || { echo "http_events_memory: $tool is missing" >&2; exit 1; }
done
[[ -x "$server_bin" ]] || { echo "http_events_memory: build first ($server_bin missing)" >&2; exit 1; }

work=$(mktemp -d /tmp/es-http-events.XXXXXX)
server_pid=""
redis_pid=""
cleanup() {
  for pid in $server_pid $redis_pid; do
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    fi
  done
  rm -rf "$work"
}
trap cleanup EXIT

# A private redis-server on a free loopback port, nothing persisted.
redis_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --dir "$work" \
  --protected-mode yes >"$work/redis.log" 2>&1 &
redis_pid=$!
for _ in $(seq 100); do
  redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break
  sleep 0.1
done

start_server() {
  "$server_bin" --http 127.0.0.1:0 --redis "redis://127.0.0.1:$redis_port" --quiet \
    >"$work/stdout" 2>"$work/stderr" &
  server_pid=$!
  url=""
  for _ in $(seq 1200); do
    url=$(sed -n 's/^listening on //p' "$work/stdout" 2>/dev/null)
    [[ -n "$url" ]] && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/stderr" >&2; exit 1; }
    sleep 0.1
  done
  [[ -n "$url" ]] || { echo "http_events_memory: the server did not start" >&2; exit 1; }
}
stop_server() {
  kill -TERM "$server_pid"
  wait "$server_pid" || true
  server_pid=""
}
field_kb() { awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/status"; }
mb() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }
version_of() {
  curl -sf "$url/examples/$1" | sed -n 's/.*"version":\([0-9]*\).*/\1/p'
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
start_server
id=$(curl -sf -X POST "$url/examples" | sed -n 's/.*"id":"\([^"]*\)".*/\1/p')
target=$events  # version 0 is the creation, then one version per heartbeat
started=$(date +%s)
while true; do
  version=$(version_of "$id" || true)
  if [[ -z "$version" ]]; then sleep 1; continue; fi  # busy past the deadline: ask again
  (( version >= target )) && break
  # A batch past the 4 s handler deadline answers 503 but still lands: the version decides.
  curl -s -o /dev/null -X POST -H 'Content-Type: application/json' -d '{"count":10000}' \
    "$url/examples/$id/heartbeats" || true
  if (( (version / 10000) % 10 == 9 )); then
    echo "  building: version $version of $target ($(( $(date +%s) - started )) s)"
  fi
done
echo "built $id with $((version + 1)) events in $(( $(date +%s) - started )) s"
if [[ ${ES_BENCH_SNAPSHOT:-1} == 1 ]]; then
  # Without a snapshot the restarted server's first request recovers the entity from its
  # whole history, which is not what is measured here (set ES_BENCH_SNAPSHOT=0 to see it).
  curl -sf -o /dev/null -X POST "$url/examples/$id/snapshot"
fi
stop_server

# walk START: follows the Link headers from START to the last page; prints the page count.
walk() {
  local target=$1 pages=0 headers
  headers=$(mktemp "$work/headers.XXXXXX")
  while [[ -n "$target" ]]; do
    local status
    status=$(curl -s -D "$headers" -o /dev/null -w '%{http_code}' "$url$target")
    [[ $status == 200 ]] || { echo "http_events_memory: $target answered $status" >&2; return 1; }
    pages=$((pages + 1))
    target=$(sed -n 's/^[Ll]ink: <\([^>]*\)>; rel="next".*/\1/p' "$headers" | tr -d '\r')
  done
  echo "$pages"
}

start_server
# The first request makes the entity live: its actor recovers from the whole history first
# (which may outlast the 4 s handler deadline: 503 until it is done). Not counted below.
t0=$(date +%s.%N)
for _ in $(seq 600); do
  [[ $(curl -s -o /dev/null -w '%{http_code}' "$url/examples/$id/events?limit=1") == 200 ]] && break
  sleep 0.5
done
t1=$(date +%s.%N)
recovery_kb=$(field_kb "$server_pid" VmHWM)
echo "entity recovered in $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}') s," \
     "server peak RSS meanwhile $(mb "$recovery_kb") MB"
sleep 1
idle_kb=$(field_kb "$server_pid" VmRSS)

echo 5 >"/proc/$server_pid/clear_refs"  # resets VmHWM to the current RSS
page_bytes=$(curl -sf "$url/examples/$id/events?after=$((events / 2))" | wc -c)
page_kb=$(field_kb "$server_pid" VmHWM)
echo "one page of 10,000 events ($((page_bytes / 1024)) KiB of JSON):" \
     "RSS idle $(mb "$idle_kb") MB, peak $(mb "$page_kb") MB"

echo 5 >"/proc/$server_pid/clear_refs"
t0=$(date +%s.%N)
pages=$(walk "/examples/$id/events")
t1=$(date +%s.%N)
one_kb=$(field_kb "$server_pid" VmHWM)
echo "one client, every page: $pages pages in" \
     "$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}') s, peak $(mb "$one_kb") MB"

echo 5 >"/proc/$server_pid/clear_refs"
quarter=$((events / 4 / 10000 * 10000))
walkers=()
for i in 0 1 2 3; do
  start="/examples/$id/events"
  (( i == 0 )) || start="$start?after=$((i * quarter - 1))"
  walk "$start" >"$work/walk.$i" &
  walkers+=($!)
done
for pid in "${walkers[@]}"; do wait "$pid"; done
four_kb=$(field_kb "$server_pid" VmHWM)
echo "4 clients at once: peak $(mb "$four_kb") MB"
now_kb=$(field_kb "$server_pid" VmRSS)
echo "after: RSS $(mb "$now_kb") MB"
stop_server

echo "BENCH http.events_recovery_peak_rss_mb $(mb "$recovery_kb") MB"
echo "BENCH http.events_idle_rss_mb $(mb "$idle_kb") MB"
echo "BENCH http.events_page_peak_rss_mb $(mb $((page_kb - idle_kb))) MB"
echo "BENCH http.events_walk_peak_rss_mb $(mb $((one_kb - idle_kb))) MB"
echo "BENCH http.events_4_pages_peak_rss_mb $(mb $((four_kb - idle_kb))) MB"
