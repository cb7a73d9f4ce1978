#!/usr/bin/env bash
# Why: the HTTP figures of docs/BENCHMARKS.md come from one repeatable command. It starts
# build/bin/example-server with its private redis-server on loopback, pre-creates a few
# thousand examples, then drives it with wrk: GET of random entities, then PATCH {"a": n} of
# random entities (each a persisted event), and prints requests/s, latency percentiles and
# one BENCH line per figure; redis-benchmark on the same Redis gives a raw reference.
#
# Usage: bench/http_load.sh   (after scripts/build; needs wrk and redis-tools)
# Knobs: ES_BENCH_DURATION (s, default 10), ES_BENCH_CONNECTIONS (64), ES_BENCH_WRK_THREADS (1),
#        ES_BENCH_IDS (3000), ES_BENCH_SERVER_ARGS (extra example-server flags), ES_BENCH_SERVER
#        (the binary, default build/bin/example-server).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
server_bin=${ES_BENCH_SERVER:-$root/build/bin/example-server}
duration=${ES_BENCH_DURATION:-10}
connections=${ES_BENCH_CONNECTIONS:-64}
wrk_threads=${ES_BENCH_WRK_THREADS:-1}
id_count=${ES_BENCH_IDS:-3000}
for tool in wrk redis-benchmark; do
  command -v "$tool" >/dev/null || { echo "http_load: $tool is missing (scripts/install-deps)" >&2; exit 1; }
done
[[ -x "$server_bin" ]] || { echo "http_load: build first ($server_bin missing)" >&2; exit 1; }

work=$(mktemp -d /tmp/es-http-bench.XXXXXX)
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'),"\
     "load average $(cut -d' ' -f1-3 /proc/loadavg)"
# shellcheck disable=SC2086
"$server_bin" --http 127.0.0.1:0 --data-dir "$work/var" --quiet ${ES_BENCH_SERVER_ARGS:-} \
  >"$work/stdout" 2>"$work/stderr" &
server_pid=$!
for _ in $(seq 300); do
  grep -q '^listening on ' "$work/stdout" 2>/dev/null && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/stderr" >&2; exit 1; }
  sleep 0.1
done
url=$(sed -n 's/^listening on //p' "$work/stdout")
[[ -n "$url" ]] || { echo "http_load: the server did not start" >&2; cat "$work/stderr" >&2; exit 1; }
redis_port=$(sed -n 's/.*private redis-server on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/stderr")
echo "server: $url (private redis-server on port $redis_port), wrk: $wrk_threads thread(s)," \
     "$connections connections, ${duration}s per run"

export ES_IDS_FILE="$work/ids.all"
: >"$ES_IDS_FILE"
while (( $(wc -l <"$ES_IDS_FILE") < id_count )); do
  wrk -t1 -c8 -d1s -s bench/http/create.lua "$url" >/dev/null
done
head -n "$id_count" "$ES_IDS_FILE" >"$work/ids"
export ES_IDS_FILE="$work/ids"
echo "created $(wc -l <"$ES_IDS_FILE") examples"

# run NAME SCRIPT: one wrk run; sets rps and p99 (ms).
run() {
  local name=$1 script=$2 out="$work/$1.out"
  wrk -t"$wrk_threads" -c"$connections" -d"${duration}s" --latency -s "$script" "$url" >"$out"
  echo "== $name"
  grep -E 'Latency|Req/Sec|requests in|Requests/sec|Socket errors' "$out" | sed 's/^/  /'
  sed -n 's/^PCT \([0-9.]*\) \([0-9.]*\)$/  p\1 \2 ms/p' "$out"
  rps=$(sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$out")
  p99=$(sed -n 's/^PCT 99 \([0-9.]*\)$/\1/p' "$out")
  local non2xx sockerr
  non2xx=$(sed -n 's/^NON2XX \([0-9]*\)$/\1/p' "$out")
  sockerr=$(sed -n 's/^SOCKERR \([0-9]*\)$/\1/p' "$out")
  echo "  non-2xx answers: $non2xx, socket errors: $sockerr"
  if [[ "$non2xx" != 0 ]]; then echo "http_load: $name had non-2xx answers" >&2; exit 1; fi
}

ES_BENCH_WARMUP=1 wrk -t1 -c"$connections" -d2s -s bench/http/get.lua "$url" >/dev/null
run get bench/http/get.lua
get_rps=$rps get_p99=$p99
run patch bench/http/patch.lua
patch_rps=$rps patch_p99=$p99

# The private redis-server has a random password (it is never shown): no raw reference then.
if [[ -n "$redis_port" ]] && redis-cli -p "$redis_port" ping 2>/dev/null | grep -q PONG; then
  echo "== redis-benchmark on the same redis-server (raw reference, 50 clients, no pipelining)"
  redis-benchmark -h 127.0.0.1 -p "$redis_port" -q -n 100000 -c 50 -t ping_mbulk,set,get 2>/dev/null |
    tr '\r' '\n' | grep -E 'requests per second' | sed 's/^/  /'
  redis-benchmark -h 127.0.0.1 -p "$redis_port" -q -n 100000 -c 50 \
    XADD es-bench-stream '*' state 0123456789abcdef 2>/dev/null | tr '\r' '\n' |
    grep -E 'requests per second' | sed 's/^/  XADD: /'
  redis-benchmark -h 127.0.0.1 -p "$redis_port" -q -n 1 DEL es-bench-stream >/dev/null 2>&1 || true
fi

kill -TERM "$server_pid"
status=0
wait "$server_pid" || status=$?
server_pid=""
[[ $status == 0 ]] || { echo "http_load: example-server exited with $status" >&2; exit 1; }

echo "BENCH http.get_per_s $get_rps req/s"
echo "BENCH http.patch_per_s $patch_rps req/s"
echo "BENCH http.get_p99 $get_p99 ms"
echo "BENCH http.patch_p99 $patch_p99 ms"
