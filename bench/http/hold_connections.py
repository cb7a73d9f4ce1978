#!/usr/bin/env python3
# Why: the memory of idle keep-alive connections (docs/RELIABILITY.md) is measured with many
# connections open at once; a shell cannot hold 2,000 sockets, this does. Opens COUNT
# connections to HOST:PORT; with "request" each first gets one GET /healthz answered (the
# usual idle keep-alive connection), with "silent" none sends anything. Prints "held N
# (S statuses)" once all are open, holds them until stdin closes, then closes them.
import socket
import sys


def read_answer(sock):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = sock.recv(4096)
        if not chunk:
            break
        body += chunk
    return head.split(b" ", 2)[1].decode()


def main():
    host, port, count, mode = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    socks = []
    statuses = {}
    for _ in range(count):
        s = socket.create_connection((host, port))
        if mode == "request":
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: " + host.encode() + b"\r\n\r\n")
            status = read_answer(s)
            statuses[status] = statuses.get(status, 0) + 1
        socks.append(s)
    print("held %d (%s)" % (len(socks), statuses), flush=True)
    sys.stdin.read()
    for s in socks:
        s.close()


if __name__ == "__main__":
    main()
