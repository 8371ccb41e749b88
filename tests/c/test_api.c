/* test_api.c: unit tests of the AFD Forth engine's embedding API (include/afd/forth.h).
 *
 * A tiny harness: each test is a function; CHECK records file:line on failure. Every test
 * runs in its own forked process with a time limit, so a crash or a hang in one test is
 * reported as that test's failure and the others still run. Failure details go to stderr;
 * stdout gets exactly one line, "N passed, N failed". Exit status 1 on any failure.
 *
 * usage: test_api [SUBSTRING]   run only the tests whose name contains SUBSTRING
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <afd/forth.h>

#include "harness.h"
#define CHECK_STR(got, want) do { \
	const char *g_ = (got), *w_ = (want); \
	if (!g_ || strcmp(g_, w_)) \
		fail_at(__FILE__, __LINE__, "%s is \"%s\", want \"%s\"", #got, g_ ? g_ : "(null)", w_); \
} while (0)

/* ---- output capture ---- */
struct out {
	char *buf;
	size_t len, cap;
	int calls;
};

static void out_write(void *host, const char *b, size_t n)
{
	struct out *o = host;
	if (o->len + n + 1 > o->cap) {
		size_t cap = (o->len + n + 1) * 2;
		char *nb = realloc(o->buf, cap);
		if (!nb)
			abort();
		o->buf = nb;
		o->cap = cap;
	}
	memcpy(o->buf + o->len, b, n);
	o->len += n;
	o->buf[o->len] = 0;
	o->calls++;
}

static const char *out_str(struct out *o) { return o->buf ? o->buf : ""; }
static void out_clear(struct out *o) { o->len = 0; if (o->buf) o->buf[0] = 0; }
static void out_free(struct out *o) { free(o->buf); memset(o, 0, sizeof(*o)); }

/* Compare the captured output with want, then clear it. */
#define CHECK_OUT(o, want) do { CHECK_STR(out_str(o), want); out_clear(o); } while (0)

static afd_vm *vm_new(struct out *o)
{
	struct afd_opts opts = { .sz = sizeof(opts), .write = o ? out_write : NULL, .host = o };
	afd_vm *vm = afd_new(&opts);
	if (!vm) {
		fprintf(stderr, "%s: afd_new failed: %s\n", g_test, strerror(errno));
		exit(1);
	}
	return vm;
}

static int ev(afd_vm *vm, const char *src) { return afd_eval(vm, src, strlen(src), "test"); }

static afd_cell pop1(afd_vm *vm)
{
	afd_cell v = 0x5eadbeef;
	if (afd_pop(vm, &v))
		return 0x5eadbeef;
	return v;
}

/* The data space [*lo, *hi) found through afd_mem, starting from HERE (which is inside). */
static void data_bounds(afd_vm *vm, afd_cell *lo, afd_cell *hi)
{
	afd_cell here;
	if (ev(vm, "here") || afd_pop(vm, &here))
		here = 0;
	afd_cell good = here, bad = here - ((afd_cell)1 << 40);	/* lowest valid byte */
	while (good - bad > 1) {
		afd_cell mid = bad + (good - bad) / 2;
		if (afd_mem(vm, mid, 1))
			good = mid;
		else
			bad = mid;
	}
	*lo = good;
	good = here;
	bad = here + ((afd_cell)1 << 40);	/* highest valid byte */
	while (bad - good > 1) {
		afd_cell mid = good + (bad - good) / 2;
		if (afd_mem(vm, mid, 1))
			good = mid;
		else
			bad = mid;
	}
	*hi = good + 1;
}

/* Evaluate a formatted string. */
static int evf(afd_vm *vm, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int evf(afd_vm *vm, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return ev(vm, buf);
}

/* Why the VM is not clean and usable, or NULL: empty stack, interpreting, a new definition
 * compiles and runs, and the stack and output work. */
static const char *unclean(afd_vm *vm)
{
	static char why[160];
	if (afd_depth(vm) != 0) {
		snprintf(why, sizeof(why), "depth %d after the error", afd_depth(vm));
		return why;
	}
	if (afd_compiling(vm))
		return "still compiling after the error";
	int rc = ev(vm, ": clean-check-word 40 2 + ; clean-check-word");
	if (rc) {
		snprintf(why, sizeof(why), "a new definition fails with %d", rc);
		return why;
	}
	afd_cell v = pop1(vm);
	if (v != 42) {
		snprintf(why, sizeof(why), "the new definition gave %lld", (long long)v);
		return why;
	}
	if (afd_depth(vm) != 0 || afd_compiling(vm))
		return "unbalanced after the check";
	return NULL;
}

#define CHECK_CLEAN(vm) do { \
	const char *w_ = unclean(vm); \
	if (w_) fail_at(__FILE__, __LINE__, "VM not clean: %s", w_); \
} while (0)

/* Evaluate src, expect the THROW code want, and a clean VM afterwards. The clean-up check
 * evaluates more code, so the error record is kept in g_err for the caller to inspect. */
static struct afd_error g_err;
#define CHECK_THROWS(vm, src, want) do { \
	int rc_ = ev(vm, src); \
	g_err = *afd_last_error(vm); \
	if (rc_ != (want)) fail_at(__FILE__, __LINE__, "eval \"%s\" gave %d, want %d", src, rc_, want); \
	if (afd_last_error(vm)->code != (want)) \
		fail_at(__FILE__, __LINE__, "afd_last_error code after \"%s\" is %d, want %d", src, \
			afd_last_error(vm)->code, want); \
	CHECK_CLEAN(vm); \
} while (0)

static char g_tmproot[64];	/* removed by main at the end, whatever the tests did */

static char *tmpdir_make(void)
{
	char tmpl[128];
	snprintf(tmpl, sizeof(tmpl), "%s/XXXXXX", g_tmproot);
	char *d = mkdtemp(tmpl);
	if (!d) {
		perror("mkdtemp");
		exit(1);
	}
	return strdup(d);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		perror(path);
		exit(1);
	}
	fputs(text, f);
	fclose(f);
}

static void rm_rf(const char *dir)
{
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
}

/* ================================================================================ */
/* creation, options, output */

static void test_new_default_and_free(void)
{
	afd_vm *vm = afd_new(NULL);
	CHECK(vm != NULL);
	if (!vm)
		return;
	CHECK_INT(afd_depth(vm), 0);
	CHECK_INT(afd_compiling(vm), 0);
	CHECK_INT(ev(vm, "1 2 + 3 = . 7"), 0);	/* output discarded: no write callback */
	CHECK_INT(pop1(vm), 7);
	CHECK_INT(afd_last_error(vm)->code, 0);
	afd_free(vm);
	afd_free(NULL);	/* harmless */
	CHECK(afd_version() != NULL && afd_version()[0] != 0);
}

static void test_new_custom_sizes(void)
{
	struct out o = { 0 };
	struct afd_opts opts = {
		.sz = sizeof(opts), .data_size = 65536, .code_cells = 65536, .max_words = 4096,
		.stack_cells = 16, .rstack_cells = 32, .write = out_write, .host = &o,
	};
	afd_vm *vm = afd_new(&opts);
	CHECK(vm != NULL);
	if (!vm)
		return;
	/* the data stack holds exactly 16 cells */
	for (int i = 0; i < 16; i++)
		CHECK_INT(afd_push(vm, i), 0);
	CHECK_INT(afd_push(vm, 99), -3);
	CHECK_INT(afd_depth(vm), 16);
	for (int i = 15; i >= 0; i--)
		CHECK_INT(pop1(vm), i);
	CHECK_INT(afd_pop(vm, &(afd_cell){ 0 }), -4);
	/* and so does Forth's view of it */
	CHECK_THROWS(vm, "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17", -3);
	CHECK_INT(ev(vm, "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 depth"), -3);
	CHECK_CLEAN(vm);
	CHECK_INT(ev(vm, "s\" STACK-CELLS\" environment? drop ."), 0);
	CHECK_OUT(&o, "16 ");
	CHECK_INT(ev(vm, "s\" RETURN-STACK-CELLS\" environment? drop ."), 0);
	CHECK_OUT(&o, "32 ");
	/* a 32-cell return stack overflows quickly */
	CHECK_THROWS(vm, ": deep recurse ; deep", -5);
	/* the data space is the 64 KiB asked for */
	afd_cell lo, hi;
	data_bounds(vm, &lo, &hi);
	CHECK_INT(hi - lo, 65536);
	CHECK_INT(ev(vm, "unused 0> unused 65536 < and ."), 0);
	CHECK_OUT(&o, "-1 ");
	CHECK_INT(evf(vm, "%lld c@", (long long)hi), -9);
	CHECK_INT(evf(vm, "%lld c@ drop", (long long)hi - 1), 0);
	CHECK_THROWS(vm, "100000 allot", -8);
	afd_free(vm);

	/* a data space too small for the system: refused, with errno */
	struct afd_opts tiny = { .sz = sizeof(tiny), .data_size = 1000 };
	errno = 0;
	vm = afd_new(&tiny);
	CHECK(vm == NULL);
	CHECK(errno != 0);
	afd_free(vm);
	out_free(&o);
}

/* opts.sz tells how much of the struct the caller knows: fields past it are not read. */
static void test_new_opts_sz_older_struct(void)
{
	struct afd_opts opts;
	memset(&opts, 0xff, sizeof(opts));	/* garbage past the declared size */
	opts.sz = offsetof(struct afd_opts, code_cells);
	opts.data_size = 1 << 18;
	afd_vm *vm = afd_new(&opts);
	CHECK(vm != NULL);
	if (!vm)
		return;
	/* the garbage write callback must not be called; the default stack depth applies */
	CHECK_INT(ev(vm, "1 . s\" STACK-CELLS\" environment? drop"), 0);
	CHECK_INT(pop1(vm), 1024);
	CHECK_INT(ev(vm, "unused 262144 <"), 0);
	CHECK_INT(pop1(vm), -1);
	afd_free(vm);
}

static void test_output_capture(void)
{
	struct out o = { 0 };
	afd_vm *vm = vm_new(&o);
	CHECK_INT(ev(vm, "5 3 + ."), 0);
	CHECK_OUT(&o, "8 ");
	CHECK_INT(ev(vm, ".\" hi\" cr -7 . 42 emit"), 0);
	CHECK_OUT(&o, "hi\n-7 *");
	CHECK_INT(ev(vm, "s\" abc\" type space 255 hex . decimal"), 0);
	CHECK_OUT(&o, "abc FF ");
	/* more than the engine's output buffer, all delivered by the end of the evaluation */
	CHECK_INT(ev(vm, ": lots 1000 0 do .\" abcdefgh\" loop ; lots"), 0);
	CHECK_INT(o.len, 8000);
	int ok = o.len == 8000;
	for (size_t i = 0; ok && i < 8000; i += 8)
		ok = !memcmp(o.buf + i, "abcdefgh", 8);
	CHECK(ok);
	out_clear(&o);
	/* output before an error is still delivered */
	CHECK_INT(ev(vm, "1 . nosuch"), -13);
	CHECK_OUT(&o, "1 ");
	afd_free(vm);
	out_free(&o);
}

static int key_fn(void *host)
{
	const char **p = host;
	return **p ? (unsigned char)*(*p)++ : -1;
}

static ssize_t readline_fn(void *host, char *buf, size_t cap)
{
	const char *line = "7 6 *";
	size_t n = strlen(line) < cap ? strlen(line) : cap;
	memcpy(buf, line, n);
	(void)host;
	return (ssize_t)n;
}

static void test_input_callbacks(void)
{
	const char *keys = "AB";
	struct afd_opts opts = { .sz = sizeof(opts), .key = key_fn, .readline = readline_fn,
				 .host = &keys };
	afd_vm *vm = afd_new(&opts);
	CHECK(vm != NULL);
	if (!vm)
		return;
	CHECK_INT(ev(vm, "key key"), 0);
	CHECK_INT(pop1(vm), 'B');
	CHECK_INT(pop1(vm), 'A');
	CHECK_THROWS(vm, "key", -57);	/* end of input */
	CHECK_INT(ev(vm, "pad 80 accept pad swap evaluate"), 0);
	CHECK_INT(pop1(vm), 42);
	CHECK_INT(afd_depth(vm), 0);
	afd_free(vm);
}

/* ================================================================================ */
/* errors: codes and positions */

static void test_error_position_multiline(void)
{
	afd_vm *vm = vm_new(NULL);
	const char *src = "1 drop\n1 2 nosuch 3\n4 5\n";
	int rc = afd_eval(vm, src, strlen(src), "multi.fs");
	CHECK_INT(rc, -13);
	const struct afd_error *e = afd_last_error(vm);
	CHECK_INT(e->code, -13);
	CHECK_STR(e->message, "undefined word");
	CHECK_STR(e->file, "multi.fs");
	CHECK_INT(e->line, 2);
	CHECK_INT(e->col, 5);
	CHECK_STR(e->word, "nosuch");
	char buf[256];
	int n = afd_format_error(vm, buf, sizeof(buf));
	CHECK_STR(buf, "multi.fs:2:5: error: nosuch: undefined word");
	CHECK_INT(n, (int)strlen("multi.fs:2:5: error: nosuch: undefined word"));
	/* a short buffer: truncated, terminated, and the needed length returned */
	char small[10];
	n = afd_format_error(vm, small, sizeof(small));
	CHECK_INT(n, (int)strlen("multi.fs:2:5: error: nosuch: undefined word"));
	CHECK_STR(small, "multi.fs:");
	CHECK_INT(afd_format_error(vm, NULL, 0), n);	/* just the length */
	CHECK_CLEAN(vm);
	/* a successful evaluation clears the record */
	CHECK_INT(ev(vm, "1 drop"), 0);
	CHECK_INT(afd_last_error(vm)->code, 0);

	/* CR LF line ends, leading blanks and tabs */
	src = "1 drop\r\n\r\n \t  bad-word\r\n";
	CHECK_INT(afd_eval(vm, src, strlen(src), "crlf.fs"), -13);
	CHECK_INT(e->line, 3);
	CHECK_INT(e->col, 5);
	CHECK_STR(e->word, "bad-word");
	CHECK_STR(e->file, "crlf.fs");
	/* a comment across lines in a text: the lines are still counted */
	src = "( a comment\n  over two lines ) 1\n2 3 oops";
	CHECK_INT(afd_eval(vm, src, strlen(src), "paren.fs"), -13);
	CHECK_INT(e->line, 3);
	CHECK_INT(e->col, 5);
	CHECK_STR(e->word, "oops");
	/* the text need not be NUL-terminated: len is honoured */
	CHECK_INT(afd_eval(vm, "1 2 + nosuch", 5, "part"), 0);
	CHECK_INT(pop1(vm), 3);
	afd_free(vm);
}

static void test_error_in_colon_runtime(void)
{
	afd_vm *vm = vm_new(NULL);
	const char *src = ": f ( n -- ) 1 swap / ;\n\n  5 0 f\n";
	CHECK_INT(afd_eval(vm, src, strlen(src), "rt.fs"), -10);
	const struct afd_error *e = afd_last_error(vm);
	CHECK_STR(e->message, "division by zero");
	CHECK_INT(e->line, 3);
	CHECK_INT(e->col, 7);
	CHECK_STR(e->word, "f");
	char buf[256];
	afd_format_error(vm, buf, sizeof(buf));
	CHECK_STR(buf, "rt.fs:3:7: error: f: division by zero");
	CHECK_CLEAN(vm);
	/* an error while compiling names the word being compiled */
	CHECK_INT(ev(vm, ": g 1 2\n  + frob ;"), -13);
	CHECK_STR(e->word, "frob");
	CHECK_INT(e->line, 2);
	CHECK_INT(e->col, 5);
	CHECK_CLEAN(vm);
	afd_free(vm);
}

static void test_error_codes(void)
{
	static const struct { const char *src; int code; } cases[] = {
		{ "drop", -4 },
		{ "1 +", -4 },
		{ ": f begin 1 again ; f", -3 },
		{ ": g recurse ; g", -5 },
		{ ": g2 1 recurse ; g2", -5 },
		{ "r>", -6 },
		{ "1 0 /", -10 },
		{ "1 0 mod", -10 },
		{ "7 0 /mod", -10 },
		{ "1 2 0 */", -10 },
		{ "nosuch-word", -13 },
		{ "if", -14 },
		{ "then", -14 },
		{ "begin", -14 },
		{ ";", -14 },
		{ ": h if ;", -22 },
		{ ": h2 then ;", -22 },
		{ "0 @", -9 },
		{ "-1 c@", -9 },
		{ "0 0 !", -9 },
		{ "1 here 1000000000 + !", -9 },
		{ "here 1000000000 + @", -9 },
		{ "pad 2000000 + 16 erase", -9 },
		{ "-9223372036854775808 @", -9 },	/* address arithmetic must not overflow */
		{ "9223372036854775807 c@", -9 },
		{ "-9223372036854775808 5 type", -9 },
		{ "1 -9223372036854775808 !", -9 },
		{ "0 5 type", -9 },
		{ "pad -1 type", -9 },
		{ "0 execute", AFD_THROW_BAD_XT },
		{ "-1 execute", AFD_THROW_BAD_XT },
		{ "123456789 execute", AFD_THROW_BAD_XT },
		{ "-9223372036854775808 execute", AFD_THROW_BAD_XT },
		{ "9223372036854775807 execute", AFD_THROW_BAD_XT },
		{ "-9223372036854775808 catch", AFD_THROW_BAD_XT },
		{ "abort", -1 },
		{ "-77 throw", -77 },
		{ "quit", AFD_THROW_QUIT },
		{ "\"open", AFD_THROW_STRING },
		{ "300.1.1.1", AFD_THROW_BAD_IP },
		{ "10.0.0.0/33", AFD_THROW_BAD_CIDR },
	};
	afd_vm *vm = vm_new(NULL);
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++)
		CHECK_THROWS(vm, cases[i].src, cases[i].code);
	/* addresses inside the data space are valid, right up to its edges */
	static const char *valid[] = {
		"state @ drop", "base @ drop", "here -8 + @ drop", "here 8 - @ drop",
		"1 here ! here @ 1 = drop", "pad 0 type", "pad 100 erase", "pad @ drop",
	};
	for (size_t i = 0; i < sizeof(valid) / sizeof(*valid); i++) {
		int rc = ev(vm, valid[i]);
		if (rc)
			fail_at(__FILE__, __LINE__, "eval \"%s\" gave %d, want 0", valid[i], rc);
		CHECK_INT(afd_depth(vm), 0);
	}
	CHECK_STR(afd_last_error(vm)->message, "");
	afd_free(vm);
}

/* Every access is checked against the edges of the data space, byte-exactly. */
static void test_memory_bounds(void)
{
	afd_vm *vm = vm_new(NULL);
	afd_cell lo, hi;
	data_bounds(vm, &lo, &hi);
	CHECK_INT(hi - lo, 1 << 20);	/* the default: 1 MiB */
	long long l = lo, h = hi;
	static const struct { const char *fmt; int at_hi; int code; } cases[] = {
		/* at_hi: the address is relative to the end (1) or the start (0) */
		{ "%lld c@ drop", 0, 0 }, { "%lld @ drop", 0, 0 }, { "%lld 2@ 2drop", 0, 0 },
		{ "%lld 1- c@", 0, -9 }, { "%lld 8 - @", 0, -9 }, { "%lld 1- @", 0, -9 },
		{ "7 %lld 1- c!", 0, -9 }, { "7 %lld 1- !", 0, -9 }, { "7 %lld 1- +!", 0, -9 },
		{ "%lld 1- 1 type", 0, -9 }, { "%lld 1- pad 1 move", 0, -9 },
		{ "%lld 1- count", 0, -9 },
		{ "%lld 1- c@ drop", 1, 0 }, { "%lld 8 - @ drop", 1, 0 },
		{ "%lld 16 - 2@ 2drop", 1, 0 }, { "%lld 10 - 10 type", 1, 0 },
		{ "%lld c@", 1, -9 }, { "%lld 7 - @", 1, -9 }, { "%lld 1- 2@", 1, -9 },
		{ "%lld 15 - 2@", 1, -9 }, { "1 2 %lld 15 - 2!", 1, -9 }, { "1 %lld 7 - !", 1, -9 },
		{ "1 %lld c!", 1, -9 }, { "%lld 10 - 11 type", 1, -9 },
		{ "%lld 10 - 11 erase", 1, -9 }, { "%lld 10 - 11 32 fill", 1, -9 },
		{ "pad %lld 4 - 5 move", 1, -9 }, { "%lld 4 - pad 5 cmove", 1, -9 },
		{ "pad %lld 4 - 5 cmove>", 1, -9 }, { "%lld 4 - 5 evaluate", 1, -9 },
		{ "%lld 4 - 5 pad 5 compare", 1, -9 }, { "%lld 5 dump", 1, -9 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		int rc = evf(vm, cases[i].fmt, cases[i].at_hi ? h : l);
		if (rc != cases[i].code)
			fail_at(__FILE__, __LINE__, "\"%s\" at the %s gave %d, want %d", cases[i].fmt,
				cases[i].at_hi ? "end" : "start", rc, cases[i].code);
		while (afd_depth(vm))
			pop1(vm);
	}
	CHECK_CLEAN(vm);
	afd_free(vm);
}

static void test_abort_quote(void)
{
	struct out o = { 0 };
	afd_vm *vm = vm_new(&o);
	CHECK_INT(ev(vm, ": t abort\" boom, said the test\" ; 0 t 5 ."), 0);
	CHECK_OUT(&o, "5 ");
	const char *src = "\n 1 t";
	CHECK_INT(afd_eval(vm, src, strlen(src), "ab.fs"), -2);
	const struct afd_error *e = afd_last_error(vm);
	CHECK_INT(e->code, -2);
	CHECK_STR(e->message, "boom, said the test");
	CHECK_STR(e->word, "t");
	CHECK_INT(e->line, 2);
	CHECK_INT(e->col, 4);
	char buf[256];
	afd_format_error(vm, buf, sizeof(buf));
	CHECK_STR(buf, "ab.fs:2:4: error: t: boom, said the test");
	CHECK_CLEAN(vm);
	/* CATCH sees -2 */
	CHECK_INT(ev(vm, "1 ' t catch ."), 0);
	CHECK_OUT(&o, "-2 ");
	CHECK_INT(afd_depth(vm), 1);	/* the depth is restored by CATCH (not the value) */
	pop1(vm);
	/* a very long message is truncated, not overflowed */
	char longsrc[600];
	snprintf(longsrc, sizeof(longsrc), ": t2 abort\" %0400d\" ; 1 t2", 0);
	CHECK_INT(ev(vm, longsrc), -2);
	CHECK(strlen(e->message) > 100 && strlen(e->message) < sizeof(e->message));
	CHECK(strspn(e->message, "0") == strlen(e->message));
	CHECK_CLEAN(vm);
	/* a -2 that does not come from ABORT" has the standard message, not a stale one */
	CHECK_INT(ev(vm, "-2 throw"), -2);
	CHECK_STR(e->message, "aborted");
	CHECK_THROWS(vm, "abort", -1);
	CHECK_STR(g_err.message, "aborted");
	afd_free(vm);
	out_free(&o);
}

static void test_throw_messages(void)
{
	CHECK_STR(afd_throw_message(-4), "stack underflow");
	CHECK_STR(afd_throw_message(-13), "undefined word");
	CHECK_STR(afd_throw_message(AFD_THROW_STEPS), "step budget exhausted");
	CHECK_STR(afd_throw_message(AFD_THROW_STRING), "unterminated string literal");
	CHECK(afd_throw_message(AFD_THROW_BAD_IP) != NULL);
	CHECK(afd_throw_message(-4000) != NULL);
	CHECK(afd_throw_message(5) != NULL);
	CHECK(afd_throw_message(0) != NULL);
	/* an error with no source position formats without one */
	afd_vm *vm = vm_new(NULL);
	CHECK_INT(afd_execute(vm, afd_find(vm, "drop", 4)), -4);
	char buf[128];
	afd_format_error(vm, buf, sizeof(buf));
	CHECK(strstr(buf, "stack underflow") != NULL);
	CHECK(strstr(buf, "error") != NULL);
	afd_free(vm);
}

/* ================================================================================ */
/* the VM is clean after errors */

static void test_clean_after_half_definition(void)
{
	afd_vm *vm = vm_new(NULL);
	CHECK_INT(ev(vm, ": broken"), 0);
	CHECK_INT(afd_compiling(vm), 1);
	CHECK_INT(ev(vm, "1 2 undefined-word"), -13);
	CHECK_INT(afd_compiling(vm), 0);
	CHECK_CLEAN(vm);
	CHECK_THROWS(vm, "broken", -13);	/* the half-built word was dropped */
	CHECK_THROWS(vm, ": broken2 1 2 undefined-word", -13);
	CHECK_THROWS(vm, "broken2", -13);
	/* control-flow entries on the stack at the time of the error */
	CHECK_THROWS(vm, ": cf 1 if begin 2 do-what", -13);
	CHECK_THROWS(vm, ": cf2 if ;", -22);
	CHECK_THROWS(vm, "cf2", -13);
	/* an error interpreting between [ and ] inside a definition */
	CHECK_THROWS(vm, ": mid [ 1 0 / ] ;", -10);
	CHECK_THROWS(vm, "mid", -13);
	/* ] while interpreting, then an error */
	CHECK_THROWS(vm, "] 1 2 +", -14);
	/* :noname */
	CHECK_THROWS(vm, ":noname 1 2 nope", -13);
	/* a definition that was finished before the error survives */
	CHECK_THROWS(vm, ": kept 11 ; : lost 12 nope", -13);
	CHECK_INT(ev(vm, "kept"), 0);
	CHECK_INT(pop1(vm), 11);
	CHECK_THROWS(vm, "lost", -13);
	afd_free(vm);
}

static void test_clean_after_nested_evaluate(void)
{
	afd_vm *vm = vm_new(NULL);
	CHECK_INT(ev(vm, "1 2 s\" 3 4 nosuch\" evaluate"), -13);
	CHECK_STR(afd_last_error(vm)->word, "nosuch");
	CHECK_STR(afd_last_error(vm)->file, "test");
	CHECK_CLEAN(vm);
	/* three levels deep, the innermost failing */
	CHECK_INT(ev(vm, ": lvl3 s\" 1 0 /\" evaluate ; : lvl2 s\" lvl3\" evaluate ;\n"
		     "s\" 9 lvl2\" evaluate"), -10);
	CHECK_CLEAN(vm);
	/* evaluate inside a definition being compiled */
	CHECK_THROWS(vm, ": d1 [ s\" 1 nosuch\" evaluate ] ;", -13);
	CHECK_THROWS(vm, "d1", -13);
	/* after the error the outer text is abandoned too */
	CHECK_INT(ev(vm, "s\" nosuch\" evaluate 77"), -13);
	CHECK_INT(afd_depth(vm), 0);
	afd_free(vm);
}

static void test_clean_after_included(void)
{
	char *dir = tmpdir_make();
	char path[512], path2[512], src[1200];
	snprintf(path, sizeof(path), "%s/bad.fs", dir);
	write_file(path, "\\ a file that fails\n: from-file 5 ;\n1 2 3 : half 4\n  nosuch ;\n");
	afd_vm *vm = vm_new(NULL);
	CHECK_INT(afd_include(vm, path), -13);
	const struct afd_error *e = afd_last_error(vm);
	CHECK_STR(e->file, path);
	CHECK_INT(e->line, 4);
	CHECK_INT(e->col, 3);
	CHECK_STR(e->word, "nosuch");
	CHECK_CLEAN(vm);
	CHECK_INT(ev(vm, "from-file"), 0);
	CHECK_INT(pop1(vm), 5);
	CHECK_THROWS(vm, "half", -13);
	/* through INCLUDED from Forth: the error names the file, not the caller */
	snprintf(src, sizeof(src), "1 2\ns\" %s\" included", path);
	CHECK_INT(afd_eval(vm, src, strlen(src), "caller"), -13);
	CHECK_STR(e->file, path);
	CHECK_INT(e->line, 4);
	CHECK_CLEAN(vm);
	/* nested: a file that includes the failing file */
	snprintf(path2, sizeof(path2), "%s/outer.fs", dir);
	write_file(path2, "1 2\ninclude bad.fs\n3 4\n");	/* relative to outer.fs */
	CHECK_INT(afd_include(vm, path2), -13);
	CHECK_STR(e->file, path);
	CHECK_INT(e->line, 4);
	CHECK_CLEAN(vm);
	/* files that are missing or unreadable */
	snprintf(src, sizeof(src), "%s/missing.fs", dir);
	CHECK_INT(afd_include(vm, src), -38);
	CHECK_CLEAN(vm);
	CHECK_INT(afd_include(vm, dir), AFD_THROW_FILE);	/* a directory */
	CHECK_CLEAN(vm);
	CHECK_INT(ev(vm, "s\" /nonexistent/afd/x.fs\" included"), -38);
	CHECK_CLEAN(vm);
	/* and a good file still works afterwards, with a relative INCLUDE inside */
	snprintf(path, sizeof(path), "%s/good.fs", dir);
	write_file(path, ": g1 1 ;\ninclude good2.fs\n");
	snprintf(path2, sizeof(path2), "%s/good2.fs", dir);
	write_file(path2, ": g2 g1 1+ ;\n");
	CHECK_INT(afd_include(vm, path), 0);
	CHECK_INT(ev(vm, "g2"), 0);
	CHECK_INT(pop1(vm), 2);
	afd_free(vm);
	rm_rf(dir);
	free(dir);
}

static void test_clean_after_deep_recursion(void)
{
	afd_vm *vm = vm_new(NULL);
	CHECK_THROWS(vm, ": r recurse ; r", -5);
	CHECK_THROWS(vm, ": r3 1+ dup recurse ; 0 r3", -3);	/* the data stack fills first */
	CHECK_THROWS(vm, ": r4 >r >r 1 recurse ; 1 2 r4", -4);
	CHECK_THROWS(vm, ": r5 1 >r recurse ; r5", -5);
	/* mutual recursion through a deferred word */
	CHECK_THROWS(vm, "defer pong : ping pong ; ' ping is pong ping", -5);
	/* deep recursion inside a CATCH, caught, then the VM goes on */
	CHECK_INT(ev(vm, ": r6 recurse ; ' r6 catch"), 0);
	CHECK_INT(pop1(vm), -5);
	CHECK_CLEAN(vm);
	afd_free(vm);
}

/* ================================================================================ */
/* stacks and memory from C */

static void test_stack_api(void)
{
	afd_vm *vm = vm_new(NULL);
	afd_cell v = 12345;
	CHECK_INT(afd_depth(vm), 0);
	CHECK_INT(afd_pop(vm, &v), -4);
	CHECK_INT(v, 12345);	/* untouched on underflow */
	CHECK_INT(afd_push(vm, 3), 0);
	CHECK_INT(afd_push(vm, -4), 0);
	CHECK_INT(afd_push(vm, INT64_MIN), 0);
	CHECK_INT(afd_depth(vm), 3);
	CHECK_INT(ev(vm, "drop *"), 0);
	CHECK_INT(afd_depth(vm), 1);
	CHECK_INT(pop1(vm), -12);
	/* the default stack: 1024 cells */
	int rc = 0, n = 0;
	while (!(rc = afd_push(vm, n)) && n < 5000)
		n++;
	CHECK_INT(rc, -3);
	CHECK_INT(n, 1024);
	CHECK_INT(afd_depth(vm), 1024);
	CHECK_INT(ev(vm, "depth"), -3);	/* and an error empties it */
	CHECK_INT(afd_depth(vm), 0);

	/* afd_pop_string */
	const char *s = NULL;
	size_t len = 0;
	CHECK_INT(ev(vm, "s\" hello, world\""), 0);
	CHECK_INT(afd_pop_string(vm, &s, &len), 0);
	CHECK_INT(len, 12);
	CHECK(s && !memcmp(s, "hello, world", 12));
	CHECK_INT(afd_depth(vm), 0);
	CHECK_INT(ev(vm, "\"quoted\" pad 0"), 0);	/* an empty string at PAD */
	CHECK_INT(afd_pop_string(vm, &s, &len), 0);
	CHECK_INT(len, 0);
	CHECK_INT(afd_pop_string(vm, &s, &len), 0);
	CHECK(len == 6 && !memcmp(s, "quoted", 6));
	/* outside the data space: -9, and nothing popped */
	afd_push(vm, 0);
	afd_push(vm, 5);
	CHECK_INT(afd_pop_string(vm, &s, &len), -9);
	CHECK_INT(afd_depth(vm), 2);
	ev(vm, "2drop here -1");
	CHECK_INT(afd_pop_string(vm, &s, &len), -9);	/* negative length */
	CHECK_INT(afd_depth(vm), 2);
	ev(vm, "2drop");
	afd_cell lo, hi;
	data_bounds(vm, &lo, &hi);
	afd_push(vm, hi - 10);
	afd_push(vm, 11);				/* runs past the end */
	CHECK_INT(afd_pop_string(vm, &s, &len), -9);
	ev(vm, "1-");					/* ends exactly at the end */
	CHECK_INT(afd_pop_string(vm, &s, &len), 0);
	CHECK_INT(len, 10);
	afd_push(vm, 1);
	CHECK_INT(afd_pop_string(vm, &s, &len), -4);
	CHECK_INT(afd_depth(vm), 1);
	afd_free(vm);
}

static void test_mem_api(void)
{
	afd_vm *vm = vm_new(NULL);
	afd_cell base, end;
	data_bounds(vm, &base, &end);
	CHECK_INT(end - base, 1 << 20);
	CHECK_INT(ev(vm, "here"), 0);
	afd_cell here = pop1(vm);
	CHECK(here > base && here < end);
	CHECK(afd_mem(vm, base, 8) == (void *)base);
	CHECK(afd_mem(vm, here, 64) == (void *)here);
	CHECK(afd_mem(vm, end - 8, 8) == (void *)(end - 8));
	CHECK(afd_mem(vm, base, (size_t)(end - base)) != NULL);
	CHECK(afd_mem(vm, 0, 1) == NULL);
	CHECK(afd_mem(vm, 0, 0) == NULL);
	CHECK(afd_mem(vm, base - 1, 1) == NULL);
	CHECK(afd_mem(vm, base - 1, 2) == NULL);
	CHECK(afd_mem(vm, end - 7, 8) == NULL);
	CHECK(afd_mem(vm, end, 1) == NULL);
	CHECK(afd_mem(vm, base, (size_t)(end - base) + 1) == NULL);
	CHECK(afd_mem(vm, here, SIZE_MAX) == NULL);
	CHECK(afd_mem(vm, here, (size_t)1 << 62) == NULL);
	CHECK(afd_mem(vm, -1, 1) == NULL);
	CHECK(afd_mem(vm, INT64_MIN, 16) == NULL);
	/* writes through afd_mem are what Forth reads */
	CHECK_INT(ev(vm, "variable shared shared"), 0);
	afd_cell a = pop1(vm);
	afd_cell *p = afd_mem(vm, a, sizeof(afd_cell));
	CHECK(p != NULL);
	if (p) {
		*p = 4242;
		CHECK_INT(ev(vm, "shared @"), 0);
		CHECK_INT(pop1(vm), 4242);
		CHECK_INT(ev(vm, "-9 shared !"), 0);
		CHECK_INT(*p, -9);
	}
	afd_free(vm);
}

/* ================================================================================ */
/* C primitives */

struct counter { int calls; afd_cell last; };

static int prim_add3(afd_vm *vm, void *ctx)	/* ( a b c -- a+b+c ) */
{
	struct counter *c = ctx;
	afd_cell a, b, d;
	int err;
	c->calls++;
	if ((err = afd_pop(vm, &d)) || (err = afd_pop(vm, &b)) || (err = afd_pop(vm, &a)))
		return err;
	c->last = a + b + d;
	return afd_push(vm, a + b + d);
}

static int prim_throw(afd_vm *vm, void *ctx)	/* throws the code in ctx */
{
	return *(int *)ctx;
}

static int prim_strlen(afd_vm *vm, void *ctx)	/* ( c-addr u -- u' ) via afd_pop_string */
{
	const char *s;
	size_t n;
	int err = afd_pop_string(vm, &s, &n);
	return err ? err : afd_push(vm, (afd_cell)strnlen(s, n));
}

static void test_register_prim(void)
{
	struct out o = { 0 };
	afd_vm *vm = vm_new(&o);
	struct counter cnt = { 0 };
	afd_cell xt = afd_register(vm, "c-add3", "( a b c -- n )", prim_add3, &cnt);
	CHECK(xt > 0);
	CHECK_INT(afd_find(vm, "c-add3", 6), xt);
	CHECK_INT(afd_find(vm, "C-ADD3", 6), xt);	/* case-insensitive */
	/* interpreted */
	CHECK_INT(ev(vm, "1 2 3 c-add3 ."), 0);
	CHECK_OUT(&o, "6 ");
	CHECK_INT(cnt.calls, 1);
	/* compiled into a colon word, and through EXECUTE */
	CHECK_INT(ev(vm, ": w 10 20 30 c-add3 ; w . w w + ."), 0);
	CHECK_OUT(&o, "60 120 ");
	CHECK_INT(cnt.calls, 4);
	CHECK_INT(ev(vm, "4 5 6 ' c-add3 execute ."), 0);
	CHECK_OUT(&o, "15 ");
	CHECK_INT(cnt.last, 15);
	/* SEE shows the stack effect */
	CHECK_INT(ev(vm, "see c-add3"), 0);
	CHECK(strstr(out_str(&o), "( a b c -- n )") != NULL);
	out_clear(&o);
	/* the primitive's own errors */
	CHECK_THROWS(vm, "1 c-add3", -4);
	CHECK_STR(g_err.word, "c-add3");

	/* a THROW code from C: uncaught, and caught by CATCH interpreted and compiled */
	static int code77 = -77, code_pos = 1234;
	CHECK(afd_register(vm, "c-fail", "( -- )", prim_throw, &code77) > 0);
	CHECK(afd_register(vm, "c-fail-pos", "( -- )", prim_throw, &code_pos) > 0);
	CHECK_THROWS(vm, "1 2 c-fail", -77);
	CHECK_STR(g_err.word, "c-fail");
	CHECK_INT(g_err.col, 5);
	CHECK_INT(ev(vm, "1 ' c-fail catch . ."), 0);
	CHECK_OUT(&o, "-77 1 ");
	CHECK_INT(ev(vm, ": cw 5 c-fail 6 ; : tc ['] cw catch ; 9 tc . ."), 0);
	CHECK_OUT(&o, "-77 9 ");
	CHECK_INT(ev(vm, "' c-fail-pos catch ."), 0);
	CHECK_OUT(&o, "1234 ");
	/* pop_string inside a primitive */
	CHECK(afd_register(vm, "c-strlen", NULL, prim_strlen, NULL) > 0);
	CHECK_INT(ev(vm, "s\" abc\" c-strlen ."), 0);
	CHECK_OUT(&o, "3 ");
	CHECK_THROWS(vm, "0 100 c-strlen", -9);
	/* a new registration under the same name shadows the old one */
	static int code5 = -5;
	afd_cell xt2 = afd_register(vm, "c-add3", NULL, prim_throw, &code5);
	CHECK(xt2 > 0 && xt2 != xt);
	CHECK_INT(afd_find(vm, "c-add3", 6), xt2);
	CHECK_THROWS(vm, "c-add3", -5);
	CHECK_INT(ev(vm, "w ."), 0);	/* compiled before: still the old primitive */
	CHECK_OUT(&o, "60 ");
	/* bad registrations */
	CHECK(afd_register(vm, "", NULL, prim_throw, &code5) < 0);
	CHECK(afd_register(vm, "no-fn", NULL, NULL, NULL) < 0);
	CHECK(afd_find(vm, "no-fn", 5) < 0);
	afd_free(vm);
	out_free(&o);
}

static int prim_exec(afd_vm *vm, void *ctx)	/* ( i*x xt -- j*x ) through afd_execute */
{
	afd_cell xt;
	int err = afd_pop(vm, &xt);
	return err ? err : afd_execute(vm, xt);
}

static int prim_eval(afd_vm *vm, void *ctx)	/* evaluates the string in ctx */
{
	const char *s = ctx;
	return afd_eval(vm, s, strlen(s), "nested");
}

static int prim_eval_tos(afd_vm *vm, void *ctx)	/* ( c-addr u -- ) afd_eval of a copy */
{
	const char *s;
	size_t n;
	int err = afd_pop_string(vm, &s, &n);
	if (err)
		return err;
	char *copy = strndup(s, n);
	err = afd_eval(vm, copy, n, "nested");
	free(copy);
	return err;
}

static void test_register_nesting(void)
{
	struct out o = { 0 };
	afd_vm *vm = vm_new(&o);
	CHECK(afd_register(vm, "c-exec", "( i*x xt -- j*x )", prim_exec, NULL) > 0);
	CHECK(afd_register(vm, "c-eval", NULL, prim_eval, "2 3 * : nested-def 99 ;") > 0);
	CHECK(afd_register(vm, "c-eval-str", NULL, prim_eval_tos, NULL) > 0);
	/* afd_execute from inside a primitive */
	CHECK_INT(ev(vm, "3 ' dup c-exec * ."), 0);
	CHECK_OUT(&o, "9 ");
	CHECK_INT(ev(vm, ": sq dup * ; : via 4 ['] sq c-exec ; via ."), 0);
	CHECK_OUT(&o, "16 ");
	CHECK_INT(ev(vm, "5 ' sq ' c-exec c-exec ."), 0);	/* two levels */
	CHECK_OUT(&o, "25 ");
	/* afd_eval from inside a primitive */
	CHECK_INT(ev(vm, "c-eval . nested-def ."), 0);
	CHECK_OUT(&o, "6 99 ");
	CHECK_INT(ev(vm, ": ce c-eval 1+ ; ce ."), 0);
	CHECK_OUT(&o, "7 ");
	CHECK_INT(ev(vm, "s\" 1 2 + .\" c-eval-str 4 ."), 0);
	CHECK_OUT(&o, "3 4 ");
	/* an error in the nested afd_execute: thrown on, caught by Forth */
	CHECK_INT(ev(vm, "1 0 ' / c-exec"), -10);
	CHECK_CLEAN(vm);
	CHECK_INT(ev(vm, ": t1 1 0 ['] / c-exec ; 7 ' t1 catch . ."), 0);
	CHECK_OUT(&o, "-10 7 ");
	CHECK_CLEAN(vm);
	afd_free(vm);
	out_free(&o);
}

/* The same with an error inside the nested afd_eval (kept apart: it can crash the process). */
static void test_register_nested_eval_error(void)
{
	struct out o = { 0 };
	afd_vm *vm = vm_new(&o);
	CHECK(afd_register(vm, "c-eval-str", NULL, prim_eval_tos, NULL) > 0);
	CHECK_INT(ev(vm, "1 2 s\" nosuch\" c-eval-str 3"), -13);
	CHECK_CLEAN(vm);
	CHECK_INT(ev(vm, "8 s\" 1 0 /\" ' c-eval-str catch . 2drop ."), 0);
	CHECK_OUT(&o, "-10 8 ");
	CHECK_CLEAN(vm);
	CHECK_INT(ev(vm, ": inner-fail s\" : x 1 nosuch\" c-eval-str ; ' inner-fail catch ."), 0);
	CHECK_OUT(&o, "-13 ");
	CHECK_CLEAN(vm);
	CHECK_INT(ev(vm, "5 6 + ."), 0);
	CHECK_OUT(&o, "11 ");
	afd_free(vm);
	out_free(&o);
}

static void test_find_execute(void)
{
	struct out o = { 0 };
	afd_vm *vm = vm_new(&o);
	afd_cell dup = afd_find(vm, "dup", 3);
	CHECK(dup > 0);
	CHECK_INT(afd_find(vm, "DUP", 3), dup);
	CHECK_INT(afd_find(vm, "dupx", 3), dup);	/* len is honoured */
	CHECK(afd_find(vm, "no-such-word", 12) < 0);
	CHECK(afd_find(vm, "", 0) < 0);
	CHECK_INT(ev(vm, ": sq dup * ; : hello .\" hello\" ;"), 0);
	afd_cell sq = afd_find(vm, "sq", 2);
	CHECK(sq > 0);
	afd_push(vm, 7);
	CHECK_INT(afd_execute(vm, sq), 0);
	CHECK_INT(afd_depth(vm), 1);
	CHECK_INT(pop1(vm), 49);
	CHECK_INT(afd_execute(vm, afd_find(vm, "hello", 5)), 0);
	CHECK_OUT(&o, "hello");	/* flushed by the end of afd_execute */
	/* errors from afd_execute */
	CHECK_INT(afd_execute(vm, sq), -4);
	CHECK_INT(afd_last_error(vm)->code, -4);
	CHECK_CLEAN(vm);
	CHECK_INT(afd_execute(vm, 0), AFD_THROW_BAD_XT);
	CHECK_INT(afd_execute(vm, -1), AFD_THROW_BAD_XT);
	CHECK_INT(afd_execute(vm, (afd_cell)1 << 40), AFD_THROW_BAD_XT);
	CHECK_INT(afd_execute(vm, afd_find(vm, "no-such-word", 12)), AFD_THROW_BAD_XT);
	CHECK_CLEAN(vm);
	/* a word redefined later: the old xt still runs the old code */
	CHECK_INT(ev(vm, ": sq 0 ;"), 0);
	afd_push(vm, 3);
	CHECK_INT(afd_execute(vm, sq), 0);
	CHECK_INT(pop1(vm), 9);
	/* compile-only words can be executed through their xt without crashing */
	afd_cell iff = afd_find(vm, "if", 2);
	CHECK(iff > 0);
	CHECK(afd_execute(vm, iff) < 0);
	CHECK_CLEAN(vm);
	afd_free(vm);
	out_free(&o);
}

/* ================================================================================ */
/* step budget, BYE */

static void test_max_steps(void)
{
	struct out o = { 0 };
	afd_vm *vm = vm_new(&o);
	afd_set_max_steps(vm, 100000);
	CHECK_THROWS(vm, ": spin begin again ; spin", AFD_THROW_STEPS);
	CHECK_STR(g_err.message, "step budget exhausted");
	CHECK_STR(g_err.word, "spin");
	CHECK_THROWS(vm, ": spin2 0 begin 1+ dup 0= until ; spin2", AFD_THROW_STEPS);
	CHECK_THROWS(vm, ": spin3 -1 0 do loop ; spin3", AFD_THROW_STEPS);
	CHECK_THROWS(vm, ": spin4 0 begin dup 0= while repeat ; spin4", AFD_THROW_STEPS);
	CHECK_THROWS(vm, "defer dd : spin5 dd ; ' noop is dd : spin6 begin spin5 again ; spin6",
		     AFD_THROW_STEPS);
	/* runaway recursion: the budget is spent before the return stack with a small budget */
	afd_set_max_steps(vm, 500);
	CHECK_THROWS(vm, ": rr recurse ; rr", AFD_THROW_STEPS);
	CHECK_THROWS(vm, ": spin7 begin 1 drop again ; spin7", AFD_THROW_STEPS);
	/* the budget is per evaluation: many small evaluations each succeed */
	afd_set_max_steps(vm, 1000);
	CHECK_INT(ev(vm, ": small 100 0 do loop ;"), 0);
	for (int i = 0; i < 50; i++)
		CHECK_INT(ev(vm, "small"), 0);
	CHECK_INT(ev(vm, "small small small small small small small small small small small"),
		  AFD_THROW_STEPS);
	CHECK_CLEAN(vm);
	/* and for afd_execute */
	afd_set_max_steps(vm, 10000);
	CHECK_INT(afd_execute(vm, afd_find(vm, "spin", 4)), AFD_THROW_STEPS);
	CHECK_CLEAN(vm);
	/* 0: unlimited */
	afd_set_max_steps(vm, 0);
	CHECK_INT(ev(vm, ": big 3000000 0 do loop 1 ; big ."), 0);
	CHECK_OUT(&o, "1 ");
	/* the VM still works */
	CHECK_INT(ev(vm, "1 2 + ."), 0);
	CHECK_OUT(&o, "3 ");
	afd_free(vm);
	out_free(&o);
}

/* Loops made by the outer interpreter itself (rewinding >IN, RESTORE-INPUT) execute no
 * colon definition, but must still be bounded by the budget. */
static void test_max_steps_interpreter_loops(void)
{
	afd_vm *vm = vm_new(NULL);
	afd_set_max_steps(vm, 100000);
	CHECK_THROWS(vm, "0 >in !", AFD_THROW_STEPS);
	CHECK_THROWS(vm, "save-input\n"
		     "depth 6 = [if] drop [then] 4 pick 4 pick 4 pick 4 pick 4 pick restore-input\n",
		     AFD_THROW_STEPS);
	afd_free(vm);
}

static void test_bye(void)
{
	struct out o = { 0 };
	afd_vm *vm = vm_new(&o);
	CHECK_INT(ev(vm, "bye"), AFD_THROW_BYE);
	CHECK_INT(ev(vm, ": q 1 . 2 bye 3 . ; q 4 ."), AFD_THROW_BYE);
	CHECK_OUT(&o, "1 ");
	CHECK_INT(afd_execute(vm, afd_find(vm, "bye", 3)), AFD_THROW_BYE);
	CHECK_INT(afd_depth(vm), 0);
	CHECK_INT(ev(vm, "1 2 + ."), 0);
	CHECK_OUT(&o, "3 ");
	afd_free(vm);
	out_free(&o);
}

/* ================================================================================ */
/* threads: one VM per thread, no shared state */

#define NTHREADS 4
#define NEVALS 200

struct tjob {
	int id;
	int failures;
	char first[200];
};

static void *thread_main(void *arg)
{
	struct tjob *j = arg;
	struct out o = { 0 };
	afd_vm *vm = vm_new(&o);
	char src[256], want[64];
	for (int i = 0; i < NEVALS; i++) {
		long v = j->id * 100000L + i;
		/* the same names in every VM, with values particular to this one */
		snprintf(src, sizeof(src),
			 ": val %ld ; variable acc val acc ! : twice val 2 * ; twice . acc @ .", v);
		int rc = ev(vm, src);
		snprintf(want, sizeof(want), "%ld %ld ", 2 * v, v);
		if (rc || strcmp(out_str(&o), want)) {
			if (!j->failures++)
				snprintf(j->first, sizeof(j->first), "thread %d eval %d: rc %d, \"%s\" "
					 "want \"%s\"", j->id, i, rc, out_str(&o), want);
		}
		out_clear(&o);
		if (i % 50 == 49 && ev(vm, "nosuch") != -13)	/* errors stay in their VM */
			j->failures++;
	}
	afd_free(vm);
	out_free(&o);
	return NULL;
}

static void test_threads(void)
{
	pthread_t th[NTHREADS];
	struct tjob jobs[NTHREADS];
	for (int i = 0; i < NTHREADS; i++) {
		jobs[i] = (struct tjob){ .id = i + 1 };
		CHECK_INT(pthread_create(&th[i], NULL, thread_main, &jobs[i]), 0);
	}
	for (int i = 0; i < NTHREADS; i++) {
		pthread_join(th[i], NULL);
		if (jobs[i].failures)
			fail_at(__FILE__, __LINE__, "%d failures; first: %s", jobs[i].failures,
				jobs[i].first);
	}
}

/* ================================================================================ */
/* hostile input */

static uint64_t rng_state;
static uint64_t rng(void)	/* xorshift64* */
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ull;
}

/* The input being evaluated, shown if the process dies on it. */
static char fuzz_input[512];
static size_t fuzz_len, fuzz_off;
static int fuzz_iter;

static void fuzz_crash(int sig)
{
	char head[96];
	int n = snprintf(head, sizeof(head), "\nfuzz: signal %d at iteration %d, offset %zu of "
			 "input (hex): ", sig, fuzz_iter, fuzz_off);
	if (write(2, head, (size_t)n) < 0)
		_exit(1);
	static const char hex[] = "0123456789abcdef";
	for (size_t i = 0; i < fuzz_len; i++) {
		char h[2] = { hex[(unsigned char)fuzz_input[i] >> 4], hex[fuzz_input[i] & 15] };
		if (write(2, h, 2) < 0)
			break;
	}
	if (write(2, "\n", 1) < 0)
		_exit(1);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void test_fuzz_random_input(void)
{
	/* Forth words likely to hit edge cases. Left out: MS (sleeps), the file words (this is
	 * not about the file system), and >IN / SAVE-INPUT / RESTORE-INPUT, whose interpreter
	 * loops test_max_steps_interpreter_loops covers. */
	static const char *const words[] = {
		":", ";", ":noname", "[", "]", "dup", "drop", "swap", "over", "rot", "-rot", "nip",
		"tuck", "2dup", "2drop", "2swap", "2over", "pick", "roll", "?dup", ">r", "r>", "r@",
		"2>r", "2r>", "rdrop", "+", "-", "*", "/", "mod", "/mod", "*/", "*/mod", "um/mod",
		"fm/mod", "sm/rem", "m*", "um*", "negate", "abs", "min", "max", "and", "or", "xor",
		"invert", "lshift", "rshift", "=", "<", ">", "u<", "0=", "0<", "within", "@", "!",
		"c@", "c!", "+!", "2@", "2!", ",", "c,", "allot", "here", "align", "aligned",
		"cells", "cell+", "count", "move", "fill", "cmove", "cmove>", "erase", "execute",
		"catch", "throw", "if", "else", "then", "begin", "while", "repeat", "until", "again",
		"do", "?do", "loop", "+loop", "i", "j", "leave", "unloop", "exit", "recurse",
		"literal", "postpone", "immediate", "create", "does>", "variable", "constant",
		"value", "to", "defer", "is", "defer@", "defer!", "'", "[']", "char", "[char]",
		"s\"", "s\\\"", ".\"", "c\"", "(", ")", "\\", "\"", "evaluate", "type", "emit", "cr",
		".", "u.", "d.", ".r", ".s", "base", "hex", "decimal", "<#", "#", "#s", "#>", "hold",
		"sign", "abort", "abort\"", "quit", "bye", "marker", "latestxt", "find", "find-name",
		"word", "parse", "parse-name", "source", "source-id", "refill", ">body", "compile,",
		"[compile]", "state", "depth", "words", "see", "dump", "ip>str", ".ip", "number?",
		">number", "compare", "search", "string=", "/string", "-trailing", "pad", "unused",
		"case", "of", "endof", "endcase", "2constant", "2variable", "sliteral", "accept",
		"key", "environment?", "[if]", "[else]", "[then]", "[defined]", "spaces", "holds",
		"0", "1", "-1", "2", "8", "255", "256", "65536", "-9223372036854775808",
		"9223372036854775807", "18446744073709551615", "1000000", "1.2.3.4", "10.0.0.0/8",
		"0.0.0.0/0", "255.255.255.255/32", "1.", "-1.", "$ff", "#10", "%101", "'a'",
		"\"str\"", "\"a\\\"b\"", "s\" xyz\"", "x", "y", "foo",
	};
	const size_t nwords = sizeof(words) / sizeof(*words);
	char *dir = tmpdir_make();
	if (chdir(dir))
		perror("chdir");
	signal(SIGSEGV, fuzz_crash);
	signal(SIGBUS, fuzz_crash);
	signal(SIGFPE, fuzz_crash);
	signal(SIGILL, fuzz_crash);
	signal(SIGABRT, fuzz_crash);
	signal(SIGALRM, fuzz_crash);
	rng_state = 0x9e3779b97f4a7c15ull;
	struct out o = { 0 };
	afd_vm *vm = NULL;
	afd_cell xt_plus = 0, xt_dup = 0;
	int errors = 0, evals = 0, problems = 0;
	/* AFD_FUZZ_ITERS and AFD_FUZZ_SEED allow longer runs by hand */
	int iters = getenv("AFD_FUZZ_ITERS") ? atoi(getenv("AFD_FUZZ_ITERS")) : 4000;
	if (getenv("AFD_FUZZ_SEED"))
		rng_state ^= strtoull(getenv("AFD_FUZZ_SEED"), NULL, 0) * 0xd1342543de82ef95ull;
	for (fuzz_iter = 0; fuzz_iter < iters; fuzz_iter++) {
		if (fuzz_iter % 300 == 0) {	/* a fresh VM now and then */
			afd_free(vm);
			vm = vm_new(&o);
			CHECK_INT(ev(vm, ": ms drop ;"), 0);
			afd_set_max_steps(vm, 20000);
			xt_plus = afd_find(vm, "+", 1);
			xt_dup = afd_find(vm, "dup", 3);
		}
		size_t n = 0;
		while (n < 200) {
			uint64_t r = rng();
			const char *w;
			char tmp[8];
			size_t wl;
			switch (r % 10) {
			case 0: case 1: case 2: case 3: case 4: case 5:	/* a word */
				w = words[(r >> 8) % nwords];
				wl = strlen(w);
				break;
			case 6: case 7:	/* a number */
				wl = (size_t)snprintf(tmp, sizeof(tmp), "%d", (int)((r >> 8) % 2000) - 1000);
				w = tmp;
				break;
			case 8:		/* printable characters */
				wl = 1 + (r >> 8) % 6;
				for (size_t k = 0; k < wl; k++)
					tmp[k] = (char)(33 + (r >> (16 + 5 * k)) % 94);
				w = tmp;
				break;
			default:	/* any bytes */
				wl = 1 + (r >> 8) % 4;
				for (size_t k = 0; k < wl; k++)
					tmp[k] = (char)(r >> (16 + 8 * k));
				w = tmp;
				break;
			}
			if (n + wl + 1 > sizeof(fuzz_input))
				break;
			memcpy(fuzz_input + n, w, wl);
			n += wl;
			uint64_t sep = rng() % 12;
			fuzz_input[n++] = sep < 2 ? '\n' : sep == 2 ? '\t' : ' ';
		}
		fuzz_len = n;
		/* even iterations: the whole input; odd ones: each line on its own (an error ends
		 * an evaluation, so short ones get further) */
		for (size_t off = 0; off < n;) {
			size_t len = n;
			if (fuzz_iter % 2) {
				const char *nl = memchr(fuzz_input + off, '\n', n - off);
				len = (nl ? (size_t)(nl - fuzz_input) : n) - off;
			}
			fuzz_off = off;
			out_clear(&o);
			int rc = afd_eval(vm, fuzz_input + off, len, "fuzz");
			evals++;
			if (rc) {
				errors++;
				if ((afd_depth(vm) != 0 || afd_compiling(vm)) && !problems++)
					fail_at(__FILE__, __LINE__, "iteration %d: error %d left depth %d, "
						"compiling %d", fuzz_iter, rc, afd_depth(vm),
						afd_compiling(vm));
				char buf[700];
				afd_format_error(vm, buf, sizeof(buf));	/* must not crash */
			}
			off += len + 1;
		}
		if (fuzz_iter % 25 == 0) {	/* the VM still computes */
			int ok = afd_push(vm, 20) == 0 && afd_push(vm, 22) == 0 &&
				 afd_execute(vm, xt_plus) == 0 && afd_execute(vm, xt_dup) == 0 &&
				 pop1(vm) == 42 && pop1(vm) == 42;
			if (!ok && !problems++)
				fail_at(__FILE__, __LINE__, "iteration %d: VM no longer computes",
					fuzz_iter);
			while (afd_depth(vm) > 0)
				pop1(vm);
		}
	}
	fuzz_len = 0;
	if (getenv("AFD_TEST_VERBOSE"))
		fprintf(stderr, "fuzz: %d of %d evaluations failed\n", errors, evals);
	CHECK(errors > 100);	/* the input was hostile enough to fail often */
	afd_free(vm);
	out_free(&o);
	if (chdir("/"))
		perror("chdir");
	rm_rf(dir);
	free(dir);
}

static void test_hostile_literals(void)
{
	struct out o = { 0 };
	afd_vm *vm = vm_new(&o);
	CHECK_THROWS(vm, "1 2 \"unterminated string", AFD_THROW_STRING);
	CHECK_STR(g_err.message, "unterminated string literal");
	CHECK_STR(g_err.word, "\"unterminated");
	CHECK_INT(g_err.col, 5);
	CHECK_THROWS(vm, ": f \"no end ;", AFD_THROW_STRING);
	CHECK_THROWS(vm, "f", -13);
	CHECK_THROWS(vm, "\"", AFD_THROW_STRING);
	CHECK_THROWS(vm, "\"abc\\\"", AFD_THROW_STRING);	/* the quote is escaped */
	CHECK_THROWS(vm, "s\\\" abc", AFD_THROW_STRING);
	CHECK_THROWS(vm, "300.1.1.1", AFD_THROW_BAD_IP);
	CHECK_STR(g_err.word, "300.1.1.1");
	CHECK_THROWS(vm, "1.2.3.256", AFD_THROW_BAD_IP);
	CHECK_THROWS(vm, "1.2.3.0001", AFD_THROW_BAD_IP);
	CHECK_THROWS(vm, ": f2 1.2.300.4 ;", AFD_THROW_BAD_IP);
	CHECK_THROWS(vm, "10.0.0.0/33", AFD_THROW_BAD_CIDR);
	CHECK_THROWS(vm, "10.0.0.0/", AFD_THROW_BAD_CIDR);
	CHECK_THROWS(vm, "10.0.0.0/x", AFD_THROW_BAD_CIDR);
	CHECK_THROWS(vm, "10.0.0.0/123", AFD_THROW_BAD_CIDR);
	CHECK_THROWS(vm, "10.0.0.0/-1", AFD_THROW_BAD_CIDR);
	/* well-formed ones */
	CHECK_INT(ev(vm, "10.0.0.0/8 . .ip 192.168.1.254 .ip \"a\\tb\" type"), 0);
	CHECK_OUT(&o, "8 10.0.0.0 192.168.1.254 a\tb");
	/* not four groups: ordinary double-cell numbers */
	CHECK_INT(ev(vm, "1.2.3 d. 1.2.3.4.5 d."), 0);
	CHECK_OUT(&o, "123 12345 ");
	afd_free(vm);
	out_free(&o);
}

static void test_hostile_long_lines(void)
{
	afd_vm *vm = vm_new(NULL);
	size_t big = 100 * 1024;
	char *s = malloc(big + 64);
	/* 100 KB of harmless words on one line */
	size_t n = 0;
	while (n + 7 <= big) {
		memcpy(s + n, "1 drop ", 7);
		n += 7;
	}
	memcpy(s + n, "42", 2);
	n += 2;
	CHECK_INT(afd_eval(vm, s, n, "long"), 0);
	CHECK_INT(pop1(vm), 42);
	CHECK_INT(afd_depth(vm), 0);
	/* one 100 KB token */
	memset(s, 'x', big);
	CHECK_INT(afd_eval(vm, s, big, "long"), -13);
	CHECK(strlen(afd_last_error(vm)->word) < sizeof(afd_last_error(vm)->word));
	CHECK(afd_last_error(vm)->word[0] == 'x');
	char buf[1024];
	CHECK(afd_format_error(vm, buf, sizeof(buf)) < (int)sizeof(buf));
	CHECK_CLEAN(vm);
	/* as a name to define */
	s[0] = ':';
	s[1] = ' ';
	CHECK(afd_eval(vm, s, big, "long") < 0);
	CHECK_CLEAN(vm);
	/* 100 KB of numbers: the stack overflows, cleanly */
	for (size_t k = 0; k < big; k += 2) {
		s[k] = '1';
		s[k + 1] = ' ';
	}
	CHECK_INT(afd_eval(vm, s, big, "long"), -3);
	CHECK_CLEAN(vm);
	/* a 100 KB string literal, interpreted and compiled */
	memcpy(s, "s\" ", 3);
	memset(s + 3, 'a', big - 3);
	s[big - 1] = '"';
	CHECK(afd_eval(vm, s, big, "long") <= 0);
	while (afd_depth(vm))
		pop1(vm);
	CHECK_CLEAN(vm);
	size_t alen = big - 20;
	memcpy(s, ": q s\" ", 7);
	memset(s + 7, 'a', alen);
	memcpy(s + 7 + alen, "\" nip ; q", 9);
	int rc = afd_eval(vm, s, 7 + alen + 9, "long");
	CHECK(rc <= 0);
	if (rc == 0) {
		CHECK_INT(pop1(vm), alen);
		CHECK_INT(afd_depth(vm), 0);
	}
	CHECK_CLEAN(vm);
	/* a long line in a small VM */
	struct afd_opts small = { .sz = sizeof(small), .data_size = 65536 };
	afd_vm *vm2 = afd_new(&small);
	CHECK(vm2 != NULL);
	if (vm2) {
		memset(s, ' ', big);
		memcpy(s + big - 5, "1 2 +", 5);
		rc = afd_eval(vm2, s, big, "long");
		CHECK(rc == 0 || rc == -8 || rc == -18);
		if (rc == 0)
			CHECK_INT(pop1(vm2), 3);
		CHECK_CLEAN(vm2);
		afd_free(vm2);
	}
	/* many lines */
	n = 0;
	for (int k = 0; k < 20000; k++) {
		memcpy(s + n, "1 drop\n", 7);
		n += 7;
		if (n + 8 > big)
			break;
	}
	CHECK_INT(afd_eval(vm, s, n, "lines"), 0);
	free(s);
	afd_free(vm);
}

static int prim_recur(afd_vm *vm, void *ctx)	/* calls itself through afd_execute */
{
	return afd_execute(vm, *(afd_cell *)ctx);
}

static void test_hostile_nesting(void)
{
	afd_vm *vm = vm_new(NULL);
	/* 1000 nested EVALUATEs: stopped at the nesting limit, not by a crash */
	CHECK_THROWS(vm, ": nest 1- dup if s\" nest\" evaluate then ; 1000 nest",
		     AFD_THROW_NESTING);
	CHECK_THROWS(vm, ": ever s\" ever\" evaluate ; ever", AFD_THROW_NESTING);
	CHECK_THROWS(vm, "s\" source evaluate\" 2dup evaluate", AFD_THROW_NESTING);
	/* a modest depth is fine */
	CHECK_INT(ev(vm, "20 nest"), 0);
	CHECK_INT(pop1(vm), 0);
	/* nesting through C: a primitive calling itself through afd_execute */
	static afd_cell self;
	self = afd_register(vm, "c-recur", NULL, prim_recur, &self);
	CHECK(self > 0);
	CHECK_THROWS(vm, "c-recur", AFD_THROW_NESTING);
	CHECK_INT(afd_execute(vm, self), AFD_THROW_NESTING);
	CHECK_CLEAN(vm);
	/* CATCH inside the nesting: caught at some level, then the VM goes on */
	CHECK_INT(ev(vm, ": cn s\" ['] cn catch drop\" evaluate ; cn"), 0);
	CHECK_CLEAN(vm);
	/* a file that includes itself */
	char *dir = tmpdir_make();
	char path[512];
	snprintf(path, sizeof(path), "%s/self.fs", dir);
	write_file(path, "1 drop\ninclude self.fs\n");
	int rc = afd_include(vm, path);
	CHECK(rc == AFD_THROW_NESTING || rc == -8);
	CHECK_CLEAN(vm);
	rm_rf(dir);
	free(dir);
	/* too many CATCH frames */
	CHECK_INT(ev(vm, "defer cc' : cc ['] cc' catch drop ; ' cc is cc' cc"), 0);
	CHECK_CLEAN(vm);
	afd_free(vm);
}

/* Executing a colon definition that is still being compiled (it has no code yet). */
static void test_hostile_execute_unfinished(void)
{
	afd_vm *vm = vm_new(NULL);
	CHECK(ev(vm, ": foo [ latestxt execute ] ;") < 0);
	CHECK_CLEAN(vm);
	CHECK(ev(vm, ":noname [ dup execute") < 0);
	CHECK_CLEAN(vm);
	(void)ev(vm, ": bar [ latestxt ' catch execute ] ;");
	while (afd_depth(vm))
		pop1(vm);
	ev(vm, "nosuch");	/* abandon whatever is left */
	CHECK_CLEAN(vm);
	afd_free(vm);
}

/* MARKER forgetting the definition that is running it, whose code is then reused. */
static void test_hostile_marker_running(void)
{
	afd_vm *vm = vm_new(NULL);
	int rc = ev(vm, "marker m : f m s\" : g dup 1 2 3 12345 ;\" evaluate ; 7 f");
	(void)rc;	/* refusing or doing it are both fine; crashing is not */
	while (afd_depth(vm))
		pop1(vm);
	ev(vm, "nosuch");
	CHECK_CLEAN(vm);
	/* an ordinary marker works */
	CHECK_INT(ev(vm, "marker m2 : h 1 ; m2"), 0);
	CHECK_THROWS(vm, "h", -13);
	afd_free(vm);
}

/* ================================================================================ */


static const struct test tests[] = {
	T(test_new_default_and_free, 5),
	T(test_new_custom_sizes, 5),
	T(test_new_opts_sz_older_struct, 5),
	T(test_output_capture, 5),
	T(test_input_callbacks, 5),
	T(test_error_position_multiline, 5),
	T(test_error_in_colon_runtime, 5),
	T(test_error_codes, 5),
	T(test_memory_bounds, 5),
	T(test_abort_quote, 5),
	T(test_throw_messages, 5),
	T(test_clean_after_half_definition, 5),
	T(test_clean_after_nested_evaluate, 5),
	T(test_clean_after_included, 5),
	T(test_clean_after_deep_recursion, 5),
	T(test_stack_api, 5),
	T(test_mem_api, 5),
	T(test_register_prim, 5),
	T(test_register_nesting, 5),
	T(test_register_nested_eval_error, 5),
	T(test_find_execute, 5),
	T(test_max_steps, 5),
	T(test_max_steps_interpreter_loops, 2),
	T(test_bye, 5),
	T(test_threads, 8),
	T(test_fuzz_random_input, 8),
	T(test_hostile_literals, 5),
	T(test_hostile_long_lines, 5),
	T(test_hostile_nesting, 5),
	T(test_hostile_execute_unfinished, 5),
	T(test_hostile_marker_running, 5),
};

int main(int argc, char **argv)
{
	snprintf(g_tmproot, sizeof(g_tmproot), "/tmp/afd-test-api-XXXXXX");
	if (!mkdtemp(g_tmproot)) {
		perror("mkdtemp");
		return 2;
	}
	int failed = run_tests(tests, sizeof(tests) / sizeof(*tests), argc > 1 ? argv[1] : NULL);
	rm_rf(g_tmproot);
	return failed ? 1 : 0;
}
