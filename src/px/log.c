/* log.c: the logs' destinations, the event log, and the words that configure both logs.
 *
 * A destination is one file descriptor whose number never changes once a file is open: a
 * reopen dup2()s the new file onto it. So the writers (any thread) load the number and
 * write, without a lock; a write is of whole lines, and O_APPEND makes each land whole at
 * the end of the file whatever other threads write. Settings change under a mutex, from the
 * command line (main thread) or when a generation goes live (px_log_apply, the control
 * plane); the words only fill the configuration being built. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "px.h"

#define EVENT_MAX 4096		/* PIPE_BUF: one write of a line is whole on a pipe too */

struct dest {
	int fd;			/* -1: not set up (events: stderr, set up on first use) */
	bool own;		/* fd is a file opened here: a reopen may dup2 onto it */
	bool on;		/* access: lines are wanted */
	bool sock;		/* a socket: send(MSG_DONTWAIT) */
	bool pipe;		/* a pipe or FIFO: writes of at most PIPE_BUF are whole */
	bool json, pinned;
	char path[PATH_MAX];	/* "": stderr (events) */
	uint64_t lines, dropped;
};

static struct dest dests[2] = {
	[PX_LOG_EVENTS] = { .fd = -1, .on = true },
	[PX_LOG_ACCESS] = { .fd = -1 },
};
static pthread_mutex_t settings = PTHREAD_MUTEX_INITIALIZER;	/* paths: set and reopen */
static int log_level = PX_LOG_INFO;
static bool level_pinned;
static const char *const level_names[] = { "error", "warn", "info", "debug" };
static const char *const log_names[] = { "event", "access" };

/* ---- destinations ---- */
static int ld_int(const int *p) { return __atomic_load_n(p, __ATOMIC_RELAXED); }
static bool ld_bool(const bool *p) { return __atomic_load_n(p, __ATOMIC_RELAXED); }

static void classify(struct dest *d, int fd)
{
	struct stat st;
	bool pipe = !fstat(fd, &st) && S_ISFIFO(st.st_mode);
	__atomic_store_n(&d->pipe, pipe, __ATOMIC_RELAXED);
	__atomic_store_n(&d->sock, !pipe && S_ISSOCK(st.st_mode), __ATOMIC_RELAXED);
}

/* Stderr as the event log's destination. A pipe gets a description of its own, opened
 * non-blocking through /proc (setting O_NONBLOCK on fd 2 would change it for whoever shares
 * it); a socket is written with MSG_DONTWAIT; a file or terminal is written as it is. */
static int stderr_fd(void)
{
	static int fd = -1;
	int f = ld_int(&fd);
	if (f >= 0)
		return f;
	struct stat st;
	f = STDERR_FILENO;
	if (!fstat(STDERR_FILENO, &st) && S_ISFIFO(st.st_mode)) {
		int nb = open("/proc/self/fd/2", O_WRONLY | O_NONBLOCK | O_CLOEXEC);
		if (nb >= 0)
			f = nb;
	}
	int expected = -1;
	if (!__atomic_compare_exchange_n(&fd, &expected, f, false, __ATOMIC_RELAXED,
					 __ATOMIC_RELAXED)) {
		if (f != STDERR_FILENO)	/* another thread was first */
			close(f);
		f = expected;
	}
	return f;
}

static int dest_fd(enum px_log_which which)
{
	struct dest *d = &dests[which];
	int fd = ld_int(&d->fd);
	if (fd < 0 && which == PX_LOG_EVENTS) {
		fd = stderr_fd();
		classify(d, fd);
		int expected = -1;
		__atomic_compare_exchange_n(&d->fd, &expected, fd, false, __ATOMIC_RELAXED,
					    __ATOMIC_RELAXED);
		fd = ld_int(&d->fd);
	}
	return fd;
}

ssize_t px_log_write(enum px_log_which which, const char *buf, size_t n)
{
	struct dest *d = &dests[which];
	int fd = dest_fd(which);
	if (fd < 0)
		return -EBADF;
	for (;;) {
		ssize_t r = ld_bool(&d->sock) ? send(fd, buf, n, MSG_DONTWAIT | MSG_NOSIGNAL) :
						write(fd, buf, n);
		if (r >= 0)
			return r;
		if (errno != EINTR)
			return -errno;
	}
}

bool px_log_is_pipe(enum px_log_which which) { return ld_bool(&dests[which].pipe); }
bool px_log_json(enum px_log_which which) { return ld_bool(&dests[which].json); }
bool px_log_on(enum px_log_which which)
{
	return ld_bool(&dests[which].on) && ld_int(&dests[which].fd) >= 0;
}

void px_log_count(enum px_log_which which, uint64_t written, uint64_t dropped)
{
	if (written)
		__atomic_add_fetch(&dests[which].lines, written, __ATOMIC_RELAXED);
	if (dropped)
		__atomic_add_fetch(&dests[which].dropped, dropped, __ATOMIC_RELAXED);
}

/* The file at path, as a log wants it; /dev/stdout and /dev/stderr that are sockets (as
 * under systemd) cannot be opened again, so they are duplicated. */
static int open_log(const char *path)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NONBLOCK | O_CLOEXEC, 0644);
	bool std = !strcmp(path, "/dev/stdout") || !strcmp(path, "/dev/stderr");
	if (fd < 0 && errno == ENXIO && std)
		fd = fcntl(path[5] == 'o' ? STDOUT_FILENO : STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
	return fd < 0 ? -errno : fd;
}

/* Put the file at path in place of the destination's: dup2 keeps the number writers use. */
static int install(struct dest *d, const char *path)
{
	int fd = open_log(path);
	if (fd < 0)
		return fd;
	classify(d, fd);
	if (d->own) {
		int r = dup2(fd, d->fd) < 0 ? -errno : 0;
		close(fd);
		return r;
	}
	d->own = true;
	__atomic_store_n(&d->fd, fd, __ATOMIC_RELAXED);
	return 0;
}

static int set_path(enum px_log_which which, const char *path)
{
	struct dest *d = &dests[which];
	if (d->pinned)
		return 0;
	if (!path) {	/* events: back to stderr; access: off (the file stays open, unused) */
		if (which == PX_LOG_EVENTS) {
			int fd = stderr_fd();
			classify(d, fd);
			__atomic_store_n(&d->fd, fd, __ATOMIC_RELAXED);
			d->own = false;	/* a file opened before stays open: a writer may hold it */
		}
		__atomic_store_n(&d->on, which == PX_LOG_EVENTS, __ATOMIC_RELAXED);
		d->path[0] = 0;
		return 0;
	}
	if (strlen(path) >= sizeof(d->path))
		return -ENAMETOOLONG;
	int err = install(d, path);
	if (err)
		return err;
	strcpy(d->path, path);
	__atomic_store_n(&d->on, true, __ATOMIC_RELAXED);
	return 0;
}

int px_log_set_path(enum px_log_which which, const char *path)
{
	pthread_mutex_lock(&settings);
	int err = set_path(which, path);
	pthread_mutex_unlock(&settings);
	return err;
}

int px_log_set_json(enum px_log_which which, bool json)
{
	__atomic_store_n(&dests[which].json, json, __ATOMIC_RELAXED);
	return 0;
}

int px_log_set_level(enum px_log_level level)
{
	if (level < PX_LOG_ERROR || level > PX_LOG_DEBUG)
		return -EINVAL;
	if (!level_pinned)
		__atomic_store_n(&log_level, (int)level, __ATOMIC_RELAXED);
	return 0;
}

int px_log_level_parse(const char *s, size_t n)
{
	for (int i = 0; i <= PX_LOG_DEBUG; i++)
		if (strlen(level_names[i]) == n && !strncasecmp(level_names[i], s, n))
			return i;
	return -EINVAL;
}

void px_log_pin(enum px_log_which which) { dests[which].pinned = true; }
void px_log_pin_level(void) { level_pinned = true; }

int px_log_reopen(void)
{
	int first = 0;
	pthread_mutex_lock(&settings);
	for (int i = 0; i < 2; i++) {
		struct dest *d = &dests[i];
		if (!d->own || !d->path[0])
			continue;
		int err = install(d, d->path);
		if (err) {
			px_log_event(PX_LOG_ERROR, "log-reopen: %s: %s", d->path, strerror(-err));
			first = first ? first : err;
		}
	}
	pthread_mutex_unlock(&settings);
	if (!first)
		px_log_event(PX_LOG_INFO, "logs reopened");
	return first;
}

/* ---- the event log ---- */
void px_log_rfc3339(char *buf, int64_t unix_s, int ms)
{
	struct tm tm;
	time_t t = (time_t)unix_s;
	gmtime_r(&t, &tm);
	char t64[64];	/* room for what the compiler cannot tell the fields never need */
	snprintf(t64, sizeof(t64), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
		 (tm.tm_year + 1900) % 10000, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
		 tm.tm_sec, ms % 1000);
	memcpy(buf, t64, PX_LOG_TIME_LEN);
	buf[PX_LOG_TIME_LEN] = 0;
}

bool px_log_enabled(enum px_log_level level)
{
	return (int)level <= ld_int(&log_level);
}

/* The message, control characters (and, in JSON, quotes and backslashes) escaped. */
static size_t escape_msg(char *dst, size_t cap, const char *s, bool json)
{
	static const char hex[] = "0123456789abcdef";
	size_t at = 0;
	for (; *s && at + 7 < cap; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch < 0x20 || ch == 0x7f) {
			memcpy(dst + at, json ? "\\u00" : "\\x", json ? 4 : 2);
			at += json ? 4 : 2;
			dst[at++] = hex[ch >> 4];
			dst[at++] = hex[ch & 15];
		} else if (json && (ch == '"' || ch == '\\')) {
			dst[at++] = '\\';
			dst[at++] = (char)ch;
		} else if (json && ch >= 0x80) {	/* the bytes as they are may not be UTF-8 */
			memcpy(dst + at, "\\u00", 4);
			at += 4;
			dst[at++] = hex[ch >> 4];
			dst[at++] = hex[ch & 15];
		} else {
			dst[at++] = (char)ch;
		}
	}
	return at;
}

void px_log_vevent(enum px_log_level level, const char *fmt, va_list ap)
{
	if (!px_log_enabled(level))
		return;
	char msg[EVENT_MAX / 2], line[EVENT_MAX], now[PX_LOG_TIME_LEN + 1];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	px_log_rfc3339(now, ts.tv_sec, (int)(ts.tv_nsec / 1000000));
	bool json = px_log_json(PX_LOG_EVENTS);
	int n = json ? snprintf(line, sizeof(line), "{\"time\":\"%s\",\"level\":\"%s\",\"msg\":\"",
				now, level_names[level]) :
		       snprintf(line, sizeof(line), "%s %s afd: ", now, level_names[level]);
	size_t at = (size_t)n;
	at += escape_msg(line + at, sizeof(line) - at - 4, msg, json);
	if (json) {
		memcpy(line + at, "\"}", 2);
		at += 2;
	}
	line[at++] = '\n';
	ssize_t w = px_log_write(PX_LOG_EVENTS, line, at);
	px_log_count(PX_LOG_EVENTS, w == (ssize_t)at, w != (ssize_t)at);
}

void px_log_event(enum px_log_level level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	px_log_vevent(level, fmt, ap);
	va_end(ap);
}

/* ---- metrics ---- */
const char *px_log_metrics(void)
{
	static __thread char text[1024];
	int n = snprintf(text, sizeof(text),
		"# HELP afd_log_lines_total Lines written to a log.\n"
		"# TYPE afd_log_lines_total counter\n");
	for (int i = 0; i < 2; i++)
		n += snprintf(text + n, sizeof(text) - (size_t)n, "afd_log_lines_total{log=\"%s\"} %llu\n",
			      log_names[i], (unsigned long long)__atomic_load_n(&dests[i].lines,
										 __ATOMIC_RELAXED));
	n += snprintf(text + n, sizeof(text) - (size_t)n,
		"# HELP afd_log_lines_dropped_total Lines not written because the log's destination "
		"was full, would block or failed.\n"
		"# TYPE afd_log_lines_dropped_total counter\n");
	for (int i = 0; i < 2; i++)
		n += snprintf(text + n, sizeof(text) - (size_t)n,
			      "afd_log_lines_dropped_total{log=\"%s\"} %llu\n", log_names[i],
			      (unsigned long long)__atomic_load_n(&dests[i].dropped, __ATOMIC_RELAXED));
	return text;
}

/* ---- a configuration's logs, made live ---- */
/* One log's file as the configuration says (path "": stderr, or off). */
static void apply_path(enum px_log_which which, const char *path, const char *word)
{
	struct dest *d = &dests[which];
	if (d->pinned || (!strcmp(d->path, path) && (d->own || !path[0])))
		return;		/* as it is already: a reload does not reopen for nothing */
	int err = set_path(which, path[0] ? path : NULL);
	if (err)
		px_log_event(PX_LOG_ERROR, "%s: %s: %s (the log stays as it was)", word, path,
			     strerror(-err));
}

void px_log_apply(const struct px_log_cfg *lc)
{
	pthread_mutex_lock(&settings);
	if (!level_pinned)
		__atomic_store_n(&log_level, lc->level ? lc->level - 1 : PX_LOG_INFO,
				 __ATOMIC_RELAXED);
	px_log_set_json(PX_LOG_EVENTS, lc->events_json);
	px_log_set_json(PX_LOG_ACCESS, lc->access_json);
	apply_path(PX_LOG_EVENTS, lc->events, "event-log");
	apply_path(PX_LOG_ACCESS, lc->access, "access-log");
	pthread_mutex_unlock(&settings);
}

/* ---- the words: they fill the configuration's struct px_log_cfg ---- */
static struct px_log_cfg *log_cfg(void *ctx)
{
	struct px_vmctx *x = ctx;
	return x->w ? NULL : &x->cfg->log;	/* a worker's replay: nothing to do */
}

/* A path from the stack into dst; the file must open for appending (created if need be,
 * as nginx -t does), so a configuration that cannot log fails at the word. */
static int pop_path(afd_vm *vm, char *dst, const char *word, bool check)
{
	const char *s;
	size_t n;
	int err = afd_pop_string(vm, &s, &n);
	if (err)
		return err;
	if (n == 0 || n >= PX_LOG_PATH_MAX || memchr(s, 0, n))
		return -24;
	char path[PX_LOG_PATH_MAX];
	memcpy(path, s, n);
	path[n] = 0;
	if (check) {
		int fd = open_log(path);
		if (fd < 0) {
			px_log_event(PX_LOG_ERROR, "%s: %s: %s", word, path, strerror(-fd));
			return -37;
		}
		close(fd);
	}
	strcpy(dst, path);
	return 0;
}

/* access-log ( c-addr u -- ) one line per request and per L4 connection to that file */
static int w_access_log(afd_vm *vm, void *ctx)
{
	struct px_log_cfg *lc = log_cfg(ctx);
	char ignored[PX_LOG_PATH_MAX];
	bool check = lc && !dests[PX_LOG_ACCESS].pinned;	/* --access-log: not even opened */
	return pop_path(vm, lc ? lc->access : ignored, "access-log", check);
}

/* access-log-off ( -- ) no access log (the default) */
static int w_access_log_off(afd_vm *vm, void *ctx)
{
	struct px_log_cfg *lc = log_cfg(ctx);
	if (lc)
		lc->access[0] = 0;
	return 0;
}

/* event-log ( c-addr u -- ) the event log to that file instead of stderr */
static int w_event_log(afd_vm *vm, void *ctx)
{
	struct px_log_cfg *lc = log_cfg(ctx);
	char ignored[PX_LOG_PATH_MAX];
	bool check = lc && !dests[PX_LOG_EVENTS].pinned;
	return pop_path(vm, lc ? lc->events : ignored, "event-log", check);
}

/* access-log-format, event-log-format ( c-addr u -- ) "text" (the default) or "json" */
static int set_format(afd_vm *vm, void *ctx, enum px_log_which which)
{
	const char *s;
	size_t n;
	int err = afd_pop_string(vm, &s, &n);
	if (err)
		return err;
	bool json = n == 4 && !strncasecmp(s, "json", 4);
	if (!json && !(n == 4 && !strncasecmp(s, "text", 4)))
		return -24;
	struct px_log_cfg *lc = log_cfg(ctx);
	if (lc)
		*(which == PX_LOG_ACCESS ? &lc->access_json : &lc->events_json) = json;
	return 0;
}

static int w_access_format(afd_vm *vm, void *ctx) { return set_format(vm, ctx, PX_LOG_ACCESS); }
static int w_event_format(afd_vm *vm, void *ctx) { return set_format(vm, ctx, PX_LOG_EVENTS); }

/* log-level ( c-addr u -- ) "error" "warn" "info" (the default) or "debug": events above it
 * are not logged */
static int w_log_level(afd_vm *vm, void *ctx)
{
	const char *s;
	size_t n;
	int err = afd_pop_string(vm, &s, &n);
	if (err)
		return err;
	int level = px_log_level_parse(s, n);
	if (level < 0)
		return -24;
	struct px_log_cfg *lc = log_cfg(ctx);
	if (lc)
		lc->level = level + 1;
	return 0;
}

/* log-reopen ( -- ) open the log files again by their paths (after a rotation); at once,
 * whatever generation is loading */
static int w_log_reopen(afd_vm *vm, void *ctx)
{
	return log_cfg(ctx) == NULL || px_log_reopen() == 0 ? 0 : -37;
}

int px_log_register_words(afd_vm *vm, struct px_vmctx *ctx)
{
	static const struct {
		const char *name, *effect;
		afd_prim_fn fn;
	} words[] = {
		{ "access-log", "( c-addr u -- )", w_access_log },
		{ "access-log-off", "( -- )", w_access_log_off },
		{ "access-log-format", "( c-addr u -- )", w_access_format },
		{ "event-log", "( c-addr u -- )", w_event_log },
		{ "event-log-format", "( c-addr u -- )", w_event_format },
		{ "log-level", "( c-addr u -- )", w_log_level },
		{ "log-reopen", "( -- )", w_log_reopen },
	};
	for (size_t i = 0; i < sizeof(words) / sizeof(*words); i++)
		if (afd_register(vm, words[i].name, words[i].effect, words[i].fn, ctx) < 0)
			return -ENOMEM;
	return 0;
}
