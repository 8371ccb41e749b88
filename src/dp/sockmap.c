/* sockmap.c: the kernel relay for L4 connections. Once a backend is chosen, both sockets go
 * into a BPF sockhash whose sk_skb verdict program redirects each side's bytes to the other
 * side's send queue: no copy through userspace, no system call per chunk.
 *
 * The sockhash is keyed by a socket's own 4-tuple, as the verdict program reads it from the
 * skb, and holds the peer: a packet arriving on X is sent out of map[tuple(X)].
 * Handing over (dp_sockmap_splice): the backend socket goes in first (nothing has been sent
 * to it, so for client-first protocols it is silent), then the client socket; bytes the
 * client sent before are still queued, unseen, and setting SO_RCVLOWAT runs the verdict on
 * them (tcp_set_rcvlowat calls sk_data_ready), so they go first, in order. A packet whose
 * peer is not in the map yet (a server-first protocol's first bytes in the microseconds of
 * the handover) is passed to the socket itself, and userspace relays it. */
#include <errno.h>
#include <linux/bpf.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "dp/sockmap.h"

struct dp_sockmap {
	int map, prog;
};

struct tuple {			/* as __sk_buff shows them on this (little-endian) host */
	uint32_t local_ip, remote_ip;	/* network order */
	uint32_t local_port;		/* host order */
	uint32_t remote_port;		/* network order, in the upper 16 bits */
};

/* offsets in struct __sk_buff (linux/bpf.h) */
enum { SKB_REMOTE_IP4 = 92, SKB_LOCAL_IP4 = 96, SKB_REMOTE_PORT = 132, SKB_LOCAL_PORT = 136 };

static long sys_bpf(int cmd, union bpf_attr *a)
{
	return syscall(__NR_bpf, cmd, a, sizeof(*a));
}

#define INSN(code, dst, src, off, imm) ((struct bpf_insn){ (code), (dst), (src), (off), (imm) })

static int load_verdict(int map, char *why, size_t whylen)
{
	const struct bpf_insn prog[] = {
		INSN(BPF_ALU64 | BPF_MOV | BPF_X, 6, 1, 0, 0),			/* r6 = skb */
		INSN(BPF_LDX | BPF_MEM | BPF_W, 2, 6, SKB_LOCAL_IP4, 0),	/* key on the stack */
		INSN(BPF_STX | BPF_MEM | BPF_W, 10, 2, -16, 0),
		INSN(BPF_LDX | BPF_MEM | BPF_W, 2, 6, SKB_REMOTE_IP4, 0),
		INSN(BPF_STX | BPF_MEM | BPF_W, 10, 2, -12, 0),
		INSN(BPF_LDX | BPF_MEM | BPF_W, 2, 6, SKB_LOCAL_PORT, 0),
		INSN(BPF_STX | BPF_MEM | BPF_W, 10, 2, -8, 0),
		INSN(BPF_LDX | BPF_MEM | BPF_W, 2, 6, SKB_REMOTE_PORT, 0),
		INSN(BPF_STX | BPF_MEM | BPF_W, 10, 2, -4, 0),
		INSN(BPF_ALU64 | BPF_MOV | BPF_X, 1, 6, 0, 0),			/* r1 = skb */
		INSN(BPF_LD | BPF_DW | BPF_IMM, 2, BPF_PSEUDO_MAP_FD, 0, map),	/* r2 = map */
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

struct dp_sockmap *dp_sockmap_open(int max_pairs, char *why, size_t whylen)
{
	struct dp_sockmap *m = calloc(1, sizeof(*m));
	if (!m) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_type = BPF_MAP_TYPE_SOCKHASH;
	a.key_size = sizeof(struct tuple);
	a.value_size = sizeof(uint64_t);
	a.max_entries = (uint32_t)max_pairs * 2;
	m->map = (int)sys_bpf(BPF_MAP_CREATE, &a);
	if (m->map < 0) {
		snprintf(why, whylen, "sockhash: %s", strerror(errno));
		free(m);
		return NULL;
	}
	m->prog = load_verdict(m->map, why, whylen);
	if (m->prog >= 0) {
		memset(&a, 0, sizeof(a));
		a.target_fd = (uint32_t)m->map;
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
	if (m->prog >= 0)
		close(m->prog);
	close(m->map);	/* sockets still in it are released by the kernel */
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

static int put(struct dp_sockmap *m, const struct tuple *key, int fd)
{
	uint64_t value = (uint64_t)fd;
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_fd = (uint32_t)m->map;
	a.key = (uintptr_t)key;
	a.value = (uintptr_t)&value;
	a.flags = BPF_ANY;
	return sys_bpf(BPF_MAP_UPDATE_ELEM, &a) < 0 ? -errno : 0;
}

int dp_sockmap_splice(struct dp_sockmap *m, int client, int backend)
{
	struct tuple tc, tb;
	int err = tuple_of(client, &tc);
	if (!err)
		err = tuple_of(backend, &tb);
	if (!err)
		err = put(m, &tc, backend);	/* the backend first: it is silent so far */
	if (!err)
		err = put(m, &tb, client);
	if (err)
		return err;
	int one = 1;	/* run the verdict on what is queued already */
	setsockopt(client, SOL_SOCKET, SO_RCVLOWAT, &one, sizeof(one));
	setsockopt(backend, SOL_SOCKET, SO_RCVLOWAT, &one, sizeof(one));
	return 0;
}
