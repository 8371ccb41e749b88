/* vm.c: creating a VM, its memory regions and stacks, output, and error records. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include "vm.h"

#define PAD_SIZE 1024
#define HOLD_SIZE 512
#define WORD_SIZE 260
#define RING_SIZE 16384
#define STACK_GUARD 8

extern const struct { const char *name; const char *text; } fth_prelude[];

static void *reserve(size_t bytes)
{
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

static void *stack_alloc(int cells, void **base)
{
	*base = calloc((size_t)cells + 2 * STACK_GUARD + 1, sizeof(cell));
	return *base ? (char *)*base + STACK_GUARD * sizeof(cell) : NULL;
}

static void defaults(struct afd_opts *o, const struct afd_opts *in)
{
	memset(o, 0, sizeof(*o));
	if (in)
		memcpy(o, in, in->sz < sizeof(*o) ? in->sz : sizeof(*o));
	o->sz = sizeof(*o);
	if (!o->data_size)
		o->data_size = 1 << 20;
	if (!o->code_cells)
		o->code_cells = 1 << 20;
	if (!o->max_words)
		o->max_words = 65536;
	if (o->stack_cells <= 0)
		o->stack_cells = 1024;
	if (o->rstack_cells <= 0)
		o->rstack_cells = 1024;
}

/* Lay out the data space: system variables at the bottom, transient buffers at the top. */
static int layout(afd_vm *vm)
{
	size_t fixed = sizeof(struct fth_sysvars) + PAD_SIZE + HOLD_SIZE + WORD_SIZE + RING_SIZE;
	if (vm->opts.data_size < fixed + 4096)
		return -EINVAL;
	vm->memsize = (vm->opts.data_size + 15) & ~(size_t)15;
	vm->mem = reserve(vm->memsize);
	if (!vm->mem)
		return -ENOMEM;
	cell end = (cell)vm->mem + (cell)vm->memsize;
	vm->pad = end - PAD_SIZE;
	vm->holdbuf = vm->pad - HOLD_SIZE;
	vm->wordbuf = vm->holdbuf - WORD_SIZE;
	vm->ring = vm->wordbuf - RING_SIZE;
	vm->ringsize = RING_SIZE;
	vm->top = vm->ring;
	vm->sys = (struct fth_sysvars *)vm->mem;
	vm->dict0 = (cell)vm->mem + (cell)((sizeof(struct fth_sysvars) + 15) & ~(size_t)15);
	vm->here = vm->dict0;
	vm->sys->base = 10;
	return 0;
}

afd_vm *afd_new(const struct afd_opts *opts)
{
	afd_vm *vm = calloc(1, sizeof(*vm));
	if (!vm)
		return NULL;
	defaults(&vm->opts, opts);
	int err = layout(vm);
	if (err)
		goto fail;
	err = -ENOMEM;
	void *b;
	vm->s0 = stack_alloc(vm->opts.stack_cells, &b);
	vm->sbase = b;
	vm->rd0 = stack_alloc(vm->opts.rstack_cells, &b);
	vm->rdbase = b;
	vm->rs0 = stack_alloc(vm->opts.rstack_cells, &b);
	vm->rsbase = b;
	vm->code = reserve(vm->opts.code_cells * sizeof(cell));
	/* calloc, not mmap: leak checkers must see the names and ops the headers point to;
	 * a large calloc is lazily zeroed pages all the same */
	vm->words = calloc(vm->opts.max_words, sizeof(struct fth_word));
	if (!vm->s0 || !vm->rd0 || !vm->rs0 || !vm->code || !vm->words)
		goto fail;
	vm->slimit = vm->s0 + vm->opts.stack_cells;
	vm->rdlimit = vm->rd0 + vm->opts.rstack_cells;
	vm->rslimit = vm->rs0 + vm->opts.rstack_cells;
	vm->sp = vm->s0;
	vm->rd = vm->rd0;
	vm->rs = vm->rs0;
	vm->codehere = vm->code;
	vm->codelimit = vm->code + vm->opts.code_cells;
	vm->maxwords = (cell)vm->opts.max_words;
	vm->defining = -1;
	vm->last_string = -1;
	vm->steps = vm->max_steps = INT64_MAX;
	if ((err = fth_dict_init(vm)))
		goto fail;
	for (int i = 0; fth_prelude[i].name; i++) {
		int rc = afd_eval(vm, fth_prelude[i].text, strlen(fth_prelude[i].text),
				  fth_prelude[i].name);
		if (rc) {	/* a broken prelude is a build bug: say where, then fail */
			char msg[512];
			afd_format_error(vm, msg, sizeof(msg));
			fprintf(stderr, "afd: prelude: %s\n", msg);
			err = -EINVAL;
			goto fail;
		}
	}
	vm->prelude_words = vm->nwords;
	if ((err = jit_attach(vm)))
		goto fail;
	return vm;
fail:
	afd_free(vm);
	errno = -err;
	return NULL;
}

void afd_free(afd_vm *vm)
{
	if (!vm)
		return;
	jit_detach(vm);
	if (vm->words) {
		for (cell i = 0; i < vm->nwords; i++) {
			free((void *)vm->words[i].name);
			free(vm->words[i].ops);
			free(vm->words[i].doc);
		}
		free(vm->words);
	}
	if (vm->code)
		munmap(vm->code, vm->opts.code_cells * sizeof(cell));
	if (vm->mem)
		munmap(vm->mem, vm->memsize);
	free(vm->sbase);
	free(vm->rdbase);
	free(vm->rsbase);
	free(vm->ops);
	free(vm->leaves);
	for (int i = 0; i < vm->nfiles; i++)
		free(vm->files[i]);
	for (int i = 0; i < vm->nincluded; i++)
		free(vm->included[i]);
	free(vm->included);
	for (int i = 0; i < vm->nhist; i++) {
		free(vm->hist[i].name);
		free(vm->hist[i].text);
	}
	free(vm->hist);
	free(vm);
}

const char *afd_version(void)
{
	return AFD_VERSION;
}

/* ---- stacks ---- */
int fth_push(afd_vm *vm, cell v)
{
	if (vm->sp >= vm->slimit)
		return -3;
	*++vm->sp = v;
	return 0;
}

int fth_pop(afd_vm *vm, cell *v)
{
	if (vm->sp <= vm->s0)
		return -4;
	*v = *vm->sp--;
	return 0;
}

int fth_need(afd_vm *vm, int n)
{
	return vm->sp - vm->s0 >= n ? 0 : -4;
}

int afd_push(afd_vm *vm, afd_cell v) { return fth_push(vm, v); }
int afd_pop(afd_vm *vm, afd_cell *v) { return fth_pop(vm, v); }
int afd_depth(const afd_vm *vm) { return (int)(vm->sp - vm->s0); }

int afd_pop_string(afd_vm *vm, const char **s, size_t *len)
{
	if (vm->sp - vm->s0 < 2)
		return -4;
	cell u = vm->sp[0], a = u == 0 ? (cell)vm->mem : vm->sp[-1];
	if (u < 0 || !fth_range_ok(vm, a, (ucell)u))
		return -9;
	vm->sp -= 2;
	*s = (const char *)a;
	*len = (size_t)u;
	return 0;
}

void *afd_mem(afd_vm *vm, afd_cell addr, size_t len)
{
	return fth_range_ok(vm, addr, len) ? (void *)addr : NULL;
}

void afd_set_max_steps(afd_vm *vm, int64_t steps)
{
	vm->max_steps = steps > 0 ? steps : INT64_MAX;
}

int afd_compiling(const afd_vm *vm)
{
	return vm->sys->state != 0;
}

/* ---- data space ---- */
int fth_allot(afd_vm *vm, cell n)
{
	cell h = (cell)((ucell)vm->here + (ucell)n);
	if (n > 0 && (h > vm->top || h < vm->here))
		return -8;
	if (n < 0 && (h < vm->dict0 || h > vm->here))
		return -9;
	vm->here = h;
	return 0;
}

int fth_comma(afd_vm *vm, cell v)
{
	cell a = vm->here;
	int err = fth_allot(vm, sizeof(cell));
	if (!err)
		memcpy((void *)a, &v, sizeof(cell));
	return err;
}

cell fth_transient(afd_vm *vm, const char *s, size_t n)
{
	if ((cell)n > vm->ringsize)
		return 0;
	if (vm->ringpos + (cell)n > vm->ringsize)
		vm->ringpos = 0;
	cell a = vm->ring + vm->ringpos;
	memmove((void *)a, s, n);
	vm->ringpos = (vm->ringpos + (cell)n + 7) & ~(cell)7;
	return a;
}

/* ---- output ---- */
void afd_flush(afd_vm *vm)
{
	if (vm->nout && vm->opts.write)
		vm->opts.write(vm->opts.host, vm->out, vm->nout);
	vm->nout = 0;
}

void fth_type(afd_vm *vm, const char *s, size_t n)
{
	if (vm->nout + n > sizeof(vm->out))
		afd_flush(vm);
	if (n >= sizeof(vm->out)) {
		if (vm->opts.write)
			vm->opts.write(vm->opts.host, s, n);
		return;
	}
	memcpy(vm->out + vm->nout, s, n);
	vm->nout += n;
	if (memchr(s, '\n', n))
		afd_flush(vm);
}

void fth_emit(afd_vm *vm, int c)
{
	char ch = (char)c;
	fth_type(vm, &ch, 1);
}

void fth_printf(afd_vm *vm, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0)
		fth_type(vm, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

/* ---- errors ---- */
static const char *throw_messages[] = {
	[1] = "aborted", "aborted", "stack overflow", "stack underflow",
	"return stack overflow", "return stack underflow", "do-loops nested too deeply",
	"dictionary overflow", "invalid memory address", "division by zero",
	"result out of range", "argument type mismatch", "undefined word",
	"interpreting a compile-only word", "invalid FORGET",
	"attempt to use zero-length string as a name",
	"pictured numeric output string overflow", "parsed string overflow",
	"definition name too long", "write to a read-only location", "unsupported operation",
	"control structure mismatch", "address alignment exception",
	"invalid numeric argument", "return stack imbalance", "loop parameters unavailable",
	"invalid recursion", "user interrupt", "compiler nesting", "obsolescent feature",
	">BODY used on non-CREATEd definition", "invalid name argument",
	"block read exception", "block write exception", "invalid block number",
	"invalid file position", "file I/O exception", "non-existent file",
	"unexpected end of file", "invalid BASE for floating point conversion",
	"loss of precision", "floating-point divide by zero",
	"floating-point result out of range", "floating-point stack overflow",
	"floating-point stack underflow", "floating-point invalid argument",
	"compilation word list deleted", "invalid POSTPONE", "search-order overflow",
	"search-order underflow", "compilation word list changed",
	"control-flow stack overflow", "exception stack overflow",
	"floating-point underflow", "floating-point unidentified fault", "QUIT",
	"exception in sending or receiving a character", "[IF], [ELSE], or [THEN] exception",
	"ALLOCATE", "FREE", "RESIZE", "CLOSE-FILE", "CREATE-FILE", "DELETE-FILE",
	"FILE-POSITION", "FILE-SIZE", "FILE-STATUS", "FLUSH-FILE", "OPEN-FILE", "READ-FILE",
	"READ-LINE", "RENAME-FILE", "REPOSITION-FILE", "RESIZE-FILE", "WRITE-FILE",
	"WRITE-LINE", "malformed xchar", "SUBSTITUTE", "REPLACES",
};

static const char *system_messages[] = {
	"step budget exhausted", "bye", "invalid IPv4 literal", "invalid CIDR literal",
	"not an execution token", "nesting too deep", "cannot read file",
	"unterminated string literal", "no such item", "not allowed here",
	"the kernel refused the change",
};

const char *afd_throw_message(int code)
{
	if (code < 0 && -code < (int)(sizeof(throw_messages) / sizeof(*throw_messages)))
		return throw_messages[-code];
	if (code <= AFD_THROW_STEPS && AFD_THROW_STEPS - code <
	    (int)(sizeof(system_messages) / sizeof(*system_messages)))
		return system_messages[AFD_THROW_STEPS - code];
	return "uncaught exception";
}

void afd_set_error_detail(afd_vm *vm, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(vm->errdetail, sizeof(vm->errdetail), fmt, ap);
	va_end(ap);
}

/* Record where the error happened: the token being interpreted when it was thrown. */
void fth_set_error(afd_vm *vm, int code)
{
	struct afd_error *e = &vm->err;
	if (vm->errset)
		return;
	vm->errset = 1;
	memset(e, 0, sizeof(*e));
	e->code = code;
	if (code == -2 && vm->abortlen)
		snprintf(e->message, sizeof(e->message), "%.*s", (int)vm->abortlen, vm->abortmsg);
	else if (vm->errdetail[0])
		snprintf(e->message, sizeof(e->message), "%s: %.200s", afd_throw_message(code),
			 vm->errdetail);
	else
		snprintf(e->message, sizeof(e->message), "%s", afd_throw_message(code));
	if (vm->tok) {
		snprintf(e->file, sizeof(e->file), "%s",
			 vm->tokfile < vm->nfiles ? vm->files[vm->tokfile] : "?");
		e->line = (int)vm->tokline;
		e->col = (int)vm->tokcol;
		size_t n = vm->toklen < sizeof(e->word) - 1 ? vm->toklen : sizeof(e->word) - 1;
		memcpy(e->word, vm->tok, n);
		e->word[n] = 0;
	}
}

const struct afd_error *afd_last_error(const afd_vm *vm)
{
	return &vm->err;
}

void afd_error_detail(afd_vm *vm, const char *detail)
{
	afd_set_error_detail(vm, "%s", detail);
}

int afd_format_error(const afd_vm *vm, char *buf, size_t cap)
{
	const struct afd_error *e = &vm->err;
	if (e->word[0])
		return snprintf(buf, cap, "%s:%d:%d: error: %s: %s", e->file, e->line, e->col,
				e->word, e->message);
	if (e->file[0] && e->line)
		return snprintf(buf, cap, "%s:%d:%d: error: %s", e->file, e->line, e->col,
				e->message);
	return snprintf(buf, cap, "error: %s", e->message);
}

/* After an uncaught error: empty stacks, no definition in progress, interpreting. */
void fth_reset(afd_vm *vm)
{
	vm->sp = vm->s0;
	vm->rd = vm->rd0;
	vm->rs = vm->rs0;
	vm->ncatch = 0;
	vm->level = 0;
	fth_abandon_colon(vm);
	vm->sys->state = 0;
}

void afd_set_output(afd_vm *vm, afd_write_fn write, void *host)
{
	afd_flush(vm);
	vm->opts.write = write;
	vm->opts.host = host;
}
