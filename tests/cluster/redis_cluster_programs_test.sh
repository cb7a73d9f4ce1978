#!/usr/bin/env bash
# Why: every program that takes --redis works on a Redis Cluster (docs/CLUSTER.md "Redis
# Cluster"): a private cluster of 3 masters and 3 replicas on loopback, then
#   programs: example-sim (with its recovery check), es-verify over every master (clean, then
#             one event removed by hand), and example-server + example-projector in catch-up
#             and in consumer-group mode, each projection applying every event.
# Ports: 12000-22700, bus ports (+10000) below the ephemeral range.
# Usage: redis_cluster_programs_test.sh programs BIN_DIR WORK_DIR
set -uo pipefail
source "$(dirname "$0")/../support/scenario.sh" "$@"
bin=$2
require_tool redis-server redis-cli curl python3
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

port_free() { ! (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
nodes=()
for i in 0 1 2 3 4 5; do
  while :; do
    p=$((12000 + RANDOM % 10700))  # the bus port (+10000) stays below the ephemeral range
    port_free "$p" && port_free $((p + 10000)) && break
  done
  mkdir -p "$work/redis-$i"
  redis-server --bind 127.0.0.1 --port "$p" --dir "$work/redis-$i" --appendonly yes --save '' \
    --cluster-enabled yes --cluster-config-file nodes.conf --cluster-node-timeout 2000 \
    --logfile "$work/redis-$i/log" &
  pids+=($!)
  nodes+=("127.0.0.1:$p")
done
for n in "${nodes[@]}"; do
  for _ in $(seq 200); do redis-cli -p "${n#*:}" ping >/dev/null 2>&1 && break; sleep 0.1; done
done
redis-cli --cluster create "${nodes[@]}" --cluster-replicas 1 --cluster-yes >>"$out" 2>&1 ||
  fail "redis-cli --cluster create failed"
healthy=0
for _ in $(seq 300); do
  healthy=1
  for n in "${nodes[@]}"; do
    redis-cli -p "${n#*:}" cluster info | grep -q cluster_state:ok || healthy=0
    if redis-cli -p "${n#*:}" info replication | grep -q role:slave; then
      redis-cli -p "${n#*:}" info replication | grep -q master_link_status:up || healthy=0
    fi
  done
  [[ $healthy == 1 ]] && break
  sleep 0.1
done
[[ $healthy == 1 ]] || fail "the Redis Cluster did not become healthy"
url="redis://${nodes[1]}"
first="${nodes[0]#*:}"

# example-sim with its recovery check, on the cluster.
"$bin/example-sim" --redis "$url" --entities 300 --commands 3000 --quiet >>"$out" 2>&1 ||
  fail "example-sim exited with $?"
expect_line "Redis Cluster of 3 masters"
expect_line "recovery check: passed|recovery.*verified"

# es-verify from any node reads every master: all 300 streams, clean; then one event removed
# on the master that serves it is reported, with its stream's key and version.
"$bin/es-verify" --redis "$url" --json >"$work/verify.json" 2>>"$out" ||
  fail "es-verify on the clean cluster exited with $?"
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); sys.exit(0 if r["ok"] and r["streams"] == 300 and r["events"] == 3300 else 1)' \
  "$work/verify.json" || fail "es-verify on the cluster: $(head -c 400 "$work/verify.json")"
key=$(redis-cli -c -p "$first" --scan --pattern 'es:{p*}:entity:*' | head -1)
for n in "${nodes[@]}"; do  # SCAN of one node lists its own keys only: find one on any master
  [[ -n "$key" ]] && break
  key=$(redis-cli -p "${n#*:}" --scan --pattern 'es:{p*}:entity:*' | head -1)
done
[[ -n "$key" ]] || fail "no entity stream found on the cluster"
# The stream's second event removed on its master: a gap in the versions.
second=$(redis-cli -c -p "$first" --raw xrange "$key" - + count 2 | grep -E '^[0-9]+-[0-9]+$' | sed -n 2p)
[[ -n "$second" ]] || fail "$key has no second event"
[[ $(redis-cli -c -p "$first" xdel "$key" "$second") == 1 ]] || fail "XDEL on the cluster failed"
"$bin/es-verify" --redis "$url" >"$work/verify.txt" 2>&1
status=$?
cat "$work/verify.txt" >>"$out"
[[ $status == 1 ]] || fail "es-verify on the altered cluster exited with $status, not 1"
grep -q "BROKEN $key" "$work/verify.txt" || fail "es-verify did not name $key"
echo "es-verify on the cluster: clean, then $key reported" >>"$out"
redis-cli -c -p "$first" flushall >/dev/null
for n in "${nodes[@]}"; do redis-cli -p "${n#*:}" flushall >/dev/null 2>&1; done

# example-server, 30 entities, then the projector in both modes.
"$bin/example-server" --http 127.0.0.1:0 --redis "$url" --quiet >"$work/server.out" 2>>"$out" &
pids+=($!)
for _ in $(seq 300); do grep -q listening "$work/server.out" && break; sleep 0.1; done
http=$(grep -o '127.0.0.1:[0-9]*' "$work/server.out" | head -1 | cut -d: -f2)
[[ -n "$http" ]] || fail "example-server did not start"
for i in $(seq 30); do
  code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -d "{\"foo\":\"v$i\"}" \
    "http://127.0.0.1:$http/examples")
  [[ "$code" == 201 ]] || fail "POST /examples answered $code"
done

applied() {  # the sum of the projection's positions over every partition
  local total=0 p pos
  for p in $(seq -w 0 15); do
    pos=$(redis-cli -c -p "$first" hget "es:{p$p}:projection:example" position)
    total=$((total + ${pos:-0}))
  done
  echo "$total"
}
for mode in catchup group; do
  for p in $(seq -w 0 15); do  # the read model of the mode before goes
    k="es:{p$p}:projection:example"
    redis-cli -c -p "$first" del "$k" "$k:live" "$k:foo" >/dev/null
  done
  "$bin/example-projector" --redis "$url" --mode "$mode" --replica-acks 1 >>"$out" 2>&1 &
  proj=$!
  pids+=($proj)
  done_=0
  for _ in $(seq 200); do
    [[ $(applied) == 30 ]] && { done_=1; break; }
    sleep 0.1
  done
  kill "$proj"
  [[ $done_ == 1 ]] || fail "the $mode projector applied $(applied) of 30 events"
  echo "projector $mode: 30 of 30 events applied" >>"$out"
done
expect_line "ready mode=catchup .*Redis Cluster of 3 masters"
echo "PASSED ($scenario)"
