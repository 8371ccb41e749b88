/* test_log.c: the event log and the log destinations (src/px/log.c): timestamps, the text
 * and JSON lines, escaping, levels, a configuration's settings applied, reopening after a
 * rename, threads logging at once (every line whole), a destination that would block
 * (lines dropped and counted, never a stall), and the metrics text. The access log's lines
 * are tested against the real proxy in tests/px/log.sh. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "px/px.h"

static int passed, failed;
#define CHECK(c) do { if (c) passed++; else { failed++; \
	fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #c); } } while (0)

static char dir[] = "/tmp/afd-test-log.XXXXXX";

static char *path_of(const char *name)
{
	static char p[4][256];
	static int k;
	char *s = p[k++ % 4];
	snprintf(s, sizeof(p[0]), "%s/%s", dir, name);
	return s;
}

/* The file's whole text (static buffer, NUL-terminated). */
static const char *slurp(const char *path)
{
	static char buf[4 << 20];
	size_t got = 0;
	int fd = open(path, O_RDONLY);
	for (ssize_t n = 1; fd >= 0 && n > 0 && got < sizeof(buf) - 1; got += (size_t)n)
		if ((n = read(fd, buf + got, sizeof(buf) - 1 - got)) < 0)
			n = 0;
	if (fd >= 0)
		close(fd);
	buf[got] = 0;
	return buf;
}

static int count_lines(const char *s)
{
	int n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static int matches(const char *s, const char *re)
{
	regex_t r;
	if (regcomp(&r, re, REG_EXTENDED | REG_NEWLINE))
		return 0;
	int ok = regexec(&r, s, 0, NULL, 0) == 0;
	regfree(&r);
	return ok;
}

static uint64_t metric(const char *name)
{
	const char *t = px_log_metrics(), *p = strstr(t, name);
	return p ? strtoull(p + strlen(name), NULL, 10) : ~0ull;
}

static void timestamps(void)
{
	char b[PX_LOG_TIME_LEN + 1];
	px_log_rfc3339(b, 0, 0);
	CHECK(!strcmp(b, "1970-01-01T00:00:00.000Z"));
	px_log_rfc3339(b, 1764041119, 77);	/* date -u -d @1764041119 */
	CHECK(!strcmp(b, "2025-11-25T03:25:19.077Z"));
	px_log_rfc3339(b, 951782400, 999);	/* a leap day */
	CHECK(!strcmp(b, "2000-02-29T00:00:00.999Z"));
}

#define TIME "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z"

static void text_and_json(void)
{
	const char *f = path_of("events.log");
	CHECK(px_log_set_path(PX_LOG_EVENTS, f) == 0);
	px_log_event(PX_LOG_INFO, "hello %d", 42);
	px_log_event(PX_LOG_WARN, "ctl\x01 and\nnewline");
	px_log_event(PX_LOG_DEBUG, "not at info");
	const char *s = slurp(f);
	CHECK(count_lines(s) == 2);
	CHECK(matches(s, "^" TIME " info afd: hello 42$"));
	CHECK(matches(s, "^" TIME " warn afd: ctl\\\\x01 and\\\\x0anewline$"));
	CHECK(!strstr(s, "not at info"));
	CHECK(px_log_set_level(PX_LOG_DEBUG) == 0);
	px_log_event(PX_LOG_DEBUG, "now at debug");
	CHECK(matches(slurp(f), "^" TIME " debug afd: now at debug$"));
	CHECK(px_log_set_level(PX_LOG_ERROR) == 0);
	px_log_event(PX_LOG_WARN, "hidden");
	CHECK(!strstr(slurp(f), "hidden"));
	CHECK(px_log_set_level(PX_LOG_INFO) == 0);
	CHECK(px_log_level_parse("WARN", 4) == PX_LOG_WARN);
	CHECK(px_log_level_parse("verbose", 7) == -EINVAL);

	px_log_set_json(PX_LOG_EVENTS, true);
	px_log_event(PX_LOG_ERROR, "q\"b\\s\tt\xe9");
	px_log_set_json(PX_LOG_EVENTS, false);
	CHECK(matches(slurp(f), "^\\{\"time\":\"" TIME "\",\"level\":\"error\","
			 "\"msg\":\"q\\\\\"b\\\\\\\\s\\\\u0009t\\\\u00e9\"\\}$"));
}

static void reopen(void)
{
	const char *f = path_of("events.log"), *old = path_of("events.log.1");
	int before = count_lines(slurp(f));
	CHECK(rename(f, old) == 0);
	px_log_event(PX_LOG_INFO, "to the renamed file");
	CHECK(px_log_reopen() == 0);
	px_log_event(PX_LOG_INFO, "to the new file");
	CHECK(count_lines(slurp(old)) == before + 1);
	CHECK(strstr(slurp(old), "to the renamed file") != NULL);
	const char *s = slurp(f);
	CHECK(matches(s, "^" TIME " info afd: logs reopened$"));
	CHECK(matches(s, "^" TIME " info afd: to the new file$"));
	CHECK(count_lines(s) == 2);
}

/* A configuration's settings, as a generation going live applies them. */
static void apply(void)
{
	struct px_log_cfg lc = { 0 };
	snprintf(lc.access, sizeof(lc.access), "%s", path_of("access.log"));
	snprintf(lc.events, sizeof(lc.events), "%s", path_of("events.log"));
	lc.access_json = true;
	lc.level = PX_LOG_WARN + 1;
	px_log_apply(&lc);
	CHECK(px_log_on(PX_LOG_ACCESS));
	CHECK(px_log_json(PX_LOG_ACCESS));
	CHECK(!px_log_json(PX_LOG_EVENTS));
	CHECK(px_log_enabled(PX_LOG_WARN) && !px_log_enabled(PX_LOG_INFO));
	struct stat st;
	CHECK(stat(path_of("access.log"), &st) == 0);
	CHECK(px_log_write(PX_LOG_ACCESS, "a line\n", 7) == 7);
	CHECK(!strcmp(slurp(path_of("access.log")), "a line\n"));
	/* a file that cannot be opened: the log stays as it was, and the event log says why */
	snprintf(lc.access, sizeof(lc.access), "%s", "/proc/afd-no-such-dir/access.log");
	px_log_apply(&lc);
	CHECK(px_log_on(PX_LOG_ACCESS));
	CHECK(matches(slurp(path_of("events.log")), "^" TIME " error afd: access-log: "
		      "/proc/afd-no-such-dir/access.log: No such file or directory \\(the log "
		      "stays as it was\\)$"));
	CHECK(px_log_write(PX_LOG_ACCESS, "still\n", 6) == 6);
	CHECK(!strcmp(slurp(path_of("access.log")), "a line\nstill\n"));
	lc.access[0] = 0;	/* a configuration without access-log: off */
	lc.level = 0;		/* and the default level */
	px_log_apply(&lc);
	CHECK(!px_log_on(PX_LOG_ACCESS));
	CHECK(px_log_enabled(PX_LOG_INFO) && !px_log_enabled(PX_LOG_DEBUG));
}

/* Threads logging at once: every line whole, none lost. */
#define THREADS 4
#define EACH 2000
static void *spam(void *arg)
{
	for (int i = 0; i < EACH; i++)
		px_log_event(PX_LOG_INFO, "thread %d line %d %.*s", (int)(intptr_t)arg, i, 100,
			     "................................................................"
			     "....................................");
	return NULL;
}

static void threads(void)
{
	const char *f = path_of("threads.log");
	CHECK(px_log_set_path(PX_LOG_EVENTS, f) == 0);
	uint64_t lines0 = metric("afd_log_lines_total{log=\"event\"} ");
	pthread_t t[THREADS];
	for (intptr_t i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, spam, (void *)i);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	const char *s = slurp(f);
	CHECK(count_lines(s) == THREADS * EACH);
	regex_t r;
	regcomp(&r, "^" TIME " info afd: thread [0-3] line [0-9]+ \\.{100}$", REG_EXTENDED);
	int bad = 0;
	char line[512];
	for (const char *p = s; *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		if (n >= sizeof(line))
			n = sizeof(line) - 1;
		memcpy(line, p, n);
		line[n] = 0;
		bad += regexec(&r, line, 0, NULL, 0) != 0;
		p = nl ? nl + 1 : p + n;
	}
	regfree(&r);
	CHECK(bad == 0);
	CHECK(metric("afd_log_lines_total{log=\"event\"} ") == lines0 + THREADS * EACH);
}

/* A FIFO that nobody reads: the writes fail with EAGAIN at once, lines are counted as
 * dropped, and what went in is whole lines. */
static void blocked(void)
{
	const char *f = path_of("fifo");
	CHECK(mkfifo(f, 0600) == 0);
	int rd = open(f, O_RDONLY | O_NONBLOCK);	/* a reader exists, and never reads */
	CHECK(rd >= 0);
	CHECK(px_log_set_path(PX_LOG_EVENTS, f) == 0);
	uint64_t d0 = metric("afd_log_lines_dropped_total{log=\"event\"} ");
	uint64_t w0 = metric("afd_log_lines_total{log=\"event\"} ");
	char big[1500];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	for (int i = 0; i < 200; i++)		/* 300 KB into a 64 KiB pipe */
		px_log_event(PX_LOG_INFO, "%s", big);
	uint64_t dropped = metric("afd_log_lines_dropped_total{log=\"event\"} ") - d0;
	uint64_t written = metric("afd_log_lines_total{log=\"event\"} ") - w0;
	CHECK(dropped > 0);
	CHECK(dropped + written == 200);
	static char buf[1 << 20];
	ssize_t n = read(rd, buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = 0;
	CHECK(n > 0 && count_lines(buf) == (int)written);
	CHECK(n > 0 && buf[n - 1] == '\n');
	close(rd);
	CHECK(px_log_set_path(PX_LOG_EVENTS, path_of("events.log")) == 0);
}

static void metrics_text(void)
{
	const char *t = px_log_metrics();
	CHECK(matches(t, "^# TYPE afd_log_lines_total counter$"));
	CHECK(matches(t, "^afd_log_lines_total\\{log=\"access\"\\} [0-9]+$"));
	CHECK(matches(t, "^# TYPE afd_log_lines_dropped_total counter$"));
	CHECK(matches(t, "^afd_log_lines_dropped_total\\{log=\"event\"\\} [0-9]+$"));
}

int main(void)
{
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	timestamps();
	text_and_json();
	reopen();
	apply();
	threads();
	blocked();
	metrics_text();
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	printf("%d passed, %d failed\n", passed, failed);
	return failed != 0;
}
