/* serve.c: handle-requests. Start the workers (each binds its own SO_REUSEPORT sockets and
 * builds its own VM) and, with metrics-listen, the metrics thread; then wait for SIGINT or
 * SIGTERM in the main thread and stop them. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "log.h"
#include "px.h"

static const char *mode_name(enum px_mode m)
{
	return m == PX_HTTP ? "http" : m == PX_TCP ? "tcp" : "static";
}

static void announce(const struct px_config *cfg, int workers)
{
	for (int i = 0; i < cfg->nlisteners; i++) {
		const struct px_listener_cfg *l = &cfg->listeners[i];
		char pool[128] = "";
		if (l->pool >= 0) {
			const struct lb_pool *p = cfg->pools[l->pool];
			snprintf(pool, sizeof(pool), ", pool %s (%s, %u backends)", p->name,
				 p->algo->name, p->n);
		}
		px_log_event(PX_LOG_INFO, "%s on %u.%u.%u.%u:%u%s", mode_name(l->mode), l->ip >> 24,
			     (l->ip >> 16) & 255, (l->ip >> 8) & 255, l->ip & 255, l->port, pool);
	}
	if (cfg->metrics_port)
		px_log_event(PX_LOG_INFO, "metrics on http://%u.%u.%u.%u:%u/metrics",
			     cfg->metrics_ip >> 24, (cfg->metrics_ip >> 16) & 255,
			     (cfg->metrics_ip >> 8) & 255, cfg->metrics_ip & 255, cfg->metrics_port);
	px_log_event(PX_LOG_INFO, "%d worker%s", workers, workers == 1 ? "" : "s");
}

int px_config_check(const struct px_config *cfg)
{
	int err = 0;
	if (cfg->nlisteners == 0) {
		fprintf(stderr, "afd: handle-requests: nothing to listen on\n");
		err = -32;
	}
	for (int i = 0; i < cfg->nlisteners; i++) {
		const struct px_listener_cfg *l = &cfg->listeners[i];
		if (l->mode != PX_STATIC && l->pool < 0) {
			fprintf(stderr, "afd: handle-requests: the listener on port %u has no pool\n",
				l->port);
			err = -32;
		}
		for (int k = 0; k < i; k++)
			if (cfg->listeners[k].port == l->port && cfg->listeners[k].ip == l->ip) {
				fprintf(stderr, "afd: handle-requests: port %u is listened on twice\n",
					l->port);
				err = -32;
			}
	}
	for (int p = 0; p < cfg->npools; p++)
		if (cfg->pools[p]->n == 0)	/* a warning: every request would get 503 */
			fprintf(stderr, "afd: warning: pool %s has no backend\n", cfg->pools[p]->name);
	return err;
}

/* SIGTERM: the workers stop accepting and end once their connections are done; whatever is
 * still open after the timeout is closed. */
static void drain_workers(struct px_worker *ws, int n, uint64_t timeout_ns)
{
	px_log_event(PX_LOG_INFO, "SIGTERM: draining (at most %llu ms)",
		     (unsigned long long)(timeout_ns / 1000000));
	for (int i = 0; i < n; i++)
		px_worker_drain(&ws[i]);
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);	/* pthread_timedjoin_np's clock */
	until.tv_sec += (time_t)(timeout_ns / 1000000000u);
	until.tv_nsec += (long)(timeout_ns % 1000000000u);
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	int late = 0;
	for (int i = 0; i < n; i++) {
		if (pthread_timedjoin_np(ws[i].thread, NULL, &until) == 0)
			ws[i].thread = 0;	/* done: px_worker_stop has nothing to stop */
		else
			late++;
	}
	if (late)
		px_log_event(PX_LOG_WARN, "drain timeout: closing what %d worker%s still had open",
			     late, late == 1 ? "" : "s");
}

int px_serve(struct px_vmctx *ctx)
{
	struct px_config *cfg = ctx->cfg;
	int bad = px_config_check(cfg);
	if (bad)
		return bad;
	int n = cfg->workers ? cfg->workers : (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 1)
		n = 1;
	sigset_t stop, old;
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGQUIT);
	sigaddset(&stop, SIGUSR1);	/* not a stop: reopen the log files (rotation) */
	pthread_sigmask(SIG_BLOCK, &stop, &old);
	struct px_worker *ws = calloc((size_t)n, sizeof(*ws));
	int err = ws ? 0 : -ENOMEM, started = 0;
	for (int i = 0; i < n && !err; i++)
		if ((err = px_worker_init(&ws[i], i, n, cfg, ctx->vm)) < 0)
			px_log_event(PX_LOG_ERROR, "worker %d: %s", i, strerror(-err));
	struct px_metrics *metrics = NULL;
	if (!err && (err = px_metrics_start(cfg, ws, n, &metrics)) < 0)
		px_log_event(PX_LOG_ERROR, "metrics-listen: %s", strerror(-err));
	for (int i = 0; i < n && !err; i++, started++)
		err = px_worker_start(&ws[i]);
	if (!err) {
		announce(cfg, n);
		int sig = 0;
		while (!sigwait(&stop, &sig) && sig == SIGUSR1)
			px_log_reopen();
		if (sig == SIGTERM)
			drain_workers(ws, started, cfg->drain_timeout_ns);
		else
			px_log_event(PX_LOG_INFO, "%s: stopping now", sig == SIGINT ? "SIGINT" : "SIGQUIT");
	}
	px_metrics_stop(metrics);	/* it reads the workers' counters: first */
	for (int i = 0; i < started; i++)
		px_worker_stop(&ws[i]);
	for (int i = 0; ws && i < n; i++)
		if (ws[i].loop)
			px_worker_fini(&ws[i]);
	free(ws);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return err ? -37 : 0;
}
