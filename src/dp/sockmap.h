/* sockmap.h: the kernel relay for L4 connections (BPF sockhash + sk_skb verdict).
 *
 * Not used by tcp-mode yet, for a measured reason: when a destination's send buffer is
 * full, redirected bytes wait in the kernel's psock backlog, and userspace may see the
 * source's end of stream before they are sent; shutting the destination's write side then
 * (the half-close) cuts them off (1 MiB relays arrived truncated). Wiring it in needs a
 * drain signal before the half-close, or the FIN carried by the kernel path itself. */
#ifndef AFD_DP_SOCKMAP_H
#define AFD_DP_SOCKMAP_H

#include <stddef.h>

struct dp_sockmap;

/* The map and its verdict program, shared by every worker; NULL if the kernel or our
 * privileges do not allow it (why says which), errno set. */
struct dp_sockmap *dp_sockmap_open(int max_pairs, char *why, size_t whylen);
void dp_sockmap_close(struct dp_sockmap *m);
/* From now on the kernel moves bytes between the connected sockets a and b both ways.
 * Bytes already queued on either are moved too, in order. Userspace still sees the end of
 * each stream (recv returns 0) and does the half-close. 0 or -errno. */
int dp_sockmap_splice(struct dp_sockmap *m, int client, int backend);

#endif
