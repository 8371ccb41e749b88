/* health.c: active health checks, run by the workers' event loops without blocking them.
 * Each backend of a pool with checks is probed by one worker (spread over the workers): a
 * TCP connect, or an HTTP GET whose answer must be 2xx or 3xx, every interval, each probe
 * bounded by the timeout. `rise` successes in a row bring a backend up, `fall` failures in
 * a row take it down; changes are logged. Passive failures seen by the proxy count too. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "log.h"
#include "px.h"
#include "ipvs/words.h"

struct px_probe {
	struct px_worker *w;
	int pool, backend;
	struct ev_io io;
	struct ev_timer timer;
	bool busy;		/* a probe is in flight */
	int ok_run, fail_run;	/* successes / failures in a row */
	char reply[64];
	size_t got, sent;
	char req[PX_CHECK_PATH_MAX + 128];
	size_t reqlen;
};

static const struct px_check_cfg *check_of(const struct px_probe *p)
{
	return &p->w->cur->cfg->pools_cfg[p->pool].check;
}

static struct lb_backend *backend_of(const struct px_probe *p)
{
	return &p->w->cur->cfg->pools[p->pool]->backends[p->backend];
}

void px_health_set(struct px_config *cfg, int pool, int backend, bool up, const char *why)
{
	struct lb_backend *b = &cfg->pools[pool]->backends[backend];
	int was = __atomic_exchange_n(&b->st->up, up ? 1 : 0, __ATOMIC_RELAXED);
	if (was == (up ? 1 : 0))
		return;
	px_log_event(up ? PX_LOG_INFO : PX_LOG_WARN, "backend %s/%u.%u.%u.%u:%u is %s (%s)",
		     cfg->pools[pool]->name, b->ip >> 24, (b->ip >> 16) & 255, (b->ip >> 8) & 255,
		     b->ip & 255, b->port, up ? "UP" : "DOWN", why);
	ipvs_health_changed(cfg->pools[pool]->name, b->ip, b->port, b->weight, up);	/* src/ipvs */
}

static void probe_done(struct px_probe *p, bool ok, const char *why)
{
	const struct px_check_cfg *ck = check_of(p);
	if (p->io.fd >= 0) {
		ev_io_set(p->w->loop, &p->io, 0);
		close(p->io.fd);
		p->io.fd = -1;
	}
	p->busy = false;
	if (ok) {
		p->fail_run = 0;
		if (++p->ok_run >= ck->rise)
			px_health_set(p->w->cur->cfg, p->pool, p->backend, true, why);
	} else {
		p->ok_run = 0;
		if (++p->fail_run >= ck->fall)
			px_health_set(p->w->cur->cfg, p->pool, p->backend, false, why);
	}
	ev_timer_in(p->w->loop, &p->timer, ck->interval_ns);
}

/* An HTTP answer's status line: "HTTP/1.x 2xx" or "3xx" passes. */
static bool status_ok(const char *s, size_t n)
{
	return n >= 12 && !memcmp(s, "HTTP/1.", 7) && s[8] == ' ' && (s[9] == '2' || s[9] == '3');
}

static void on_probe_io(struct ev_loop *loop, struct ev_io *io, uint32_t events)
{
	struct px_probe *p = io->data;
	if (!p->sent && !p->got) {	/* the connect finished */
		int err = 0;
		socklen_t len = sizeof(err);
		getsockopt(io->fd, SOL_SOCKET, SO_ERROR, &err, &len);
		if (err || (events & EV_ERR)) {
			probe_done(p, false, err ? strerror(err) : "connect failed");
			return;
		}
		if (check_of(p)->kind == PX_CHECK_TCP) {
			probe_done(p, true, "connect ok");
			return;
		}
	}
	if (p->sent < p->reqlen) {
		ssize_t n = send(io->fd, p->req + p->sent, p->reqlen - p->sent, MSG_NOSIGNAL);
		if (n < 0 && errno != EAGAIN) {
			probe_done(p, false, strerror(errno));
			return;
		}
		if (n > 0)
			p->sent += (size_t)n;
		ev_io_set(loop, io, p->sent < p->reqlen ? EV_WRITE : EV_READ);
		return;
	}
	ssize_t n = recv(io->fd, p->reply + p->got, sizeof(p->reply) - p->got, 0);
	if (n > 0)
		p->got += (size_t)n;
	if (p->got >= 12 || n == 0 || (n < 0 && errno != EAGAIN)) {
		bool ok = status_ok(p->reply, p->got);
		probe_done(p, ok, ok ? "http ok" : p->got ? "http status" : "no answer");
	}
}

static void on_probe_timer(struct ev_loop *loop, struct ev_timer *t)
{
	struct px_probe *p = t->data;
	if (p->busy) {	/* the probe ran out of time */
		probe_done(p, false, "timeout");
		return;
	}
	int fd = px_connect(p->w, backend_of(p));
	if (fd < 0) {
		probe_done(p, false, strerror(-fd));
		return;
	}
	p->busy = true;
	p->got = p->sent = 0;
	ev_io_init(&p->io, fd, on_probe_io, p);
	ev_io_set(loop, &p->io, EV_WRITE);
	ev_timer_in(loop, &p->timer, check_of(p)->timeout_ns);
}

/* Give this worker its share of the probes: backend k of all checked backends goes to
 * worker k mod nworkers. */
int px_health_start(struct px_worker *w)
{
	struct px_config *cfg = w->cur->cfg;
	int nworkers = w->nworkers;
	int k = 0, n = 0;
	for (int p = 0; p < cfg->npools; p++)
		for (uint32_t b = 0; cfg->pools_cfg[p].check.kind && b < cfg->pools[p]->n; b++, k++)
			if (k % nworkers == w->id)
				n++;
	w->probes = calloc((size_t)n + 1, sizeof(*w->probes));
	if (!w->probes)
		return -ENOMEM;
	k = 0;
	for (int p = 0; p < cfg->npools; p++) {
		const struct px_check_cfg *ck = &cfg->pools_cfg[p].check;
		for (uint32_t b = 0; ck->kind && b < cfg->pools[p]->n; b++, k++) {
			if (k % nworkers != w->id)
				continue;
			struct px_probe *pr = &w->probes[w->nprobes++];
			const struct lb_backend *be = &cfg->pools[p]->backends[b];
			pr->w = w;
			pr->pool = p;
			pr->backend = (int)b;
			pr->io.fd = -1;
			pr->reqlen = (size_t)snprintf(pr->req, sizeof(pr->req),
				"GET %s HTTP/1.1\r\nHost: %u.%u.%u.%u:%u\r\nUser-Agent: afd-health\r\n"
				"Connection: close\r\n\r\n", ck->path, be->ip >> 24, (be->ip >> 16) & 255,
				(be->ip >> 8) & 255, be->ip & 255, be->port);
			ev_timer_init(&pr->timer, on_probe_timer, pr);
			/* spread the first probes over the interval */
			ev_timer_in(w->loop, &pr->timer, ck->interval_ns * (uint64_t)(k % 16) / 16);
		}
	}
	return 0;
}

void px_health_stop(struct px_worker *w)
{
	for (int i = 0; i < w->nprobes; i++) {
		struct px_probe *p = &w->probes[i];
		ev_timer_stop(w->loop, &p->timer);
		if (p->io.fd >= 0) {
			ev_io_set(w->loop, &p->io, 0);
			close(p->io.fd);
		}
	}
	free(w->probes);
	w->probes = NULL;
	w->nprobes = 0;
}

/* The proxy saw this backend fail (connect refused, no answer): with active checks on, as
 * many failures in a row as `fall` take it down until the checks bring it back. */
void px_health_passive(struct px_config *cfg, int pool, int backend, bool ok)
{
	if (pool < 0 || backend < 0 || !cfg->pools_cfg[pool].check.kind)
		return;
	struct lb_backend *b = &cfg->pools[pool]->backends[backend];
	if (ok) {
		__atomic_store_n(&b->st->passive_fails, 0, __ATOMIC_RELAXED);
		return;
	}
	int n = __atomic_add_fetch(&b->st->passive_fails, 1, __ATOMIC_RELAXED);
	if (n >= cfg->pools_cfg[pool].check.fall)
		px_health_set(cfg, pool, backend, false, "failed requests");
}
