#!/usr/bin/env python3
"""bulk.py: the two ends of bench/proxy/bulk.sh (loopback only, stdlib only).
  server PORT BYTES   each connection gets BYTES (zeros), then the server's end of stream;
                      it reads what the client sends until the client's end
  client PORT BYTES   connect, read to the end of stream; prints seconds, its own CPU
                      seconds and the count, and fails if the count is not BYTES
"""
import resource
import socket
import sys
import threading
import time


def server(port, n):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(16)
    chunk = memoryview(bytes(1 << 20))

    def serve(s):
        try:
            left = n
            while left:
                k = min(left, len(chunk))
                s.sendall(chunk[:k])
                left -= k
            s.shutdown(socket.SHUT_WR)
            while s.recv(65536):
                pass
        except OSError:
            pass
        s.close()

    while True:
        s, _ = ls.accept()
        threading.Thread(target=serve, args=(s,), daemon=True).start()


def client(port, n):
    s = socket.create_connection(("127.0.0.1", port), timeout=60)
    buf = bytearray(1 << 20)
    got, t0 = 0, time.monotonic()
    while True:
        k = s.recv_into(buf)
        if not k:
            break
        got += k
    s.shutdown(socket.SHUT_WR)
    s.close()
    r = resource.getrusage(resource.RUSAGE_SELF)
    print(f"{time.monotonic() - t0:.3f} {r.ru_utime + r.ru_stime:.4f} {got}")
    sys.exit(0 if got == n else 1)


if __name__ == "__main__":
    (server if sys.argv[1] == "server" else client)(int(sys.argv[2]), int(sys.argv[3]))
