/* sockmap.c: the kernel relay for L4 connections. Once a backend is connected, both
 * sockets go into BPF sockhashes and an sk_skb verdict program redirects each side's bytes
 * to the other side's send queue: no copy through userspace, no system call per chunk.
 *
 * Two maps, both keyed by a socket's own 4-tuple as the verdict program reads it from the
 * skb:
 *   peers  tuple(X) -> X's peer   what the program redirects to; no program attached
 *   run    tuple(X) -> X          the verdict program is attached here: X's bytes run it
 * A socket runs the verdict only once it is in `run`, and by then both entries of `peers`
 * exist, so every byte of either side finds its peer: none is ever passed to userspace
 * behind the kernel's back (one map would leave a window where a server-first protocol's
 * first bytes went to userspace while later ones were redirected, out of order).
 * Bytes queued before the handover are still in the receive queue, unseen: setting
 * SO_RCVLOWAT runs the verdict on them (tcp_set_rcvlowat calls sk_data_ready), so they go
 * first, in order.
 *
 * The drain (dp_sockmap_drained): a redirected skb is queued on the destination's psock
 * and sent by a kernel worker when the destination's send buffer has room. Userspace sees
 * the source's end of stream (recv 0) as soon as the FIN is processed, which may be long
 * before. The bytes are conserved, though: everything the source received (tcp_info's
 * tcpi_bytes_received, which counts the FIN as 1) either sits in the psock or has entered
 * the destination's send queue (tcpi_bytes_acked + SIOCOUTQ = bytes written so far, FIN
 * not yet sent; on the side that connected, tcpi_bytes_acked counts the SYN as 1 too). When the second reaches the first, nothing is left in between, nothing
 * more can come (the source has ended), and a FIN queued now goes after the last byte.
 * The two counters of the destination are read acked first, queue second: an ACK landing
 * in between makes the sum smaller, never larger, so a wrong "drained" cannot happen, only
 * a late one (the caller polls again). */
#include <errno.h>
#include <linux/bpf.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <linux/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "dp/sockmap.h"

struct dp_sockmap {
	int peers, run, prog;
};

struct tuple {			/* as __sk_buff shows them on this (little-endian) host */
	uint32_t local_ip, remote_ip;	/* network order */
	uint32_t local_port;		/* host order */
	uint32_t remote_port;		/* network order, in the upper 16 bits */
};

/* offsets in struct __sk_buff (linux/bpf.h) */
enum { SKB_LEN = 0, SKB_REMOTE_IP4 = 92, SKB_LOCAL_IP4 = 96, SKB_REMOTE_PORT = 132, SKB_LOCAL_PORT = 136 };

static long sys_bpf(int cmd, union bpf_attr *a)
{
	return syscall(__NR_bpf, cmd, a, sizeof(*a));
}

#define INSN(code, dst, src, off, imm) ((struct bpf_insn){ (code), (dst), (src), (off), (imm) })

/* r0 = sk_redirect_hash(skb, peers, &tuple(skb), egress) == SK_PASS ? SK_DROP : SK_PASS:
 * a redirected skb is the peer's now; one without a peer stays with its socket.
 * An empty skb is a bare FIN (tcp_read_skb hands those to the verdict too): redirected, it
 * would make the peer's psock send 0 bytes, which it takes for a broken pipe (EPIPE on the
 * peer socket, its relay stopped). Dropped, the end of stream stays where it is due: on
 * this socket, whose recv returns 0. */
static int load_verdict(int peers, char *why, size_t whylen)
{
	const struct bpf_insn prog[] = {
		INSN(BPF_ALU64 | BPF_MOV | BPF_X, 6, 1, 0, 0),			/* r6 = skb */
		INSN(BPF_LDX | BPF_MEM | BPF_W, 2, 6, SKB_LEN, 0),
		INSN(BPF_JMP | BPF_JNE | BPF_K, 2, 0, 2, 0),			/* has data */
		INSN(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, SK_DROP),		/* a bare FIN */
		INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
		INSN(BPF_LDX | BPF_MEM | BPF_W, 2, 6, SKB_LOCAL_IP4, 0),	/* key on the stack */
		INSN(BPF_STX | BPF_MEM | BPF_W, 10, 2, -16, 0),
		INSN(BPF_LDX | BPF_MEM | BPF_W, 2, 6, SKB_REMOTE_IP4, 0),
		INSN(BPF_STX | BPF_MEM | BPF_W, 10, 2, -12, 0),
		INSN(BPF_LDX | BPF_MEM | BPF_W, 2, 6, SKB_LOCAL_PORT, 0),
		INSN(BPF_STX | BPF_MEM | BPF_W, 10, 2, -8, 0),
		INSN(BPF_LDX | BPF_MEM | BPF_W, 2, 6, SKB_REMOTE_PORT, 0),
		INSN(BPF_STX | BPF_MEM | BPF_W, 10, 2, -4, 0),
		INSN(BPF_ALU64 | BPF_MOV | BPF_X, 1, 6, 0, 0),			/* r1 = skb */
		INSN(BPF_LD | BPF_DW | BPF_IMM, 2, BPF_PSEUDO_MAP_FD, 0, peers),	/* r2 = peers */
		INSN(0, 0, 0, 0, 0),
		INSN(BPF_ALU64 | BPF_MOV | BPF_X, 3, 10, 0, 0),			/* r3 = &key */
		INSN(BPF_ALU64 | BPF_ADD | BPF_K, 3, 0, 0, -16),
		INSN(BPF_ALU64 | BPF_MOV | BPF_K, 4, 0, 0, 0),			/* egress */
		INSN(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_sk_redirect_hash),
		INSN(BPF_JMP | BPF_JNE | BPF_K, 0, 0, 1, SK_DROP),		/* redirected */
		INSN(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, SK_PASS),		/* no peer: keep it */
		INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
	};
	char log[4096] = "";
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_SK_SKB;
	a.insns = (uintptr_t)prog;
	a.insn_cnt = sizeof(prog) / sizeof(*prog);
	a.license = (uintptr_t)"GPL";	/* sk_redirect_hash is a GPL-only helper */
	a.log_buf = (uintptr_t)log;
	a.log_size = sizeof(log);
	a.log_level = 1;
	int fd = (int)sys_bpf(BPF_PROG_LOAD, &a);
	if (fd < 0)
		snprintf(why, whylen, "verdict program rejected: %s %s", strerror(errno), log);
	return fd;
}

static int sockhash(int entries, char *why, size_t whylen)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_type = BPF_MAP_TYPE_SOCKHASH;
	a.key_size = sizeof(struct tuple);
	a.value_size = sizeof(uint64_t);
	a.max_entries = (uint32_t)entries;
	int fd = (int)sys_bpf(BPF_MAP_CREATE, &a);
	if (fd < 0)
		snprintf(why, whylen, "sockhash: %s", strerror(errno));
	return fd;
}

struct dp_sockmap *dp_sockmap_open(int max_pairs, char *why, size_t whylen)
{
	struct dp_sockmap *m = malloc(sizeof(*m));
	if (!m) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	*m = (struct dp_sockmap){ -1, -1, -1 };
	union bpf_attr a;
	if ((m->peers = sockhash(max_pairs * 2, why, whylen)) >= 0 &&
	    (m->run = sockhash(max_pairs * 2, why, whylen)) >= 0 &&
	    (m->prog = load_verdict(m->peers, why, whylen)) >= 0) {
		memset(&a, 0, sizeof(a));
		a.target_fd = (uint32_t)m->run;
		a.attach_bpf_fd = (uint32_t)m->prog;
		a.attach_type = BPF_SK_SKB_VERDICT;
		if (sys_bpf(BPF_PROG_ATTACH, &a) == 0)
			return m;
		snprintf(why, whylen, "attach verdict: %s", strerror(errno));
	}
	int err = errno;
	dp_sockmap_close(m);
	errno = err;
	return NULL;
}

void dp_sockmap_close(struct dp_sockmap *m)
{
	if (!m)
		return;
	int fds[] = { m->prog, m->run, m->peers };	/* sockets still in them are let go */
	for (int i = 0; i < 3; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(m);
}

static int tuple_of(int fd, struct tuple *t)
{
	struct sockaddr_in l, r;
	socklen_t n = sizeof(l);
	if (getsockname(fd, (struct sockaddr *)&l, &n) < 0)
		return -errno;
	n = sizeof(r);
	if (getpeername(fd, (struct sockaddr *)&r, &n) < 0)
		return -errno;
	if (l.sin_family != AF_INET || r.sin_family != AF_INET)
		return -EAFNOSUPPORT;
	*t = (struct tuple){ l.sin_addr.s_addr, r.sin_addr.s_addr, ntohs(l.sin_port),
			     (uint32_t)r.sin_port << 16 };
	return 0;
}

static int put(int map, const struct tuple *key, int fd)
{
	uint64_t value = (uint64_t)fd;
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_fd = (uint32_t)map;
	a.key = (uintptr_t)key;
	a.value = (uintptr_t)&value;
	a.flags = BPF_NOEXIST;
	return sys_bpf(BPF_MAP_UPDATE_ELEM, &a) < 0 ? -errno : 0;
}

static void del(int map, const struct tuple *key)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_fd = (uint32_t)map;
	a.key = (uintptr_t)key;
	sys_bpf(BPF_MAP_DELETE_ELEM, &a);
}

int dp_sockmap_splice(struct dp_sockmap *m, int a, int b)
{
	struct tuple ta, tb;
	int err = tuple_of(a, &ta);
	if (!err)
		err = tuple_of(b, &tb);
	if (err)
		return err;
	if ((err = put(m->peers, &ta, b)))	/* peers first: no verdict runs yet */
		return err;
	if ((err = put(m->peers, &tb, a))) {
		del(m->peers, &ta);
		return err;
	}
	if ((err = put(m->run, &ta, a))) {
		del(m->peers, &ta);
		del(m->peers, &tb);
		return err;
	}
	if (put(m->run, &tb, b)) {	/* a's bytes may be on their way to b: no way back */
		del(m->run, &ta);
		del(m->peers, &ta);
		del(m->peers, &tb);
		return -EIO;
	}
	int one = 1;	/* run the verdict on what is queued already */
	setsockopt(a, SOL_SOCKET, SO_RCVLOWAT, &one, sizeof(one));
	setsockopt(b, SOL_SOCKET, SO_RCVLOWAT, &one, sizeof(one));
	return 0;
}

int dp_sock_bytes(int fd, struct dp_sock_bytes *b)
{
	struct tcp_info ti;
	socklen_t n = sizeof(ti);
	int outq = 0;
	memset(&ti, 0, sizeof(ti));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &n) < 0)
		return -errno;
	if (n < offsetof(struct tcp_info, tcpi_bytes_received) + sizeof(ti.tcpi_bytes_received))
		return -ENOSYS;		/* a kernel older than 4.1 */
	if (ioctl(fd, SIOCOUTQ, &outq) < 0)	/* after tcp_info: see the top of the file */
		return -errno;
	*b = (struct dp_sock_bytes){ .received = ti.tcpi_bytes_received, .acked = ti.tcpi_bytes_acked,
				     .written = ti.tcpi_bytes_acked + (uint64_t)outq,
				     .state = ti.tcpi_state,
				     .quiet_ms = ti.tcpi_last_data_recv < ti.tcpi_last_data_sent ?
						 ti.tcpi_last_data_recv : ti.tcpi_last_data_sent };
	return 0;
}

int dp_sockmap_drained(int from, int to, int to_connected)
{
	struct dp_sock_bytes f, t;
	int err = dp_sock_bytes(from, &f);
	if (!err)
		err = dp_sock_bytes(to, &t);
	if (err)
		return err;
	/* the source's FIN counts 1 in its received; the destination's SYN 1 in its written */
	return t.written + 1 >= f.received + (to_connected ? 1 : 0);
}

int dp_sock_fin_received(uint8_t state)
{
	return state == BPF_TCP_CLOSE_WAIT || state == BPF_TCP_LAST_ACK || state == BPF_TCP_CLOSING ||
	       state == BPF_TCP_TIME_WAIT;	/* the kernel's TCP states */
}
