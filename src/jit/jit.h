/* jit.h: the JIT's table of contents (doc/jit.md).
 *
 * A colon word's read-back form (struct fth_op[]) -> QBE IL (qbe.c) -> `qbe` -> `as` -> an
 * ELF relocatable object in memory -> our own loader (elf.c) -> native code swapped in with
 * fth_set_native (jit.c).
 *
 * Native calling convention: every compiled word is `int fn(afd_vm *vm, void *ctx)`, the
 * afd_prim_fn the inner interpreter already calls at L_DONATIVE. vm is the context pointer:
 * compiled code reaches the data stack (vm->sp, memory form), its bounds, the data space
 * (vm->mem, vm->memsize) and the step budget through it, at offsets baked into the IL. The
 * stack is in memory at word boundaries; inside a word its items are IL temporaries. The
 * return value is 0 or a THROW code, which the caller (compiled or L_DONATIVE) propagates. */
#ifndef AFD_JIT_H
#define AFD_JIT_H

#include <stdio.h>
#include "forth/vm.h"

enum jit_mode { JIT_OFF, JIT_AUTO, JIT_ALWAYS };

/* ---- qbe.c: analysis and IL ---- */
struct jit_buf { char *s; size_t n, cap; };
void jit_buf_printf(struct jit_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Why a word cannot be compiled, or NULL when it can. */
const char *jit_check(afd_vm *vm, cell xt);
/* Append the IL of the compilable words xts[0..n) (calls between them are direct; calls to
 * other compiled words use the symbol jit_sym names). 0 or a negative errno. */
int jit_emit_il(afd_vm *vm, const cell *xts, int n, struct jit_buf *out);
void jit_sym(afd_vm *vm, cell xt, char *buf, size_t cap);	/* "w42_fib" */
cell jit_sym_xt(const char *name);		/* the xt in such a name, or -1 */

/* ---- elf.c: a loader for x86_64 ELF relocatable objects ---- */
struct jit_image {
	void *base;
	size_t size;
	struct jit_image *next;
};
typedef void *(*jit_resolve_fn)(void *ctx, const char *name);
/* Map obj's allocated sections, resolve undefined symbols through resolve, apply the
 * relocations, leave the code read-only and executable. For each defined global symbol,
 * found(ctx, name, address) is called. 0 or a negative errno (why in err). */
int jit_load_elf(const void *obj, size_t len, jit_resolve_fn resolve,
		 void (*found)(void *ctx, const char *name, void *addr), void *ctx,
		 struct jit_image **img, char *err, size_t errcap);
void jit_unload(struct jit_image *img);	/* unmaps it: no code of it may run any more */

/* ---- jit.c: pipeline, modes, words ---- */
int jit_attach(afd_vm *vm);		/* mode from AFD_JIT */
void jit_detach(afd_vm *vm);
/* Compile xts (and the compilable words they call) in one batch: count of words now native,
 * or a negative errno / THROW code. */
int jit_compile(afd_vm *vm, const cell *xts, int n);
int jit_emit_file(afd_vm *vm, const char *path, FILE *out);	/* afd --emit-qbe */

#endif
