/* vm.h: the engine's internal table of contents.
 *
 * Memory model. Three regions, and only the first is reachable from Forth:
 *   data space  one block [mem, mem+memsize): HERE grows up from the bottom, transient
 *               buffers (input lines, string ring, WORD, HOLD, PAD) sit at the top and the
 *               input line stack grows down from them. Forth addresses are host addresses
 *               inside this block; every access is range checked (throw -9).
 *   code space  threaded code, written only by the compiler (never by ! or C!).
 *   headers     struct fth_word[], indexed by execution token.
 * Return addresses live on their own stack (rs), apart from >R data and loop parameters
 * (the r-data stack, rd), so no Forth program can forge a return address.
 */
#ifndef AFD_FORTH_VM_H
#define AFD_FORTH_VM_H

#include <stdbool.h>
#include <string.h>
#include <afd/forth.h>

#ifndef AFD_VERSION
#define AFD_VERSION "0.1.0"
#endif

typedef afd_cell cell;
typedef afd_ucell ucell;
typedef __int128 dcell;
typedef unsigned __int128 udcell;

#define FTH_TRUE ((cell)-1)
#define FTH_FALSE ((cell)0)
#define FTH_FLAG(x) ((x) ? FTH_TRUE : FTH_FALSE)
/* A native entry returns an int: a THROW code that does not fit is left in vm->native_throw */
#define FTH_NATIVE_THROW INT32_MIN

/* ---- the read-back form: what every compiler (threaded, QBE, eBPF) reads ---- */
enum fth_opkind {
	OP_PRIM,	/* arg: primitive number (enum fth_prim) */
	OP_CALL,	/* arg: xt called */
	OP_LIT,		/* arg: the value pushed */
	OP_BRANCH,	/* arg: target op index */
	OP_0BRANCH,	/* arg: target op index, taken when the flag is zero */
	OP_DO,		/* ( limit index -- ) */
	OP_QDO,		/* arg: op index after the loop, taken when limit = index */
	OP_LOOP,	/* arg: op index of the loop body */
	OP_PLOOP,	/* +LOOP; arg: op index of the loop body */
	OP_LEAVE,	/* arg: op index after the loop */
	OP_EXIT,
	OP_DOES,	/* arg: op index where the DOES> code starts */
	OP_VALUE,	/* arg: data address of a VALUE: push its contents */
	OP_TOVALUE,	/* arg: data address of a VALUE: store into it */
};

struct fth_op {
	uint8_t kind;		/* enum fth_opkind */
	uint8_t pad;
	uint16_t file;		/* index into vm->files */
	uint32_t line;
	uint32_t col;
	uint32_t pad2;
	cell arg;
};

/* ---- primitives executed inline by the inner interpreter ---- */
enum fth_prim {
#define P(id, name, effect) PRIM_##id,
#include "prims.def"
#undef P
	PRIM_COUNT
};
enum fth_super {
#define S(id, nargs, seq) SUP_##id,
#include "super.def"
#undef S
	SUP_COUNT
};
struct fth_prim_info {
	const char *name, *effect;
};
extern const struct fth_prim_info fth_prims[PRIM_COUNT];

/* ---- dictionary ---- */
enum fth_kind {
	WK_PRIM,	/* pfa: primitive number */
	WK_COLON,	/* code: threaded code; ops: read-back form */
	WK_CFUNC,	/* cfn(vm, cctx) */
	WK_CREATE,	/* pfa: data address */
	WK_CONST,	/* pfa: the value */
	WK_VALUE,	/* pfa: data address of the value */
	WK_DEFER,	/* pfa: data address of the xt */
	WK_DOES,	/* pfa: data address; code: threaded DOES> code of does_xt */
};

enum {
	WF_IMMEDIATE = 1,
	WF_HIDDEN = 2,		/* being defined, not found yet */
	WF_COMPILE_ONLY = 4,	/* interpreting it throws -14 */
};

struct fth_word {
	void *volatile cfa;	/* code field: a label of the inner interpreter (JIT swaps it) */
	cell *code;		/* threaded code (colon, does) */
	cell pfa;
	const char *name;
	uint8_t len, flags, kind, pad;
	int32_t next;		/* previous word in the same hash bucket, -1 at the end */
	afd_prim_fn cfn;
	void *cctx;
	const char *effect;	/* stack effect: static for primitives, else == doc */
	char *doc;		/* owned: a colon word's leading ( stack comment ) */
	struct fth_op *ops;	/* read-back form (colon words and DOES> parents) */
	uint32_t nops;
	cell does_xt;		/* WK_DOES: the defining word whose DOES> code runs */
	afd_prim_fn native;	/* native entry once compiled (QBE backend): see fth_set_native */
	void *nctx;
	uint16_t file;		/* where it was defined */
	uint32_t line;
};

/* A C-coded word registered at VM creation (tables live in the files that define them). */
struct fth_cword {
	const char *name, *effect;
	afd_prim_fn fn;
	uint8_t flags;
	void *ctx;
};

/* ---- input sources ---- */
enum fth_srckind { SRC_TERMINAL, SRC_TEXT, SRC_EVALUATE };
struct fth_source {
	int kind;
	cell id;		/* SOURCE-ID */
	cell buf, len;		/* the current line (data space) */
	cell in;		/* >IN, saved while a nested source runs */
	cell bufcap;		/* TEXT/TERMINAL: capacity of the line buffer */
	const char *text;	/* TEXT: host copy of the whole text */
	size_t textlen, off;	/* TEXT: offset of the next line */
	size_t lineoff;		/* TEXT: offset of the current line */
	uint32_t line;		/* current line number */
	uint16_t file;		/* index into vm->files */
	cell saved_top;		/* vm->top to restore when the source ends */
};

struct fth_catch {
	cell *sp;		/* data stack at CATCH (memory form, xt popped) */
	cell *rd;
	void **rs;
	void **ip;		/* continuation after CATCH */
	int level;		/* fth_run nesting level that owns it */
	int nsrc;		/* input source depth at CATCH */
};

#define FTH_MAX_SOURCES 64
#define FTH_MAX_CATCH 256
#define FTH_MAX_LEVEL 64
#define FTH_MAX_FILES 4096
#define FTH_HASH 4096

/* Fixed cells at the bottom of the data space (Forth reads them with @). */
struct fth_sysvars {
	cell state, base, in, span, hld, blk;
};

struct afd_vm {
	/* data space */
	char *mem;
	size_t memsize;
	cell here;		/* HERE, an address */
	cell top;		/* lowest byte used by transient buffers */
	cell dict0;		/* first free address after the system variables */
	struct fth_sysvars *sys;
	cell pad, holdbuf, wordbuf, ring;	/* fixed transient buffers */
	cell ringsize, ringpos;
	/* stacks (memory form: sp points at the top item, s0 below the first) */
	cell *sp, *s0, *slimit;
	void *sbase, *rdbase, *rsbase;	/* allocations behind the stacks */
	cell *rd, *rd0, *rdlimit;
	void **rs, **rs0, **rslimit;
	/* threaded code */
	cell *code, *codehere, *codelimit;
	/* dictionary */
	struct fth_word *words;
	cell nwords, maxwords;
	int32_t hash[FTH_HASH];
	cell latest;		/* most recent definition (IMMEDIATE, DOES>) */
	cell prelude_words;	/* words defined by the engine itself */
	cell xt_compile_comma, xt_defer_store, xt_defer_fetch, xt_type, xt_abort_quote;
	/* compiler */
	struct fth_op *ops;	/* the definition being compiled */
	uint32_t nops, capops;
	cell defining;		/* xt being compiled, -1 when none */
	int64_t last_string;	/* op index of the last compiled string literal, -1 */
	int32_t *leaves;	/* pending LEAVE/?DO op indices, -1 marks a DO */
	uint32_t nleaves, capleaves;
	/* input */
	struct fth_source src[FTH_MAX_SOURCES];
	int nsrc;
	char *files[FTH_MAX_FILES];
	int nfiles;
	const char *tok;	/* the token being interpreted, for errors */
	size_t toklen;
	uint32_t tokline, tokcol;
	uint16_t tokfile;
	/* execution */
	struct fth_catch catches[FTH_MAX_CATCH];
	int ncatch;
	int level;		/* nesting of fth_run */
	int64_t steps, max_steps;
	/* output */
	char out[4096];
	size_t nout;
	struct afd_opts opts;
	/* errors */
	struct afd_error err;
	int errset;		/* err describes the error now propagating */
	char errdetail[200];	/* what the message is about (a file's path), or "" */
	char abortmsg[128];
	cell abortlen;
	/* top-level sources, for afd_history */
	struct fth_hist { char *name, *text; size_t len; } *hist;
	int nhist, caphist;
	bool nohist;
	/* REQUIRED: files already included */
	char **included;
	int nincluded, capincluded;
	struct fth_jit *jit;	/* the QBE JIT's state (src/jit), NULL when none */
	cell native_throw;	/* a native entry returning FTH_NATIVE_THROW threw this cell */
	cell native_ret[8];	/* what a compiled word's body leaves (src/jit) */
	uint32_t *jit_counts;	/* calls of each colon word, counted by L_DOCOL when the JIT */
	uint32_t jit_hot_at;	/* wants them (else NULL); jit_hot() when one reaches this */
};

/* ---- vm.c ---- */
static inline bool fth_range_ok(const afd_vm *vm, cell a, ucell n)
{
	ucell off = (ucell)a - (ucell)vm->mem;
	return off <= vm->memsize && n <= vm->memsize - off;
}
int fth_push(afd_vm *vm, cell v);
int fth_pop(afd_vm *vm, cell *v);
int fth_need(afd_vm *vm, int n);		/* -4 unless depth >= n */
void fth_type(afd_vm *vm, const char *s, size_t n);
void fth_emit(afd_vm *vm, int c);
void fth_printf(afd_vm *vm, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int fth_allot(afd_vm *vm, cell n);
int fth_comma(afd_vm *vm, cell v);
cell fth_transient(afd_vm *vm, const char *s, size_t n);	/* copy into the string ring */
void fth_reset(afd_vm *vm);			/* after an uncaught error */
void fth_set_error(afd_vm *vm, int code);

/* ---- dict.c ---- */
cell fth_find(afd_vm *vm, const char *name, size_t len);	/* xt or -1 */
cell fth_header(afd_vm *vm, const char *name, size_t len, int kind);	/* xt or throw code */
void fth_reveal(afd_vm *vm, cell xt);
void fth_register_table(afd_vm *vm, const struct fth_cword *t);
int fth_dict_init(afd_vm *vm);
void fth_forget_to(afd_vm *vm, cell nwords, cell here, cell *codehere);
/* xt 0 is reserved, so 0 can mean "no word" (FIND-NAME, DEFER before IS). */
static inline bool fth_xt_ok(const afd_vm *vm, cell xt) { return (ucell)xt - 1 < (ucell)vm->nwords - 1; }

/* ---- inner.c ---- */
int fth_run(afd_vm *vm, cell xt);		/* execute xt; 0 or uncaught THROW code */
void *const *fth_labels(void);			/* label of each primitive, PRIM_COUNT long */
void *fth_kind_label(int kind);			/* code field label for a word kind */
void *const *fth_super_labels(void);		/* label of each superinstruction */
/* Replace a colon word's entry point with native code, or back (fn NULL), atomically: a
 * caller on the VM's thread sees the old or the new entry, never a mix. Safe to call from
 * another thread (the JIT's) while the VM runs. Returns 0 or -EINVAL. */
int fth_set_native(afd_vm *vm, cell xt, afd_prim_fn fn, void *ctx);
extern void *fth_label_lit, *fth_label_call, *fth_label_branch, *fth_label_0branch,
	*fth_label_do, *fth_label_qdo, *fth_label_loop, *fth_label_ploop, *fth_label_leave,
	*fth_label_exit, *fth_label_does, *fth_label_value, *fth_label_tovalue;

/* ---- compile.c ---- */
int fth_begin_colon(afd_vm *vm, const char *name, size_t len, bool noname);
int fth_emit_op(afd_vm *vm, int kind, cell arg);
int fth_compile_xt(afd_vm *vm, cell xt);	/* COMPILE, */
int fth_end_colon(afd_vm *vm);
int fth_unfinished(afd_vm *vm, void *ctx);	/* entry of a definition before its ; */

/* ---- threaded.c ---- */
int fth_translate(afd_vm *vm, struct fth_word *w, const struct fth_op *ops, uint32_t n);
void fth_abandon_colon(afd_vm *vm);
extern const struct fth_cword fth_compile_words[];

/* ---- outer.c ---- */
int fth_interpret(afd_vm *vm);			/* the current source until it is exhausted */
int fth_parse_name(afd_vm *vm, const char **s, size_t *n);	/* next blank-delimited token */
int fth_parse(afd_vm *vm, char delim, const char **s, size_t *n);
int fth_evaluate(afd_vm *vm, cell addr, cell len);
int fth_compile_string(afd_vm *vm, const char *s, size_t n);
void fth_mark_parsed(afd_vm *vm, const char *s, size_t n);	/* errors name it */	/* compiled ( -- c-addr u ) */
int fth_include_file(afd_vm *vm, const char *path, size_t len);
extern const struct fth_cword fth_outer_words[];

/* ---- number.c ---- */
/* 0 and 1 or 2 cells in out[], 1 if not a number, or a THROW code for malformed literals. */
int fth_number(afd_vm *vm, const char *s, size_t n, cell out[2], int *ncells);
size_t fth_ip_to_str(ucell ip, char buf[16]);
extern const struct fth_cword fth_number_words[];

/* ---- words.c, tools.c ---- */
extern const struct fth_cword fth_core_words[];
extern const struct fth_cword fth_tools_words[];

/* ---- src/jit (doc/jit.md) ---- */
int jit_attach(afd_vm *vm);			/* mode from AFD_JIT */
void jit_detach(afd_vm *vm);
#define FTH_JIT_HOT 1000			/* calls that make a word hot (AFD_JIT=auto) */
void jit_hot(afd_vm *vm, cell xt);		/* on the VM's thread, when a count reaches it */
extern const struct fth_cword jit_words[];

#endif
