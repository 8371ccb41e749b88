#!/usr/bin/env python3
"""mkmmdb.py OUT CIDR=COUNTRY:CONTINENT ...: write a small IPv4 MaxMind DB (format 2.0).

Written from the MaxMind DB File Format Specification (maxmind.github.io/MaxMind-DB), with
the standard library only, to test AFD's geoip-mmdb against a real libmaxminddb. Each record
is {"country": {"iso_code": COUNTRY}, "continent": {"code": CONTINENT}}, as in GeoLite2.
Layout: the binary search tree (24-bit records, 6 bytes a node), 16 zero bytes, the data
section, then "\\xab\\xcd\\xefMaxMind.com" and the metadata map."""
import struct
import sys
import time


def ctrl(kind, size):
    """A control byte for a type (1..15) and a payload size, with the size extension."""
    ext = b""
    if kind > 7:
        ext, kind = bytes([kind - 7]), 0
    if size < 29:
        head, tail = size, b""
    elif size < 285:
        head, tail = 29, bytes([size - 29])
    elif size < 65821:
        head, tail = 30, struct.pack(">H", size - 285)
    else:
        head, tail = 31, struct.pack(">I", size - 65821)[1:]
    return bytes([kind << 5 | head]) + ext + tail


def enc(v, kind=None):
    if isinstance(v, str):
        b = v.encode()
        return ctrl(2, len(b)) + b
    if isinstance(v, dict):
        return ctrl(7, len(v)) + b"".join(enc(k) + enc(x) for k, x in v.items())
    if isinstance(v, list):
        return ctrl(11, len(v)) + b"".join(enc(x) for x in v)
    if isinstance(v, tuple):            # (type, int): uint16 5, uint32 6, uint64 9
        kind, n = v
        b = n.to_bytes((n.bit_length() + 7) // 8, "big")
        return ctrl(kind, len(b)) + b
    raise TypeError(v)


def build(entries):
    """entries: [(addr, plen, record dict)] -> database bytes"""
    data, offsets = b"", []
    for _, _, rec in entries:
        offsets.append(len(data))
        data += enc(rec)
    nodes = [[None, None]]              # a record: None (empty), ("n", i) or ("d", offset)
    order = sorted(range(len(entries)), key=lambda i: entries[i][1])
    for i in order:                     # shorter first: longer ones split their records
        addr, plen, _ = entries[i]
        node = 0
        for depth in range(plen):
            bit = (addr >> (31 - depth)) & 1
            if depth == plen - 1:
                nodes[node][bit] = ("d", offsets[i])
                break
            rec = nodes[node][bit]
            if rec is None or rec[0] == "d":
                nodes.append([rec, rec])
                nodes[node][bit] = ("n", len(nodes) - 1)
            node = nodes[node][bit][1]
    n = len(nodes)

    def value(rec):
        if rec is None:
            return n
        return rec[1] if rec[0] == "n" else n + 16 + rec[1]
    tree = b"".join(value(l).to_bytes(3, "big") + value(r).to_bytes(3, "big") for l, r in nodes)
    meta = {
        "node_count": (6, n), "record_size": (5, 24), "ip_version": (5, 4),
        "database_type": "AFD-Test-Country", "languages": ["en"],
        "binary_format_major_version": (5, 2), "binary_format_minor_version": (5, 0),
        "build_epoch": (9, int(time.time())), "description": {"en": "AFD test database"},
    }
    return tree + bytes(16) + data + b"\xab\xcd\xefMaxMind.com" + enc(meta)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    entries = []
    for arg in sys.argv[2:]:
        cidr, _, names = arg.partition("=")
        country, _, continent = names.partition(":")
        ip, _, plen = cidr.partition("/")
        a = 0
        for part in ip.split("."):
            a = a << 8 | int(part)
        entries.append((a, int(plen or 32), {"country": {"iso_code": country},
                                             "continent": {"code": continent}}))
    with open(sys.argv[1], "wb") as f:
        f.write(build(entries))


if __name__ == "__main__":
    main()
