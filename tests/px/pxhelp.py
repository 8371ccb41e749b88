#!/usr/bin/env python3
"""pxhelp.py: the loopback servers and clients of tests/px/run.sh (stdlib only).

Servers (run in the background by run.sh, killed by PID):
  http PORT LOG [--mode echo|garbage|hang]   a small HTTP/1.1 backend (see Backend below;
                                             /status/N answers N, /chunked/N, /bytes/N)
  tcp PORT --mode echo|store|first|reset     an L4 backend: echo as it comes, all at EOF,
      [--tag T --rcvbuf N --slow --log F]    speak and end first, reset (see tcp_server)
Clients (print one line, JSON unless said otherwise):
  raw PORT REQUEST [--timeout S]             send the request (Python escapes; @@N@@ is N
                                             bytes of 'a'), read until EOF or the timeout
  seq PORT FILE...                           several raw exchanges on one connection
  load URL N [--conns C] [--new] [--src IP]  N GETs over C threads: counts of status/body
  slowloris PORT N [...]                     N connections sending a head a byte at a time
  relay PORT BYTES [--rcvbuf N --slow]       L4: a random payload out, the same back
  halfrev PORT NIN NOUT                      L4: the server ends first, the client goes on
  rst PORT BYTES                             L4: send, then reset the connection
  short PORT N [--conns C]                   L4: N short echo connections
  gen N                                      N deterministic bytes on stdout
Only loopback addresses are ever used; every loop is bounded in count and time.
"""
import argparse
import codecs
import hashlib
import http.client
import json
import os
import random
import select
import socket
import sys
import threading
import time


def loopback(host):
    if not host.startswith("127."):
        sys.exit("pxhelp: refusing a non-loopback address: " + host)
    return host


def gen(n, seed=7):
    """n deterministic pseudo-random bytes (the same in the backend and the checker)."""
    return random.Random(seed).randbytes(n)


# ---- the HTTP backend ----------------------------------------------------------------

class Conn:
    """Buffered reads from a socket, bounded by a deadline per read."""

    def __init__(self, sock):
        self.s = sock
        self.buf = b""

    def fill(self):
        data = self.s.recv(65536)
        if not data:
            raise EOFError
        self.buf += data

    def line(self, limit=65536):
        while b"\r\n" not in self.buf:
            if len(self.buf) > limit:
                raise ValueError("line too long")
            self.fill()
        i = self.buf.index(b"\r\n")
        out, self.buf = self.buf[:i], self.buf[i + 2:]
        return out

    def exact(self, n):
        while len(self.buf) < n:
            self.fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out


def read_head(c):
    start = c.line()
    while start == b"":		# tolerate empty lines before a request line
        start = c.line()
    headers = []
    while True:
        ln = c.line()
        if ln == b"":
            break
        name, _, value = ln.partition(b":")
        headers.append((name.decode("latin1"), value.strip().decode("latin1")))
    return start.decode("latin1"), headers


def hget(headers, name):
    vals = [v for n, v in headers if n.lower() == name]
    return vals


def read_chunked(c):
    body = b""
    while True:
        size = int(c.line().split(b";")[0], 16)
        if size == 0:
            while c.line() != b"":	# trailers
                pass
            return body
        body += c.exact(size)
        if c.exact(2) != b"\r\n":
            raise ValueError("bad chunk end")


class Backend:
    """An HTTP/1.1 backend for the tests. Every request is logged to LOG as
    "METHOD TARGET". Answers by path:
      /chunked/N   N bytes of gen(N) in chunks of varying sizes
      /bytes/N     N bytes of gen(N) with a Content-Length
      /slow/MS     the echo below after MS milliseconds
      anything     the echo: request line, the headers as received, body length and sha256
    Honours Expect: 100-continue and keep-alive (--idle-close S: a kept-alive connection
    idle for S seconds is closed by the backend). --mode garbage answers every request with
    bytes that are not HTTP; --mode hang reads and never answers."""

    def __init__(self, port, log, mode, idle_close=0.0):
        self.port, self.log, self.mode, self.idle_close = port, log, mode, idle_close
        self.lock = threading.Lock()

    def note(self, line):
        with self.lock, open(self.log, "a") as f:
            f.write(line + "\n")

    def serve(self):
        ls = socket.socket()
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(("127.0.0.1", self.port))
        ls.listen(1024)
        while True:
            s, _ = ls.accept()
            threading.Thread(target=self.client, args=(s,), daemon=True).start()

    def client(self, s):
        s.settimeout(30)
        c = Conn(s)
        try:
            while True:
                start, headers = read_head(c)
                self.note(start)
                if self.mode == "hang":
                    while True:
                        c.fill()
                if self.mode == "garbage":
                    s.sendall(b"this is not HTTP at all\r\n\r\n")
                    s.close()
                    return
                method, target, version = start.split(" ")
                if "100-continue" in [v.lower() for v in hget(headers, "expect")]:
                    s.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
                te = hget(headers, "transfer-encoding")
                cl = hget(headers, "content-length")
                if te:
                    body = read_chunked(c)
                elif cl:
                    body = c.exact(int(cl[0]))
                else:
                    body = b""
                conn = [v.lower() for v in hget(headers, "connection")]
                keep = ("close" not in conn) and (version == "HTTP/1.1" or "keep-alive" in conn)
                self.respond(s, method, target, version, headers, body, keep)
                if keep and self.idle_close:	# a short keep-alive timeout, as many servers
                    s.settimeout(self.idle_close)
                if not keep:
                    s.shutdown(socket.SHUT_WR)
                    while s.recv(65536):
                        pass
                    s.close()
                    return
        except (EOFError, OSError, ValueError):
            try:
                s.close()
            except OSError:
                pass

    def respond(self, s, method, target, version, headers, body, keep):
        conn = b"" if keep else b"Connection: close\r\n"
        if target.startswith("/chunked/"):
            data = gen(int(target.split("/")[2]))
            out = [b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n" + conn + b"\r\n"]
            i, k = 0, 1
            while i < len(data):
                n = min(k, len(data) - i)
                out.append(b"%x\r\n" % n + data[i:i + n] + b"\r\n")
                i += n
                k = k * 3 % 10007 + 1
            out.append(b"0\r\nX-Trailer: yes\r\n\r\n")
            s.sendall(b"".join(out))
            return
        if target.startswith("/bytes/"):
            data = gen(int(target.split("/")[2]))
            s.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n" % len(data) + conn + b"\r\n" + data)
            return
        if target.startswith("/status/"):   # an answer with that status and no body
            code = int(target.split("/")[2])
            s.sendall(b"HTTP/1.1 %d Status\r\nContent-Length: 0\r\n" % code + conn + b"\r\n")
            return
        if target.startswith("/slow/"):
            time.sleep(int(target.split("/")[2]) / 1000)
        text = [f"{method} {target} {version}"] + [f"{n}: {v}" for n, v in headers]
        text += [f"body-length: {len(body)}", f"body-sha256: {hashlib.sha256(body).hexdigest()}"]
        payload = ("\n".join(text) + "\n").encode("latin1")
        s.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n"
                  % len(payload) + conn + b"\r\n" + payload)


# ---- the TCP backend -------------------------------------------------------------------

def tcp_server(port, mode, tag, rcvbuf=0, slow=False, log="", first=0):
    """An L4 backend. echo: send back what comes; store: all at the client's EOF (a
    half-close), as its sha256 and the bytes; first: send gen(first) and shut the write
    side at once, then read to EOF; reset: after the first bytes, close with RST. --log:
    one line per connection, how it ended, the bytes and their sha256."""
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if rcvbuf:	# inherited by accepted sockets: the window is small from the start
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    ls.bind(("127.0.0.1", port))
    ls.listen(256)
    lock = threading.Lock()

    def note(end, data):
        if log:
            with lock, open(log, "a") as f:
                f.write(f"end={end} bytes={len(data)} sha={hashlib.sha256(data).hexdigest()}\n")

    def client(s):
        s.settimeout(30)
        got, end = [], "eof"
        try:
            if tag:
                s.sendall(tag.encode() + b"\n")
            if mode == "first":
                s.sendall(gen(first))
                s.shutdown(socket.SHUT_WR)
            while True:
                d = s.recv(4096 if slow else 65536)
                if not d:
                    break
                if mode == "echo":
                    s.sendall(d)
                got.append(d)
                if mode == "reset":
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")
                    end = "sent-reset"
                    break
                if slow and sum(map(len, got)) % (256 * 1024) < 4096:
                    time.sleep(0.002)
            if mode == "store":	# only after the client's end of stream: half-close
                data = b"".join(got)
                s.sendall(hashlib.sha256(data).hexdigest().encode() + b"\n" + data)
            if mode != "first" and mode != "reset":
                s.shutdown(socket.SHUT_WR)
        except ConnectionResetError:
            end = "reset"
        except OSError as e:
            end = type(e).__name__
        finally:
            note(end, b"".join(got))
            s.close()

    while True:
        s, _ = ls.accept()
        threading.Thread(target=client, args=(s,), daemon=True).start()


# ---- clients ---------------------------------------------------------------------------

def unescape(text):
    text = codecs.decode(text, "unicode_escape").encode("latin1")
    while b"@@" in text:
        a = text.index(b"@@")
        b = text.index(b"@@", a + 2)
        text = text[:a] + b"a" * int(text[a + 2:b]) + text[b + 2:]
    return text


def exchange(sock, request, timeout, shut=False):
    """Send, then read until EOF or the timeout. What came back, and how it ended."""
    t0 = time.monotonic()
    sent_err = None
    try:
        sock.sendall(request)
        if shut:
            sock.shutdown(socket.SHUT_WR)
    except OSError as e:
        sent_err = type(e).__name__
    data, end = b"", "timeout"
    deadline = t0 + timeout
    while time.monotonic() < deadline:
        r, _, _ = select.select([sock], [], [], max(0.0, deadline - time.monotonic()))
        if not r:
            break
        try:
            d = sock.recv(65536)
        except ConnectionResetError:
            end = "reset"
            break
        if not d:
            end = "eof"
            break
        data += d
    status = None
    if data.startswith(b"HTTP/"):
        try:
            status = int(data.split(b" ", 2)[1])
        except ValueError:
            pass
    return {"status": status, "end": end, "seconds": round(time.monotonic() - t0, 3),
            "send_error": sent_err, "data": data.decode("latin1")}


def cmd_raw(a):
    s = socket.create_connection((loopback(a.host), a.port), timeout=5)
    print(json.dumps(exchange(s, unescape(a.request), a.timeout, a.shut)))


def cmd_seq(a):
    """Requests one after another on one connection, each answer read by its framing
    (Content-Length only) before the next is sent; then whether the connection stays."""
    s = socket.create_connection((loopback(a.host), a.port), timeout=5)
    c = Conn(s)
    out = []
    for req in a.requests:
        try:
            s.sendall(unescape(req))
            status_line = c.line().decode("latin1")
            headers = []
            while True:
                ln = c.line()
                if ln == b"":
                    break
                n, _, v = ln.partition(b":")
                headers.append((n.decode("latin1"), v.strip().decode("latin1")))
            cl = hget(headers, "content-length")
            body = c.exact(int(cl[0])) if cl else b""
            out.append({"status": int(status_line.split(" ")[1]), "headers": headers,
                        "body": body.decode("latin1")})
        except (OSError, EOFError, ValueError) as e:
            out.append({"error": type(e).__name__})
            break
    # after the last answer: closed by the proxy (eof) or still open (timeout)?
    s.settimeout(a.timeout)
    try:
        rest = c.buf or s.recv(65536)
        after = "eof" if rest == b"" else "data"
    except socket.timeout:
        after = "open"
    except OSError:
        after = "reset"
    print(json.dumps({"answers": out, "after": after}))


def cmd_load(a):
    """N requests over C threads (keep-alive per thread unless --new); prints counts."""
    host_port = a.url.split("//")[1].split("/")[0]
    host, port = host_port.split(":")
    loopback(host)
    path = "/" + a.url.split("//")[1].split("/", 1)[1] if "/" in a.url.split("//")[1] else "/"
    counts, errors, lock = {}, [], threading.Lock()
    per = [a.n // a.conns + (1 if i < a.n % a.conns else 0) for i in range(a.conns)]
    deadline = time.monotonic() + a.deadline
    lat = []

    def worker(k):
        conn = None
        for _ in range(k):
            if time.monotonic() > deadline:
                with lock:
                    errors.append("deadline")
                return
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(
                        host, int(port), timeout=10,
                        source_address=(a.src, 0) if a.src else None)
                t0 = time.monotonic()
                conn.request("GET", path)
                r = conn.getresponse()
                body = r.read().decode("latin1").split("\n")[0].strip()
                key = f"{r.status} {body}" if r.status == 200 else str(r.status)
                with lock:
                    counts[key] = counts.get(key, 0) + 1
                    lat.append(time.monotonic() - t0)
                if a.new or r.will_close:
                    conn.close()
                    conn = None
            except Exception as e:	# noqa: BLE001 - every failure is counted
                with lock:
                    errors.append(type(e).__name__)
                try:
                    conn.close()
                except Exception:	# noqa: BLE001
                    pass
                conn = None

    threads = [threading.Thread(target=worker, args=(k,), daemon=True) for k in per]
    for t in threads:
        t.start()
    for t in threads:
        t.join(max(0.1, deadline + 5 - time.monotonic()))
    lat.sort()
    print(json.dumps({"counts": counts, "errors": len(errors),
                      "error_kinds": sorted(set(errors)),
                      "max_latency": round(lat[-1], 3) if lat else None}))


def cmd_hashmap(a):
    """From each of the source addresses 127.0.0.2 .. 127.0.0.(N+1), M requests on new
    connections: which backends each source reached. {"127.0.0.2": {"b1": 6}, ...}"""
    host, port = a.url.split("//")[1].split("/")[0].split(":")
    loopback(host)
    out, errors = {}, []
    deadline = time.monotonic() + 20
    for i in range(2, a.srcs + 2):
        src = f"127.0.0.{i}"
        seen = out.setdefault(src, {})
        for _ in range(a.per):
            if time.monotonic() > deadline:
                errors.append("deadline")
                break
            try:
                c = http.client.HTTPConnection(host, int(port), timeout=5, source_address=(src, 0))
                c.request("GET", "/")
                r = c.getresponse()
                body = r.read().decode("latin1").strip()
                c.close()
                key = body if r.status == 200 else f"status {r.status}"
                seen[key] = seen.get(key, 0) + 1
            except Exception as e:	# noqa: BLE001 - every failure is counted
                errors.append(type(e).__name__)
    print(json.dumps({"map": out, "errors": len(errors)}))


def cmd_ports_free(a):
    """Exit 1, naming them, if any port in [lo, hi] has a listener (ours bind with
    SO_REUSEPORT, so a second afd there would silently share the port)."""
    busy = []
    for port in range(a.lo, a.hi + 1):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            busy.append(port)
        finally:
            s.close()
    if busy:
        print(" ".join(map(str, busy)))
        sys.exit(1)


def cmd_slowloris(a):
    """N connections sending a request head one byte per interval for at most duration
    seconds. For each: when the proxy closed it (or None) and what it answered."""
    head = b"GET / HTTP/1.1\r\nHost: slow\r\n" + b"X-Slow: " + b"s" * 10000
    socks = []
    for _ in range(a.n):
        s = socket.create_connection((loopback(a.host), a.port), timeout=5)
        s.setblocking(False)
        socks.append(s)
    t0 = time.monotonic()
    closed = [None] * a.n
    answer = [b""] * a.n
    pos = 0
    next_send = t0
    while time.monotonic() - t0 < a.duration and None in closed:
        now = time.monotonic()
        if now >= next_send:
            for i, s in enumerate(socks):
                if closed[i] is None:
                    try:
                        s.send(head[pos:pos + 1])
                    except OSError:
                        closed[i] = now - t0
            pos += 1
            next_send += a.interval
        live = [s for i, s in enumerate(socks) if closed[i] is None]
        r, _, _ = select.select(live, [], [], max(0.0, min(next_send - time.monotonic(), 0.05)))
        for s in r:
            i = socks.index(s)
            try:
                d = s.recv(65536)
            except OSError:
                d = b""
            answer[i] += d
            if not d:
                closed[i] = time.monotonic() - t0
    for s in socks:
        s.close()
    statuses = sorted({x.split(b" ")[1].decode() if x.startswith(b"HTTP/") else
                       ("none" if not x else "junk") for x in answer})
    done = [c for c in closed if c is not None]
    print(json.dumps({"closed": len(done), "of": a.n,
                      "first": round(min(done), 3) if done else None,
                      "last": round(max(done), 3) if done else None,
                      "answers": statuses, "bytes_sent": pos}))


def cmd_relay(a):
    """Send BYTES random bytes in a thread while reading in another, shut the write half,
    read to EOF. The answer must be what the backend said it would be."""
    s = socket.socket()
    if a.rcvbuf:	# before connect: the window is small from the start
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, a.rcvbuf)
    s.settimeout(10)
    s.connect((loopback(a.host), a.port))
    payload = os.urandom(a.bytes)
    got = []
    err = []

    def reader():
        n = 0
        try:
            while True:
                d = s.recv(4096 if a.slow else 65536)
                if not d:
                    return
                got.append(d)
                n += len(d)
                if a.slow and n % (256 * 1024) < 4096:
                    time.sleep(0.002)
        except OSError as e:
            err.append(type(e).__name__)

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    t0 = time.monotonic()
    try:
        for i in range(0, len(payload), 50000):
            s.sendall(payload[i:i + 50000])
        s.shutdown(socket.SHUT_WR)
    except OSError as e:
        err.append("send " + type(e).__name__)
    t.join(a.timeout)
    data = b"".join(got)
    res = {"sent": len(payload), "received": len(data), "errors": err,
           "eof": not t.is_alive(), "seconds": round(time.monotonic() - t0, 3)}
    tag = b""
    if a.tagged and b"\n" in data:
        tag, data = data.split(b"\n", 1)
    res["tag"] = tag.decode("latin1")
    if a.mode == "echo":
        res["exact"] = data == payload
    else:
        digest, _, back = data.partition(b"\n")
        res["exact"] = back == payload and digest.decode() == hashlib.sha256(payload).hexdigest()
    print(json.dumps(res))


def cmd_halfrev(a):
    """The server ends first: read its NIN bytes to EOF, then send NOUT bytes (gen with
    seed 9) and shut: the backend logs what it got."""
    s = socket.create_connection((loopback(a.host), a.port), timeout=10)
    data, res = b"", {}
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            data += d
        res["in_exact"] = data == gen(a.nin)
        res["received"] = len(data)
        s.sendall(gen(a.nout, 9))
        s.shutdown(socket.SHUT_WR)
        res["end"] = "eof" if s.recv(1) == b"" else "data"
    except OSError as e:
        res["end"] = type(e).__name__
    res["out_sha"] = hashlib.sha256(gen(a.nout, 9)).hexdigest()
    print(json.dumps(res))


def cmd_rst(a):
    """Send BYTES, wait a little, then close with RST (SO_LINGER 0)."""
    s = socket.create_connection((loopback(a.host), a.port), timeout=5)
    s.sendall(b"x" * a.bytes)
    time.sleep(0.2)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")
    s.close()
    print(json.dumps({"sent": a.bytes}))


def cmd_short(a):
    """N short connections over C threads to an echo backend: each sends 1..2000 random
    bytes, shuts its write side, and must read the same bytes back, then EOF."""
    ok, bad, lock = [0], [], threading.Lock()
    deadline = time.monotonic() + a.deadline
    per = [a.n // a.conns + (1 if i < a.n % a.conns else 0) for i in range(a.conns)]

    def worker(k):
        for _ in range(k):
            if time.monotonic() > deadline:
                with lock:
                    bad.append("deadline")
                return
            payload = os.urandom(random.randint(1, 2000))
            try:
                s = socket.create_connection((loopback(a.host), a.port), timeout=5)
                s.sendall(payload)
                s.shutdown(socket.SHUT_WR)
                data = b""
                while True:
                    d = s.recv(65536)
                    if not d:
                        break
                    data += d
                s.close()
                with lock:
                    if data == payload:
                        ok[0] += 1
                    else:
                        bad.append(f"got {len(data)} of {len(payload)}")
            except OSError as e:
                with lock:
                    bad.append(type(e).__name__)

    threads = [threading.Thread(target=worker, args=(k,), daemon=True) for k in per]
    for t in threads:
        t.start()
    for t in threads:
        t.join(max(0.1, deadline + 5 - time.monotonic()))
    print(json.dumps({"ok": ok[0], "of": a.n, "errors": sorted(set(bad))[:5]}))


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    h = sub.add_parser("http")
    h.add_argument("port", type=int)
    h.add_argument("log")
    h.add_argument("--mode", default="echo", choices=["echo", "garbage", "hang"])
    h.add_argument("--idle-close", type=float, default=0.0)
    t = sub.add_parser("tcp")
    t.add_argument("port", type=int)
    t.add_argument("--mode", default="echo", choices=["echo", "store", "first", "reset"])
    t.add_argument("--tag", default="")
    t.add_argument("--rcvbuf", type=int, default=0)
    t.add_argument("--slow", action="store_true")
    t.add_argument("--log", default="")
    t.add_argument("--first", type=int, default=0)
    r = sub.add_parser("raw")
    r.add_argument("port", type=int)
    r.add_argument("request")
    r.add_argument("--host", default="127.0.0.1")
    r.add_argument("--timeout", type=float, default=3)
    r.add_argument("--shut", action="store_true")
    q = sub.add_parser("seq")
    q.add_argument("port", type=int)
    q.add_argument("requests", nargs="+")
    q.add_argument("--host", default="127.0.0.1")
    q.add_argument("--timeout", type=float, default=0.5)
    ld = sub.add_parser("load")
    ld.add_argument("url")
    ld.add_argument("n", type=int)
    ld.add_argument("--conns", type=int, default=1)
    ld.add_argument("--new", action="store_true")
    ld.add_argument("--src", default="")
    ld.add_argument("--deadline", type=float, default=30)
    hm = sub.add_parser("hashmap")
    hm.add_argument("url")
    hm.add_argument("--srcs", type=int, default=20)
    hm.add_argument("--per", type=int, default=6)
    pf = sub.add_parser("ports-free")
    pf.add_argument("lo", type=int)
    pf.add_argument("hi", type=int)
    sl = sub.add_parser("slowloris")
    sl.add_argument("port", type=int)
    sl.add_argument("n", type=int)
    sl.add_argument("--host", default="127.0.0.1")
    sl.add_argument("--interval", type=float, default=0.2)
    sl.add_argument("--duration", type=float, default=5)
    rl = sub.add_parser("relay")
    rl.add_argument("port", type=int)
    rl.add_argument("bytes", type=int)
    rl.add_argument("--host", default="127.0.0.1")
    rl.add_argument("--mode", default="echo", choices=["echo", "store"])
    rl.add_argument("--tagged", action="store_true")
    rl.add_argument("--timeout", type=float, default=15)
    rl.add_argument("--rcvbuf", type=int, default=0)
    rl.add_argument("--slow", action="store_true")
    hr = sub.add_parser("halfrev")
    hr.add_argument("port", type=int)
    hr.add_argument("nin", type=int)
    hr.add_argument("nout", type=int)
    hr.add_argument("--host", default="127.0.0.1")
    rs = sub.add_parser("rst")
    rs.add_argument("port", type=int)
    rs.add_argument("bytes", type=int)
    rs.add_argument("--host", default="127.0.0.1")
    sh = sub.add_parser("short")
    sh.add_argument("port", type=int)
    sh.add_argument("n", type=int)
    sh.add_argument("--conns", type=int, default=10)
    sh.add_argument("--host", default="127.0.0.1")
    sh.add_argument("--deadline", type=float, default=30)
    g = sub.add_parser("gen")
    g.add_argument("n", type=int)
    a = p.parse_args()
    if a.cmd == "http":
        Backend(a.port, a.log, a.mode, a.idle_close).serve()
    elif a.cmd == "tcp":
        tcp_server(a.port, a.mode, a.tag, a.rcvbuf, a.slow, a.log, a.first)
    elif a.cmd == "raw":
        cmd_raw(a)
    elif a.cmd == "seq":
        cmd_seq(a)
    elif a.cmd == "load":
        cmd_load(a)
    elif a.cmd == "hashmap":
        cmd_hashmap(a)
    elif a.cmd == "ports-free":
        cmd_ports_free(a)
    elif a.cmd == "slowloris":
        cmd_slowloris(a)
    elif a.cmd == "relay":
        cmd_relay(a)
    elif a.cmd == "halfrev":
        cmd_halfrev(a)
    elif a.cmd == "rst":
        cmd_rst(a)
    elif a.cmd == "short":
        cmd_short(a)
    elif a.cmd == "gen":
        sys.stdout.buffer.write(gen(a.n))


if __name__ == "__main__":
    main()
