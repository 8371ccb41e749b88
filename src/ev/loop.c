/* loop.c: the event loop. One iteration: wait in epoll until the earliest timer is due,
 * dispatch ready descriptors, run due timers, run calls queued by other threads. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>
#include <afd/ev.h>

#define MAX_EVENTS 256

struct ev_call {
	void (*fn)(struct ev_loop *, void *);
	void *arg;
	struct ev_call *next;
};

struct ev_loop {
	int epfd;
	bool running;
	uint64_t now;
	struct ev_timer **heap;		/* min-heap on when */
	int nheap, capheap;
	struct ev_io wake;		/* eventfd: other threads' ev_call */
	pthread_mutex_t lock;		/* guards calls only */
	struct ev_call *calls;
};

uint64_t ev_clock(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t ev_now(struct ev_loop *loop) { return loop->now; }

void ev_io_init(struct ev_io *io, int fd, ev_io_fn fn, void *data)
{
	io->fd = fd;
	io->events = 0;
	io->fn = fn;
	io->data = data;
}

int ev_io_set(struct ev_loop *loop, struct ev_io *io, uint32_t events)
{
	if (events == io->events)
		return 0;
	struct epoll_event ev = { .events = events, .data.ptr = io };
	int op = !io->events ? EPOLL_CTL_ADD : events ? EPOLL_CTL_MOD : EPOLL_CTL_DEL;
	if (epoll_ctl(loop->epfd, op, io->fd, &ev) < 0)
		return -errno;
	io->events = events;
	return 0;
}

/* ---- timers: a binary min-heap of pointers; each timer knows its slot ---- */
static void heap_set(struct ev_loop *loop, int i, struct ev_timer *t)
{
	loop->heap[i] = t;
	t->slot = i;
}

static void sift_up(struct ev_loop *loop, int i)
{
	struct ev_timer *t = loop->heap[i];
	while (i > 0 && loop->heap[(i - 1) / 2]->when > t->when) {
		heap_set(loop, i, loop->heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	heap_set(loop, i, t);
}

static void sift_down(struct ev_loop *loop, int i)
{
	struct ev_timer *t = loop->heap[i];
	for (;;) {
		int c = 2 * i + 1;
		if (c >= loop->nheap)
			break;
		if (c + 1 < loop->nheap && loop->heap[c + 1]->when < loop->heap[c]->when)
			c++;
		if (loop->heap[c]->when >= t->when)
			break;
		heap_set(loop, i, loop->heap[c]);
		i = c;
	}
	heap_set(loop, i, t);
}

void ev_timer_init(struct ev_timer *t, ev_timer_fn fn, void *data)
{
	t->when = 0;
	t->slot = -1;
	t->fn = fn;
	t->data = data;
}

void ev_timer_stop(struct ev_loop *loop, struct ev_timer *t)
{
	int i = t->slot;
	if (i < 0)
		return;
	t->slot = -1;
	struct ev_timer *last = loop->heap[--loop->nheap];
	if (i == loop->nheap)
		return;
	heap_set(loop, i, last);
	sift_up(loop, i);
	sift_down(loop, last->slot);
}

int ev_timer_at(struct ev_loop *loop, struct ev_timer *t, uint64_t when)
{
	if (t->slot >= 0) {
		bool earlier = when < t->when;
		t->when = when;
		if (earlier)
			sift_up(loop, t->slot);
		else
			sift_down(loop, t->slot);
		return 0;
	}
	if (loop->nheap == loop->capheap) {
		int cap = loop->capheap ? loop->capheap * 2 : 256;
		struct ev_timer **h = realloc(loop->heap, (size_t)cap * sizeof(*h));
		if (!h)
			return -ENOMEM;
		loop->heap = h;
		loop->capheap = cap;
	}
	t->when = when;
	heap_set(loop, loop->nheap++, t);
	sift_up(loop, t->slot);
	return 0;
}

int ev_timer_in(struct ev_loop *loop, struct ev_timer *t, uint64_t ns)
{
	return ev_timer_at(loop, t, loop->now + ns);
}

static void run_timers(struct ev_loop *loop)
{
	while (loop->nheap && loop->heap[0]->when <= loop->now && loop->running) {
		struct ev_timer *t = loop->heap[0];
		ev_timer_stop(loop, t);
		t->fn(loop, t);
	}
}

/* ---- calls from other threads ---- */
int ev_call(struct ev_loop *loop, void (*fn)(struct ev_loop *, void *), void *arg)
{
	struct ev_call *c = malloc(sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->fn = fn;
	c->arg = arg;
	pthread_mutex_lock(&loop->lock);
	c->next = loop->calls;
	loop->calls = c;
	pthread_mutex_unlock(&loop->lock);
	uint64_t one = 1;
	(void)!write(loop->wake.fd, &one, sizeof(one));
	return 0;
}

static void on_wake(struct ev_loop *loop, struct ev_io *io, uint32_t events)
{
	uint64_t n;
	(void)!read(io->fd, &n, sizeof(n));
	pthread_mutex_lock(&loop->lock);
	struct ev_call *c = loop->calls, *rev = NULL;
	loop->calls = NULL;
	pthread_mutex_unlock(&loop->lock);
	while (c) {		/* run them in the order they were queued */
		struct ev_call *next = c->next;
		c->next = rev;
		rev = c;
		c = next;
	}
	while (rev) {
		struct ev_call *next = rev->next;
		rev->fn(loop, rev->arg);
		free(rev);
		rev = next;
	}
}

struct ev_loop *ev_loop_new(void)
{
	struct ev_loop *loop = calloc(1, sizeof(*loop));
	if (!loop)
		return NULL;
	pthread_mutex_init(&loop->lock, NULL);
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	int wfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (loop->epfd < 0 || wfd < 0) {
		if (wfd >= 0)
			close(wfd);
		loop->wake.fd = -1;
		ev_loop_free(loop);
		return NULL;
	}
	ev_io_init(&loop->wake, wfd, on_wake, NULL);
	loop->now = ev_clock();
	if (ev_io_set(loop, &loop->wake, EV_READ) < 0) {
		ev_loop_free(loop);
		return NULL;
	}
	return loop;
}

void ev_loop_free(struct ev_loop *loop)
{
	if (!loop)
		return;
	if (loop->epfd >= 0)
		close(loop->epfd);
	if (loop->wake.fd >= 0)
		close(loop->wake.fd);
	while (loop->calls) {
		struct ev_call *next = loop->calls->next;
		free(loop->calls);
		loop->calls = next;
	}
	pthread_mutex_destroy(&loop->lock);
	free(loop->heap);
	free(loop);
}

void ev_stop(struct ev_loop *loop) { loop->running = false; }

int ev_run(struct ev_loop *loop)
{
	struct epoll_event evs[MAX_EVENTS];
	loop->running = true;
	while (loop->running) {
		loop->now = ev_clock();
		int timeout = -1;
		if (loop->nheap) {
			uint64_t due = loop->heap[0]->when;
			timeout = due <= loop->now ? 0 : (int)((due - loop->now + 999999) / 1000000);
		}
		int n = epoll_wait(loop->epfd, evs, MAX_EVENTS, timeout);
		if (n < 0 && errno != EINTR)
			return -errno;
		loop->now = ev_clock();
		for (int i = 0; i < n && loop->running; i++) {
			struct ev_io *io = evs[i].data.ptr;
			io->fn(loop, io, evs[i].events);
		}
		run_timers(loop);
	}
	return 0;
}
