#!/usr/bin/env bash
# Why: a multi-node deployment in one command (docs/CLUSTER.md): a private redis-server and
# three example-server nodes on loopback that join each other with a shared secret, then
# example-sim drives the cluster through every node (round robin over the nodes' routers),
# reads every entity back through the cluster, checks recovery from Redis alone, and prints
# the throughput per node. Everything it started is stopped on exit (trap), also on errors.
#
# Usage: samples/cluster/run.sh   (after scripts/build)
# Knobs: ES_CLUSTER_NODES (3), ES_SIM_ENTITIES (5000), ES_SIM_COMMANDS (60000),
#        ES_SIM_CONCURRENCY (96), ES_CLUSTER_TLS (0; 1: TLS between the nodes and the sim,
#        with a throw-away CA made by the openssl CLI), ES_CLUSTER_KEEP (0; 1: keep the
#        nodes running until Enter is pressed, to try the HTTP routes by hand),
#        ES_REDIS_CLUSTER (0; 1: a Redis Cluster of 3 masters and 3 replicas as the store).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
server_bin="$root/build/bin/example-server"
sim_bin="$root/build/bin/example-sim"
nodes=${ES_CLUSTER_NODES:-3}
entities=${ES_SIM_ENTITIES:-5000}
commands=${ES_SIM_COMMANDS:-60000}
concurrency=${ES_SIM_CONCURRENCY:-96}
tls=${ES_CLUSTER_TLS:-0}
for bin in "$server_bin" "$sim_bin"; do
  [[ -x "$bin" ]] || { echo "run.sh: build first ($bin missing)" >&2; exit 1; }
done
command -v redis-server >/dev/null || { echo "run.sh: redis-server is missing" >&2; exit 1; }

work=$(mktemp -d /tmp/es-cluster.XXXXXX)
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A port nothing listens on (loopback, outside the usual ephemeral range).
free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 12000))
    if ! ss -ltnH "sport = :$p" | grep -q .; then echo "$p"; return; fi
  done
}

# CPU seconds a running process used so far (user + system).
cpu_of() {
  awk -v tck="$(getconf CLK_TCK)" '{ printf "%.1f", ($14 + $15) / tck }' "/proc/$1/stat"
}

# wait_for FILE PATTERN PID: until the file holds a line matching the pattern.
wait_for() {
  for _ in $(seq 300); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    kill -0 "$3" 2>/dev/null || { echo "run.sh: process $3 ended" >&2; return 1; }
    sleep 0.1
  done
  echo "run.sh: timed out waiting for '$2' in $1" >&2
  return 1
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'),"\
     "load average $(cut -d' ' -f1-3 /proc/loadavg)"

if [[ "${ES_REDIS_CLUSTER:-0}" == 1 ]]; then
  # A Redis Cluster of 3 masters and 3 replicas instead of one Redis (docs/CLUSTER.md "Redis
  # Cluster"): ports whose bus port (+10000) is free and below the ephemeral range; the nodes
  # find it from one URL.
  command -v redis-cli >/dev/null || { echo "run.sh: redis-cli is missing" >&2; exit 1; }
  cluster_nodes=()
  for i in 0 1 2 3 4 5; do
    while :; do
      p=$((12000 + RANDOM % 10700))  # the bus port (+10000) stays below the ephemeral range
      if ! ss -ltnH "sport = :$p" | grep -q . && ! ss -ltnH "sport = :$((p + 10000))" | grep -q .; then
        break
      fi
    done
    mkdir -p "$work/redis-$i"
    redis-server --bind 127.0.0.1 --port "$p" --dir "$work/redis-$i" --appendonly yes \
      --appendfsync everysec --save '' --stream-node-max-bytes 1024 --cluster-enabled yes \
      --cluster-config-file nodes.conf --cluster-node-timeout 2000 \
      --logfile "$work/redis-$i/redis.log" &
    pids+=($!)
    [[ $i == 0 ]] && redis_pid=$!
    for _ in $(seq 100); do redis-cli -p "$p" ping >/dev/null 2>&1 && break; sleep 0.1; done
    cluster_nodes+=("127.0.0.1:$p")
  done
  redis-cli --cluster create "${cluster_nodes[@]}" --cluster-replicas 1 --cluster-yes \
    >"$work/cluster-create.log" 2>&1 || { cat "$work/cluster-create.log" >&2; exit 1; }
  for _ in $(seq 300); do
    healthy=1
    for n in "${cluster_nodes[@]}"; do
      redis-cli -p "${n#*:}" cluster info | grep -q cluster_state:ok || healthy=0
      if redis-cli -p "${n#*:}" info replication | grep -q role:slave; then
        redis-cli -p "${n#*:}" info replication | grep -q master_link_status:up || healthy=0
      fi
    done
    [[ $healthy == 1 ]] && break
    sleep 0.1
  done
  [[ $healthy == 1 ]] || { echo "run.sh: the Redis Cluster did not become healthy" >&2; exit 1; }
  redis_url="redis://${cluster_nodes[0]}"
  redis_label="redis-server (first node)"
  echo "store: Redis Cluster of 3 masters and 3 replicas (${cluster_nodes[*]})"
else
  redis_port=$(free_port)
  redis-server --bind 127.0.0.1 --port "$redis_port" --dir "$work" --appendonly yes \
    --appendfsync everysec --save '' --stream-node-max-bytes 1024 --logfile "$work/redis.log" &
  redis_pid=$!
  pids+=($!)
  for _ in $(seq 100); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done
  redis_url="redis://127.0.0.1:$redis_port"
fi

openssl rand -hex 32 >"$work/secret"
chmod 600 "$work/secret"
shared=(--cluster-secret-file "$work/secret")
if [[ "$tls" == 1 ]]; then
  (cd "$work" &&
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key \
      -out ca.pem -days 1 -subj /CN=es-cluster-ca &&
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout node.key \
      -out node.csr -subj /CN=es-node &&
    openssl x509 -req -in node.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out node.pem \
      -days 1) >/dev/null 2>&1
  shared+=(--tls-cert "$work/node.pem" --tls-key "$work/node.key" --tls-ca "$work/ca.pem")
fi

node_ports=() http_urls=() peers=() node_pids=()
for i in $(seq "$nodes"); do node_ports+=("$(free_port)"); done
for p in "${node_ports[@]}"; do peers+=(--peer "127.0.0.1:$p"); done
for i in $(seq "$nodes"); do
  "$server_bin" --http 127.0.0.1:0 --redis "$redis_url" --quiet --node-id "n$i" \
    --node-port "${node_ports[$((i - 1))]}" "${peers[@]}" "${shared[@]}" \
    >"$work/n$i.out" 2>"$work/n$i.err" &
  pids+=($!)
  node_pids+=($!)
  wait_for "$work/n$i.out" '^listening on ' "$!"
  http_urls+=("$(sed -n 's/^listening on //p' "$work/n$i.out")")
done
# Until every node sees all the others.
for _ in $(seq 100); do
  joined=0
  for url in "${http_urls[@]}"; do
    live=$(curl -s --max-time 2 "$url/cluster" | grep -o '"live":\[[^]]*\]' | tr -cd ',' | wc -c)
    (( live + 1 == nodes )) && joined=$((joined + 1))
  done
  (( joined == nodes )) && break
  sleep 0.1
done
for i in $(seq "$nodes"); do
  echo "node n$i: ${http_urls[$((i - 1))]}, node port ${node_ports[$((i - 1))]}:" \
       "$(curl -s --max-time 2 "${http_urls[$((i - 1))]}/cluster")"
done

connect=$(printf '127.0.0.1:%s,' "${node_ports[@]}")
echo "== example-sim --connect ${connect%,} (${entities} entities, ${commands} commands," \
     "${concurrency} senders$([[ "$tls" == 1 ]] && echo ', TLS'))"
status=0
declare -A cpu_before
for pid in "$redis_pid" "${node_pids[@]}"; do cpu_before[$pid]=$(cpu_of "$pid"); done
timer=()
[[ -x /usr/bin/time ]] && timer=(/usr/bin/time -f "  CPU example-sim  %U s user + %S s system")
"${timer[@]}" "$sim_bin" --connect "${connect%,}" --redis "$redis_url" "${shared[@]}" --quiet \
  --entities "$entities" --commands "$commands" --concurrency "$concurrency" || status=$?
for i in $(seq "$nodes"); do
  pid=${node_pids[$((i - 1))]}
  echo "  CPU node n$i       $(awk -v a="$(cpu_of "$pid")" -v b="${cpu_before[$pid]}" 'BEGIN { printf "%.1f", a - b }') s during the run"
done
echo "  CPU ${redis_label:-redis-server}  $(awk -v a="$(cpu_of "$redis_pid")" -v b="${cpu_before[$redis_pid]}" 'BEGIN { printf "%.1f", a - b }') s during the run"

echo "== after the run"
for i in $(seq "$nodes"); do
  echo "node n$i: $(curl -s --max-time 2 "${http_urls[$((i - 1))]}/cluster")"
done
if [[ "${ES_CLUSTER_KEEP:-0}" == 1 ]]; then
  echo "the nodes keep running (${http_urls[*]}); press Enter to stop them"
  read -r _
fi
exit "$status"
