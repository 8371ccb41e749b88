/* ev-t.h: types of the event loop (functions in ev.h). One loop per worker thread; nothing
 * in a loop is touched by another thread except through ev_wake(). */
#ifndef AFD_EV_T_H
#define AFD_EV_T_H

#include <stdbool.h>
#include <stdint.h>

struct ev_loop;
struct ev_io;
struct ev_timer;

typedef void (*ev_io_fn)(struct ev_loop *loop, struct ev_io *io, uint32_t events);
typedef void (*ev_timer_fn)(struct ev_loop *loop, struct ev_timer *t);

/* A file descriptor watched for EV_READ / EV_WRITE (epoll's EPOLLIN / EPOLLOUT). */
struct ev_io {
	int fd;
	uint32_t events;	/* what is watched now */
	ev_io_fn fn;
	void *data;
};

/* A one-shot timer; re-arm it from its callback for periodic work. */
struct ev_timer {
	uint64_t when;		/* monotonic ns */
	int slot;		/* position in the heap, -1 when not armed */
	ev_timer_fn fn;
	void *data;
};

#define EV_READ 0x001u		/* EPOLLIN */
#define EV_WRITE 0x004u		/* EPOLLOUT */
#define EV_ERR 0x008u		/* EPOLLERR */
#define EV_HUP 0x010u		/* EPOLLHUP */
#define EV_RDHUP 0x2000u	/* EPOLLRDHUP */
#define EV_ET (1u << 31)	/* EPOLLET: report changes only; the owner tracks readiness */

#endif
