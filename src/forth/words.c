/* words.c: C-coded words of the Core, String, Facility and Exception word sets, and the
 * AFD dialect's string words. Every ( c-addr u ) is checked against the data space. */
#include <strings.h>
#include <time.h>
#include "vm.h"

#define POP(v) do { int e_ = fth_pop(vm, &(v)); if (e_) return e_; } while (0)
#define PUSH(v) do { int e_ = fth_push(vm, (v)); if (e_) return e_; } while (0)

static int pop_range(afd_vm *vm, cell *a, cell *u)	/* ( c-addr u -- ) checked */
{
	if (fth_need(vm, 2))
		return -4;
	*u = vm->sp[0];
	*a = vm->sp[-1];
	if (*u == 0)
		*a = (cell)vm->mem;	/* 0 0 TYPE is fine: no byte is touched */
	if (*u < 0 || !fth_range_ok(vm, *a, (ucell)*u))
		return -9;
	vm->sp -= 2;
	return 0;
}

#define RANGE(a, u) do { int e_ = pop_range(vm, &(a), &(u)); if (e_) return e_; } while (0)

/* ---- data space ---- */
static int p_here(afd_vm *vm, void *c) { return fth_push(vm, vm->here); }
static int p_pad(afd_vm *vm, void *c) { return fth_push(vm, vm->pad); }
static int p_unused(afd_vm *vm, void *c) { return fth_push(vm, vm->top - vm->here); }

static int p_allot(afd_vm *vm, void *c)
{
	cell n;
	POP(n);
	return fth_allot(vm, n);
}

static int p_comma(afd_vm *vm, void *c)
{
	cell x;
	POP(x);
	return fth_comma(vm, x);
}

static int p_ccomma(afd_vm *vm, void *c)
{
	cell x, a = vm->here;
	POP(x);
	int err = fth_allot(vm, 1);
	if (!err)
		*(char *)a = (char)x;
	return err;
}

static int p_align(afd_vm *vm, void *c)
{
	cell a = (vm->here + 7) & ~(cell)7;
	return fth_allot(vm, a - vm->here);
}

static int p_aligned(afd_vm *vm, void *c)
{
	cell a;
	POP(a);
	return fth_push(vm, (cell)(((ucell)a + 7) & ~(ucell)7));
}

static int p_state(afd_vm *vm, void *c) { return fth_push(vm, (cell)&vm->sys->state); }
static int p_base(afd_vm *vm, void *c) { return fth_push(vm, (cell)&vm->sys->base); }
static int p_in(afd_vm *vm, void *c) { return fth_push(vm, (cell)&vm->sys->in); }
static int p_latestxt(afd_vm *vm, void *c) { return fth_push(vm, vm->latest); }

/* ---- memory blocks ---- */
/* ( addr1 addr2 u -- ): 1 with both ranges checked, 0 when u is not positive, or an error */
static int pop_copy(afd_vm *vm, char **src, char **dst, cell *u)
{
	cell a1, a2;
	POP(*u);
	POP(a2);
	POP(a1);
	if (*u <= 0)
		return 0;
	if (!fth_range_ok(vm, a1, (ucell)*u) || !fth_range_ok(vm, a2, (ucell)*u))
		return -9;
	*src = (char *)a1;
	*dst = (char *)a2;
	return 1;
}

static int p_move(afd_vm *vm, void *c)	/* ( addr1 addr2 u -- ) */
{
	char *s, *d;
	cell u;
	int r = pop_copy(vm, &s, &d, &u);
	if (r == 1)
		memmove(d, s, (size_t)u);
	return r < 0 ? r : 0;
}

/* CMOVE and CMOVE> copy byte by byte in their direction: overlapping copies propagate,
 * as the standard says (not memmove). */
static int p_cmove(afd_vm *vm, void *c)	/* ( c-addr1 c-addr2 u -- ) low to high */
{
	char *s, *d;
	cell u;
	int r = pop_copy(vm, &s, &d, &u);
	for (cell i = 0; r == 1 && i < u; i++)
		d[i] = s[i];
	return r < 0 ? r : 0;
}

static int p_cmove_up(afd_vm *vm, void *c)	/* ( c-addr1 c-addr2 u -- ) high to low */
{
	char *s, *d;
	cell u;
	int r = pop_copy(vm, &s, &d, &u);
	for (cell i = u - 1; r == 1 && i >= 0; i--)
		d[i] = s[i];
	return r < 0 ? r : 0;
}

static int p_fill(afd_vm *vm, void *c)	/* ( c-addr u char -- ) */
{
	cell a, u, ch;
	POP(ch);
	POP(u);
	POP(a);
	if (u <= 0)
		return 0;
	if (!fth_range_ok(vm, a, (ucell)u))
		return -9;
	memset((void *)a, (int)ch, (size_t)u);
	return 0;
}

/* ---- strings ---- */
static int p_compare(afd_vm *vm, void *c)	/* ( c-addr1 u1 c-addr2 u2 -- n ) */
{
	cell a1, u1, a2, u2;
	RANGE(a2, u2);
	RANGE(a1, u1);
	int r = memcmp((void *)a1, (void *)a2, (size_t)(u1 < u2 ? u1 : u2));
	if (r == 0)
		r = (u1 > u2) - (u1 < u2);
	return fth_push(vm, r < 0 ? -1 : r > 0);
}

static int p_string_eq(afd_vm *vm, void *c)	/* ( c-addr1 u1 c-addr2 u2 -- flag ) */
{
	cell a1, u1, a2, u2;
	RANGE(a2, u2);
	RANGE(a1, u1);
	return fth_push(vm, FTH_FLAG(u1 == u2 && !memcmp((void *)a1, (void *)a2, (size_t)u1)));
}

static int p_string_ieq(afd_vm *vm, void *c)	/* ( c-addr1 u1 c-addr2 u2 -- flag ) */
{
	cell a1, u1, a2, u2;
	RANGE(a2, u2);
	RANGE(a1, u1);
	return fth_push(vm, FTH_FLAG(u1 == u2 && !strncasecmp((char *)a1, (char *)a2, (size_t)u1)));
}

static int p_search(afd_vm *vm, void *c)	/* ( c-addr1 u1 c-addr2 u2 -- c-addr3 u3 flag ) */
{
	cell a1, u1, a2, u2;
	RANGE(a2, u2);
	RANGE(a1, u1);
	void *hit = u2 == 0 ? (void *)a1 : memmem((void *)a1, (size_t)u1, (void *)a2, (size_t)u2);
	if (!hit) {
		PUSH(a1);
		PUSH(u1);
		return fth_push(vm, FTH_FALSE);
	}
	PUSH((cell)hit);
	PUSH(u1 - ((cell)hit - a1));
	return fth_push(vm, FTH_TRUE);
}

/* ---- I/O through the host ---- */
static int p_type(afd_vm *vm, void *c)
{
	cell a, u;
	RANGE(a, u);
	fth_type(vm, (const char *)a, (size_t)u);
	return 0;
}

static int p_emit(afd_vm *vm, void *c)
{
	cell ch;
	POP(ch);
	fth_emit(vm, (int)ch);
	return 0;
}

static int p_cr(afd_vm *vm, void *c)
{
	fth_emit(vm, '\n');
	return 0;
}

static int p_key(afd_vm *vm, void *c)
{
	afd_flush(vm);
	int ch = vm->opts.key ? vm->opts.key(vm->opts.host) : -1;
	return ch < 0 ? -57 : fth_push(vm, ch);
}

static int p_accept(afd_vm *vm, void *c)	/* ( c-addr +n1 -- +n2 ) */
{
	cell a, u;
	RANGE(a, u);
	afd_flush(vm);
	ssize_t n = vm->opts.readline ? vm->opts.readline(vm->opts.host, (char *)a, (size_t)u) : -1;
	return fth_push(vm, n < 0 ? 0 : n > u ? u : n);
}

/* ---- exceptions and leaving ---- */
static int p_abort_quote(afd_vm *vm, void *c)	/* ( c-addr u -- ) the run-time of ABORT" */
{
	cell a, u;
	RANGE(a, u);
	vm->abortlen = u < (cell)sizeof(vm->abortmsg) ? u : (cell)sizeof(vm->abortmsg);
	memcpy(vm->abortmsg, (void *)a, (size_t)vm->abortlen);
	return -2;
}

static int p_bye(afd_vm *vm, void *c) { return AFD_THROW_BYE; }
static int p_quit(afd_vm *vm, void *c) { return AFD_THROW_QUIT; }

/* ---- environment ---- */
static int p_environment(afd_vm *vm, void *c)	/* ( c-addr u -- false | i*x true ) */
{
	static const struct { const char *name; cell v[2]; int n; } env[] = {
		{ "/COUNTED-STRING", { 255 }, 1 },
		{ "/HOLD", { 512 }, 1 },
		{ "/PAD", { 1024 }, 1 },
		{ "ADDRESS-UNIT-BITS", { 8 }, 1 },
		{ "FLOORED", { FTH_TRUE }, 1 },
		{ "MAX-CHAR", { 255 }, 1 },
		{ "MAX-D", { -1, INT64_MAX }, 2 },
		{ "MAX-N", { INT64_MAX }, 1 },
		{ "MAX-U", { -1 }, 1 },
		{ "MAX-UD", { -1, -1 }, 2 },
		{ "RETURN-STACK-CELLS", { 0 }, -1 },
		{ "STACK-CELLS", { 0 }, -2 },
	};
	cell a, u;
	RANGE(a, u);
	for (size_t i = 0; i < sizeof(env) / sizeof(*env); i++) {
		if (strlen(env[i].name) != (size_t)u || strncasecmp(env[i].name, (char *)a, (size_t)u))
			continue;
		if (env[i].n == -1)
			PUSH(vm->opts.rstack_cells);
		else if (env[i].n == -2)
			PUSH(vm->opts.stack_cells);
		for (int k = 0; k < env[i].n; k++)
			PUSH(env[i].v[k]);
		return fth_push(vm, FTH_TRUE);
	}
	return fth_push(vm, FTH_FALSE);
}

/* ---- MARKER: the header keeps what to restore, out of reach of ! ---- */
static int p_marker_run(afd_vm *vm, void *ctx)
{
	struct fth_word *w = &vm->words[(cell)ctx];
	if (vm->defining >= 0)
		return -14;
	/* code space is not reclaimed: the word running MARKER may be one it forgets */
	fth_forget_to(vm, w->does_xt, w->pfa, vm->codehere);
	return 0;
}

static int p_marker(afd_vm *vm, void *c)
{
	const char *s;
	size_t n;
	cell nwords = vm->nwords, here = vm->here;
	fth_parse_name(vm, &s, &n);
	if (n == 0)
		return -16;
	cell xt = fth_header(vm, s, n, WK_CFUNC);
	if (xt < 0)
		return (int)xt;
	struct fth_word *w = &vm->words[xt];
	w->cfn = p_marker_run;
	w->cctx = (void *)xt;
	w->does_xt = nwords;
	w->pfa = here;
	w->code = vm->codehere;
	return 0;
}

/* ---- facility ---- */
static int p_ms(afd_vm *vm, void *c)
{
	cell ms;
	POP(ms);
	if (ms > 0) {
		afd_flush(vm);
		struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
		while (nanosleep(&ts, &ts))
			;
	}
	return 0;
}

static int push_time(afd_vm *vm, ucell unit)	/* monotonic clock as a double */
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ucell t = ((ucell)ts.tv_sec * 1000000000u + (ucell)ts.tv_nsec) / unit;
	PUSH((cell)t);
	return fth_push(vm, 0);
}

static int p_utime(afd_vm *vm, void *c) { return push_time(vm, 1000); }
static int p_ntime(afd_vm *vm, void *c) { return push_time(vm, 1); }

static int p_time_date(afd_vm *vm, void *c)	/* ( -- +n1 +n2 +n3 +n4 +n5 +n6 ) */
{
	time_t now = time(NULL);
	struct tm tm;
	localtime_r(&now, &tm);
	cell v[] = { tm.tm_sec, tm.tm_min, tm.tm_hour, tm.tm_mday, tm.tm_mon + 1, tm.tm_year + 1900 };
	for (int i = 0; i < 6; i++)
		PUSH(v[i]);
	return 0;
}

const struct fth_cword fth_core_words[] = {
	{ "here", "( -- addr )", p_here, 0 },
	{ "pad", "( -- c-addr )", p_pad, 0 },
	{ "unused", "( -- u )", p_unused, 0 },
	{ "allot", "( n -- )", p_allot, 0 },
	{ ",", "( x -- )", p_comma, 0 },
	{ "c,", "( char -- )", p_ccomma, 0 },
	{ "align", "( -- )", p_align, 0 },
	{ "aligned", "( addr -- a-addr )", p_aligned, 0 },
	{ "state", "( -- a-addr )", p_state, 0 },
	{ "base", "( -- a-addr )", p_base, 0 },
	{ ">in", "( -- a-addr )", p_in, 0 },
	{ "latestxt", "( -- xt )", p_latestxt, 0 },
	{ "move", "( addr1 addr2 u -- )", p_move, 0 },
	{ "cmove", "( c-addr1 c-addr2 u -- )", p_cmove, 0 },
	{ "cmove>", "( c-addr1 c-addr2 u -- )", p_cmove_up, 0 },
	{ "fill", "( c-addr u char -- )", p_fill, 0 },
	{ "compare", "( c-addr1 u1 c-addr2 u2 -- n )", p_compare, 0 },
	{ "search", "( c-addr1 u1 c-addr2 u2 -- c-addr3 u3 flag )", p_search, 0 },
	{ "string=", "( c-addr1 u1 c-addr2 u2 -- flag )", p_string_eq, 0 },
	{ "istring=", "( c-addr1 u1 c-addr2 u2 -- flag )", p_string_ieq, 0 },
	{ "type", "( c-addr u -- )", p_type, 0 },
	{ "emit", "( x -- )", p_emit, 0 },
	{ "cr", "( -- )", p_cr, 0 },
	{ "key", "( -- char )", p_key, 0 },
	{ "accept", "( c-addr +n1 -- +n2 )", p_accept, 0 },
	{ "(abort\")", "( c-addr u -- )", p_abort_quote, 0 },
	{ "bye", "( -- )", p_bye, 0 },
	{ "quit", "( -- ) ( R: i*x -- )", p_quit, 0 },
	{ "environment?", "( c-addr u -- false | i*x true )", p_environment, 0 },
	{ "marker", "( \"name\" -- )", p_marker, 0 },
	{ "ms", "( u -- )", p_ms, 0 },
	{ "utime", "( -- ud )", p_utime, 0 },
	{ "ntime", "( -- ud )", p_ntime, 0 },
	{ "time&date", "( -- +n1 +n2 +n3 +n4 +n5 +n6 )", p_time_date, 0 },
	{ NULL, NULL, NULL, 0 }
};
