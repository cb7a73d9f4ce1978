#!/usr/bin/env bash
# Why: docs/BENCHMARKS.md "Redis Cluster": example-sim on a 3-master Redis Cluster (3 replicas)
# against one Redis, same machine, same run, rounds alternating; and a one-master cluster (the
# same server work as one Redis), so the client's routing overhead shows on its own.
# Usage: bench/redis_cluster_sim.sh [rounds] [entities] [commands]   (build/bin/example-sim)
set -euo pipefail
rounds=${1:-3}
entities=${2:-2000}
commands=${3:-40000}
root=$(cd "$(dirname "$0")/.." && pwd)
sim="$root/build/bin/example-sim"
work=$(mktemp -d /tmp/es-cluster-bench-XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

free_pair() {  # a port below 55536 whose bus port (+10000) is free too
  while :; do
    local p=$((12000 + RANDOM % 10700))  # the bus port stays below the ephemeral range
    if ! (echo >/dev/tcp/127.0.0.1/$p) 2>/dev/null && ! (echo >/dev/tcp/127.0.0.1/$((p + 10000))) 2>/dev/null; then
      echo "$p"
      return
    fi
  done
}
start() {  # dir port extra...
  local dir=$1 port=$2
  shift 2
  mkdir -p "$dir"
  redis-server --bind 127.0.0.1 --port "$port" --dir "$dir" --appendonly yes \
    --appendfsync everysec --save '' --stream-node-max-bytes 1024 "$@" >"$dir/log" 2>&1 &
  pids+=($!)
  for _ in $(seq 300); do redis-cli -p "$port" ping >/dev/null 2>&1 && return; sleep 0.1; done
  echo "redis-server on $port did not start" >&2
  exit 1
}

single=$(free_pair)
start "$work/single" "$single"
# A cluster of one master holding every slot: the same server work as `single`, so the
# difference is the client's routing (slot map, one partition per script call, copies).
one=$(free_pair)
start "$work/one" "$one" --cluster-enabled yes --cluster-config-file nodes.conf
redis-cli -p "$one" cluster addslotsrange 0 16383 >/dev/null
for _ in $(seq 300); do
  redis-cli -p "$one" cluster info | grep -q cluster_state:ok && break
  sleep 0.1
done
nodes=()
for i in 0 1 2 3 4 5; do
  p=$(free_pair)
  start "$work/n$i" "$p" --cluster-enabled yes --cluster-config-file nodes.conf \
    --cluster-node-timeout 2000
  nodes+=("127.0.0.1:$p")
done
redis-cli --cluster create "${nodes[@]}" --cluster-replicas 1 --cluster-yes >"$work/create.log"
for _ in $(seq 300); do
  ok=1
  for n in "${nodes[@]}"; do
    redis-cli -p "${n#*:}" cluster info | grep -q cluster_state:ok || ok=0
    if redis-cli -p "${n#*:}" info replication | grep -q role:slave; then
      redis-cli -p "${n#*:}" info replication | grep -q master_link_status:up || ok=0
    fi
  done
  [ $ok = 1 ] && break
  sleep 0.1
done

run() {  # label url
  local out
  out=$("$sim" --redis "$2" --entities "$entities" --commands "$commands" 2>&1)
  local line
  line=$(echo "$out" | grep -m1 '^BENCH' || echo "$out" | tail -3)
  echo "$1 $line"
  # flush between rounds so every round starts empty
  if [ "$1" = single ]; then
    redis-cli -p "$single" flushall >/dev/null
  elif [ "$1" = cluster-1-master ]; then
    redis-cli -p "$one" flushall >/dev/null
  else
    for n in "${nodes[@]}"; do redis-cli -p "${n#*:}" flushall >/dev/null 2>&1 || true; done
  fi
}
for r in $(seq "$rounds"); do
  run single "redis://127.0.0.1:$single"
  run cluster-1-master "redis://127.0.0.1:$one"
  run cluster-3x2 "redis://${nodes[0]}"
done
