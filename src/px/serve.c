/* serve.c: handle-requests. Start the workers (each with its own SO_REUSEPORT sockets), the
 * metrics thread and the admin socket; then the main thread waits for signals:
 *   SIGHUP   reload: the configuration files again, as a new generation (gen.c)
 *   SIGUSR2  upgrade: start the executable anew, hand it the listening sockets, and once it
 *            says it is ready, finish the requests in flight and exit
 *   SIGUSR1  open the log files again (rotation: log.c)
 *   SIGTERM  drain and exit; SIGINT, SIGQUIT: stop now */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
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
	px_log_event(PX_LOG_INFO, "%d worker%s, pid %d", workers, workers == 1 ? "" : "s",
		     (int)getpid());
}

int px_config_check(const struct px_config *cfg, FILE *out)
{
	int err = 0;
	if (cfg->nlisteners == 0) {
		fprintf(out, "afd: handle-requests: nothing to listen on\n");
		err = -32;
	}
	for (int i = 0; i < cfg->nlisteners; i++) {
		const struct px_listener_cfg *l = &cfg->listeners[i];
		if (l->mode != PX_STATIC && l->pool < 0) {
			fprintf(out, "afd: handle-requests: the listener on port %u has no pool\n",
				l->port);
			err = -32;
		}
		for (int k = 0; k < i; k++)
			if (cfg->listeners[k].port == l->port && cfg->listeners[k].ip == l->ip) {
				fprintf(out, "afd: handle-requests: port %u is listened on twice\n",
					l->port);
				err = -32;
			}
	}
	for (int p = 0; p < cfg->npools; p++)
		if (cfg->pools[p]->n == 0)	/* a warning: every request would get 503 */
			fprintf(stderr, "afd: warning: pool %s has no backend\n", cfg->pools[p]->name);
	return err;
}

/* ---- listening sockets handed over by the process this one was upgraded from ----
 * AFD_LISTEN_FDS="fd:ip:port,fd:ip:port,...": each taken once, by the first worker asking
 * for that address. */
struct inherited {
	int fd;
	uint32_t ip;
	uint16_t port;
};
static struct inherited *inh;
static int ninh;
static pthread_mutex_t inh_mu = PTHREAD_MUTEX_INITIALIZER;

static void inherit_fds(void)
{
	const char *s = getenv("AFD_LISTEN_FDS");
	if (!s || !*s)
		return;
	int n = 1;
	for (const char *p = s; *p; p++)
		n += *p == ',';
	if (!(inh = calloc((size_t)n, sizeof(*inh))))
		return;
	for (const char *p = s; *p;) {
		int fd;
		unsigned ip, port;
		int used = 0;
		if (sscanf(p, "%d:%u:%u%n", &fd, &ip, &port, &used) != 3)
			break;
		fcntl(fd, F_SETFD, FD_CLOEXEC);
		inh[ninh++] = (struct inherited){ fd, ip, (uint16_t)port };
		p += used;
		if (*p == ',')
			p++;
	}
	unsetenv("AFD_LISTEN_FDS");
}

/* Sockets no worker took (fewer workers than before): closed. */
static void close_inherited(void)
{
	pthread_mutex_lock(&inh_mu);
	for (int i = 0; i < ninh; i++)
		if (inh[i].fd >= 0)
			close(inh[i].fd);
	free(inh);
	inh = NULL;
	ninh = 0;
	pthread_mutex_unlock(&inh_mu);
}

int px_listen_fd(struct px_server *srv, const struct px_listener_cfg *l)
{
	pthread_mutex_lock(&inh_mu);
	for (int i = 0; i < ninh; i++)
		if (inh[i].fd >= 0 && inh[i].ip == l->ip && inh[i].port == l->port) {
			int fd = inh[i].fd;
			inh[i].fd = -1;
			pthread_mutex_unlock(&inh_mu);
			return fd;
		}
	pthread_mutex_unlock(&inh_mu);
	return px_listen_new(l);
}

/* ---- upgrade: a new process of the same executable takes over ---- */
static char exe_path[4096];

/* Tell the process we were upgraded from that we serve now. */
static void notify_parent(void)
{
	const char *s = getenv("AFD_UPGRADE_FD");
	if (!s)
		return;
	int fd = atoi(s);
	unsetenv("AFD_UPGRADE_FD");
	char msg[32];
	int n = snprintf(msg, sizeof(msg), "ready %d\n", (int)getpid());
	if (write(fd, msg, (size_t)n) != n)
		px_log_event(PX_LOG_ERROR, "upgrade: cannot tell the old process: %s",
			     strerror(errno));
	close(fd);
}

/* Start the new process with our listening sockets; wait until it says it serves (then
 * 0: the caller drains) or fails (-errno, and this process goes on as before). */
int px_upgrade(struct px_server *srv, char *err, size_t errcap)
{
	pthread_mutex_lock(&srv->ctl);
	int pfd[2] = { -1, -1 };
	char *fds = NULL;
	size_t fdslen = 0;
	FILE *f = open_memstream(&fds, &fdslen);
	int *list = NULL, nlist = 0;
	pthread_mutex_lock(&srv->mu);	/* no generation change while the sockets are listed */
	for (int w = 0; f && w < srv->nworkers; w++) {
		struct px_wgen *g = srv->ws[w].cur;
		for (int i = 0; g && i < g->cfg->nlisteners; i++) {
			int fd = g->listeners[i].io.fd;
			if (fd < 0)
				continue;
			int *nl = realloc(list, (size_t)(nlist + 1) * sizeof(*nl));
			if (!nl)
				continue;
			list = nl;
			list[nlist++] = fd;
			fprintf(f, "%s%d:%u:%u", ftell(f) ? "," : "", fd, g->cfg->listeners[i].ip,
				g->cfg->listeners[i].port);
		}
	}
	pthread_mutex_unlock(&srv->mu);
	if (f)
		fclose(f);
	int rc = 0;
	char upfd[16];
	if (!fds || pipe(pfd) < 0) {
		rc = fds ? -errno : -ENOMEM;
		snprintf(err, errcap, "upgrade: %s", strerror(-rc));
		goto out;
	}
	snprintf(upfd, sizeof(upfd), "%d", pfd[1]);
	setenv("AFD_LISTEN_FDS", fds, 1);	/* built before fork: execve's environment */
	setenv("AFD_UPGRADE_FD", upfd, 1);
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {		/* the child: only async-signal-safe calls until execve */
		for (int i = 0; i < nlist; i++)
			fcntl(list[i], F_SETFD, 0);
		fcntl(pfd[1], F_SETFD, 0);
		sigset_t none;
		sigemptyset(&none);
		pthread_sigmask(SIG_SETMASK, &none, NULL);
		extern char **environ;
		execve(exe_path, srv->start->argv, environ);
		_exit(127);
	}
	int fork_errno = errno;
	unsetenv("AFD_LISTEN_FDS");
	unsetenv("AFD_UPGRADE_FD");
	close(pfd[1]);
	if (pid < 0) {
		rc = -fork_errno;
		snprintf(err, errcap, "upgrade: fork: %s", strerror(fork_errno));
		goto out;
	}
	/* wait for "ready PID" (bounded): the new process loads its configuration first */
	char buf[64];
	size_t got = 0;
	uint64_t until = ev_clock() + 30000000000ull;
	while (got < sizeof(buf) - 1 && ev_clock() < until) {
		struct timeval tv = { 0, 100000 };
		fd_set rd;
		FD_ZERO(&rd);
		FD_SET(pfd[0], &rd);
		if (select(pfd[0] + 1, &rd, NULL, NULL, &tv) <= 0)
			continue;
		ssize_t n = read(pfd[0], buf + got, sizeof(buf) - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
		if (memchr(buf, '\n', got))
			break;
	}
	buf[got] = 0;
	int newpid = 0;
	if (sscanf(buf, "ready %d", &newpid) != 1) {
		int status = 0;
		if (waitpid(pid, &status, WNOHANG) == 0)	/* alive but silent: end it */
			kill(pid, SIGKILL), waitpid(pid, &status, 0);
		rc = -ECHILD;
		snprintf(err, errcap, "upgrade: the new process (pid %d) did not start serving "
			 "(exit status %d); this one goes on", (int)pid,
			 WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
		goto out;
	}
	px_log_event(PX_LOG_INFO, "upgrade: pid %d serves now; pid %d finishes its requests",
		     newpid, (int)getpid());
	srv->upgraded = true;
out:
	if (pfd[0] >= 0)
		close(pfd[0]);
	free(fds);
	free(list);
	pthread_mutex_unlock(&srv->ctl);
	return rc;
}

/* ---- privileges: after binding, the user and group the configuration names ---- */
static int drop_privileges(const struct px_config *cfg)
{
	if (!cfg->run_user[0] && !cfg->run_group[0])
		return 0;
	gid_t gid = getgid();
	uid_t uid = getuid();
	if (cfg->run_group[0]) {
		struct group *gr = getgrnam(cfg->run_group);
		if (!gr) {
			px_log_event(PX_LOG_ERROR, "run-as-group: no group %s", cfg->run_group);
			return -EINVAL;
		}
		gid = gr->gr_gid;
	}
	if (cfg->run_user[0]) {
		struct passwd *pw = getpwnam(cfg->run_user);
		if (!pw) {
			px_log_event(PX_LOG_ERROR, "run-as-user: no user %s", cfg->run_user);
			return -EINVAL;
		}
		uid = pw->pw_uid;
		if (!cfg->run_group[0])
			gid = pw->pw_gid;
	}
	if (geteuid() == uid && getegid() == gid)
		return 0;	/* already (an upgraded process inherits it) */
	if (setgroups(1, &gid) < 0 || setgid(gid) < 0 || setuid(uid) < 0) {
		px_log_event(PX_LOG_ERROR, "dropping privileges to uid %d gid %d: %s", (int)uid,
			     (int)gid, strerror(errno));
		return -errno;
	}
	if (setuid(0) == 0) {	/* must not be able to get them back */
		px_log_event(PX_LOG_ERROR, "dropping privileges: root is still reachable");
		return -EPERM;
	}
	px_log_event(PX_LOG_INFO, "running as uid %d gid %d", (int)uid, (int)gid);
	return 0;
}

/* SIGTERM (and after an upgrade): the workers stop accepting and end once their
 * connections are done; whatever is still open after the timeout is closed. */
static void drain_workers(struct px_worker *ws, int n, uint64_t timeout_ns, bool soft)
{
	px_log_event(PX_LOG_INFO, "%s: draining (at most %llu ms)", soft ? "upgrade" : "SIGTERM",
		     (unsigned long long)(timeout_ns / 1000000));
	for (int i = 0; i < n; i++)
		px_worker_drain(&ws[i], soft);
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

static int write_pid_file(const char *path)
{
	if (!path)
		return 0;
	char tmp[4200];
	snprintf(tmp, sizeof(tmp), "%s.%d", path, (int)getpid());
	FILE *f = fopen(tmp, "w");
	if (!f || fprintf(f, "%d\n", (int)getpid()) < 0 || fclose(f) != 0 || rename(tmp, path)) {
		px_log_event(PX_LOG_ERROR, "--pid-file %s: %s", path, strerror(errno));
		return -errno;
	}
	return 0;
}

/* The signals the main thread waits for (every thread blocks them; SIGPIPE too). */
static sigset_t control_signals(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGQUIT, SIGHUP, SIGUSR2, SIGUSR1 };
	sigset_t set;
	sigemptyset(&set);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(*sigs); i++)
		sigaddset(&set, sigs[i]);
	return set;
}

/* The main thread's loop: signals, until the end. */
static void wait_signals(struct px_server *srv, int started)
{
	sigset_t set = control_signals();
	for (;;) {
		int sig;
		sigwait(&set, &sig);
		char err[1024];
		if (sig == SIGUSR1) {	/* the log files were renamed: open them again (log.c) */
			px_log_reopen();
			continue;
		}
		if (sig == SIGHUP) {
			px_reload(srv, "SIGHUP reload", err, sizeof(err));
			continue;
		}
		if (sig == SIGUSR2 && !srv->upgraded) {
			if (px_upgrade(srv, err, sizeof(err)) < 0) {
				px_log_event(PX_LOG_ERROR, "%s", err);
				continue;
			}
		}
		if (sig == SIGUSR2 || sig == SIGTERM) {
			drain_workers(srv->ws, started, srv->cur->cfg->drain_timeout_ns,
				      sig == SIGUSR2);
			return;
		}
		px_log_event(PX_LOG_INFO, "%s: stopping now", sig == SIGINT ? "SIGINT" : "SIGQUIT");
		return;
	}
}

int px_serve(struct px_vmctx *ctx)
{
	struct px_config *cfg = ctx->cfg;
	int bad = px_config_check(cfg, stderr);
	if (bad)
		return bad;
	int n = cfg->workers ? cfg->workers : (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 1)
		n = 1;
	ssize_t len = readlink("/proc/self/exe", exe_path, sizeof(exe_path) - 1);
	exe_path[len > 0 ? len : 0] = 0;
	inherit_fds();
	sigset_t block = control_signals(), old;
	sigaddset(&block, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &block, &old);

	struct px_server *srv = calloc(1, sizeof(*srv));
	struct px_worker *ws = calloc((size_t)n, sizeof(*ws));
	struct px_gen *first = px_gen_first(ctx);
	int err = srv && ws && first ? 0 : -ENOMEM, started = 0;
	char msg[1024] = "";
	struct px_metrics *metrics = NULL;
	struct px_admin *admin = NULL;
	if (!err) {
		pthread_mutex_init(&srv->mu, NULL);
		pthread_mutex_init(&srv->ctl, NULL);
		pthread_mutex_init(&srv->wait_mu, NULL);
		pthread_cond_init(&srv->cv, NULL);
		srv->ws = ws;
		srv->nworkers = n;
		srv->start = ctx;
		ctx->srv = srv;
		srv->upgrade_fd = -1;
		srv->cur = NULL;
		srv->next_id = 0;
	}
	for (int i = 0; i < n && !err; i++)
		err = px_worker_init(&ws[i], i, srv);
	if (!err) {
		srv->cur = first;	/* for px_gen_commit's bookkeeping: replaced by itself */
		__atomic_add_fetch(&first->refs, 1, __ATOMIC_RELAXED);
		if ((err = px_gen_commit(srv, first, msg, sizeof(msg))) < 0)
			px_log_event(PX_LOG_ERROR, "%s", msg);
		first = NULL;
	}
	close_inherited();
	if (!err && (err = px_metrics_start(srv, &metrics)) < 0)
		px_log_event(PX_LOG_ERROR, "metrics-listen: %s", strerror(-err));
	const char *apath = ctx->admin_path ? ctx->admin_path
			    : cfg->admin_path[0] ? cfg->admin_path : NULL;
	if (!err && apath && (err = px_admin_start(srv, apath, &admin)) < 0)
		px_log_event(PX_LOG_ERROR, "admin socket %s: %s", apath, strerror(-err));
	if (!err)
		err = drop_privileges(cfg);
	if (!err)
		px_spare_fill(srv);
	for (int i = 0; i < n && !err; i++, started++)
		err = px_worker_start(&ws[i]);
	if (!err) {
		announce(cfg, n);
		write_pid_file(ctx->pid_file);
		notify_parent();
		wait_signals(srv, started);
	}
	px_admin_stop(admin);		/* it may be changing the configuration: first */
	px_metrics_stop(metrics);	/* it reads the workers' counters: before they go */
	for (int i = 0; i < started; i++)
		px_worker_stop(&ws[i]);
	for (int i = 0; ws && i < n; i++)
		if (ws[i].loop)
			px_worker_fini(&ws[i]);
	if (srv && srv->cur)
		px_gen_put(srv->cur);
	if (srv)
		px_spare_free(srv);
	if (first)
		px_gen_put(first);
	free(ws);
	if (srv) {
		ctx->srv = NULL;
		pthread_mutex_destroy(&srv->mu);
		pthread_mutex_destroy(&srv->ctl);
		pthread_mutex_destroy(&srv->wait_mu);
		pthread_cond_destroy(&srv->cv);
		free(srv);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return err ? -37 : 0;
}
