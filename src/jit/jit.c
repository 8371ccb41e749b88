/* jit.c: the JIT pipeline, its modes and its words.
 *
 * Compiling a batch of words, in one column:
 *   closure()     the words asked for, and the compilable words they call not yet native
 *   jit_emit_il() their QBE IL, one function each (qbe.c)
 *   assemble()    qbe -t amd64_sysv | as: IL in a memfd, a pipe between the two, the object
 *                 into another memfd; no temporary files, two spawns per batch
 *   jit_load_elf()  our own loader maps the object (elf.c)
 *   publish()     fth_set_native swaps each word's entry, atomically
 * Modes (AFD_JIT): off (the default: the interpreter alone, unchanged), always (every
 * compilable word, in a batch at the end of each input line that defined some), auto (not
 * in this slice: see doc/jit.md). The word `jit` compiles one word now in any mode. */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "jit/jit.h"

extern char **environ;

struct fth_jit {
	int mode;
	cell scanned;		/* always: words below this were offered to the compiler */
	afd_prim_fn *fn;	/* per xt: the native code we gave it */
	cell nfn;
	struct jit_image *images;
	long words, batches, failed;
	double ms;		/* wall clock spent compiling */
	char err[256];
};

static double now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static bool is_native(afd_vm *vm, cell xt)
{
	struct fth_jit *J = vm->jit;
	return J && xt < J->nfn && J->fn[xt] && vm->words[xt].native == J->fn[xt] &&
	       vm->words[xt].cfa != fth_kind_label(WK_COLON);
}

/* ---- the pipeline ---- */

static int spawn(pid_t *pid, char *const argv[], int in, int out, int extra, int errfd)
{
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in, 0);
	posix_spawn_file_actions_adddup2(&fa, out, 1);
	posix_spawn_file_actions_adddup2(&fa, errfd, 2);
	if (extra >= 0)
		posix_spawn_file_actions_adddup2(&fa, extra, 3);
	int rc = posix_spawnp(pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	return -rc;
}

static int wait_ok(pid_t pid)
{
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -EPROTO;
}

/* IL -> object bytes (malloc'd). Errors of qbe or as go into J->err. */
static int assemble(struct fth_jit *J, const struct jit_buf *il, char **obj, size_t *len)
{
	int ilfd = memfd_create("afd-jit-il", MFD_CLOEXEC), objfd = memfd_create("afd-jit-o", MFD_CLOEXEC);
	int errfd = memfd_create("afd-jit-err", MFD_CLOEXEC), p[2] = { -1, -1 }, rc = -errno;
	pid_t qbe = -1, as = -1;
	if (ilfd < 0 || objfd < 0 || errfd < 0 || pipe2(p, O_CLOEXEC))
		goto out;
	rc = -EIO;
	if (write(ilfd, il->s, il->n) != (ssize_t)il->n || lseek(ilfd, 0, SEEK_SET))
		goto out;
	char *qargv[] = { "qbe", "-t", "amd64_sysv", "-", NULL };
	char *aargv[] = { "as", "--64", "-o", "/dev/fd/3", "-", NULL };
	rc = spawn(&qbe, qargv, ilfd, p[1], -1, errfd);
	if (!rc)
		rc = spawn(&as, aargv, p[0], 1, objfd, errfd);
	close(p[0]);
	close(p[1]);
	p[0] = p[1] = -1;
	int r1 = qbe > 0 ? wait_ok(qbe) : 0, r2 = as > 0 ? wait_ok(as) : 0;
	rc = rc ? rc : r1 ? r1 : r2;
	if (rc) {
		ssize_t n = pread(errfd, J->err, sizeof(J->err) - 1, 0);
		J->err[n > 0 ? n : 0] = 0;
		if (n <= 0)
			snprintf(J->err, sizeof(J->err), "qbe or as failed: %s", strerror(-rc));
		goto out;
	}
	struct stat st;
	rc = -EIO;
	if (fstat(objfd, &st) || !(*obj = malloc((size_t)st.st_size + 1)))
		goto out;
	*len = (size_t)st.st_size;
	rc = pread(objfd, *obj, *len, 0) == (ssize_t)*len ? 0 : -EIO;
out:
	for (int fd = 0, fds[] = { ilfd, objfd, errfd, p[0], p[1] }; fd < 5; fd++)
		if (fds[fd] >= 0)
			close(fds[fd]);
	return rc;
}

struct loadctx { afd_vm *vm; const cell *xts; int n; int published; };

static void *resolve(void *ctx, const char *name)
{
	struct loadctx *L = ctx;
	if (!strcmp(name, "fth_run"))
		return (void *)fth_run;
	cell xt = jit_sym_xt(name);
	return xt > 0 && is_native(L->vm, xt) ? (void *)L->vm->words[xt].native : NULL;
}

static void publish(void *ctx, const char *name, void *addr)
{
	struct loadctx *L = ctx;
	struct fth_jit *J = L->vm->jit;
	cell xt = jit_sym_xt(name);
	if (xt <= 0 || xt >= J->nfn)
		return;
	J->fn[xt] = (afd_prim_fn)addr;
	if (!fth_set_native(L->vm, xt, J->fn[xt], J))
		L->published++;
}

/* The words asked for, and the compilable colon words they call that are not native yet. */
static int closure(afd_vm *vm, const cell *xts, int n, cell **out)
{
	int cap = n + 16, k = 0;
	cell *l = malloc(cap * sizeof(*l));
	if (!l)
		return -ENOMEM;
	const char *dbg = getenv("AFD_JIT_DEBUG"), *why = NULL;
	for (int i = 0; i < n; i++)
		if (!is_native(vm, xts[i]) && !(why = jit_check(vm, xts[i])))
			l[k++] = xts[i];
		else if (dbg && *dbg == '2' && !is_native(vm, xts[i]))
			fprintf(stderr, "afd: jit: %s stays interpreted: %s\n", vm->words[xts[i]].name, why);
	for (int i = 0; i < k; i++) {
		const struct fth_word *w = &vm->words[l[i]];
		for (uint32_t o = 0; o < w->nops; o++) {
			cell c = w->ops[o].arg;
			if (w->ops[o].kind != OP_CALL || vm->words[c].kind != WK_COLON || is_native(vm, c))
				continue;
			bool have = false;
			for (int j = 0; j < k && !have; j++)
				have = l[j] == c;
			if (have || jit_check(vm, c))
				continue;
			if (k == cap) {
				cell *m = realloc(l, (cap *= 2) * sizeof(*l));
				if (!m)
					return free(l), -ENOMEM;
				l = m;
			}
			l[k++] = c;
		}
	}
	*out = l;
	return k;
}

static int ensure_table(afd_vm *vm)
{
	struct fth_jit *J = vm->jit;
	if (J->nfn >= vm->nwords)
		return 0;
	cell n = vm->maxwords;
	afd_prim_fn *f = realloc(J->fn, n * sizeof(*f));
	if (!f)
		return -ENOMEM;
	memset(f + J->nfn, 0, (n - J->nfn) * sizeof(*f));
	J->fn = f;
	J->nfn = n;
	return 0;
}

static int compile_list(afd_vm *vm, const cell *l, int k)
{
	struct fth_jit *J = vm->jit;
	struct jit_buf il = { 0 };
	char *obj = NULL;
	size_t len = 0;
	struct jit_image *img = NULL;
	struct loadctx L = { vm, l, k, 0 };
	int rc = jit_emit_il(vm, l, k, &il);
	if (!rc && !il.s)
		rc = -ENOMEM;
	if (!rc)
		rc = assemble(J, &il, &obj, &len);
	if (!rc)
		rc = jit_load_elf(obj, len, resolve, publish, &L, &img, J->err, sizeof(J->err));
	if (!rc) {
		img->next = J->images;
		J->images = img;
		rc = L.published;
	}
	free(il.s);
	free(obj);
	return rc;
}

int jit_compile(afd_vm *vm, const cell *xts, int n)
{
	struct fth_jit *J = vm->jit;
	if (!J)
		return -ENODEV;
	cell *l;
	int rc = ensure_table(vm), k;
	if (rc)
		return rc;
	if ((k = closure(vm, xts, n, &l)) <= 0)
		return k;
	double t0 = now_ms();
	rc = compile_list(vm, l, k);
	if (rc < 0 && k > 1)	/* one bad word must not keep the others interpreted */
		for (int i = 0, r; i < k; i++)
			if (!is_native(vm, l[i]) && (r = compile_list(vm, &l[i], 1)) > 0)
				rc = rc < 0 ? r : rc + r;
	if (rc < 0) {
		J->failed += k;
		if (getenv("AFD_JIT_DEBUG"))
			fprintf(stderr, "afd: jit: %s: %s\n", vm->words[l[0]].name, J->err);
	} else {
		J->words += rc;
	}
	J->batches++;
	J->ms += now_ms() - t0;
	free(l);
	return rc;
}

/* AFD_JIT=always: the words defined since the last line, in one batch. */
void jit_line(afd_vm *vm)
{
	struct fth_jit *J = vm->jit;
	if (!J || J->mode != JIT_ALWAYS)
		return;
	if (J->scanned > vm->nwords)
		J->scanned = vm->nwords;	/* FORGET or a MARKER went below it */
	if (J->scanned == vm->nwords)
		return;
	cell *xts = malloc((vm->nwords - J->scanned) * sizeof(*xts)), end = vm->nwords;
	int n = 0;
	if (!xts)
		return;
	for (cell x = J->scanned; x < vm->nwords; x++) {
		const struct fth_word *w = &vm->words[x];
		if (x == vm->defining || (w->flags & WF_HIDDEN)) {
			end = x;	/* being defined: offered when finished */
			break;
		}
		if (w->kind == WK_COLON && w->code && !is_native(vm, x))
			xts[n++] = x;
	}
	J->scanned = end;
	if (n)
		jit_compile(vm, xts, n);
	free(xts);
}

int jit_attach(afd_vm *vm)
{
	const char *m = getenv("AFD_JIT");
	int mode = !m || !*m || !strcmp(m, "off") ? JIT_OFF : !strcmp(m, "always") ? JIT_ALWAYS : JIT_AUTO;
	struct fth_jit *J = calloc(1, sizeof(*J));
	if (!J)
		return -ENOMEM;
	J->mode = mode;
	J->scanned = 1;
	vm->jit = J;
	return 0;
}

void jit_detach(afd_vm *vm)
{
	struct fth_jit *J = vm->jit;
	if (!J)
		return;
	for (struct jit_image *i = J->images, *n; i; i = n) {
		n = i->next;
		munmap(i->base, i->size);
		free(i);
	}
	free(J->fn);
	free(J);
	vm->jit = NULL;
}

/* ---- words ---- */

static int parse_word(afd_vm *vm, cell *xt)
{
	const char *s;
	size_t n;
	int err = afd_parse_name(vm, &s, &n);
	if (err)
		return err;
	if (!n)
		return -16;
	*xt = fth_find(vm, s, n);
	if (*xt < 0) {
		fth_mark_parsed(vm, s, n);
		return -13;
	}
	return 0;
}

static int p_jit(afd_vm *vm, void *c)	/* ( "name" -- ) */
{
	cell xt;
	int err = parse_word(vm, &xt);
	if (err)
		return err;
	const char *why = jit_check(vm, xt);
	if (why) {
		fth_printf(vm, "jit: %s stays interpreted: %s\n", vm->words[xt].name, why);
		return 0;
	}
	int rc = jit_compile(vm, &xt, 1);
	if (rc < 0 && vm->jit)
		fth_printf(vm, "jit: %s: %s\n", vm->words[xt].name, vm->jit->err);
	return 0;
}

static int p_jitq(afd_vm *vm, void *c)	/* ( "name" -- flag ) */
{
	cell xt;
	int err = parse_word(vm, &xt);
	return err ? err : fth_push(vm, FTH_FLAG(is_native(vm, xt)));
}

static int p_see_qbe(afd_vm *vm, void *c)	/* ( "name" -- ) */
{
	cell xt;
	int err = parse_word(vm, &xt);
	if (err)
		return err;
	const char *why = jit_check(vm, xt);
	if (why) {
		fth_printf(vm, "# %s stays interpreted: %s\n", vm->words[xt].name, why);
		return 0;
	}
	struct jit_buf il = { 0 };
	err = jit_emit_il(vm, &xt, 1, &il);
	if (!err && il.s)
		fth_type(vm, il.s, il.n);
	free(il.s);
	return err ? -21 : 0;
}

static int p_jit_stats(afd_vm *vm, void *c)	/* ( -- ) */
{
	struct fth_jit *J = vm->jit;
	if (!J)
		return 0;
	fth_printf(vm, "jit: %ld words native in %ld batches, %.1f ms (%.2f ms a word), %ld failed\n",
		   J->words, J->batches, J->ms, J->words ? J->ms / J->words : 0.0, J->failed);
	return 0;
}

const struct fth_cword jit_words[] = {
	{ "jit", "( \"name\" -- )", p_jit, 0, 0 },
	{ "jit?", "( \"name\" -- flag )", p_jitq, 0, 0 },
	{ "see-qbe", "( \"name\" -- )", p_see_qbe, 0, 0 },
	{ "jit-stats", "( -- )", p_jit_stats, 0, 0 },
	{ 0 },
};

int jit_emit_file(afd_vm *vm, const char *path, FILE *out)
{
	cell first = vm->nwords;
	int err = afd_include(vm, path);
	if (err)
		return err;
	for (cell x = first; x < vm->nwords; x++) {
		if (vm->words[x].kind != WK_COLON || jit_check(vm, x))
			continue;
		struct jit_buf il = { 0 };
		if (!jit_emit_il(vm, &x, 1, &il) && il.s)
			fwrite(il.s, 1, il.n, out);
		free(il.s);
	}
	return 0;
}
