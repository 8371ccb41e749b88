/* ev.h: the event loop: epoll for descriptors, a binary heap for timers, an eventfd to be
 * woken from other threads. Conventions: 0 or a negative errno. */
#ifndef AFD_EV_H
#define AFD_EV_H

#include "ev-t.h"

struct ev_loop *ev_loop_new(void);
void ev_loop_free(struct ev_loop *loop);
/* Run until ev_stop(); returns 0, or a negative errno if epoll failed. */
int ev_run(struct ev_loop *loop);
void ev_stop(struct ev_loop *loop);		/* from the loop's own thread */
/* From any thread: wake the loop and have it call fn(loop, arg) on its own thread.
 * Returns -ENOMEM if the request could not be queued. */
int ev_call(struct ev_loop *loop, void (*fn)(struct ev_loop *, void *), void *arg);
uint64_t ev_now(struct ev_loop *loop);		/* monotonic ns, cached per iteration */
uint64_t ev_clock(void);			/* monotonic ns, read now */

/* Descriptors: start watching (events != 0), change, or stop (events == 0). */
int ev_io_set(struct ev_loop *loop, struct ev_io *io, uint32_t events);
void ev_io_init(struct ev_io *io, int fd, ev_io_fn fn, void *data);

void ev_timer_init(struct ev_timer *t, ev_timer_fn fn, void *data);
int ev_timer_at(struct ev_loop *loop, struct ev_timer *t, uint64_t when);	/* (re)arm */
int ev_timer_in(struct ev_loop *loop, struct ev_timer *t, uint64_t ns);
void ev_timer_stop(struct ev_loop *loop, struct ev_timer *t);
static inline bool ev_timer_armed(const struct ev_timer *t) { return t->slot >= 0; }

#endif
