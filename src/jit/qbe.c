/* qbe.c: a colon word's read-back form -> QBE IL.
 *
 * Two passes per word. analyze() walks the ops like the inner interpreter would, but on
 * depths instead of values: it finds the depth of the data stack at every op relative to
 * the word's entry (it must be the same on every path that reaches the op), the items the
 * word takes from its caller (nin) and leaves (nout), and a static model of the return
 * stack (loop parameters and >R items). A word whose depths are not static, or that uses
 * what cannot be compiled (EXECUTE, CATCH, DOES>, PICK...), stays interpreted.
 * emit_word() then gives every stack position its own IL temporary (%sN: position N from
 * the bottom of what the word touches), every loop its index and limit (%iK %lK), every >R
 * item a temporary (%rK). Temporaries are assigned more than once: QBE builds the SSA form.
 * The data stack is in memory only at entry, exit and around calls. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include "jit/jit.h"

#define MAXRD 32

struct opstate {
	int16_t d;		/* depth relative to the entry */
	uint8_t seen, nrd;
	uint8_t rd[MAXRD];	/* 'L' a DO loop, 'R' an item of >R */
};

enum callkind { C_NONE, C_CONST, C_VALUE, C_NATIVE, C_TRAMP, C_SELF };

struct ana {
	cell xt;
	uint32_t n;
	const struct fth_op *ops;
	struct opstate *st;
	bool *target;
	int nin, nout, npos;	/* npos: stack positions used, nin..npos-1 pushed by the word */
	int hin, hout;		/* assumed effect of a call to itself */
	bool calls, mem, steps, depth;
	const char *why;
};

/* Effects memoized during one check or emission, by xt. */
struct memo {
	uint8_t state;		/* 0 unknown, 1 being analyzed, 2 compilable, 3 not */
	int8_t in, out;
	const char *why;
};
struct jctx {
	afd_vm *vm;
	struct memo *m;
};

void jit_buf_printf(struct jit_buf *b, const char *fmt, ...)
{
	va_list ap;
	for (;;) {
		va_start(ap, fmt);
		int n = vsnprintf(b->s ? b->s + b->n : NULL, b->s ? b->cap - b->n : 0, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if (b->s && b->n + (size_t)n < b->cap) {
			b->n += (size_t)n;
			return;
		}
		size_t cap = b->cap ? b->cap * 2 : 4096;
		while (cap < b->n + (size_t)n + 1)
			cap *= 2;
		char *s = realloc(b->s, cap);
		if (!s)
			return;
		b->s = s;
		b->cap = cap;
	}
}

void jit_sym(afd_vm *vm, cell xt, char *buf, size_t cap)
{
	const char *name = vm->words[xt].name ? vm->words[xt].name : "";
	int k = snprintf(buf, cap, "w%lld_", (long long)xt);
	for (size_t i = 0; name[i] && (size_t)k + 1 < cap && i < 24; i++) {
		char c = name[i];
		buf[k++] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ? c : '_';
	}
	buf[k] = 0;
}

cell jit_sym_xt(const char *name)
{
	if (name[0] != 'w' || name[1] < '0' || name[1] > '9')
		return -1;
	return strtoll(name + 1, NULL, 10);
}

/* ---- stack effects ---- */

/* Inlined primitives: items needed and left. */
static const struct { int8_t in, out; } prim_fx[PRIM_COUNT] = {
	[PRIM_DUP] = { 1, 2 }, [PRIM_DROP] = { 1, 0 }, [PRIM_SWAP] = { 2, 2 },
	[PRIM_OVER] = { 2, 3 }, [PRIM_ROT] = { 3, 3 }, [PRIM_MROT] = { 3, 3 },
	[PRIM_NIP] = { 2, 1 }, [PRIM_TUCK] = { 2, 3 }, [PRIM_TWODUP] = { 2, 4 },
	[PRIM_TWODROP] = { 2, 0 }, [PRIM_TWOSWAP] = { 4, 4 }, [PRIM_TWOOVER] = { 4, 6 },
	[PRIM_DEPTH] = { 0, 1 }, [PRIM_TOR] = { 1, 0 }, [PRIM_RFROM] = { 0, 1 },
	[PRIM_RFETCH] = { 0, 1 }, [PRIM_TWOTOR] = { 2, 0 }, [PRIM_TWORFROM] = { 0, 2 },
	[PRIM_TWORFETCH] = { 0, 2 }, [PRIM_RDROP] = { 0, 0 },
	[PRIM_PLUS] = { 2, 1 }, [PRIM_MINUS] = { 2, 1 }, [PRIM_STAR] = { 2, 1 },
	[PRIM_SLASH] = { 2, 1 }, [PRIM_MOD] = { 2, 1 }, [PRIM_SLMOD] = { 2, 2 },
	[PRIM_STSL] = { 3, 1 }, [PRIM_STSLMOD] = { 3, 2 }, [PRIM_NEGATE] = { 1, 1 },
	[PRIM_ABS] = { 1, 1 }, [PRIM_MIN] = { 2, 1 }, [PRIM_MAX] = { 2, 1 },
	[PRIM_ONEP] = { 1, 1 }, [PRIM_ONEM] = { 1, 1 }, [PRIM_TWOSTAR] = { 1, 1 },
	[PRIM_TWOSLASH] = { 1, 1 }, [PRIM_LSHIFT] = { 2, 1 }, [PRIM_RSHIFT] = { 2, 1 },
	[PRIM_AND] = { 2, 1 }, [PRIM_OR] = { 2, 1 }, [PRIM_XOR] = { 2, 1 },
	[PRIM_INVERT] = { 1, 1 }, [PRIM_UMSTAR] = { 2, 2 }, [PRIM_MSTAR] = { 2, 2 },
	[PRIM_UMSLMOD] = { 3, 2 }, [PRIM_FMSLMOD] = { 3, 2 }, [PRIM_SMSLREM] = { 3, 2 },
	[PRIM_CELLS] = { 1, 1 }, [PRIM_CELLP] = { 1, 1 }, [PRIM_CHARP] = { 1, 1 },
	[PRIM_CHARS] = { 1, 1 }, [PRIM_EQ] = { 2, 1 }, [PRIM_NE] = { 2, 1 },
	[PRIM_LT] = { 2, 1 }, [PRIM_GT] = { 2, 1 }, [PRIM_ULT] = { 2, 1 },
	[PRIM_UGT] = { 2, 1 }, [PRIM_ZEQ] = { 1, 1 }, [PRIM_ZNE] = { 1, 1 },
	[PRIM_ZLT] = { 1, 1 }, [PRIM_ZGT] = { 1, 1 }, [PRIM_WITHIN] = { 3, 1 },
	[PRIM_FETCH] = { 1, 1 }, [PRIM_STORE] = { 2, 0 }, [PRIM_CFETCH] = { 1, 1 },
	[PRIM_CSTORE] = { 2, 0 }, [PRIM_PSTORE] = { 2, 0 }, [PRIM_TWOFETCH] = { 1, 2 },
	[PRIM_TWOSTORE] = { 3, 0 }, [PRIM_CNT] = { 1, 2 }, [PRIM_STOD] = { 1, 2 },
	[PRIM_DPLUS] = { 4, 2 }, [PRIM_DMINUS] = { 4, 2 }, [PRIM_DNEGATE] = { 2, 2 },
	[PRIM_I] = { 0, 1 }, [PRIM_J] = { 0, 1 }, [PRIM_UNLOOP] = { 0, 0 },
	[PRIM_THROW] = { 1, 0 },
};

/* Primitives run through the trampoline (double-cell arithmetic): the rest are inlined. */
static bool prim_tramp(int p)
{
	switch (p) {
	case PRIM_STSL: case PRIM_STSLMOD: case PRIM_UMSTAR: case PRIM_MSTAR: case PRIM_UMSLMOD:
	case PRIM_FMSLMOD: case PRIM_SMSLREM: case PRIM_DPLUS: case PRIM_DMINUS: case PRIM_DNEGATE:
		return true;
	}
	return false;
}

/* Items of a C word's stack effect "( a b -- c )": doubles (d, ud, d1...) count two.
 * False when it is not that simple (i*x, alternatives, return stack, parsed text). */
static bool parse_effect(const char *e, int *in, int *out)
{
	if (!e || strstr(e, "R:") || strchr(e, '*') || strchr(e, '|') || strchr(e, '"') ||
	    strstr(e, "..."))
		return false;
	const char *p = strchr(e, '(');
	if (!p || strchr(p + 1, '('))
		return false;
	int n[2] = { 0, 0 }, side = 0;
	for (p++; *p && *p != ')';) {
		while (*p == ' ')
			p++;
		const char *t = p;
		while (*p && *p != ' ' && *p != ')')
			p++;
		size_t len = (size_t)(p - t);
		if (!len)
			continue;
		if (len == 2 && !strncmp(t, "--", 2)) {
			if (side++)
				return false;
			continue;
		}
		if (memchr(t, '[', len) || memchr(t, ':', len) || memmem(t, len, "sys", 3) ||
		    memmem(t, len, "orig", 4))
			return false;	/* optional items, compile-time effects */
		size_t base = len;
		while (base > 1 && t[base - 1] >= '0' && t[base - 1] <= '9')
			base--;
		bool dbl = (base == 1 && t[0] == 'd') ||
			   (base == 2 && (t[0] == 'u' || t[0] == 'x') && t[1] == 'd');
		n[side] += dbl ? 2 : 1;
	}
	if (*p != ')' || side != 1)
		return false;
	*in = n[0];
	*out = n[1];
	return true;
}

static int analyze_word(struct jctx *C, cell xt, struct ana *A);

/* How a call to xt is compiled, and its effect. */
static enum callkind callee(struct jctx *C, struct ana *A, cell xt, int *in, int *out)
{
	afd_vm *vm = C->vm;
	const struct fth_word *w = &vm->words[xt];
	switch (w->kind) {
	case WK_CONST: case WK_CREATE:
		*in = 0, *out = 1;
		return C_CONST;
	case WK_VALUE:
		*in = 0, *out = 1;
		return C_VALUE;
	case WK_CFUNC:
		return parse_effect(w->effect, in, out) ? C_TRAMP : C_NONE;
	case WK_COLON:
		if (xt == A->xt) {
			*in = A->hin, *out = A->hout;
			return A->hin < 0 ? C_NONE : C_SELF;
		}
		if (C->m[xt].state == 0) {
			struct ana B;
			C->m[xt].state = 1;
			int err = analyze_word(C, xt, &B);
			C->m[xt] = (struct memo){ err ? 3 : 2, (int8_t)B.nin, (int8_t)B.nout, B.why };
			free(B.st);
			free(B.target);
		}
		if (C->m[xt].state != 2)
			return C_NONE;
		*in = C->m[xt].in, *out = C->m[xt].out;
		return C_NATIVE;
	}
	return C_NONE;
}

#define FAIL(msg) do { A->why = (msg); return -EINVAL; } while (0)

/* Merge state s into op j's. */
static int flow(struct ana *A, uint32_t j, const struct opstate *s, uint32_t *work, uint32_t *nw)
{
	if (j >= A->n)
		FAIL("branch out of the word");
	struct opstate *t = &A->st[j];
	if (!t->seen) {
		*t = *s;
		t->seen = 1;
		work[(*nw)++] = j;
		return 0;
	}
	if (t->d != s->d || t->nrd != s->nrd || memcmp(t->rd, s->rd, s->nrd))
		FAIL("stack depth differs where paths join");
	return 0;
}

/* The return-stack effect of a primitive on s. */
static int rd_effect(struct ana *A, int p, struct opstate *s)
{
	int k = s->nrd;
	switch (p) {
	case PRIM_TOR: case PRIM_TWOTOR:
		if (k + 2 > MAXRD)
			FAIL("return stack too deep");
		s->rd[s->nrd++] = 'R';
		if (p == PRIM_TWOTOR)
			s->rd[s->nrd++] = 'R';
		return 0;
	case PRIM_RFROM: case PRIM_RFETCH: case PRIM_RDROP:
		if (k < 1 || s->rd[k - 1] != 'R')
			FAIL("R> R@ RDROP without a >R of this word");
		if (p != PRIM_RFETCH)
			s->nrd--;
		return 0;
	case PRIM_TWORFROM: case PRIM_TWORFETCH:
		if (k < 2 || s->rd[k - 1] != 'R' || s->rd[k - 2] != 'R')
			FAIL("2R> 2R@ without a 2>R of this word");
		if (p == PRIM_TWORFROM)
			s->nrd -= 2;
		return 0;
	case PRIM_I: case PRIM_UNLOOP:
		if (k < 1 || s->rd[k - 1] != 'L')
			FAIL("I or UNLOOP outside a loop of this word");
		if (p == PRIM_UNLOOP)
			s->nrd--;
		return 0;
	case PRIM_J:
		if (k < 2 || s->rd[k - 1] != 'L' || s->rd[k - 2] != 'L')
			FAIL("J outside two loops of this word");
		return 0;
	}
	return 0;
}

/* One op: its stack needs and results, and where control goes. */
static int step_op(struct jctx *C, struct ana *A, uint32_t i, uint32_t *work, uint32_t *nw)
{
	const struct fth_op *op = &A->ops[i];
	struct opstate s = A->st[i];
	int in = 0, out = 0, err;
	uint32_t next = i + 1;
	bool falls = true;
	switch (op->kind) {
	case OP_PRIM:
		if (op->arg == PRIM_QDUP) {	/* only as ?DUP IF: the flag is the item */
			if (i + 1 >= A->n || A->ops[i + 1].kind != OP_0BRANCH || A->target[i + 1])
				FAIL("?DUP not followed by IF");
			if (s.d - 1 < -A->nin)
				A->nin = -(s.d - 1);
			struct opstate z = s;
			z.d--;
			if ((err = flow(A, (uint32_t)A->ops[i + 1].arg, &z, work, nw)) ||
			    (err = flow(A, i + 2, &s, work, nw)))
				return err;
			if (A->ops[i + 1].arg <= (cell)i)
				A->steps = true;
			return 0;
		}
		if (op->arg < 0 || op->arg >= PRIM_COUNT ||
		    (!prim_fx[op->arg].in && !prim_fx[op->arg].out && op->arg != PRIM_RDROP &&
		     op->arg != PRIM_UNLOOP))
			FAIL("uses a primitive the JIT does not compile (EXECUTE CATCH PICK ROLL ?DUP)");
		in = prim_fx[op->arg].in, out = prim_fx[op->arg].out;
		if ((err = rd_effect(A, (int)op->arg, &s)))
			return err;
		if (prim_tramp((int)op->arg))
			A->calls = true;
		if (op->arg >= PRIM_FETCH && op->arg <= PRIM_CNT)
			A->mem = true;
		if (op->arg == PRIM_DEPTH)
			FAIL("uses DEPTH (compiled words keep items out of the interpreter's sight)");
		break;
	case OP_CALL: {
		if (!fth_xt_ok(C->vm, op->arg))
			FAIL("calls a bad xt");
		enum callkind k = callee(C, A, op->arg, &in, &out);
		if (k == C_NONE)
			FAIL("calls a word whose stack effect is not known statically");
		if (k != C_CONST && k != C_VALUE)
			A->calls = A->steps = true;
		break;
	}
	case OP_LIT: case OP_VALUE:
		out = 1;
		break;
	case OP_TOVALUE:
		in = 1;
		break;
	case OP_BRANCH:
		next = (uint32_t)op->arg;
		if (op->arg <= (cell)i)
			A->steps = true;
		break;
	case OP_0BRANCH:
		in = 1;
		if (op->arg <= (cell)i)
			A->steps = true;
		break;
	case OP_DO: case OP_QDO:
		in = 2;
		break;
	case OP_LOOP: case OP_PLOOP: case OP_LEAVE:
		if (!s.nrd || s.rd[s.nrd - 1] != 'L')
			FAIL("LOOP or LEAVE with items of >R on the return stack");
		in = op->kind == OP_PLOOP;
		A->steps |= op->kind != OP_LEAVE;
		break;
	case OP_EXIT:
		if (s.nrd)
			FAIL("EXIT with loop parameters or >R items on the return stack");
		falls = false;
		break;
	default:
		FAIL("uses DOES>");
	}
	if (s.d - in < -A->nin)
		A->nin = -(s.d - in);
	s.d = (int16_t)(s.d - in + out);
	if (s.d + A->nin > A->npos)
		A->npos = s.d + A->nin;
	if (s.d > 4096 || s.d < -4096)
		FAIL("stack too deep");
	switch (op->kind) {
	case OP_EXIT:
		if (A->nout != INT32_MIN && A->nout != s.d)
			FAIL("exits with different depths");
		A->nout = s.d;
		return 0;
	case OP_0BRANCH:
		if ((err = flow(A, (uint32_t)op->arg, &s, work, nw)))
			return err;
		break;
	case OP_DO: case OP_QDO: {
		struct opstate l = s;
		if (l.nrd >= MAXRD)
			FAIL("loops nested too deep");
		l.rd[l.nrd++] = 'L';
		if (op->kind == OP_QDO && (err = flow(A, (uint32_t)op->arg, &s, work, nw)))
			return err;
		return flow(A, i + 1, &l, work, nw);
	}
	case OP_LOOP: case OP_PLOOP: {
		if ((err = flow(A, (uint32_t)op->arg, &s, work, nw)))
			return err;
		s.nrd--;
		break;
	}
	case OP_LEAVE:
		s.nrd--;
		return flow(A, (uint32_t)op->arg, &s, work, nw);
	}
	return falls ? flow(A, next, &s, work, nw) : 0;
}

static int analyze_ops(struct jctx *C, struct ana *A)
{
	memset(A->st, 0, A->n * sizeof(*A->st));
	A->nin = A->npos = 0;
	A->nout = INT32_MIN;
	A->calls = A->mem = A->steps = A->depth = false;
	A->why = NULL;
	uint32_t *work = malloc((A->n * 4 + 4) * sizeof(*work)), nw = 0;
	if (!work)
		FAIL("out of memory");
	A->st[0].seen = 1;
	work[nw++] = 0;
	int err = 0;
	/* a depth-first walk: every op is visited once; joins are compared */
	while (nw && !err)
		err = step_op(C, A, work[--nw], work, &nw);
	free(work);
	if (!err && A->nout == INT32_MIN)
		A->nout = 0;	/* never returns (BEGIN AGAIN): leaves what it took, for callers */
	if (err)
		return err;
	A->nout += A->nin;
	if (A->nin > 32 || A->nout > 8)
		FAIL("takes more than 32 items or leaves more than 8");
	return 0;
}

/* The effect a word's stack comment declares, as a guess for its recursive calls. */
static bool doc_effect(const struct fth_word *w, int *in, int *out)
{
	return w->doc && parse_effect(w->doc, in, out);
}

static int analyze_word(struct jctx *C, cell xt, struct ana *A)
{
	afd_vm *vm = C->vm;
	struct fth_word *w = &vm->words[xt];
	memset(A, 0, sizeof(*A));
	A->xt = xt;
	A->hin = A->hout = -1;
	if (w->kind != WK_COLON || !w->ops || !w->nops || !w->code || (w->flags & WF_HIDDEN))
		FAIL("not a finished colon definition");
	A->ops = w->ops;
	A->n = w->nops;
	A->st = calloc(A->n, sizeof(*A->st));
	A->target = calloc(A->n + 1, sizeof(*A->target));
	if (!A->st || !A->target)
		FAIL("out of memory");
	bool self = false;
	for (uint32_t i = 0; i < A->n; i++) {
		const struct fth_op *o = &A->ops[i];
		if (o->kind >= OP_BRANCH && o->kind <= OP_LEAVE && o->kind != OP_DO &&
		    o->arg >= 0 && o->arg <= (cell)A->n)
			A->target[o->arg] = true;
		self |= o->kind == OP_CALL && o->arg == xt;
	}
	if (!self)
		return analyze_ops(C, A);
	/* recursive: guess the effect (its stack comment first), keep the guess it confirms */
	int in, out;
	if (doc_effect(w, &in, &out)) {
		A->hin = in, A->hout = out;
		if (!analyze_ops(C, A) && A->nin == in && A->nout == out)
			return 0;
	}
	for (in = 0; in <= 4; in++)
		for (out = 0; out <= 4; out++) {
			A->hin = in, A->hout = out;
			if (!analyze_ops(C, A) && A->nin == in && A->nout == out)
				return 0;
		}
	FAIL("recursive, with no stack effect that its body confirms");
}

static struct memo *memo_new(afd_vm *vm)
{
	return calloc((size_t)vm->nwords + 1, sizeof(struct memo));
}

const char *jit_check(afd_vm *vm, cell xt)
{
	struct jctx C = { vm, memo_new(vm) };
	if (!C.m)
		return "out of memory";
	struct ana A;
	C.m[xt].state = 1;
	const char *why = analyze_word(&C, xt, &A) ? A.why : NULL;
	free(A.st);
	free(A.target);
	free(C.m);
	return why;
}

/* ---- emission ---- */

struct em {
	afd_vm *vm;
	struct jctx *C;
	struct ana *A;
	struct jit_buf *b;
	int t;			/* fresh temporaries and labels */
	uint32_t skip;		/* an op already emitted with the one before it */
};

#define OFF(f) ((long)offsetof(struct afd_vm, f))
#define P(...) jit_buf_printf(e->b, __VA_ARGS__)

static int fresh(struct em *e) { return ++e->t; }

/* Branch to @e<code> when the address in temp v is not n bytes inside the data space. */
static void check_addr(struct em *e, const char *v, int n)
{
	int t = fresh(e);
	P("\t%%o%d =l sub %s, %%mem\n\t%%c%d =w cugtl %%o%d, %%msz%d\n\tjnz %%c%d, @e9, @k%d\n@k%d\n",
	  t, v, t, t, n, t, t, t);
}

static void step_check(struct em *e)
{
	int t = fresh(e);
	P("\t%%steps =l sub %%steps, 1\n\t%%c%d =w csltl %%steps, 0\n\tjnz %%c%d, @esteps, @k%d\n@k%d\n",
	  t, t, t, t);
}

static void flag(struct em *e, const char *cmp, int dst, const char *a, const char *b)
{
	int t = fresh(e);
	P("\t%%c%d =w %s %s, %s\n\t%%x%d =l extuw %%c%d\n\t%%s%d =l sub 0, %%x%d\n",
	  t, cmp, a, b, t, t, dst, t);
}

/* Floored division of %s<a> by %s<b> into %q<t> and %r<t>, throwing -10 and -11 as the
 * interpreter does. */
static int divide(struct em *e, int a, int b)
{
	int t = fresh(e);
	P("\t%%c%d =w ceql %%s%d, 0\n\tjnz %%c%d, @e10, @k%d\n@k%d\n", t, b, t, t, t);
	P("\t%%m%d =w ceql %%s%d, -1\n\t%%n%d =w ceql %%s%d, -9223372036854775808\n"
	  "\t%%v%d =w and %%m%d, %%n%d\n\tjnz %%v%d, @e11, @j%d\n@j%d\n",
	  t, b, t, a, t, t, t, t, t, t);
	P("\t%%q%d =l div %%s%d, %%s%d\n\t%%r%d =l rem %%s%d, %%s%d\n", t, a, b, t, a, b);
	/* a remainder whose sign differs from the divisor's: one less, divisor added */
	P("\t%%z%d =w cnel %%r%d, 0\n\t%%y%d =l xor %%r%d, %%s%d\n\t%%g%d =w csltl %%y%d, 0\n"
	  "\t%%h%d =w and %%z%d, %%g%d\n\t%%f%d =l extuw %%h%d\n"
	  "\t%%q%d =l sub %%q%d, %%f%d\n\t%%f%d =l mul %%f%d, %%s%d\n\t%%r%d =l add %%r%d, %%f%d\n",
	  t, t, t, t, b, t, t, t, t, t, t, t, t, t, t, t, t, b, t, t, t);
	return t;
}

static void ret_slot(struct em *e, int k)	/* %b = &vm->native_ret[k] */
{
	P("\t%%b =l add %%vm, %ld\n", OFF(native_ret) + 8L * k);
}

/* A word run by the interpreter (fth_run): its inputs pushed on the memory stack above what
 * the interpreter sees, its outputs popped after it, the depth checked against its effect. */
static void tramp(struct em *e, cell xt, int p, int in, int out)
{
	int t = fresh(e), room = in > out ? in : out;
	P("\t%%b =l add %%vm, %ld\n\t%%msp =l loadl %%b\n\t%%a =l add %%msp, %d\n"
	  "\t%%b =l add %%vm, %ld\n\t%%lim =l loadl %%b\n\t%%c%d =w cugel %%a, %%lim\n"
	  "\tjnz %%c%d, @e3, @k%d\n@k%d\n", OFF(sp), 8 * room, OFF(slimit), t, t, t, t);
	for (int k = 0; k < in; k++)
		P("\t%%a =l add %%msp, %d\n\tstorel %%s%d, %%a\n", 8 * (k + 1), p - in + k);
	/* the interpreter sees the return stack as deep as this word's calls */
	P("\t%%a =l add %%msp, %d\n\t%%b =l add %%vm, %ld\n\tstorel %%a, %%b\n"
	  "\t%%b =l add %%vm, %ld\n\tstorel %%steps, %%b\n\t%%b =l add %%vm, %ld\n"
	  "\t%%ors =l loadl %%b\n\tstorel %%rs1, %%b\n"
	  "\t%%err =w call $fth_run(l %%vm, l %lld)\n\tjnz %%err, @ftr, @j%d\n@j%d\n"
	  "\t%%b =l add %%vm, %ld\n\tstorel %%ors, %%b\n\t%%b =l add %%vm, %ld\n\t%%steps =l loadl %%b\n",
	  8 * in, OFF(sp), OFF(steps), OFF(rs), (long long)xt, t, t, OFF(rs), OFF(steps));
	P("\t%%b =l add %%vm, %ld\n\t%%a =l loadl %%b\n\t%%b =l add %%msp, %d\n"
	  "\t%%c%d =w cnel %%a, %%b\n\tjnz %%c%d, @e4, @h%d\n@h%d\n",
	  OFF(sp), 8 * out, t, t, t, t);
	for (int k = 0; k < out; k++)
		P("\t%%a =l add %%msp, %d\n\t%%s%d =l loadl %%a\n", 8 * (k + 1), p - in + k);
	P("\t%%b =l add %%vm, %ld\n\tstorel %%msp, %%b\n", OFF(sp));
}

static void call_word(struct em *e, uint32_t i, enum callkind k, int p, int in, int out)
{
	afd_vm *vm = e->vm;
	cell xt = e->A->ops[i].arg;
	const struct fth_word *w = &vm->words[xt];
	int t = fresh(e);
	char sym[64];
	switch (k) {
	case C_CONST:
		P("\t%%s%d =l copy %lld\n", p, (long long)w->pfa);
		return;
	case C_VALUE:
		P("\t%%s%d =l loadl %lld\n", p, (long long)w->pfa);
		return;
	case C_NATIVE: case C_SELF:	/* a direct call of the body: inputs as arguments */
		step_check(e);
		jit_sym(vm, xt, sym, sizeof(sym));
		P("\t%%steps =l call $%s.b(l %%vm, l %%rs1, l %%steps", sym);
		for (int q = p - in; q < p; q++)
			P(", l %%s%d", q);
		P(")\n\t%%c%d =w csltl %%steps, 0\n\tjnz %%c%d, @fail, @k%d\n@k%d\n", t, t, t, t);
		for (int q = 0; q < out; q++) {
			ret_slot(e, q);
			P("\t%%s%d =l loadl %%b\n", p - in + q);
		}
		return;
	default:
		tramp(e, xt, p, in, out);
	}
}

/* Primitives run through the interpreter use the primitive's own word. */
static cell prim_xt(afd_vm *vm, int p)
{
	for (cell x = 1; x < vm->nwords; x++)
		if (vm->words[x].kind == WK_PRIM && vm->words[x].pfa == p)
			return x;
	return -1;
}

static int emit_prim(struct em *e, uint32_t i, int p)
{
	const struct opstate *s = &e->A->st[i];
	int prim = (int)e->A->ops[i].arg, a = p - 2, b = p - 1, c = p - 3, k = s->nrd - 1, t;
	char sa[16], sb[16];
	snprintf(sa, sizeof(sa), "%%s%d", a);
	snprintf(sb, sizeof(sb), "%%s%d", b);
	static const char *const bin[PRIM_COUNT] = {
		[PRIM_PLUS] = "add", [PRIM_MINUS] = "sub", [PRIM_STAR] = "mul",
		[PRIM_AND] = "and", [PRIM_OR] = "or", [PRIM_XOR] = "xor",
	};
	static const char *const cmp[PRIM_COUNT] = {
		[PRIM_EQ] = "ceql", [PRIM_NE] = "cnel", [PRIM_LT] = "csltl", [PRIM_GT] = "csgtl",
		[PRIM_ULT] = "cultl", [PRIM_UGT] = "cugtl",
	};
	static const char *const zcmp[PRIM_COUNT] = {
		[PRIM_ZEQ] = "ceql", [PRIM_ZNE] = "cnel", [PRIM_ZLT] = "csltl", [PRIM_ZGT] = "csgtl",
	};
	if (bin[prim]) {
		P("\t%%s%d =l %s %%s%d, %%s%d\n", a, bin[prim], a, b);
		return 0;
	}
	if (cmp[prim]) {
		flag(e, cmp[prim], a, sa, sb);
		return 0;
	}
	if (zcmp[prim]) {
		flag(e, zcmp[prim], b, sb, "0");
		return 0;
	}
	if (prim_tramp(prim)) {
		cell xt = prim_xt(e->vm, prim);
		if (xt < 0)
			return -ENOENT;
		tramp(e, xt, p, prim_fx[prim].in, prim_fx[prim].out);
		return 0;
	}
	switch (prim) {
	case PRIM_DUP: P("\t%%s%d =l copy %%s%d\n", p, b); break;
	case PRIM_DROP: case PRIM_TWODROP: case PRIM_CHARS: case PRIM_RDROP: case PRIM_UNLOOP: break;
	case PRIM_SWAP:
		P("\t%%t =l copy %%s%d\n\t%%s%d =l copy %%s%d\n\t%%s%d =l copy %%t\n", b, b, a, a);
		break;
	case PRIM_OVER: P("\t%%s%d =l copy %%s%d\n", p, a); break;
	case PRIM_ROT:
		P("\t%%t =l copy %%s%d\n\t%%s%d =l copy %%s%d\n\t%%s%d =l copy %%s%d\n\t%%s%d =l copy %%t\n",
		  c, c, a, a, b, b);
		break;
	case PRIM_MROT:
		P("\t%%t =l copy %%s%d\n\t%%s%d =l copy %%s%d\n\t%%s%d =l copy %%s%d\n\t%%s%d =l copy %%t\n",
		  b, b, a, a, c, c);
		break;
	case PRIM_NIP: P("\t%%s%d =l copy %%s%d\n", a, b); break;
	case PRIM_TUCK:
		P("\t%%s%d =l copy %%s%d\n\t%%s%d =l copy %%s%d\n\t%%s%d =l copy %%s%d\n", p, b, b, a, a, p);
		break;
	case PRIM_TWODUP: P("\t%%s%d =l copy %%s%d\n\t%%s%d =l copy %%s%d\n", p, a, p + 1, b); break;
	case PRIM_TWOSWAP:
		P("\t%%t =l copy %%s%d\n\t%%u =l copy %%s%d\n\t%%s%d =l copy %%s%d\n\t%%s%d =l copy %%s%d\n"
		  "\t%%s%d =l copy %%t\n\t%%s%d =l copy %%u\n", p - 4, c, p - 4, a, c, b, a, b);
		break;
	case PRIM_TWOOVER: P("\t%%s%d =l copy %%s%d\n\t%%s%d =l copy %%s%d\n", p, p - 4, p + 1, c); break;
	case PRIM_TOR: P("\t%%r%d =l copy %%s%d\n", k + 1, b); break;
	case PRIM_TWOTOR: P("\t%%r%d =l copy %%s%d\n\t%%r%d =l copy %%s%d\n", k + 1, a, k + 2, b); break;
	case PRIM_RFROM: case PRIM_RFETCH: P("\t%%s%d =l copy %%r%d\n", p, k); break;
	case PRIM_TWORFROM: case PRIM_TWORFETCH:
		P("\t%%s%d =l copy %%r%d\n\t%%s%d =l copy %%r%d\n", p, k - 1, p + 1, k);
		break;
	case PRIM_I: P("\t%%s%d =l copy %%i%d\n", p, k); break;
	case PRIM_J: P("\t%%s%d =l copy %%i%d\n", p, k - 1); break;
	case PRIM_SLASH: case PRIM_MOD: case PRIM_SLMOD:
		t = divide(e, a, b);
		if (prim == PRIM_SLMOD)
			P("\t%%s%d =l copy %%r%d\n\t%%s%d =l copy %%q%d\n", a, t, b, t);
		else
			P("\t%%s%d =l copy %%%c%d\n", a, prim == PRIM_SLASH ? 'q' : 'r', t);
		break;
	case PRIM_NEGATE: P("\t%%s%d =l sub 0, %%s%d\n", b, b); break;
	case PRIM_ABS:
		P("\t%%t =l sar %%s%d, 63\n\t%%s%d =l xor %%s%d, %%t\n\t%%s%d =l sub %%s%d, %%t\n", b, b, b, b, b);
		break;
	case PRIM_MIN: case PRIM_MAX:
		t = fresh(e);	/* b ^ ((a ^ b) & mask), mask all ones when a wins */
		P("\t%%c%d =w %s %%s%d, %%s%d\n\t%%x%d =l extuw %%c%d\n\t%%x%d =l sub 0, %%x%d\n"
		  "\t%%t =l xor %%s%d, %%s%d\n\t%%t =l and %%t, %%x%d\n\t%%s%d =l xor %%s%d, %%t\n",
		  t, prim == PRIM_MIN ? "csltl" : "csgtl", a, b, t, t, t, t, a, b, t, a, b);
		break;
	case PRIM_ONEP: P("\t%%s%d =l add %%s%d, 1\n", b, b); break;
	case PRIM_ONEM: P("\t%%s%d =l sub %%s%d, 1\n", b, b); break;
	case PRIM_TWOSTAR: P("\t%%s%d =l shl %%s%d, 1\n", b, b); break;
	case PRIM_TWOSLASH: P("\t%%s%d =l sar %%s%d, 1\n", b, b); break;
	case PRIM_INVERT: P("\t%%s%d =l xor %%s%d, -1\n", b, b); break;
	case PRIM_CELLS: P("\t%%s%d =l shl %%s%d, 3\n", b, b); break;
	case PRIM_CELLP: P("\t%%s%d =l add %%s%d, 8\n", b, b); break;
	case PRIM_CHARP: P("\t%%s%d =l add %%s%d, 1\n", b, b); break;
	case PRIM_STOD: P("\t%%s%d =l sar %%s%d, 63\n", p, b); break;
	case PRIM_LSHIFT: case PRIM_RSHIFT:	/* shifts of 64 or more give 0 */
		t = fresh(e);
		P("\t%%c%d =w cultl %%s%d, 64\n\t%%x%d =l extuw %%c%d\n\t%%x%d =l sub 0, %%x%d\n"
		  "\t%%s%d =l %s %%s%d, %%s%d\n\t%%s%d =l and %%s%d, %%x%d\n",
		  t, b, t, t, t, t, a, prim == PRIM_LSHIFT ? "shl" : "shr", a, b, a, a, t);
		break;
	case PRIM_WITHIN:
		P("\t%%t =l sub %%s%d, %%s%d\n\t%%u =l sub %%s%d, %%s%d\n", c, a, b, a);
		flag(e, "cultl", c, "%t", "%u");
		break;
	case PRIM_FETCH: check_addr(e, sb, 8); P("\t%%s%d =l loadl %%s%d\n", b, b); break;
	case PRIM_CFETCH: check_addr(e, sb, 1); P("\t%%s%d =l loadub %%s%d\n", b, b); break;
	case PRIM_STORE: check_addr(e, sb, 8); P("\tstorel %%s%d, %%s%d\n", a, b); break;
	case PRIM_CSTORE: check_addr(e, sb, 1); P("\tstoreb %%s%d, %%s%d\n", a, b); break;
	case PRIM_PSTORE:
		check_addr(e, sb, 8);
		P("\t%%t =l loadl %%s%d\n\t%%t =l add %%t, %%s%d\n\tstorel %%t, %%s%d\n", b, a, b);
		break;
	case PRIM_TWOFETCH:
		check_addr(e, sb, 16);
		P("\t%%t =l add %%s%d, 8\n\t%%u =l loadl %%s%d\n\t%%s%d =l loadl %%t\n\t%%s%d =l copy %%u\n",
		  b, b, b, p);
		break;
	case PRIM_TWOSTORE:
		check_addr(e, sb, 16);
		P("\tstorel %%s%d, %%s%d\n\t%%t =l add %%s%d, 8\n\tstorel %%s%d, %%t\n", a, b, b, c);
		break;
	case PRIM_CNT:
		check_addr(e, sb, 1);
		P("\t%%s%d =l loadub %%s%d\n\t%%s%d =l add %%s%d, 1\n", p, b, b, b);
		break;
	case PRIM_THROW:
		t = fresh(e);
		P("\t%%c%d =w cnel %%s%d, 0\n\tjnz %%c%d, @t%d, @k%d\n@t%d\n", t, b, t, t, t, t);
		P("\t%%c%d =w ceql %%s%d, -2\n\tjnz %%c%d, @j%d, @h%d\n@j%d\n"
		  "\t%%b =l add %%vm, %ld\n\tstorel 0, %%b\n@h%d\n", t, b, t, t, t, t, OFF(abortlen), t);
		P("\t%%b =l add %%vm, %ld\n\tstorel %%s%d, %%b\n\tret -1\n@k%d\n", OFF(native_throw), b, t);
		break;
	default:
		return -EINVAL;
	}
	return 0;
}

/* A comparison right before IF, WHILE or UNTIL branches on the comparison itself: no flag. */
static bool branch_on(struct em *e, uint32_t i, int p)
{
	static const char *const cmp[PRIM_COUNT] = {
		[PRIM_EQ] = "ceql", [PRIM_NE] = "cnel", [PRIM_LT] = "csltl", [PRIM_GT] = "csgtl",
		[PRIM_ULT] = "cultl", [PRIM_UGT] = "cugtl", [PRIM_ZEQ] = "ceql", [PRIM_ZNE] = "cnel",
		[PRIM_ZLT] = "csltl", [PRIM_ZGT] = "csgtl",
	};
	struct ana *A = e->A;
	int prim = (int)A->ops[i].arg;
	if (!cmp[prim])
		return false;
	bool zero = prim >= PRIM_ZEQ && prim <= PRIM_ZGT;
	int t = fresh(e);
	cell target = A->ops[i + 1].arg;
	if (zero)
		P("\t%%c%d =w %s %%s%d, 0\n", t, cmp[prim], p - 1);
	else
		P("\t%%c%d =w %s %%s%d, %%s%d\n", t, cmp[prim], p - 2, p - 1);
	P("\tjnz %%c%d, @o%u, @b%d\n@b%d\n", t, i + 2, t, t);
	if (target <= (cell)i)
		step_check(e);
	P("\tjmp @o%lld\n", (long long)target);
	e->skip = i + 1;
	return true;
}

static int emit_op(struct em *e, uint32_t i)
{
	struct ana *A = e->A;
	const struct fth_op *op = &A->ops[i];
	const struct opstate *s = &A->st[i];
	int p = s->d + A->nin, k = s->nrd - 1, t, in, out;
	const char *file = op->file < e->vm->nfiles ? e->vm->files[op->file] : "?";
	const char *slash = strrchr(file, '/');
	P("@o%u\t\t\t\t# %s:%u:%u ", i, slash ? slash + 1 : file, op->line, op->col);
	switch (op->kind) {
	case OP_PRIM: P("%s\n", fth_prims[op->arg].name); break;
	case OP_CALL: P("%s\n", e->vm->words[op->arg].name); break;
	case OP_LIT: P("%lld\n", (long long)op->arg); break;
	default: {
		static const char *const names[] = {
			[OP_BRANCH] = "branch", [OP_0BRANCH] = "?branch", [OP_DO] = "(do)",
			[OP_QDO] = "(?do)", [OP_LOOP] = "(loop)", [OP_PLOOP] = "(+loop)",
			[OP_LEAVE] = "(leave)", [OP_EXIT] = "exit", [OP_DOES] = "does>",
			[OP_VALUE] = "(value@)", [OP_TOVALUE] = "(to)",
		};
		P("%s\n", op->kind < sizeof(names) / sizeof(*names) && names[op->kind] ? names[op->kind] : "?");
		break;
	}
	}
	switch (op->kind) {
	case OP_PRIM:
		if (op->arg == PRIM_QDUP) {
			t = fresh(e);
			P("\t%%c%d =w cnel %%s%d, 0\n\tjnz %%c%d, @o%u, @b%d\n@b%d\n", t, p - 1, t, i + 2, t, t);
			if (A->ops[i + 1].arg <= (cell)i)
				step_check(e);
			P("\tjmp @o%lld\n", (long long)A->ops[i + 1].arg);
			return 0;
		}
		if (i + 1 < A->n && A->ops[i + 1].kind == OP_0BRANCH && !A->target[i + 1] &&
		    branch_on(e, i, p))
			return 0;
		return emit_prim(e, i, p);
	case OP_CALL: {
		enum callkind ck = callee(e->C, A, op->arg, &in, &out);
		call_word(e, i, ck, p, in, out);
		return 0;
	}
	case OP_LIT: P("\t%%s%d =l copy %lld\n", p, (long long)op->arg); return 0;
	case OP_VALUE: P("\t%%s%d =l loadl %lld\n", p, (long long)op->arg); return 0;
	case OP_TOVALUE: P("\tstorel %%s%d, %lld\n", p - 1, (long long)op->arg); return 0;
	case OP_BRANCH:
		if (op->arg <= (cell)i)
			step_check(e);
		P("\tjmp @o%lld\n", (long long)op->arg);
		return 0;
	case OP_0BRANCH:
		t = fresh(e);
		P("\t%%c%d =w cnel %%s%d, 0\n\tjnz %%c%d, @o%u, @b%d\n@b%d\n", t, p - 1, t, i + 1, t, t);
		if (op->arg <= (cell)i)
			step_check(e);
		P("\tjmp @o%lld\n", (long long)op->arg);
		return 0;
	case OP_DO: case OP_QDO:
		if (op->kind == OP_QDO) {
			t = fresh(e);
			P("\t%%c%d =w ceql %%s%d, %%s%d\n\tjnz %%c%d, @o%lld, @k%d\n@k%d\n",
			  t, p - 2, p - 1, t, (long long)op->arg, t, t);
		}
		P("\t%%l%d =l copy %%s%d\n\t%%i%d =l copy %%s%d\n", k + 1, p - 2, k + 1, p - 1);
		return 0;
	case OP_LOOP:
		t = fresh(e);
		P("\t%%i%d =l add %%i%d, 1\n\t%%c%d =w cnel %%i%d, %%l%d\n\tjnz %%c%d, @b%d, @o%u\n@b%d\n",
		  k, k, t, k, k, t, t, i + 1, t);
		step_check(e);
		P("\tjmp @o%lld\n", (long long)op->arg);
		return 0;
	case OP_PLOOP:	/* ends when the index crosses the boundary between limit-1 and limit */
		t = fresh(e);
		P("\t%%t =l sub %%i%d, %%l%d\n\t%%i%d =l add %%i%d, %%s%d\n\t%%u =l add %%t, %%s%d\n"
		  "\t%%u =l xor %%u, %%t\n\t%%t =l xor %%t, %%s%d\n\t%%t =l and %%t, %%u\n"
		  "\t%%c%d =w csltl %%t, 0\n\tjnz %%c%d, @o%u, @b%d\n@b%d\n",
		  k, k, k, k, p - 1, p - 1, p - 1, t, t, i + 1, t, t);
		step_check(e);
		P("\tjmp @o%lld\n", (long long)op->arg);
		return 0;
	case OP_LEAVE: P("\tjmp @o%lld\n", (long long)op->arg); return 0;
	case OP_EXIT: P("\tjmp @exit\n"); return 0;
	}
	return -EINVAL;
}

/* The body: inputs arrive as arguments, outputs leave in vm->native_ret[]; words that call
 * check the return-stack depth (-5: runaway recursion must not exhaust the C stack). */
static void emit_entry(struct em *e)
{
	struct ana *A = e->A;
	P("@start\n\t%%err =w copy 0\n");
	for (int k = 0; k < A->nin; k++)
		P("\t%%s%d =l copy %%a%d\n", k, k);
	if (A->calls)	/* %rs: the return stack as deep as the interpreter would have it */
		P("\t%%b =l add %%vm, %ld\n\t%%a =l loadl %%b\n\t%%c =w cugel %%rs, %%a\n"
		  "\tjnz %%c, @e5, @rs\n@rs\n\t%%rs1 =l add %%rs, 8\n", OFF(rslimit));
	if (A->mem)
		P("\t%%b =l add %%vm, %ld\n\t%%mem =l loadl %%b\n\t%%b =l add %%vm, %ld\n"
		  "\t%%msz =l loadl %%b\n\t%%msz1 =l sub %%msz, 1\n\t%%msz8 =l sub %%msz, 8\n"
		  "\t%%msz16 =l sub %%msz, 16\n", OFF(mem), OFF(memsize));
}

/* A body's errors: the code in vm->native_throw, -1 returned. */
static void emit_errors(struct em *e, const int *codes, size_t n)
{
	P("@fail\n\tret -1\n@ftr\n\t%%x =l extsw %%err\n\t%%b =l add %%vm, %ld\n\tstorel %%x, %%b\n"
	  "\tret -1\n", OFF(native_throw));
	for (size_t i = 0; i < n; i++)
		P("@e%d\n\t%%b =l add %%vm, %ld\n\tstorel -%d, %%b\n\tret -1\n",
		  codes[i], OFF(native_throw), codes[i]);
}

static void emit_exit(struct em *e)
{
	struct ana *A = e->A;
	P("@exit\n");
	for (int k = 0; k < A->nout; k++) {
		ret_slot(e, k);
		P("\tstorel %%s%d, %%b\n", k);
	}
	P("\tret %%steps\n@esteps\n\t%%b =l add %%vm, %ld\n\tstorel %%steps, %%b\n"
	  "\t%%b =l add %%vm, %ld\n\tstorel %d, %%b\n\tret -1\n",
	  OFF(steps), OFF(native_throw), AFD_THROW_STEPS);
	static const int codes[] = { 3, 4, 5, 9, 10, 11 };
	emit_errors(e, codes, sizeof(codes) / sizeof(*codes));
}

/* The entry the interpreter calls (afd_prim_fn): the depth checked (-4, and -3 for the
 * outputs), the inputs popped from the memory stack into arguments, the body called, its
 * outputs pushed. */
static void emit_wrapper(struct em *e, const char *sym)
{
	struct ana *A = e->A;
	P("export function w $%s(l %%vm, l %%ctx) {\n@start\n"
	  "\t%%b =l add %%vm, %ld\n\t%%sp0 =l loadl %%b\n\t%%b =l add %%vm, %ld\n"
	  "\t%%fs0 =l loadl %%b\n\t%%dep =l sub %%sp0, %%fs0\n\t%%dep =l sar %%dep, 3\n"
	  "\t%%c =w csltl %%dep, %d\n\tjnz %%c, @e4, @in\n@in\n\t%%np =l sub %%sp0, %d\n",
	  sym, OFF(sp), OFF(s0), A->nin, 8 * A->nin);
	if (A->nout > A->nin)
		P("\t%%a =l add %%np, %d\n\t%%b =l add %%vm, %ld\n\t%%lim =l loadl %%b\n"
		  "\t%%c =w cugel %%a, %%lim\n\tjnz %%c, @e3, @room\n@room\n", 8 * A->nout, OFF(slimit));
	for (int k = 0; k < A->nin; k++)
		P("\t%%a =l add %%np, %d\n\t%%a%d =l loadl %%a\n", 8 * (k + 1), k);
	P("\t%%b =l add %%vm, %ld\n\tstorel %%np, %%b\n\t%%b =l add %%vm, %ld\n\t%%rs =l loadl %%b\n"
	  "\t%%b =l add %%vm, %ld\n\t%%steps =l loadl %%b\n\t%%steps =l call $%s.b(l %%vm, l %%rs, l %%steps",
	  OFF(sp), OFF(rs), OFF(steps), sym);
	for (int k = 0; k < A->nin; k++)
		P(", l %%a%d", k);
	P(")\n\t%%c =w csltl %%steps, 0\n\tjnz %%c, @thrown, @out\n@out\n"
	  "\t%%b =l add %%vm, %ld\n\tstorel %%steps, %%b\n", OFF(steps));
	for (int k = 0; k < A->nout; k++) {
		ret_slot(e, k);
		P("\t%%v =l loadl %%b\n\t%%a =l add %%np, %d\n\tstorel %%v, %%a\n", 8 * (k + 1));
	}
	P("\t%%a =l add %%np, %d\n\t%%b =l add %%vm, %ld\n\tstorel %%a, %%b\n\tret 0\n",
	  8 * A->nout, OFF(sp));
	/* the code from vm->native_throw; one that does not fit an int stays there */
	P("@thrown\n\t%%b =l add %%vm, %ld\n\t%%x =l loadl %%b\n\t%%err =w copy %%x\n"
	  "\t%%y =l extsw %%err\n\t%%c =w ceql %%x, %%y\n\tjnz %%c, @fits, @wide\n@fits\n\tret %%err\n"
	  "@wide\n\tret %d\n@e3\n\tret -3\n@e4\n\tret -4\n}\n\n", OFF(native_throw), FTH_NATIVE_THROW);
}

static int emit_word(struct jctx *C, cell xt, struct jit_buf *b)
{
	struct ana A;
	C->m[xt].state = 1;
	int err = analyze_word(C, xt, &A);
	C->m[xt] = (struct memo){ err ? 3 : 2, (int8_t)A.nin, (int8_t)A.nout, A.why };
	if (err)
		goto out;
	struct em E = { C->vm, C, &A, b, 0 }, *e = &E;
	char sym[64];
	jit_sym(C->vm, xt, sym, sizeof(sym));
	const struct fth_word *w = &C->vm->words[xt];
	P("# %s %s: takes %d, leaves %d\n", w->name, w->doc ? w->doc : "", A.nin, A.nout);
	emit_wrapper(e, sym);
	P("export function l $%s.b(l %%vm, l %%rs, l %%steps", sym);
	for (int k = 0; k < A.nin; k++)
		P(", l %%a%d", k);
	P(") {\n");
	emit_entry(e);
	for (uint32_t i = 0; i < A.n && !err; i++)
		if (A.st[i].seen && (i != E.skip || !i))
			err = emit_op(e, i);
	emit_exit(e);
	P("}\n\n");
out:
	free(A.st);
	free(A.target);
	return err;
}

int jit_emit_il(afd_vm *vm, const cell *xts, int n, struct jit_buf *out)
{
	struct jctx C = { vm, memo_new(vm) };
	if (!C.m)
		return -ENOMEM;
	int err = 0;
	for (int i = 0; i < n && !err; i++)
		err = emit_word(&C, xts[i], out);
	free(C.m);
	return err;
}
