/* jit.c: the JIT pipeline, its modes and its words.
 *
 * Compiling a batch of words, in one column:
 *   closure()     the words asked for, and the compilable words they call not yet native
 *   jit_emit_il() their QBE IL, one function each (qbe.c)
 *   assemble()    qbe -t amd64_sysv | as: IL in a memfd, a pipe between the two, the object
 *                 into another memfd; no temporary files, two spawns per batch
 *   jit_load_elf()  our own loader maps the object (elf.c)
 *   publish()     fth_set_native swaps each word's entry, atomically
 * Modes (AFD_JIT): off (the default: the interpreter alone), always (at the first call of a
 * word, every compilable word defined since the last batch, in one batch), auto (a word called
 * FTH_JIT_HOT times: its IL made on the VM's thread, compiled and swapped in by a thread of
 * the JIT's own). The word `jit` compiles one word now in any mode. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
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
	afd_prim_fn *fn;	/* per xt: the native entry we gave it */
	void **body;		/* per xt: its body, which compiled callers call directly */
	struct jit_image *images;
	long words, batches, failed;
	double ms;		/* wall clock spent compiling */
	long last_words;	/* the last batch */
	double last_ms;
	char err[256];
	/* auto: the compiler thread and its queue */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_t thread;
	bool started, stop;
	struct jit_job *queue;
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
	afd_prim_fn f = J ? __atomic_load_n(&J->fn[xt], __ATOMIC_ACQUIRE) : NULL;
	return f && vm->words[xt].native == f &&
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

/* IL -> object bytes (malloc'd), or assembly text when asm_only. Errors of qbe or as go
 * into err. */
static int assemble(char *err, size_t errcap, const struct jit_buf *il, char **obj, size_t *len,
		    bool asm_only)
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
	rc = spawn(&qbe, qargv, ilfd, asm_only ? objfd : p[1], -1, errfd);
	if (!rc && !asm_only)
		rc = spawn(&as, aargv, p[0], 1, objfd, errfd);
	close(p[0]);
	close(p[1]);
	p[0] = p[1] = -1;
	int r1 = qbe > 0 ? wait_ok(qbe) : 0, r2 = as > 0 ? wait_ok(as) : 0;
	rc = rc ? rc : r1 ? r1 : r2;
	if (rc) {
		ssize_t n = pread(errfd, err, errcap - 1, 0);
		err[n > 0 ? n : 0] = 0;
		if (n <= 0)
			snprintf(err, errcap, "qbe or as failed: %s", strerror(-rc));
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

/* A batch, made on the VM's thread (IL, and what it needs of the dictionary), compiled and
 * published on any thread. */
struct jit_job {
	afd_vm *vm;
	struct jit_buf il;
	cell *xts;			/* the words compiled */
	const struct fth_op **ops;	/* their definitions, to publish only onto those */
	int n;
	cell *cxt;			/* native callees when the IL was made, */
	void **cfn;			/* and their bodies */
	int nc, published;
	void **pub, **bod;		/* per word: its entry and body once loaded */
	struct jit_job *next;
};

static void job_free(struct jit_job *j)
{
	if (!j)
		return;
	free(j->il.s);
	free(j->xts);
	free(j->ops);
	free(j->cxt);
	free(j->cfn);
	free(j->pub);
	free(j->bod);
	free(j);
}

static void *resolve(void *ctx, const char *name)
{
	struct jit_job *j = ctx;
	if (!strcmp(name, "fth_run"))
		return (void *)fth_run;
	cell xt = jit_sym_xt(name);
	size_t n = strlen(name);
	for (int i = 0; i < j->nc && n > 2 && !strcmp(name + n - 2, ".b"); i++)
		if (j->cxt[i] == xt)
			return j->cfn[i];
	return NULL;
}

static void found(void *ctx, const char *name, void *addr)
{
	struct jit_job *j = ctx;
	cell xt = jit_sym_xt(name);
	size_t n = strlen(name);
	bool body = n > 2 && !strcmp(name + n - 2, ".b");	/* names of words have no '.' */
	for (int i = 0; i < j->n; i++)
		if (j->xts[i] == xt)
			*(body ? &j->bod[i] : &j->pub[i]) = addr;
}

/* Bodies first (callers compiled later find them), then the entries, swapped in. */
static void publish(struct jit_job *j)
{
	afd_vm *vm = j->vm;
	struct fth_jit *J = vm->jit;
	for (int i = 0; i < j->n; i++) {
		cell xt = j->xts[i];
		/* the same definition still: FORGET and a new word at this xt get nothing */
		if (!j->pub[i] || !j->bod[i] || vm->words[xt].ops != j->ops[i] ||
		    vm->words[xt].kind != WK_COLON)
			continue;
		__atomic_store_n(&J->body[xt], j->bod[i], __ATOMIC_RELEASE);
		__atomic_store_n(&J->fn[xt], (afd_prim_fn)j->pub[i], __ATOMIC_RELEASE);
		if (!fth_set_native(vm, xt, (afd_prim_fn)j->pub[i], J))
			j->published++;
	}
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
	if (!k)
		free(l);
	else
		*out = l;
	return k;
}

/* The batch for xts: the words and the compilable words they call that are not native yet,
 * their IL, and the native code of callees already compiled. NULL when none compiles. */
static struct jit_job *make_job(afd_vm *vm, const cell *xts, int n)
{
	struct jit_job *j = calloc(1, sizeof(*j));
	if (!j)
		return NULL;
	j->vm = vm;
	int k = closure(vm, xts, n, &j->xts);
	if (k <= 0)
		goto fail;
	j->n = k;
	j->ops = calloc(k, sizeof(*j->ops));
	j->pub = calloc(k, sizeof(*j->pub));
	j->bod = calloc(k, sizeof(*j->bod));
	if (!j->ops || !j->pub || !j->bod || jit_emit_il(vm, j->xts, k, &j->il) || !j->il.s)
		goto fail;
	for (int i = 0; i < k; i++) {
		const struct fth_word *w = &vm->words[j->xts[i]];
		j->ops[i] = w->ops;
		for (uint32_t o = 0; o < w->nops; o++) {
			cell c = w->ops[o].arg;
			if (w->ops[o].kind != OP_CALL || !is_native(vm, c))
				continue;
			cell *x = realloc(j->cxt, (j->nc + 1) * sizeof(*x));
			void **f = x ? realloc(j->cfn, (j->nc + 1) * sizeof(*f)) : NULL;
			if (x)
				j->cxt = x;
			if (!f)
				goto fail;
			j->cfn = f;
			j->cxt[j->nc] = c;
			j->cfn[j->nc++] = __atomic_load_n(&vm->jit->body[c], __ATOMIC_ACQUIRE);
		}
	}
	return j;
fail:
	job_free(j);
	return NULL;
}

/* qbe, as, load, publish: touches the VM only to swap entries. Count published or -errno. */
static int run_job(struct jit_job *j)
{
	struct fth_jit *J = j->vm->jit;
	char *obj = NULL, err[256] = "";
	size_t len = 0;
	struct jit_image *img = NULL;
	double t0 = now_ms();
	int rc = assemble(err, sizeof(err), &j->il, &obj, &len, false);
	if (!rc)
		rc = jit_load_elf(obj, len, resolve, found, j, &img, err, sizeof(err));
	free(obj);
	if (!rc)
		publish(j);
	pthread_mutex_lock(&J->lock);
	if (!rc) {
		img->next = J->images;
		J->images = img;
		rc = j->published;
		J->words += rc;
		J->last_words = rc;
	} else {
		J->failed += j->n;
		J->last_words = 0;
		snprintf(J->err, sizeof(J->err), "%s", err);
		if (getenv("AFD_JIT_DEBUG"))
			fprintf(stderr, "afd: jit: %s: %s\n", j->vm->words[j->xts[0]].name, err);
	}
	J->batches++;
	J->last_ms = now_ms() - t0;
	J->ms += J->last_ms;
	pthread_mutex_unlock(&J->lock);
	return rc;
}

int jit_compile(afd_vm *vm, const cell *xts, int n)
{
	if (!vm->jit)
		return -ENODEV;
	struct jit_job *j = make_job(vm, xts, n);
	if (!j)
		return 0;
	int rc = run_job(j);
	if (rc < 0 && j->n > 1)	/* one bad word must not keep the others interpreted */
		for (int i = 0, r; i < j->n; i++) {
			struct jit_job *one = is_native(vm, j->xts[i]) ? NULL : make_job(vm, &j->xts[i], 1);
			if (one && (r = run_job(one)) > 0)
				rc = rc < 0 ? r : rc + r;
			job_free(one);
		}
	job_free(j);
	return rc;
}

/* ---- AFD_JIT=auto: hot words, compiled on a thread of their own ---- */

static void *jit_thread(void *p)
{
	struct fth_jit *J = p;
	pthread_mutex_lock(&J->lock);
	while (!J->stop) {
		struct jit_job *j = J->queue;
		if (!j) {
			pthread_cond_wait(&J->cond, &J->lock);
			continue;
		}
		J->queue = j->next;
		pthread_mutex_unlock(&J->lock);
		run_job(j);
		job_free(j);
		pthread_mutex_lock(&J->lock);
	}
	pthread_mutex_unlock(&J->lock);
	return NULL;
}

/* AFD_JIT=always: at the first call of a word, it and every word defined since the last
 * batch, in one batch: a file's words compile together when the first of them runs. */
static void compile_pending(afd_vm *vm, cell xt)
{
	struct fth_jit *J = vm->jit;
	if (J->scanned > vm->nwords)
		J->scanned = vm->nwords;	/* FORGET or a MARKER went below it */
	cell *xts = malloc((vm->nwords - J->scanned + 1) * sizeof(*xts)), end = vm->nwords;
	int n = 0;
	if (!xts)
		return;
	bool have = false;
	for (cell x = J->scanned; x < vm->nwords; x++) {
		const struct fth_word *w = &vm->words[x];
		if (x == vm->defining || (w->flags & WF_HIDDEN)) {
			end = x;	/* being defined: offered when finished */
			break;
		}
		if (w->kind == WK_COLON && w->code && !is_native(vm, x))
			xts[n++] = x;
		have |= x == xt;
	}
	if (!have && vm->words[xt].kind == WK_COLON)
		xts[n++] = xt;
	J->scanned = end;
	if (n)
		jit_compile(vm, xts, n);
	free(xts);
}

void jit_hot(afd_vm *vm, cell xt)
{
	struct fth_jit *J = vm->jit;
	if (!J || is_native(vm, xt))
		return;
	if (J->mode == JIT_ALWAYS) {
		compile_pending(vm, xt);
		return;
	}
	if (J->mode != JIT_AUTO)
		return;
	struct jit_job *j = make_job(vm, &xt, 1);
	if (!j)
		return;
	for (int i = 0; i < j->n; i++)	/* queued once: their counts pass the threshold */
		vm->jit_counts[j->xts[i]] = vm->jit_hot_at + 1;
	pthread_mutex_lock(&J->lock);
	if (!J->started && !pthread_create(&J->thread, NULL, jit_thread, J))
		J->started = true;
	if (J->started) {
		struct jit_job **q = &J->queue;
		while (*q)
			q = &(*q)->next;
		*q = j;
		j = NULL;
		pthread_cond_signal(&J->cond);
	}
	pthread_mutex_unlock(&J->lock);
	job_free(j);
}

int jit_attach(afd_vm *vm)
{
	const char *m = getenv("AFD_JIT");
	int mode = !m || !*m || !strcmp(m, "off") ? JIT_OFF : !strcmp(m, "always") ? JIT_ALWAYS : JIT_AUTO;
	struct fth_jit *J = calloc(1, sizeof(*J));
	if (!J || !(J->fn = calloc(vm->maxwords, sizeof(*J->fn))) ||
	    !(J->body = calloc(vm->maxwords, sizeof(*J->body)))) {
		if (J)
			free(J->fn);
		free(J);
		return -ENOMEM;
	}
	J->mode = mode;
	J->scanned = 1;
	pthread_mutex_init(&J->lock, NULL);
	pthread_cond_init(&J->cond, NULL);
	if (mode != JIT_OFF && !(vm->jit_counts = calloc(vm->maxwords, sizeof(uint32_t)))) {
		free(J->fn);
		free(J->body);
		free(J);
		return -ENOMEM;
	}
	const char *hot = getenv("AFD_JIT_HOT");	/* tests make auto hurry */
	vm->jit_hot_at = mode == JIT_ALWAYS ? 1 : hot && atoi(hot) > 0 ? (uint32_t)atoi(hot) : FTH_JIT_HOT;
	vm->jit = J;
	return 0;
}

void jit_detach(afd_vm *vm)
{
	struct fth_jit *J = vm->jit;
	if (!J)
		return;
	pthread_mutex_lock(&J->lock);
	J->stop = true;
	pthread_cond_signal(&J->cond);
	pthread_mutex_unlock(&J->lock);
	if (J->started)
		pthread_join(J->thread, NULL);	/* waits for the batch in progress */
	for (struct jit_job *j = J->queue, *n; j; j = n) {
		n = j->next;
		job_free(j);
	}
	free(vm->jit_counts);
	vm->jit_counts = NULL;
	pthread_mutex_destroy(&J->lock);
	pthread_cond_destroy(&J->cond);
	for (struct jit_image *i = J->images, *n; i; i = n) {
		n = i->next;
		jit_unload(i);
	}
	free(J->fn);
	free(J->body);
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

/* see-qbe and see-asm: the word named next, if it compiles; else 1 (said why) or a THROW
 * code. */
static int see_word(afd_vm *vm, cell *xt)
{
	int err = parse_word(vm, xt);
	if (err)
		return err;
	const char *why = jit_check(vm, *xt);
	if (why) {
		fth_printf(vm, "# %s stays interpreted: %s\n", vm->words[*xt].name, why);
		return 1;
	}
	return 0;
}

static int p_see_qbe(afd_vm *vm, void *c)	/* ( "name" -- ) */
{
	cell xt;
	int err = see_word(vm, &xt);
	if (err)
		return err < 0 ? err : 0;
	struct jit_buf il = { 0 };
	err = jit_emit_il(vm, &xt, 1, &il);
	if (!err && il.s)
		fth_type(vm, il.s, il.n);
	free(il.s);
	return err ? -21 : 0;
}

static int p_see_asm(afd_vm *vm, void *c)	/* ( "name" -- ) */
{
	cell xt;
	int err = see_word(vm, &xt);
	if (err)
		return err < 0 ? err : 0;
	struct jit_buf il = { 0 };
	char *text = NULL, msg[256] = "";
	size_t len = 0;
	err = jit_emit_il(vm, &xt, 1, &il);
	if (!err && il.s && !(err = assemble(msg, sizeof(msg), &il, &text, &len, true)))
		fth_type(vm, text, len);
	else if (err)
		fth_printf(vm, "see-asm: %s\n", msg);
	free(il.s);
	free(text);
	return 0;
}

static int p_jit_stats(afd_vm *vm, void *c)	/* ( -- ) */
{
	struct fth_jit *J = vm->jit;
	if (!J)
		return 0;
	fth_printf(vm, "jit: %ld words native in %ld batches, %.1f ms (%.2f ms a word), %ld failed; "
		   "last batch: %ld words in %.1f ms, %.2f ms a word\n",
		   J->words, J->batches, J->ms, J->words ? J->ms / J->words : 0.0, J->failed,
		   J->last_words, J->last_ms, J->last_words ? J->last_ms / J->last_words : 0.0);
	return 0;
}

const struct fth_cword jit_words[] = {
	{ "jit", "( \"name\" -- )", p_jit, 0, 0 },
	{ "jit?", "( \"name\" -- flag )", p_jitq, 0, 0 },
	{ "see-qbe", "( \"name\" -- )", p_see_qbe, 0, 0 },
	{ "see-asm", "( \"name\" -- )", p_see_asm, 0, 0 },
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
