#!/usr/bin/env python3
"""idle_conns.py: open N idle TCP connections to a loopback port and hold them.

    python3 idle_conns.py PORT N SRC_PREFIX HOLD_SECONDS

Connections are made in batches with non-blocking sockets and count only once their TCP
handshake completed (SO_ERROR 0). Nothing is sent. Client sockets are bound to source
addresses SRC_PREFIX.1 .. SRC_PREFIX.50 (127.0.0.0/8) with IP_BIND_ADDRESS_NO_PORT, so the
ephemeral ports of one source address are never exhausted. Prints one line
"ready ok=N failed=M secs=S" once all attempts ended, then holds the connections for
HOLD_SECONDS (or until killed) and exits, which resets them (SO_LINGER 0: no TIME_WAIT
left behind). Standard library only.
"""
import errno
import selectors
import socket
import struct
import sys
import time

IP_BIND_ADDRESS_NO_PORT = 24
BATCH = 1000
BATCH_DEADLINE = 10.0


def main():
    port, n, prefix, hold = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
    if not prefix.startswith("127."):
        sys.exit("idle_conns.py: source addresses must be loopback (127.x)")
    sel = selectors.DefaultSelector()
    held, failed = [], 0
    t0 = time.monotonic()
    for first in range(0, n, BATCH):
        pending = {}
        for i in range(first, min(n, first + BATCH)):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1)
            # closed by a reset when this ends: no 10,000 TIME_WAITs left behind
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.bind(("%s.%d" % (prefix, 1 + i % 50), 0))
            s.setblocking(False)
            err = s.connect_ex(("127.0.0.1", port))
            if err not in (0, errno.EINPROGRESS):
                failed += 1
                s.close()
                continue
            pending[s.fileno()] = s
            sel.register(s, selectors.EVENT_WRITE)
        deadline = time.monotonic() + BATCH_DEADLINE
        while pending and time.monotonic() < deadline:
            for key, _ in sel.select(timeout=0.5):
                s = pending.pop(key.fd)
                sel.unregister(s)
                if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                    held.append(s)
                else:
                    failed += 1
                    s.close()
        for s in pending.values():
            sel.unregister(s)
            s.close()
            failed += 1
    print("ready ok=%d failed=%d secs=%.2f" % (len(held), failed, time.monotonic() - t0),
          flush=True)
    time.sleep(hold)


if __name__ == "__main__":
    main()
