/* harness.h: the C tests' own harness. Each test runs in a forked child under a time limit,
 * so a crash or a hang is that test's failure and the others still run. CHECK failures go to
 * stderr with file:line; stdout gets only the closing "N passed, N failed". */
#ifndef AFD_TEST_HARNESS_H
#define AFD_TEST_HARNESS_H

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int g_fail;		/* CHECK failures in the current test (in its child) */
static const char *g_test;	/* name of the running test */

static void fail_at(const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s:%d: %s: ", file, line, g_test);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	g_fail++;
}

#define CHECK(cond) do { if (!(cond)) fail_at(__FILE__, __LINE__, "CHECK failed: %s", #cond); } while (0)
#define CHECK_INT(got, want) do { \
	long long g_ = (long long)(got), w_ = (long long)(want); \
	if (g_ != w_) fail_at(__FILE__, __LINE__, "%s is %lld, want %lld", #got, g_, w_); \
} while (0)

struct test {
	const char *name;
	void (*fn)(void);
	int timeout;		/* seconds */
};
#define T(f, secs) { #f, f, secs }

/* Run the tests whose name contains `only` (all if NULL); returns the number failed. */
static int run_tests(const struct test *tests, size_t n, const char *only)
{
	int passed = 0, failed = 0;
	for (size_t i = 0; i < n; i++) {
		const struct test *t = &tests[i];
		if (only && !strstr(t->name, only))
			continue;
		fflush(stdout);
		fflush(stderr);
		pid_t pid = fork();
		if (pid < 0) {
			perror("fork");
			return 1;
		}
		if (pid == 0) {
			g_test = t->name;
			g_fail = 0;
			alarm((unsigned)t->timeout);
			t->fn();
			fflush(stdout);
			fflush(stderr);
			_exit(g_fail ? 1 : 0);
		}
		int status;
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
			passed++;
			continue;
		}
		failed++;
		if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM)
			fprintf(stderr, "FAIL %s: timed out after %d s\n", t->name, t->timeout);
		else if (WIFSIGNALED(status))
			fprintf(stderr, "FAIL %s: killed by signal %d (%s)\n", t->name,
				WTERMSIG(status), strsignal(WTERMSIG(status)));
		else
			fprintf(stderr, "FAIL %s\n", t->name);
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed;
}

#endif
