/* inner.c: the inner interpreter. Direct-threaded code (GCC labels as values), top of
 * stack in a register. Every primitive checks its stack needs and every memory access its
 * range, so no Forth program can step outside the VM; faults become THROW codes.
 *
 * Register form of the data stack: tos holds the top item, sp points at the one below it
 * (memory form, used outside this function: vm->sp points at the top item). */
#include <errno.h>
#include <pthread.h>
#include "vm.h"

/* Label addresses are exported on purpose: threaded code is made of them. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wdangling-pointer"
#endif

const struct fth_prim_info fth_prims[PRIM_COUNT] = {
#define P(id, name, effect) [PRIM_##id] = { name, effect },
#include "prims.def"
#undef P
};

void *fth_label_lit, *fth_label_call, *fth_label_branch, *fth_label_0branch, *fth_label_do,
	*fth_label_qdo, *fth_label_loop, *fth_label_ploop, *fth_label_leave, *fth_label_exit,
	*fth_label_does, *fth_label_value, *fth_label_tovalue;
static void *const *prim_labels, *const *super_labels;
static void *kind_labels[WK_DOES + 1];
static pthread_once_t labels_once = PTHREAD_ONCE_INIT;

static void init_labels(void) { fth_run(NULL, 0); }

void *const *fth_labels(void)
{
	pthread_once(&labels_once, init_labels);
	return prim_labels;
}

void *const *fth_super_labels(void)
{
	fth_labels();
	return super_labels;
}

static void *native_label;

int fth_set_native(afd_vm *vm, cell xt, afd_prim_fn fn, void *ctx)
{
	if (!fth_xt_ok(vm, xt) || vm->words[xt].kind != WK_COLON || !vm->words[xt].code)
		return -EINVAL;
	struct fth_word *w = &vm->words[xt];
	fth_labels();
	if (!fn) {	/* back to threaded code: the entry first, so no caller runs a stale fn */
		__atomic_store_n(&w->cfa, kind_labels[WK_COLON], __ATOMIC_RELEASE);
		return 0;
	}
	/* publish the function before the entry that uses it */
	__atomic_store_n(&w->nctx, ctx, __ATOMIC_RELAXED);
	__atomic_store_n(&w->native, fn, __ATOMIC_RELEASE);
	__atomic_store_n(&w->cfa, native_label, __ATOMIC_RELEASE);
	return 0;
}

void *fth_kind_label(int kind)
{
	fth_labels();
	return kind_labels[kind];
}

/* Floored division of a double by a single; the C operators truncate. */
static int floored_div(dcell n, cell d, cell *q, cell *r)
{
	if (d == 0)
		return -10;
	dcell qq = n / d, rr = n % d;
	if (rr != 0 && ((rr < 0) != (d < 0))) {
		qq--;
		rr += d;
	}
	if (qq > INT64_MAX || qq < INT64_MIN)
		return -11;
	*q = (cell)qq;
	*r = (cell)rr;
	return 0;
}

static int symmetric_div(dcell n, cell d, cell *q, cell *r)
{
	if (d == 0)
		return -10;
	dcell qq = n / d;
	if (qq > INT64_MAX || qq < INT64_MIN)
		return -11;
	*q = (cell)qq;
	*r = (cell)(n % d);
	return 0;
}

#define DCELL(hi, lo) ((dcell)(((udcell)(ucell)(hi) << 64) | (ucell)(lo)))

int fth_run(afd_vm *vm, cell xt)
{
	static void *const labels[PRIM_COUNT] = {
#define P(id, name, effect) [PRIM_##id] = &&L_##id,
#include "prims.def"
#undef P
	};
	static void *const sups[SUP_COUNT] = {
#define S(id, nargs, seq) [SUP_##id] = &&S_##id,
#include "super.def"
#undef S
	};
	static void *const halt_seq[] = { &&L_HALT };
	static void *const catch_end_seq[] = { &&L_CATCHEND };

	if (!vm) {
		prim_labels = labels;
		super_labels = sups;
		fth_label_lit = &&L_LIT;
		fth_label_call = &&L_CALL;
		fth_label_branch = &&L_BRANCH;
		fth_label_0branch = &&L_0BRANCH;
		fth_label_do = &&L_DO;
		fth_label_qdo = &&L_QDO;
		fth_label_loop = &&L_LOOP;
		fth_label_ploop = &&L_PLOOP;
		fth_label_leave = &&L_LEAVE;
		fth_label_exit = &&L_EXIT;
		fth_label_does = &&L_DOESCODE;
		fth_label_value = &&L_VALUE;
		fth_label_tovalue = &&L_TOVALUE;
		kind_labels[WK_COLON] = &&L_DOCOL;
		native_label = &&L_DONATIVE;
		kind_labels[WK_CFUNC] = &&L_DOCFUNC;
		kind_labels[WK_CREATE] = &&L_DOVAR;
		kind_labels[WK_CONST] = &&L_DOVAR;
		kind_labels[WK_VALUE] = &&L_DOVAL;
		kind_labels[WK_DEFER] = &&L_DODEFER;
		kind_labels[WK_DOES] = &&L_DODOES;
		return 0;
	}

	if (vm->level >= FTH_MAX_LEVEL)
		return AFD_THROW_NESTING;
	if (!fth_xt_ok(vm, xt))
		return AFD_THROW_BAD_XT;
	vm->level++;

	char *const mbase = vm->mem;
	const ucell msize = vm->memsize;
	cell *const s0 = vm->s0, *const slimit = vm->slimit;
	cell *const rd0 = vm->rd0, *const rdlimit = vm->rdlimit;
	void **const rslimit = vm->rslimit;
	struct fth_word *const words = vm->words;
	void *const *ip = halt_seq;
	cell *sp = vm->sp - 1, tos = *vm->sp;
	cell *rd = vm->rd;
	void **rs = vm->rs;
	int64_t steps = vm->steps;
	uint32_t *const counts = vm->jit_counts;
	const uint32_t hot_at = vm->jit_hot_at;
	struct fth_word *w = &words[xt];
	cell t, u;
	cell err;	/* a THROW code is any cell; CATCH returns it unchanged */

#define NEXT goto **ip++
#define THROW(code) do { err = (code); goto throw; } while (0)
#define NEED(n) if (__builtin_expect(sp < s0 + (n) - 1, 0)) goto underflow
#define ROOM(n) if (__builtin_expect(sp + (n) >= slimit, 0)) goto overflow
#define PUSH(v) do { cell v_ = (v); *++sp = tos; tos = v_; } while (0)
#define POP() (tos = *sp--)
#define CHECK(a, n) if (__builtin_expect((ucell)(a) - (ucell)mbase > msize - (n), 0)) goto badaddr
#define STEP() if (__builtin_expect(--steps < 0, 0)) THROW(AFD_THROW_STEPS)
#define RDNEED(n) if (__builtin_expect(rd < rd0 + (n), 0)) goto rdunderflow
#define RDROOM(n) if (__builtin_expect(rd + (n) > rdlimit, 0)) goto rsoverflow
#define SAVE() do { sp[1] = tos; vm->sp = sp + 1; vm->rd = rd; vm->rs = rs; vm->steps = steps; } while (0)
#define LOAD() do { sp = vm->sp - 1; tos = *vm->sp; rd = vm->rd; rs = vm->rs; steps = vm->steps; } while (0)

	goto *w->cfa;

	/* ---- code fields ---- */
L_DOCOL:
	if (__builtin_expect(counts != NULL, 0) && ++counts[w - words] == hot_at) {
		jit_hot(vm, w - words);	/* reads the dictionary only: the registers need no SAVE */
		if (__atomic_load_n(&w->cfa, __ATOMIC_ACQUIRE) != &&L_DOCOL)
			goto *w->cfa;	/* compiled now (AFD_JIT=always): this call runs native */
	}
	if (__builtin_expect(rs >= rslimit, 0))
		goto rsoverflow;
	*++rs = (void *)ip;
	ip = (void *const *)w->code;
	STEP();
	NEXT;
L_DONATIVE:		/* a colon word compiled to native code */
	{
		afd_prim_fn fn = __atomic_load_n(&w->native, __ATOMIC_ACQUIRE);
		SAVE();
		err = fn(vm, w->nctx);
		LOAD();
		if (__builtin_expect(err == FTH_NATIVE_THROW, 0))
			err = vm->native_throw;
	}
	if (err)
		goto throw;
	STEP();
	NEXT;
L_DOVAR:		/* CREATE and CONSTANT: push the parameter field */
	ROOM(1);
	PUSH(w->pfa);
	NEXT;
L_DOVAL:
	ROOM(1);
	PUSH(*(cell *)w->pfa);
	NEXT;
L_DODEFER:
	t = *(cell *)w->pfa;
	if (!fth_xt_ok(vm, t))
		THROW(AFD_THROW_BAD_XT);
	STEP();
	w = &words[t];
	goto *w->cfa;
L_DODOES:
	ROOM(1);
	PUSH(w->pfa);
	if (__builtin_expect(rs >= rslimit, 0))
		goto rsoverflow;
	*++rs = (void *)ip;
	ip = (void *const *)w->code;
	STEP();
	NEXT;
L_DOCFUNC:
	SAVE();
	err = w->cfn(vm, w->cctx);
	LOAD();
	if (err)
		goto throw;
	NEXT;

	/* ---- compiled-only operations with inline arguments ---- */
L_LIT:
	ROOM(1);
	PUSH((cell)*ip++);
	NEXT;
L_CALL:
	w = (struct fth_word *)*ip++;
	goto *__atomic_load_n(&w->cfa, __ATOMIC_ACQUIRE);
L_EXIT:
	ip = (void *const *)*rs--;
	NEXT;
L_BRANCH:
	ip = (void *const *)*ip;
	STEP();
	NEXT;
L_0BRANCH:
	NEED(1);
	t = tos;
	POP();
	if (t == 0) {
		ip = (void *const *)*ip;
		STEP();
	} else {
		ip++;
	}
	NEXT;
L_DO:			/* ( limit index -- ) ( R: -- limit index ) */
	NEED(2);
	RDROOM(2);
	rd[1] = *sp;
	rd[2] = tos;
	rd += 2;
	tos = sp[-1];
	sp -= 2;
	NEXT;
L_QDO:
	NEED(2);
	if (*sp == tos) {
		tos = sp[-1];
		sp -= 2;
		ip = (void *const *)*ip;
		NEXT;
	}
	RDROOM(2);
	rd[1] = *sp;
	rd[2] = tos;
	rd += 2;
	tos = sp[-1];
	sp -= 2;
	ip++;
	NEXT;
L_LOOP:
	RDNEED(2);
	rd[0] = (cell)((ucell)rd[0] + 1);	/* indices wrap, as the standard's +LOOP */
	if (rd[0] != rd[-1]) {
		ip = (void *const *)*ip;
		STEP();
	} else {
		rd -= 2;
		ip++;
	}
	NEXT;
L_PLOOP:		/* ends when the index crosses the limit-1/limit boundary */
	NEED(1);
	RDNEED(2);
	{
		ucell o = (ucell)rd[0] - (ucell)rd[-1], n = (ucell)tos;
		POP();
		rd[0] = (cell)((ucell)rd[0] + n);
		if ((cell)((o ^ (o + n)) & (o ^ n)) < 0) {
			rd -= 2;
			ip++;
		} else {
			ip = (void *const *)*ip;
			STEP();
		}
	}
	NEXT;
L_LEAVE:
	RDNEED(2);
	rd -= 2;
	ip = (void *const *)*ip;
	NEXT;
L_DOESCODE:		/* (does>) target defining-xt: give the latest word this behaviour, exit */
	{
		struct fth_word *lw = &words[vm->latest];
		if (lw->kind != WK_CREATE && lw->kind != WK_DOES)
			THROW(-31);
		lw->code = (cell *)ip[0];
		lw->does_xt = (cell)ip[1];
		lw->kind = WK_DOES;
		lw->cfa = &&L_DODOES;
	}
	ip = (void *const *)*rs--;
	NEXT;
L_VALUE:
	ROOM(1);
	PUSH(*(cell *)*ip++);
	NEXT;
L_TOVALUE:
	NEED(1);
	*(cell *)*ip++ = tos;
	POP();
	NEXT;
L_HALT:
	SAVE();
	vm->level--;
	return 0;
L_CATCHEND:
	vm->ncatch--;
	ip = (void *const *)*rs--;
	ROOM(1);
	PUSH(0);
	NEXT;

	/* ---- stack ---- */
L_DUP:
	NEED(1);
	ROOM(1);
	PUSH(tos);
	NEXT;
L_DROP:
	NEED(1);
	POP();
	NEXT;
L_SWAP:
	NEED(2);
	t = *sp;
	*sp = tos;
	tos = t;
	NEXT;
L_OVER:
	NEED(2);
	ROOM(1);
	PUSH(sp[0]);
	NEXT;
L_ROT:
	NEED(3);
	t = sp[-1];
	sp[-1] = sp[0];
	sp[0] = tos;
	tos = t;
	NEXT;
L_MROT:
	NEED(3);
	t = tos;
	tos = sp[0];
	sp[0] = sp[-1];
	sp[-1] = t;
	NEXT;
L_NIP:
	NEED(2);
	sp--;
	NEXT;
L_TUCK:
	NEED(2);
	ROOM(1);
	t = *sp;
	*sp = tos;
	*++sp = t;
	NEXT;
L_QDUP:
	NEED(1);
	if (tos) {
		ROOM(1);
		PUSH(tos);
	}
	NEXT;
L_TWODUP:
	NEED(2);
	ROOM(2);
	sp[1] = tos;
	sp[2] = sp[0];
	sp += 2;
	NEXT;
L_TWODROP:
	NEED(2);
	tos = sp[-1];
	sp -= 2;
	NEXT;
L_TWOSWAP:
	NEED(4);
	t = sp[-2];
	u = sp[-1];
	sp[-2] = sp[0];
	sp[-1] = tos;
	sp[0] = t;
	tos = u;
	NEXT;
L_TWOOVER:
	NEED(4);
	ROOM(2);
	sp[1] = tos;
	sp[2] = sp[-2];
	tos = sp[-1];
	sp += 2;
	NEXT;
L_PICK:
	NEED(1);
	if ((ucell)tos >= (ucell)(sp - s0))
		goto underflow;
	tos = sp[-tos];
	NEXT;
L_ROLL:
	NEED(1);
	if ((ucell)tos >= (ucell)(sp - s0))
		goto underflow;
	t = tos;
	tos = sp[-t];
	memmove(sp - t, sp - t + 1, t * sizeof(cell));
	sp--;
	NEXT;
L_DEPTH:
	ROOM(1);
	t = sp + 1 - s0;
	PUSH(t);
	NEXT;
L_TOR:
	NEED(1);
	RDROOM(1);
	*++rd = tos;
	POP();
	NEXT;
L_RFROM:
	RDNEED(1);
	ROOM(1);
	PUSH(*rd--);
	NEXT;
L_RFETCH:
	RDNEED(1);
	ROOM(1);
	PUSH(*rd);
	NEXT;
L_TWOTOR:
	NEED(2);
	RDROOM(2);
	rd[1] = *sp;
	rd[2] = tos;
	rd += 2;
	tos = sp[-1];
	sp -= 2;
	NEXT;
L_TWORFROM:
	RDNEED(2);
	ROOM(2);
	sp[1] = tos;
	sp[2] = rd[-1];
	tos = rd[0];
	sp += 2;
	rd -= 2;
	NEXT;
L_TWORFETCH:
	RDNEED(2);
	ROOM(2);
	sp[1] = tos;
	sp[2] = rd[-1];
	tos = rd[0];
	sp += 2;
	NEXT;
L_RDROP:
	RDNEED(1);
	rd--;
	NEXT;

	/* ---- arithmetic (wrapping, as two's complement cells) ---- */
#define BINOP(expr) NEED(2); t = *sp--; tos = (expr); NEXT
L_PLUS:	BINOP((cell)((ucell)t + (ucell)tos));
L_MINUS: BINOP((cell)((ucell)t - (ucell)tos));
L_STAR:	BINOP((cell)((ucell)t * (ucell)tos));
L_AND:	BINOP(t & tos);
L_OR:	BINOP(t | tos);
L_XOR:	BINOP(t ^ tos);
L_EQ:	BINOP(FTH_FLAG(t == tos));
L_NE:	BINOP(FTH_FLAG(t != tos));
L_LT:	BINOP(FTH_FLAG(t < tos));
L_GT:	BINOP(FTH_FLAG(t > tos));
L_ULT:	BINOP(FTH_FLAG((ucell)t < (ucell)tos));
L_UGT:	BINOP(FTH_FLAG((ucell)t > (ucell)tos));
L_MIN:	BINOP(t < tos ? t : tos);
L_MAX:	BINOP(t > tos ? t : tos);
L_LSHIFT: BINOP((ucell)tos >= 64 ? 0 : (cell)((ucell)t << tos));
L_RSHIFT: BINOP((ucell)tos >= 64 ? 0 : (cell)((ucell)t >> tos));
#define UNOP(expr) NEED(1); tos = (expr); NEXT
L_NEGATE: UNOP((cell)(0 - (ucell)tos));
L_ABS:	UNOP(tos < 0 ? (cell)(0 - (ucell)tos) : tos);
L_ONEP:	UNOP((cell)((ucell)tos + 1));
L_ONEM:	UNOP((cell)((ucell)tos - 1));
L_TWOSTAR: UNOP((cell)((ucell)tos << 1));
L_TWOSLASH: UNOP(tos >> 1);
L_INVERT: UNOP(~tos);
L_CELLS: UNOP((cell)((ucell)tos << 3));
L_CELLP: UNOP((cell)((ucell)tos + 8));
L_CHARP: UNOP((cell)((ucell)tos + 1));
L_CHARS: NEED(1); NEXT;
L_ZEQ:	UNOP(FTH_FLAG(tos == 0));
L_ZNE:	UNOP(FTH_FLAG(tos != 0));
L_ZLT:	UNOP(FTH_FLAG(tos < 0));
L_ZGT:	UNOP(FTH_FLAG(tos > 0));
L_STOD:	NEED(1); ROOM(1); PUSH(tos < 0 ? -1 : 0); NEXT;
L_WITHIN:		/* ( n1 n2 n3 -- flag ) n2 <= n1 < n3, with wrap-around */
	NEED(3);
	t = sp[-1];
	tos = FTH_FLAG((ucell)t - (ucell)sp[0] < (ucell)tos - (ucell)sp[0]);
	sp -= 2;
	NEXT;
L_SLASH:
	NEED(2);
	if ((err = (cell)floored_div(*sp, tos, &t, &u)))
		goto throw;
	sp--;
	tos = t;
	NEXT;
L_MOD:
	NEED(2);
	if ((err = (cell)floored_div(*sp, tos, &t, &u)))
		goto throw;
	sp--;
	tos = u;
	NEXT;
L_SLMOD:
	NEED(2);
	if ((err = (cell)floored_div(*sp, tos, &t, &u)))
		goto throw;
	*sp = u;
	tos = t;
	NEXT;
L_STSL:
	NEED(3);
	if ((err = (cell)floored_div((dcell)sp[-1] * sp[0], tos, &t, &u)))
		goto throw;
	sp -= 2;
	tos = t;
	NEXT;
L_STSLMOD:
	NEED(3);
	if ((err = (cell)floored_div((dcell)sp[-1] * sp[0], tos, &t, &u)))
		goto throw;
	sp--;
	*sp = u;
	tos = t;
	NEXT;
L_UMSTAR:
	NEED(2);
	{
		udcell p = (udcell)(ucell)*sp * (ucell)tos;
		*sp = (cell)(ucell)p;
		tos = (cell)(ucell)(p >> 64);
	}
	NEXT;
L_MSTAR:
	NEED(2);
	{
		dcell p = (dcell)*sp * tos;
		*sp = (cell)(ucell)p;
		tos = (cell)((udcell)p >> 64);
	}
	NEXT;
L_UMSLMOD:		/* ( ud u1 -- urem uquot ) */
	NEED(3);
	{
		udcell n = (udcell)DCELL(sp[0], sp[-1]);
		if (tos == 0)
			THROW(-10);
		udcell q = n / (ucell)tos;
		if (q >> 64)
			THROW(-11);
		sp[-1] = (cell)(ucell)(n % (ucell)tos);
		tos = (cell)(ucell)q;
		sp--;
	}
	NEXT;
L_FMSLMOD:
	NEED(3);
	if ((err = (cell)floored_div(DCELL(sp[0], sp[-1]), tos, &t, &u)))
		goto throw;
	sp[-1] = u;
	tos = t;
	sp--;
	NEXT;
L_SMSLREM:
	NEED(3);
	if ((err = (cell)symmetric_div(DCELL(sp[0], sp[-1]), tos, &t, &u)))
		goto throw;
	sp[-1] = u;
	tos = t;
	sp--;
	NEXT;
L_DPLUS:
	NEED(4);
	{
		udcell r = (udcell)DCELL(sp[-1], sp[-2]) + (udcell)DCELL(tos, sp[0]);
		sp[-2] = (cell)(ucell)r;
		tos = (cell)(ucell)(r >> 64);
		sp -= 2;
	}
	NEXT;
L_DMINUS:
	NEED(4);
	{
		udcell r = (udcell)DCELL(sp[-1], sp[-2]) - (udcell)DCELL(tos, sp[0]);
		sp[-2] = (cell)(ucell)r;
		tos = (cell)(ucell)(r >> 64);
		sp -= 2;
	}
	NEXT;
L_DNEGATE:
	NEED(2);
	{
		udcell r = 0 - (udcell)DCELL(tos, sp[0]);
		sp[0] = (cell)(ucell)r;
		tos = (cell)(ucell)(r >> 64);
	}
	NEXT;

	/* ---- memory: every access checked against the data space ---- */
L_FETCH:
	NEED(1);
	CHECK(tos, 8);
	memcpy(&tos, (void *)tos, 8);
	NEXT;
L_STORE:
	NEED(2);
	CHECK(tos, 8);
	memcpy((void *)tos, sp, 8);
	tos = sp[-1];
	sp -= 2;
	NEXT;
L_CFETCH:
	NEED(1);
	CHECK(tos, 1);
	tos = *(unsigned char *)tos;
	NEXT;
L_CSTORE:
	NEED(2);
	CHECK(tos, 1);
	*(char *)tos = (char)*sp;
	tos = sp[-1];
	sp -= 2;
	NEXT;
L_PSTORE:
	NEED(2);
	CHECK(tos, 8);
	memcpy(&t, (void *)tos, 8);
	t = (cell)((ucell)t + (ucell)*sp);
	memcpy((void *)tos, &t, 8);
	tos = sp[-1];
	sp -= 2;
	NEXT;
L_TWOFETCH:		/* x2 at a-addr, x1 in the next cell */
	NEED(1);
	ROOM(1);
	CHECK(tos, 16);
	t = tos;
	memcpy(++sp, (char *)t + 8, 8);
	memcpy(&tos, (void *)t, 8);
	NEXT;
L_TWOSTORE:
	NEED(3);
	CHECK(tos, 16);
	memcpy((void *)tos, sp, 8);
	memcpy((char *)tos + 8, sp - 1, 8);
	tos = sp[-2];
	sp -= 3;
	NEXT;
L_CNT:
	NEED(1);
	ROOM(1);
	CHECK(tos, 1);
	t = *(unsigned char *)tos;
	*++sp = tos + 1;
	tos = t;
	NEXT;

	/* ---- control ---- */
L_EXECUTE:
	NEED(1);
	t = tos;
	POP();
	if (!fth_xt_ok(vm, t))
		THROW(AFD_THROW_BAD_XT);
	w = &words[t];
	goto *w->cfa;
L_I:
	RDNEED(2);
	ROOM(1);
	PUSH(rd[0]);
	NEXT;
L_J:
	RDNEED(4);
	ROOM(1);
	PUSH(rd[-2]);
	NEXT;
L_UNLOOP:
	RDNEED(2);
	rd -= 2;
	NEXT;
L_CATCH:
	NEED(1);
	t = tos;
	if (!fth_xt_ok(vm, t))
		THROW(AFD_THROW_BAD_XT);
	if (vm->ncatch >= FTH_MAX_CATCH)
		THROW(-53);
	if (rs >= rslimit)
		goto rsoverflow;
	{
		struct fth_catch *c = &vm->catches[vm->ncatch++];
		c->sp = sp;	/* memory form of the stack without xt */
		c->rd = rd;
		c->rs = rs;
		c->ip = (void **)ip;
		c->level = vm->level;
		c->nsrc = vm->nsrc;
	}
	POP();
	*++rs = (void *)ip;
	ip = catch_end_seq;
	w = &words[t];
	goto *w->cfa;
L_THROW:
	NEED(1);
	t = tos;
	POP();
	if (t == 0)
		NEXT;
	if (t == -2)
		vm->abortlen = 0;	/* only ABORT" itself carries a message */
	err = t;
	goto throw;

	/* ---- superinstructions (super.def): fused sequences, same checks as their parts ---- */
S_LITPLUS:
	NEED(1);
	tos = (cell)((ucell)tos + (ucell)*ip++);
	NEXT;
S_LITSTAR:
	NEED(1);
	tos = (cell)((ucell)tos * (ucell)*ip++);
	NEXT;
S_LITAND:
	NEED(1);
	tos &= (cell)*ip++;
	NEXT;
S_LITFETCH:
	ROOM(1);
	t = (cell)*ip++;
	CHECK(t, 8);
	*++sp = tos;
	memcpy(&tos, (void *)t, 8);
	NEXT;
S_LITSTORE:
	NEED(1);
	t = (cell)*ip++;
	CHECK(t, 8);
	memcpy((void *)t, &tos, 8);
	POP();
	NEXT;
S_LITPSTORE:
	NEED(1);
	t = (cell)*ip++;
	CHECK(t, 8);
	memcpy(&u, (void *)t, 8);
	u = (cell)((ucell)u + (ucell)tos);
	memcpy((void *)t, &u, 8);
	POP();
	NEXT;
S_CELLSPLUS:
	NEED(2);
	tos = (cell)((ucell)*sp-- + ((ucell)tos << 3));
	NEXT;
S_ICELLSPLUS:
	NEED(1);
	RDNEED(2);
	tos = (cell)((ucell)tos + ((ucell)rd[0] << 3));
	NEXT;
S_LITICELLSPLUS:
	ROOM(1);
	RDNEED(2);
	PUSH((cell)((ucell)*ip + ((ucell)rd[0] << 3)));
	ip++;
	NEXT;
S_DUPFETCH:
	NEED(1);
	ROOM(1);
	CHECK(tos, 8);
	*++sp = tos;
	memcpy(&tos, (void *)tos, 8);
	NEXT;
S_DUPBR:
	NEED(1);
	if (tos == 0) {
		ip = (void *const *)*ip;
		STEP();
	} else {
		ip++;
	}
	NEXT;
#define BRANCH_UNLESS(cond) \
	if (cond) { ip++; } else { ip = (void *const *)*ip; STEP(); } \
	NEXT
#define CMPBR(op) \
	NEED(2); t = *sp; u = tos; tos = sp[-1]; sp -= 2; BRANCH_UNLESS(op)
S_BR_LT: CMPBR(t < u);
S_BR_GT: CMPBR(t > u);
S_BR_EQ: CMPBR(t == u);
S_BR_NE: CMPBR(t != u);
S_BR_ULT: CMPBR((ucell)t < (ucell)u);
S_BR_UGT: CMPBR((ucell)t > (ucell)u);
#define ZBR(op) NEED(1); t = tos; POP(); BRANCH_UNLESS(op)
S_BR_ZEQ: ZBR(t == 0);
S_BR_ZLT: ZBR(t < 0);
S_BR_ZGT: ZBR(t > 0);
#define LCMPBR(op) NEED(1); t = tos; u = (cell)*ip++; POP(); BRANCH_UNLESS(op)
S_LBR_LT: LCMPBR(t < u);
S_LBR_GT: LCMPBR(t > u);
S_LBR_EQ: LCMPBR(t == u);
S_LBR_NE: LCMPBR(t != u);

	/* ---- faults ---- */
underflow:
	THROW(-4);
overflow:
	THROW(-3);
badaddr:
	THROW(-9);
rsoverflow:
	THROW(-5);
rdunderflow:
	THROW(-6);
throw:
	if (vm->ncatch > 0 && vm->catches[vm->ncatch - 1].level == vm->level) {
		struct fth_catch *c = &vm->catches[--vm->ncatch];
		vm->errset = 0;	/* caught: a later error is recorded afresh */
		vm->errdetail[0] = 0;
		sp = c->sp;
		tos = err;
		rd = c->rd;
		rs = c->rs;
		ip = c->ip;
		NEXT;
	}
	SAVE();
	vm->level--;
	return err == (int)err ? (int)err : -24;	/* uncaught: the C API speaks int */
}
