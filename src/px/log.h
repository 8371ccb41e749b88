/* log.h: the proxy's logs. Two of them, each a destination of its own:
 *
 * - the event log: what happened to the process (started, health changes, draining,
 *   reloads, admin commands, errors), one line per event, with a level; stderr unless
 *   `"path" event-log` names a file. px_log_event() is its whole interface, and it may be
 *   called from any thread at any time (before the configuration too).
 * - the access log: one line per HTTP request and per L4 connection, written by the worker
 *   threads (access.c), off unless `"path" access-log` names a file.
 *
 * Each line is text or JSON (`"json" access-log-format`, `"json" event-log-format`), with an
 * RFC 3339 UTC timestamp in milliseconds. doc/proxy.md describes every field.
 *
 * Destinations. A file is opened O_APPEND (and O_NONBLOCK: a pipe or FIFO that is full
 * makes a write fail with EAGAIN instead of stalling the thread); every write is of whole
 * lines, so lines of several threads never mix. Stderr is used as it is, except that a pipe
 * gets a non-blocking description of its own and a socket (journald) is written with
 * MSG_DONTWAIT. A line that cannot be written now (EAGAIN, ENOSPC, EIO...) is dropped and
 * counted, never queued without bound: afd_log_lines_dropped_total in /metrics.
 *
 * Settings belong to the configuration (struct px_log_cfg in struct px_config): the words
 * fill it as the configuration loads, and px_log_apply() makes it so when its generation
 * goes live (start, reload, admin change). So a reload that fails changes nothing, and one
 * that drops `access-log` turns the access log off. The command line flags win (pinned).
 *
 * Rotation: rename the files, then SIGUSR1 (or the `log-reopen` word, or px_log_reopen()
 * from the control plane): each file is opened again by its path and put in place of the
 * old one with dup2(), so threads writing at that moment write to one or the other, whole.
 *
 * Conventions: 0 or a negative errno; Forth words return THROW codes. */
#ifndef AFD_PX_LOG_H
#define AFD_PX_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <afd/forth.h>
#include <afd/http-t.h>

enum px_log_level { PX_LOG_ERROR, PX_LOG_WARN, PX_LOG_INFO, PX_LOG_DEBUG };
enum px_log_which { PX_LOG_EVENTS, PX_LOG_ACCESS };

#define PX_LOG_PATH_MAX 1024
/* The logs a configuration asks for. Zeroed: no access log, events on stderr, text, info. */
struct px_log_cfg {
	char access[PX_LOG_PATH_MAX];	/* access-log: the file; "": none */
	char events[PX_LOG_PATH_MAX];	/* event-log: the file; "": stderr */
	bool access_json, events_json;
	int level;			/* log-level: enum px_log_level + 1; 0: info */
};

/* ---- the event log: any thread ----
 * One line: "TIME LEVEL afd: MESSAGE" (text) or {"time","level","msg"} (JSON); the message
 * is printf-formatted, at most 2 KiB, its control characters escaped. Events above the
 * configured level (default info) cost one relaxed load. Before px_log_apply() (while the
 * configuration loads) events go to stderr, or to --event-log. */
void px_log_event(enum px_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void px_log_vevent(enum px_log_level level, const char *fmt, va_list ap);
bool px_log_enabled(enum px_log_level level);

/* ---- settings: the main thread (command line) and the control plane ---- */
/* A generation goes live: its logs become the process's (files opened, or put in place of
 * the old ones; a file that cannot be opened leaves the old one, and says so). */
void px_log_apply(const struct px_log_cfg *lc);
int px_log_set_level(enum px_log_level level);
int px_log_level_parse(const char *s, size_t n);	/* a level, or -EINVAL */
/* The file of a log, opened now (created 0644 if absent); NULL: stderr for the events,
 * off for the access log. A second call puts the new file in place of the first. (The
 * command line's; configurations go through px_log_apply.) */
int px_log_set_path(enum px_log_which which, const char *path);
int px_log_set_json(enum px_log_which which, bool json);
/* Command line settings win over the configuration's (as --metrics does): after these, the
 * words leave the log's path, or the level, as they are. */
void px_log_pin(enum px_log_which which);
void px_log_pin_level(void);
/* Open every log file again by its path (rotation); the event log says so. Any thread. */
int px_log_reopen(void);
/* A (Prometheus text format) exposition of the logs' counters, for metrics.c; the text is
 * the calling thread's until its next call. */
const char *px_log_metrics(void);

/* The words: access-log access-log-off access-log-format event-log event-log-format
 * log-level log-reopen. Called by px_register_words; in a worker VM they do nothing. */
struct px_vmctx;
int px_log_register_words(afd_vm *vm, struct px_vmctx *ctx);

/* ---- the access log, for the workers (access.c) ----
 * A worker formats lines into a buffer of its own (no lock, no system call per request) and
 * writes it with one write(2) when it is nearly full, 100 ms after its first line, and when
 * the worker stops. What a request needs to be logged once its head is gone is copied into
 * a record (struct px_areq) when the head is parsed; a connection holds one only while a
 * request is in flight, and only when the access log is on. */
struct px_worker;
struct px_alog;

#define PX_AREQ_TARGET 2048		/* bytes of the target kept (more: "..." is logged) */
#define PX_AREQ_FIELD 512		/* of the User-Agent, Referer and Host */

/* How an exchange ended, when not normally: the text and JSON term field. */
enum px_term {
	PX_TERM_NONE,			/* "-": completed */
	PX_TERM_CLIENT_CLOSED,		/* the client went away before the end */
	PX_TERM_ABORTED,		/* cut: the backend broke the response, or afd stopped */
	PX_TERM_TIMEOUT,		/* (tcp) no traffic within the idle timeout */
	PX_TERM_CONNECT,		/* (tcp) no backend could be connected */
	PX_TERM_NO_BACKEND,		/* (tcp) no usable backend */
};

struct px_areq {
	struct px_areq *next;		/* the worker's free list */
	uint64_t start_ns;		/* monotonic: the first byte of the request */
	uint64_t backend_ns;		/* request sent -> response head, 0: none */
	uint64_t bytes_in, bytes_out;	/* request head + body as received; sent to the client */
	uint16_t status;		/* sent to the client, 0: none */
	uint8_t minor;			/* HTTP/1.minor */
	bool own;			/* the status is afd's own answer (fail()) */
	bool parsed;			/* else `target` holds the raw first line */
	bool cut;			/* the target was longer than what is kept */
	uint8_t method_len;
	uint16_t target_len, ua_len, referer_len, host_len;
	char method[16];
	char target[PX_AREQ_TARGET];
	char ua[PX_AREQ_FIELD], referer[PX_AREQ_FIELD], host[PX_AREQ_FIELD];
};

/* What the connection knows when the exchange ends. */
struct px_config;
struct px_alog_end {
	const struct px_config *cfg;	/* its generation's: pool and backend names */
	uint32_t client_ip;
	uint16_t client_port;
	int pool, backend;		/* -1: none */
	int tries;			/* backends tried (retries + 1), 0: none */
	enum px_term term;
};

/* The status the client got (own: made by afd, not the backend). */
static inline void px_alog_status(struct px_areq *r, int status, bool own)
{
	if (r) {
		r->status = (uint16_t)status;
		r->own = own;
	}
}
static inline void px_alog_out(struct px_areq *r, uint64_t n) { if (r) r->bytes_out += n; }
static inline void px_alog_in(struct px_areq *r, uint64_t n) { if (r) r->bytes_in += n; }
static inline void px_alog_backend_time(struct px_areq *r, uint64_t ns)
{
	if (r)
		r->backend_ns = ns;
}

/* On the worker's thread as it adopts a generation (after px_log_apply): w->alog follows
 * the access log: made when it is on, written and freed when it is off (NULL). */
int px_alog_sync(struct px_worker *w);
void px_alog_fini(struct px_worker *w);		/* writes what is left */
/* A record for a request whose head is in head[0..len): parsed in m, or NULL if it did not
 * parse (then its first line is kept). start_ns: when its first byte came, 0: now. */
struct px_areq *px_alog_begin(struct px_worker *w, const char *head, size_t len,
			      const struct http_msg *m, uint64_t start_ns);
/* The exchange is over: its line, and the record back to the free list. */
void px_alog_http(struct px_worker *w, struct px_areq **rp, const struct px_alog_end *e);
/* An L4 connection is over. */
void px_alog_tcp(struct px_worker *w, const struct px_alog_end *e, uint32_t listen_ip,
		 uint16_t listen_port, uint64_t start_ns, uint64_t connect_ns,
		 uint64_t bytes_in, uint64_t bytes_out);

/* ---- between log.c and access.c ---- */
#define PX_LOG_TIME_LEN 24		/* 2026-01-02T03:04:05.678Z */
void px_log_rfc3339(char *buf, int64_t unix_s, int ms);	/* PX_LOG_TIME_LEN + NUL */
bool px_log_json(enum px_log_which which);
bool px_log_on(enum px_log_which which);
/* Write whole lines to a log: the bytes written (maybe short, on a pipe), or -errno. */
ssize_t px_log_write(enum px_log_which which, const char *buf, size_t n);
bool px_log_is_pipe(enum px_log_which which);	/* writes of at most PIPE_BUF are whole */
void px_log_count(enum px_log_which which, uint64_t written, uint64_t dropped);

#endif
