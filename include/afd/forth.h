/* forth.h: the AFD Forth engine's embedding API.
 *
 * Conventions: functions returning int give 0 (or a count / an index) on success and a
 * negative value on failure. Evaluation functions return the THROW code of an uncaught
 * exception (negative), and afd_last_error() tells where it happened. After any error the
 * VM is clean and usable: stacks are reset, compilation is abandoned, the input is closed.
 */
#ifndef AFD_FORTH_H
#define AFD_FORTH_H

#include "forth-t.h"

afd_vm *afd_new(const struct afd_opts *opts);	/* NULL on failure, errno set */
void afd_free(afd_vm *vm);
const char *afd_version(void);

/* Interpret src under the source name `name` (used in errors and for relative INCLUDEs). */
int afd_eval(afd_vm *vm, const char *src, size_t len, const char *name);
/* The same, numbering the text's lines from `line` (a host feeding a REPL line by line). */
int afd_eval_at(afd_vm *vm, const char *src, size_t len, const char *name, int line);
/* Include a file, as INCLUDED does. */
int afd_include(afd_vm *vm, const char *path);
/* Execute an execution token (from afd_find). */
int afd_execute(afd_vm *vm, afd_cell xt);
/* Execution token of a word, or -ENOENT. */
afd_cell afd_find(afd_vm *vm, const char *name, size_t len);

/* Register a C primitive; stack_effect such as "( a b -- c )" is shown by SEE.
 * Returns its execution token or a negative errno. Redefining a name shadows the old word. */
afd_cell afd_register(afd_vm *vm, const char *name, const char *stack_effect,
		      afd_prim_fn fn, void *ctx);

/* Data stack access for hosts and C primitives. push/pop return 0 or a THROW code
 * (-3 overflow, -4 underflow). */
int afd_push(afd_vm *vm, afd_cell v);
int afd_pop(afd_vm *vm, afd_cell *v);
int afd_depth(const afd_vm *vm);
/* Pop a ( c-addr u ) pair and return a host pointer to it if it lies in the data space. */
int afd_pop_string(afd_vm *vm, const char **s, size_t *len);
/* Host pointer for len bytes at Forth address addr, or NULL if outside the data space. */
void *afd_mem(afd_vm *vm, afd_cell addr, size_t len);

/* For parsing words written in C: the next blank-delimited name of the input, or the next
 * "text" literal if the input continues with a '"' (escapes decoded). Returns 0 or a THROW
 * code; *len is 0 at the end of the line. The text stays valid until the line changes. */
int afd_parse_name(afd_vm *vm, const char **s, size_t *len);
int afd_parse_string(afd_vm *vm, const char **s, size_t *len);
/* For immediate words written in C: make a word immediate; compile a string literal
 * ( -- c-addr u ) or a call into the definition being compiled. 0 or a THROW code. */
int afd_immediate(afd_vm *vm, afd_cell xt);
int afd_compile_string(afd_vm *vm, const char *s, size_t n);
int afd_compile_xt(afd_vm *vm, afd_cell xt);
/* Copy n bytes into the VM's ring of transient strings and push ( c-addr u ). */
int afd_push_string(afd_vm *vm, const char *s, size_t n);

/* Step budget for each following evaluation: calls and branches counted; 0 = unlimited.
 * When spent, the evaluation throws AFD_THROW_STEPS. */
void afd_set_max_steps(afd_vm *vm, int64_t steps);

const struct afd_error *afd_last_error(const afd_vm *vm);
/* For C primitives about to return a THROW code: what the error is about (a file's line),
 * appended to the code's message ("...: detail"). */
void afd_set_error_detail(afd_vm *vm, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* For C primitives: what the error they are about to return is about; the message reads
 * "<THROW message>: detail". */
void afd_error_detail(afd_vm *vm, const char *detail);
/* "file:line:col: error: WORD: message" into buf; returns the length it needed. */
int afd_format_error(const afd_vm *vm, char *buf, size_t cap);
/* Text of a THROW code from the standard table (or the system codes above). */
const char *afd_throw_message(int code);

/* The top-level sources evaluated so far (afd_eval texts and afd_include files, in order,
 * the one running included), so another VM can be built with the same words by evaluating
 * them again. Returns the count; fills *name, *text, *len for index i when i < count. */
int afd_history(const afd_vm *vm, int i, const char **name, const char **text, size_t *len);
/* Stop recording history (a VM that replays another's). */
void afd_set_history(afd_vm *vm, int on);

/* A hash of the dictionary and the data space below HERE: equal before and after an
 * evaluation if it changed nothing that lasts (the admin socket commits only changes). */
uint64_t afd_fingerprint(const afd_vm *vm);

/* Deliver buffered output to the write callback. */
/* Where output goes from now on (what is buffered goes to the old callback first); host is
 * also what key and readline get. */
void afd_set_output(afd_vm *vm, afd_write_fn write, void *host);
void afd_flush(afd_vm *vm);
/* Is the VM compiling (STATE non-zero)? The REPL prints "compiled" instead of "ok". */
int afd_compiling(const afd_vm *vm);

#endif
