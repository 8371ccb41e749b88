# server.py ADDR: in the XDP namespace, a TCP listener on 9000 (accepts and closes) and a UDP
# echo on 9001; runs until killed (by PID).
import socket, select, sys
t = socket.socket(); t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
t.bind((sys.argv[1], 9000)); t.listen(16)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind((sys.argv[1], 9001))
print("ready", flush=True)
while True:
    for s in select.select([t, u], [], [])[0]:
        if s is t: t.accept()[0].close()
        else:
            d, a = u.recvfrom(64); u.sendto(d, a)
