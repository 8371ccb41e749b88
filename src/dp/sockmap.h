/* sockmap.h: the kernel relay for L4 connections (BPF sockhash + sk_skb verdict).
 *
 * The kernel moves the bytes; userspace still sees each end of stream and passes it on
 * (the half-close). It may do so only once the kernel has moved every byte that came
 * before the end: redirected bytes wait in the destination's psock backlog while its send
 * buffer is full, and a FIN queued before them would cut them off. dp_sockmap_drained()
 * is that signal (see sockmap.c for why it has no race). */
#ifndef AFD_DP_SOCKMAP_H
#define AFD_DP_SOCKMAP_H

#include <stddef.h>
#include <stdint.h>

struct dp_sockmap;

/* The maps and the verdict program; NULL if the kernel or our privileges do not allow it
 * (why says which), errno set. One per worker: nothing in it is shared between threads. */
struct dp_sockmap *dp_sockmap_open(int max_pairs, char *why, size_t whylen);
void dp_sockmap_close(struct dp_sockmap *m);
/* From now on the kernel moves bytes between the connected sockets a and b both ways,
 * bytes already queued on either first, in order. Nothing must be left in userspace
 * buffers. Userspace still sees the end of each stream (recv returns 0). 0, or -errno with
 * both sockets as they were (relay in userspace then), or -EIO when the kernel may have
 * moved bytes already and could not finish: the connection must be aborted. Closing a
 * socket takes it out of the maps. */
int dp_sockmap_splice(struct dp_sockmap *m, int a, int b);

/* What a connected TCP socket has moved so far (tcp_info and SIOCOUTQ). */
struct dp_sock_bytes {
	uint64_t received;	/* data received, plus 1 once a FIN arrived */
	uint64_t written;	/* data queued to send, acknowledged or not (plus 1 after a FIN,
				 * and 1 for the SYN of a socket that connected) */
	uint64_t acked;		/* what the peer acknowledged, counted as in written */
	uint32_t quiet_ms;	/* since data was last received or sent */
	uint8_t state;		/* TCP_ESTABLISHED ... */
};
int dp_sock_bytes(int fd, struct dp_sock_bytes *b);
/* After from's end of stream was seen: 1 when every byte from received is in to's send
 * queue (to may be half-closed now), 0 not yet, -errno. to_connected: to is the socket
 * that called connect() (the kernel counts its SYN as an acknowledged byte). */
int dp_sockmap_drained(int from, int to, int to_connected);
/* Did the peer of a socket in this state send its FIN? */
int dp_sock_fin_received(uint8_t state);

#endif
