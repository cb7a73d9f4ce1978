#!/usr/bin/env python3
# Why: what GET /notifications/stream costs example-server (docs/OPERATIONS-browser.md): RSS
# per open stream, the server's CPU while N streams idle on their heartbeats, the delay from a
# create's answer to its log item on the stream of its partition, and the shutdown time with
# N streams open. A private redis-server and a fresh server on free loopback ports.
# Usage: bench/http_sse_streams.py [STREAMS]   (after scripts/build; default 200 streams)
import json, os, select, socket, subprocess, sys, time, urllib.request

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
server_bin = os.environ.get("ES_BENCH_SERVER", os.path.join(root, "build/bin/example-server"))
N = int(sys.argv[1]) if len(sys.argv) > 1 else 200

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

redis_port = free_port()
redis = subprocess.Popen(["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1",
                          "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL)
time.sleep(0.5)
server = subprocess.Popen([server_bin, "--http", "127.0.0.1:0", "--redis",
                           f"redis://127.0.0.1:{redis_port}", "--quiet"],
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
try:
    url = server.stdout.readline().split()[-1]
    port = int(url.rsplit(":", 1)[1])
    rss = lambda: int(open(f"/proc/{server.pid}/status").read().split("VmRSS:")[1].split()[0])
    def cpu():
        f = open(f"/proc/{server.pid}/stat").read().split()
        return (int(f[13]) + int(f[14])) / os.sysconf("SC_CLK_TCK")
    time.sleep(1)
    base = rss()
    streams = []
    for i in range(N):
        c = socket.create_connection(("127.0.0.1", port), timeout=5)
        c.sendall(f"GET /notifications/stream?partition={i % 16} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        streams.append(c)
    time.sleep(2)
    for c in streams:
        c.setblocking(False)
        try:
            c.recv(65536)
        except BlockingIOError:
            pass
    held = rss()
    c0 = cpu()
    time.sleep(10)
    c1 = cpu()
    print(f"BENCH http.sse_stream_kb {(held - base) / N:.1f} KiB")
    print(f"BENCH http.sse_idle_cpu_pct {(c1 - c0) / 10 * 100:.1f} %")
    delays = []
    for _ in range(30):
        request = urllib.request.Request(url + "/examples", data=b"{}", method="POST")
        body = json.load(urllib.request.urlopen(request, timeout=5))
        t0 = time.time()
        stream = streams[int(body["id"][:8], 16) % 16]
        seen = b""
        while b'"id":"' + body["id"].encode() not in seen and time.time() - t0 < 3:
            select.select([stream], [], [], 1)
            try:
                seen += stream.recv(65536)
            except BlockingIOError:
                pass
        delays.append((time.time() - t0) * 1000)
    delays.sort()
    print(f"BENCH http.sse_delivery_p50_ms {delays[len(delays) // 2]:.0f} ms")
    print(f"BENCH http.sse_delivery_max_ms {delays[-1]:.0f} ms")
    t0 = time.time()
    server.terminate()
    server.wait(timeout=30)
    print(f"BENCH http.sse_shutdown_s {time.time() - t0:.2f} s")
    print(f"# {N} streams over 16 partitions; RSS {base} -> {held} KiB; exit status {server.returncode}")
finally:
    if server.poll() is None:
        server.kill()
    redis.terminate()
    redis.wait()
