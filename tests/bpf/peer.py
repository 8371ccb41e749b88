# peer.py ADDR: from the peer namespace, one TCP connect, one UDP round trip, one ICMP echo
# to ADDR, each bounded by a 1 s timeout; prints "tcp ok|fail", "udp ok|fail", "icmp ok|fail".
import socket, struct, sys
addr = sys.argv[1]
def tcp():
    s = socket.create_connection((addr, 9000), timeout=1); s.close()
def udp():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(1)
    s.sendto(b"ping", (addr, 9001)); s.recvfrom(64)
def csum(b):
    t = sum(struct.unpack("!%dH" % (len(b) // 2), b)); t = (t >> 16) + (t & 0xffff)
    return ~(t + (t >> 16)) & 0xffff
def icmp():
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP); s.settimeout(1)
    h = struct.pack("!BBHHH", 8, 0, 0, 0x4146, 1) + b"afdtest!"
    s.sendto(h[:2] + struct.pack("!H", csum(h)) + h[4:], (addr, 0))
    while True:
        d, _ = s.recvfrom(256)
        if d[20] == 0: return
for name, f in (("tcp", tcp), ("udp", udp), ("icmp", icmp)):
    try: f(); print(name, "ok")
    except Exception: print(name, "fail")
