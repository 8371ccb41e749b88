/* outer.c: the outer interpreter. Input sources form a stack (text from the host or a file,
 * EVALUATE strings, the terminal); the current line always sits in the data space, so SOURCE
 * and >IN work as the standard says. Each token is found and executed or compiled, or
 * converted as a literal. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include "vm.h"

#define TERMINAL_LINE 4096

static struct fth_source *cur(afd_vm *vm) { return &vm->src[vm->nsrc - 1]; }

static int file_index(afd_vm *vm, const char *name)
{
	for (int i = vm->nfiles - 1; i >= 0; i--)
		if (!strcmp(vm->files[i], name))
			return i;
	if (vm->nfiles >= FTH_MAX_FILES)
		return vm->nfiles - 1;	/* past the table: errors name the last file */
	vm->files[vm->nfiles] = strdup(name);
	if (!vm->files[vm->nfiles])
		return 0;
	return vm->nfiles++;
}

/* Room for a line buffer at the top of the data space, below the transient buffers. */
static cell alloc_top(afd_vm *vm, cell n)
{
	cell t = (vm->top - n) & ~(cell)7;
	if (t < vm->here)
		return 0;
	vm->top = t;
	return t;
}

static int push_source(afd_vm *vm, int kind)
{
	if (vm->nsrc >= FTH_MAX_SOURCES)
		return AFD_THROW_NESTING;
	if (vm->nsrc)
		cur(vm)->in = vm->sys->in;
	struct fth_source *s = &vm->src[vm->nsrc++];
	memset(s, 0, sizeof(*s));
	s->kind = kind;
	s->saved_top = vm->top;
	vm->sys->in = 0;
	return 0;
}

static void pop_source(afd_vm *vm)
{
	struct fth_source *s = cur(vm);
	vm->top = s->saved_top;
	vm->nsrc--;
	if (vm->nsrc)
		vm->sys->in = cur(vm)->in;
}

/* Next line of a TEXT (or TERMINAL) source's host text into its line buffer. */
static bool next_line(afd_vm *vm, struct fth_source *s)
{
	if (s->kind == SRC_EVALUATE || !s->text || s->off >= s->textlen)
		return false;
	const char *p = s->text + s->off, *end = s->text + s->textlen;
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	size_t n = (size_t)((nl ? nl : end) - p);
	s->lineoff = s->off;
	s->off += n + (nl != NULL);
	if (n && p[n - 1] == '\r')
		n--;
	memcpy((void *)s->buf, p, n);
	s->len = (cell)n;
	s->line++;
	vm->sys->in = 0;
	return true;
}

/* REFILL: the next line from the source, or from the host at the terminal. */
static bool refill(afd_vm *vm)
{
	struct fth_source *s = cur(vm);
	if (next_line(vm, s))
		return true;
	if (s->kind != SRC_TERMINAL || !vm->opts.readline)
		return false;
	afd_flush(vm);
	ssize_t n = vm->opts.readline(vm->opts.host, (char *)s->buf, (size_t)s->bufcap);
	if (n < 0)
		return false;
	s->len = n > s->bufcap ? s->bufcap : n;
	s->line++;
	vm->sys->in = 0;
	return true;
}

static size_t longest_line(const char *t, size_t n)
{
	size_t best = 0;
	for (const char *p = t, *end = t + n; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = (size_t)((nl ? nl : end) - p);
		if (len > best)
			best = len;
		p += len + 1;
	}
	return best;
}

static int push_text(afd_vm *vm, int kind, const char *text, size_t len, int file, cell id)
{
	size_t cap = longest_line(text, len) + 1;
	if (kind == SRC_TERMINAL && cap < TERMINAL_LINE)
		cap = TERMINAL_LINE;
	int err = push_source(vm, kind);
	if (err)
		return err;
	struct fth_source *s = cur(vm);
	s->buf = alloc_top(vm, (cell)cap);
	if (!s->buf) {
		pop_source(vm);
		return -8;
	}
	s->bufcap = (cell)cap;
	s->text = text;
	s->textlen = len;
	s->file = (uint16_t)file;
	s->id = id;
	return 0;
}

/* ---- parsing the current line ---- */
static bool blank(char c) { return (unsigned char)c <= ' '; }

static void source_span(afd_vm *vm, const char **p, cell *in, cell *len)
{
	struct fth_source *s = cur(vm);
	*p = (const char *)s->buf;
	*len = s->len;
	*in = vm->sys->in;
	if (*in < 0 || *in > *len)
		*in = *len;
}

int fth_parse_name(afd_vm *vm, const char **out, size_t *n)
{
	const char *p;
	cell in, len;
	source_span(vm, &p, &in, &len);
	while (in < len && blank(p[in]))
		in++;
	cell start = in;
	while (in < len && !blank(p[in]))
		in++;
	*out = p + start;
	*n = (size_t)(in - start);
	vm->sys->in = in < len ? in + 1 : in;
	return (int)start;
}

int fth_parse(afd_vm *vm, char delim, const char **out, size_t *n)
{
	const char *p;
	cell in, len;
	source_span(vm, &p, &in, &len);
	cell start = in;
	while (in < len && p[in] != delim && !(delim == ' ' && blank(p[in])))
		in++;
	*out = p + start;
	*n = (size_t)(in - start);
	vm->sys->in = in < len ? in + 1 : in;
	return (int)start;
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
	       c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Escaped text from >IN up to an unescaped '"' (escapes as in S\"). The text is unescaped
 * in place (it only shrinks); >IN moves past the closing quote. */
static int parse_quoted(afd_vm *vm, const char **out, size_t *n)
{
	const char *p;
	cell in, len;
	source_span(vm, &p, &in, &len);
	char *dst = (char *)p + in;
	const char *q = p + in, *end = p + len;
	*out = dst;
	while (q < end && *q != '"') {
		if (*q != '\\' || q + 1 >= end) {
			*dst++ = *q++;
			continue;
		}
		switch (*++q) {
		case 'a': *dst++ = 7; break;
		case 'b': *dst++ = 8; break;
		case 'e': *dst++ = 27; break;
		case 'f': *dst++ = 12; break;
		case 'l': *dst++ = 10; break;
		case 'm': *dst++ = 13; *dst++ = 10; break;
		case 'n': *dst++ = 10; break;
		case 'q': *dst++ = 34; break;
		case 'r': *dst++ = 13; break;
		case 't': *dst++ = 9; break;
		case 'v': *dst++ = 11; break;
		case 'z': case '0': *dst++ = 0; break;
		case 'x':
			if (q + 2 < end && hexval(q[1]) >= 0 && hexval(q[2]) >= 0) {
				*dst++ = (char)(hexval(q[1]) * 16 + hexval(q[2]));
				q += 2;
				break;
			}
			__attribute__((fallthrough));	/* not an escape */
		default: *dst++ = *q; break;
		}
		q++;
	}
	if (q >= end)
		return AFD_THROW_STRING;
	*n = (size_t)(dst - *out);
	vm->sys->in = (cell)(q + 1 - p);
	return 0;
}

/* ---- the interpreter loop ---- */
static void mark_token(afd_vm *vm, const char *s, size_t n, int col)
{
	struct fth_source *src = cur(vm);
	vm->tok = s;
	vm->toklen = n;
	vm->tokline = src->line;
	vm->tokcol = (uint32_t)col + 1;
	vm->tokfile = src->file;
}

/* A parsing word (' POSTPONE SEE TO ...) names the word it parsed in its errors. */
void fth_mark_parsed(afd_vm *vm, const char *s, size_t n)
{
	struct fth_source *src = cur(vm);
	if ((cell)s < src->buf || (cell)s > src->buf + src->len)
		return;
	mark_token(vm, s, n, (int)((cell)s - src->buf));
}

int fth_compile_string(afd_vm *vm, const char *s, size_t n)
{
	cell a = vm->here;
	int err = fth_allot(vm, (cell)n);
	if (err)
		return err;
	memmove((void *)a, s, n);
	vm->here = (vm->here + 7) & ~(cell)7;
	int64_t at = vm->nops;
	err = fth_emit_op(vm, OP_LIT, a);
	if (!err)
		err = fth_emit_op(vm, OP_LIT, (cell)n);
	if (!err)
		vm->last_string = at;	/* for OF: a string literal just before it */
	return err;
}

static int string_token(afd_vm *vm, int col)
{
	const char *s;
	size_t n;
	vm->sys->in = col + 1;
	int err = parse_quoted(vm, &s, &n);
	if (err)
		return err;
	if (vm->sys->state)
		return fth_compile_string(vm, s, n);
	cell a = fth_transient(vm, s, n);
	if (!a)
		return -18;
	err = fth_push(vm, a);
	return err ? err : fth_push(vm, (cell)n);
}

static int word_token(afd_vm *vm, const char *s, size_t n)
{
	cell xt = fth_find(vm, s, n);
	if (xt > 0) {
		struct fth_word *w = &vm->words[xt];
		if (vm->sys->state && !(w->flags & WF_IMMEDIATE))
			return fth_compile_xt(vm, xt);
		if (!vm->sys->state && (w->flags & WF_COMPILE_ONLY))
			return -14;
		return fth_run(vm, xt);
	}
	cell v[2];
	int nc, err = fth_number(vm, s, n, v, &nc);
	if (err)
		return err == 1 ? -13 : err;
	for (int i = 0; i < nc && !err; i++)
		err = vm->sys->state ? fth_emit_op(vm, OP_LIT, v[i]) : fth_push(vm, v[i]);
	return err;
}

int fth_interpret(afd_vm *vm)
{
	const char *s;
	size_t n;
	for (;;) {
		int col = fth_parse_name(vm, &s, &n);
		if (n == 0) {
			if (next_line(vm, cur(vm)))
				continue;
			return 0;
		}
		mark_token(vm, s, n, col);
		vm->errset = 0;
		int err;
		if (--vm->steps < 0) {	/* `0 >IN !` loops without a call or branch */
			fth_set_error(vm, AFD_THROW_STEPS);
			return AFD_THROW_STEPS;
		}
		if (s[0] == '"')
			err = string_token(vm, col);
		else
			err = word_token(vm, s, n);
		if (err) {
			fth_set_error(vm, err);
			return err;
		}
	}
}

/* Run a pushed source to its end and pop it; the token position of the outer source is
 * kept unless the error happened inside. */
static int run_source(afd_vm *vm)
{
	const char *tok = vm->tok;
	size_t toklen = vm->toklen;
	uint32_t line = vm->tokline, col = vm->tokcol;
	uint16_t file = vm->tokfile;
	int err = fth_interpret(vm);
	pop_source(vm);
	if (!err) {
		vm->tok = tok;
		vm->toklen = toklen;
		vm->tokline = line;
		vm->tokcol = col;
		vm->tokfile = file;
	}
	return err;
}

int fth_evaluate(afd_vm *vm, cell addr, cell len)
{
	if (len < 0 || !fth_range_ok(vm, addr, (ucell)len))
		return -9;
	int err = push_source(vm, SRC_EVALUATE);
	if (err)
		return err;
	struct fth_source *s = cur(vm);
	struct fth_source *outer = vm->nsrc > 1 ? &vm->src[vm->nsrc - 2] : NULL;
	s->buf = addr;
	s->len = len;
	s->bufcap = len;
	s->id = -1;
	s->file = outer ? outer->file : 0;
	s->line = outer ? outer->line : 1;
	return run_source(vm);
}

/* ---- files ---- */
static char *read_file(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	struct stat st;
	char *buf = NULL;
	if (fstat(fd, &st) == 0 && !S_ISREG(st.st_mode)) {
		close(fd);
		errno = EISDIR;
		return NULL;
	}
	if (fstat(fd, &st) == 0 && (buf = malloc((size_t)st.st_size + 1))) {
		size_t got = 0;
		while (got < (size_t)st.st_size) {
			ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
			if (r <= 0)
				break;
			got += (size_t)r;
		}
		*len = got;
	}
	close(fd);
	return buf;
}

/* A relative path is looked up beside the including file first, then from the cwd. A text
 * given to afd_eval under a file's name counts as that file: a worker VM replays the main
 * VM's files that way, and their INCLUDEs must find the same files. */
static void resolve(afd_vm *vm, const char *path, size_t n, char *out, size_t cap)
{
	snprintf(out, cap, "%.*s", (int)n, path);
	if (n && path[0] == '/')
		return;
	for (int i = vm->nsrc - 1; i >= 0; i--) {
		struct fth_source *s = &vm->src[i];
		if (s->kind != SRC_TEXT || s->id == 0 ||
		    (s->id < 0 && (!strchr(vm->files[s->file], '/') ||
				   access(vm->files[s->file], R_OK) != 0)))
			continue;
		const char *inc = vm->files[s->file], *slash = strrchr(inc, '/');
		if (!slash)
			return;
		char tmp[PATH_MAX];
		snprintf(tmp, sizeof(tmp), "%.*s/%.*s", (int)(slash - inc), inc, (int)n, path);
		if (access(tmp, R_OK) == 0)
			snprintf(out, cap, "%s", tmp);
		return;
	}
}

static void remember_included(afd_vm *vm, const char *path)
{
	char real[PATH_MAX];
	if (!realpath(path, real))
		return;
	for (int i = 0; i < vm->nincluded; i++)
		if (!strcmp(vm->included[i], real))
			return;
	if (vm->nincluded == vm->capincluded) {
		int cap = vm->capincluded ? vm->capincluded * 2 : 16;
		char **l = realloc(vm->included, (size_t)cap * sizeof(*l));
		if (!l)
			return;
		vm->included = l;
		vm->capincluded = cap;
	}
	char *copy = strdup(real);
	if (copy)
		vm->included[vm->nincluded++] = copy;
}

static bool was_included(afd_vm *vm, const char *path)
{
	char real[PATH_MAX];
	if (!realpath(path, real))
		return false;
	for (int i = 0; i < vm->nincluded; i++)
		if (!strcmp(vm->included[i], real))
			return true;
	return false;
}

/* Remember a top-level source (a copy) for afd_history. */
static void log_source(afd_vm *vm, const char *name, const char *text, size_t len)
{
	if (vm->nohist || vm->nsrc != 0 || vm->level != 0 || !vm->prelude_words)
		return;
	if (vm->nhist == vm->caphist) {
		int cap = vm->caphist ? vm->caphist * 2 : 8;
		struct fth_hist *h = realloc(vm->hist, (size_t)cap * sizeof(*h));
		if (!h)
			return;
		vm->hist = h;
		vm->caphist = cap;
	}
	struct fth_hist *h = &vm->hist[vm->nhist];
	h->name = strdup(name);
	h->text = malloc(len + 1);
	if (!h->name || !h->text) {
		free(h->name);
		free(h->text);
		return;
	}
	memcpy(h->text, text, len);
	h->text[len] = 0;
	h->len = len;
	vm->nhist++;
}

int afd_history(const afd_vm *vm, int i, const char **name, const char **text, size_t *len)
{
	if (i >= 0 && i < vm->nhist) {
		*name = vm->hist[i].name;
		*text = vm->hist[i].text;
		*len = vm->hist[i].len;
	}
	return vm->nhist;
}

void afd_set_history(afd_vm *vm, int on) { vm->nohist = !on; }

static int include_resolved(afd_vm *vm, const char *path)
{
	size_t len = 0;
	errno = 0;
	char *text = read_file(path, &len);
	if (!text) {
		int err = errno == ENOENT ? -38 : AFD_THROW_FILE;
		snprintf(vm->errdetail, sizeof(vm->errdetail), "%s", path);
		return err;
	}
	log_source(vm, path, text, len);
	remember_included(vm, path);
	int err = push_text(vm, SRC_TEXT, text, len, file_index(vm, path), vm->nfiles + 1);
	if (!err)
		err = run_source(vm);
	free(text);
	return err;
}

int fth_include_file(afd_vm *vm, const char *path, size_t len)
{
	char full[PATH_MAX];
	resolve(vm, path, len, full, sizeof(full));
	return include_resolved(vm, full);
}

static int p_included(afd_vm *vm, void *c)	/* ( i*x c-addr u -- j*x ) */
{
	const char *s;
	size_t n;
	int err = afd_pop_string(vm, &s, &n);
	return err ? err : fth_include_file(vm, s, n);
}

static int p_required(afd_vm *vm, void *c)
{
	const char *s;
	size_t n;
	char full[PATH_MAX];
	int err = afd_pop_string(vm, &s, &n);
	if (err)
		return err;
	resolve(vm, s, n, full, sizeof(full));
	return was_included(vm, full) ? 0 : include_resolved(vm, full);
}

static int parsed_path(afd_vm *vm)
{
	const char *s;
	size_t n;
	fth_parse_name(vm, &s, &n);
	if (n == 0)
		return -16;
	int err = fth_push(vm, (cell)s);
	return err ? err : fth_push(vm, (cell)n);
}

static int p_include(afd_vm *vm, void *c)
{
	int err = parsed_path(vm);
	return err ? err : p_included(vm, c);
}

static int p_require(afd_vm *vm, void *c)
{
	int err = parsed_path(vm);
	return err ? err : p_required(vm, c);
}

/* ---- words on the input ---- */
static int p_evaluate(afd_vm *vm, void *c)	/* ( i*x c-addr u -- j*x ) */
{
	cell a, u;
	int err = fth_pop(vm, &u);
	if (!err)
		err = fth_pop(vm, &a);
	return err ? err : fth_evaluate(vm, a, u);
}

static int p_source(afd_vm *vm, void *c)	/* ( -- c-addr u ) */
{
	int err = fth_push(vm, cur(vm)->buf);
	return err ? err : fth_push(vm, cur(vm)->len);
}

static int p_source_id(afd_vm *vm, void *c) { return fth_push(vm, cur(vm)->id); }

static int p_refill(afd_vm *vm, void *c) { return fth_push(vm, FTH_FLAG(refill(vm))); }

static int p_save_input(afd_vm *vm, void *c)	/* ( -- x1 x2 x3 x4 4 ) */
{
	struct fth_source *s = cur(vm);
	cell v[] = { s->id, (cell)s->lineoff, (cell)s->line, vm->sys->in, 4 };
	int err = 0;
	for (int i = 0; i < 5 && !err; i++)
		err = fth_push(vm, v[i]);
	return err;
}

static int p_restore_input(afd_vm *vm, void *c)	/* ( x1 x2 x3 x4 4 -- flag ) */
{
	cell v[5];
	struct fth_source *s = cur(vm);
	for (int i = 4; i >= 0; i--)
		if (fth_pop(vm, &v[i]))
			return -4;
	if (v[4] != 4 || v[0] != s->id)
		return fth_push(vm, FTH_TRUE);
	if (s->kind != SRC_EVALUATE && (size_t)v[1] != s->lineoff) {
		if (!s->text || (size_t)v[1] > s->textlen)
			return fth_push(vm, FTH_TRUE);
		s->off = (size_t)v[1];
		next_line(vm, s);
		s->line = (uint32_t)v[2];
	}
	vm->sys->in = v[3];
	return fth_push(vm, FTH_FALSE);
}

static int p_parse(afd_vm *vm, void *c)	/* ( char "ccc<char>" -- c-addr u ) */
{
	cell ch;
	const char *s;
	size_t n;
	int err = fth_pop(vm, &ch);
	if (err)
		return err;
	fth_parse(vm, (char)ch, &s, &n);
	err = fth_push(vm, (cell)s);
	return err ? err : fth_push(vm, (cell)n);
}

static int p_parse_name(afd_vm *vm, void *c)	/* ( "name" -- c-addr u ) */
{
	const char *s;
	size_t n;
	fth_parse_name(vm, &s, &n);
	int err = fth_push(vm, (cell)s);
	return err ? err : fth_push(vm, (cell)n);
}

static int p_word(afd_vm *vm, void *c)	/* ( char "<chars>ccc<char>" -- c-addr ) */
{
	cell ch;
	const char *p;
	cell in, len;
	int err = fth_pop(vm, &ch);
	if (err)
		return err;
	source_span(vm, &p, &in, &len);
	while (in < len && (p[in] == (char)ch || (ch == ' ' && blank(p[in]))))
		in++;
	vm->sys->in = in;
	const char *s;
	size_t n;
	fth_parse(vm, (char)ch, &s, &n);
	if (n > 255)
		return -18;
	char *buf = (char *)vm->wordbuf;
	buf[0] = (char)n;
	memmove(buf + 1, s, n);
	buf[n + 1] = ' ';
	return fth_push(vm, vm->wordbuf);
}

static int p_char(afd_vm *vm, void *c)	/* ( "name" -- char ) */
{
	const char *s;
	size_t n;
	fth_parse_name(vm, &s, &n);
	return n ? fth_push(vm, (unsigned char)s[0]) : -16;
}

static int p_bracket_char(afd_vm *vm, void *c)
{
	const char *s;
	size_t n;
	fth_parse_name(vm, &s, &n);
	if (!n)
		return -16;
	if (!vm->sys->state)	/* interpreted, as gforth: like CHAR */
		return fth_push(vm, (unsigned char)s[0]);
	return fth_emit_op(vm, OP_LIT, (unsigned char)s[0]);
}

/* The first comment of a colon definition is its stack effect: keep it for SEE and the
 * word reference. */
static void keep_effect(afd_vm *vm, const char *start, const char *end)
{
	struct fth_word *w = &vm->words[vm->defining];
	if (w->doc || vm->nops || end - start > 200)
		return;
	size_t n = (size_t)(end - start);
	w->doc = malloc(n + 4);
	if (!w->doc)
		return;
	memcpy(w->doc, "( ", 2);
	memcpy(w->doc + 2, start, n);
	strcpy(w->doc + 2 + n, ")");
	w->effect = w->doc;
}

static int p_paren(afd_vm *vm, void *c)	/* ( "ccc<paren>" -- ), across lines in files */
{
	bool first = vm->defining >= 0 && vm->nops == 0;
	for (;;) {
		const char *p;
		cell in, len;
		source_span(vm, &p, &in, &len);
		const char *q = memchr(p + in, ')', (size_t)(len - in));
		if (q) {
			if (first)
				keep_effect(vm, p + in, q);
			vm->sys->in = (cell)(q - p) + 1;
			return 0;
		}
		first = false;
		vm->sys->in = len;
		if (cur(vm)->kind == SRC_EVALUATE || !next_line(vm, cur(vm)))
			return 0;
	}
}

static int p_backslash(afd_vm *vm, void *c)
{
	vm->sys->in = cur(vm)->len;
	return 0;
}

static int p_find(afd_vm *vm, void *c)	/* ( c-addr -- c-addr 0 | xt 1 | xt -1 ) */
{
	cell a;
	int err = fth_pop(vm, &a);
	if (err)
		return err;
	if (!fth_range_ok(vm, a, 1) || !fth_range_ok(vm, a, 1 + *(unsigned char *)a))
		return -9;
	cell xt = fth_find(vm, (char *)a + 1, *(unsigned char *)a);
	if (xt <= 0) {
		err = fth_push(vm, a);
		return err ? err : fth_push(vm, 0);
	}
	err = fth_push(vm, xt);
	return err ? err : fth_push(vm, vm->words[xt].flags & WF_IMMEDIATE ? 1 : -1);
}

static int p_find_name(afd_vm *vm, void *c)	/* ( c-addr u -- xt | 0 ) */
{
	const char *s;
	size_t n;
	int err = afd_pop_string(vm, &s, &n);
	if (err)
		return err;
	cell xt = fth_find(vm, s, n);
	return fth_push(vm, xt > 0 ? xt : 0);
}

static int p_string_lit(afd_vm *vm, void *c)	/* S" and S\": state-smart */
{
	const char *s;
	size_t n;
	if (c) {
		int err = parse_quoted(vm, &s, &n);
		if (err)
			return err;
	} else {
		fth_parse(vm, '"', &s, &n);
	}
	if (vm->sys->state)
		return fth_compile_string(vm, s, n);
	cell a = fth_transient(vm, s, n);
	if (!a)
		return -18;
	int err = fth_push(vm, a);
	return err ? err : fth_push(vm, (cell)n);
}

static int p_dot_quote(afd_vm *vm, void *c)	/* ." (state-smart, as gforth) */
{
	const char *s;
	size_t n;
	fth_parse(vm, '"', &s, &n);
	if (!vm->sys->state) {
		fth_type(vm, s, n);
		return 0;
	}
	int err = fth_compile_string(vm, s, n);
	return err ? err : fth_emit_op(vm, OP_CALL, fth_find(vm, "type", 4));
}

static int p_cquote(afd_vm *vm, void *c)	/* C" ( -- c-addr ) */
{
	const char *s;
	size_t n;
	fth_parse(vm, '"', &s, &n);
	if (n > 255)
		return -18;
	cell a = vm->here;
	int err = fth_allot(vm, (cell)n + 1);
	if (err)
		return err;
	*(unsigned char *)a = (unsigned char)n;
	memmove((char *)a + 1, s, n);
	vm->here = (vm->here + 7) & ~(cell)7;
	if (vm->sys->state)
		return fth_emit_op(vm, OP_LIT, a);
	return fth_push(vm, a);
}

static int p_sliteral(afd_vm *vm, void *c)	/* ( c-addr u -- ) compiled: ( -- c-addr u ) */
{
	const char *s;
	size_t n;
	if (vm->defining < 0)
		return -14;
	int err = afd_pop_string(vm, &s, &n);
	return err ? err : fth_compile_string(vm, s, n);
}

/* [ELSE]: skip words, across lines, to the matching [ELSE] or [THEN]. */
static int p_bracket_else(afd_vm *vm, void *c)
{
	int depth = 1;
	for (;;) {
		const char *s;
		size_t n;
		fth_parse_name(vm, &s, &n);
		if (n == 0) {
			if (!refill(vm))
				return 0;
			continue;
		}
		if (n == 4 && !strncasecmp(s, "[if]", 4))
			depth++;
		else if (n == 6 && !strncasecmp(s, "[else]", 6) && depth == 1)
			return 0;
		else if (n == 6 && !strncasecmp(s, "[then]", 6) && --depth == 0)
			return 0;
	}
}

static int p_bracket_if(afd_vm *vm, void *c)	/* ( flag -- ) */
{
	cell f;
	int err = fth_pop(vm, &f);
	return err ? err : f ? 0 : p_bracket_else(vm, c);
}

static int p_bracket_then(afd_vm *vm, void *c) { return 0; }

static int p_defined(afd_vm *vm, void *c)	/* ( "name" -- flag ) */
{
	const char *s;
	size_t n;
	fth_parse_name(vm, &s, &n);
	bool found = fth_find(vm, s, n) > 0;
	return fth_push(vm, FTH_FLAG(c ? !found : found));
}

const struct fth_cword fth_outer_words[] = {
	{ "[if]", "( flag -- )", p_bracket_if, WF_IMMEDIATE },
	{ "[else]", "( -- )", p_bracket_else, WF_IMMEDIATE },
	{ "[then]", "( -- )", p_bracket_then, WF_IMMEDIATE },
	{ "[defined]", "( \"name\" -- flag )", p_defined, WF_IMMEDIATE },
	{ "[undefined]", "( \"name\" -- flag )", p_defined, WF_IMMEDIATE, (void *)1 },
	{ "evaluate", "( i*x c-addr u -- j*x )", p_evaluate, 0 },
	{ "included", "( i*x c-addr u -- j*x )", p_included, 0 },
	{ "include", "( i*x \"name\" -- j*x )", p_include, 0 },
	{ "required", "( i*x c-addr u -- j*x )", p_required, 0 },
	{ "require", "( i*x \"name\" -- j*x )", p_require, 0 },
	{ "source", "( -- c-addr u )", p_source, 0 },
	{ "source-id", "( -- 0 | -1 | fileid )", p_source_id, 0 },
	{ "refill", "( -- flag )", p_refill, 0 },
	{ "save-input", "( -- xn ... x1 n )", p_save_input, 0 },
	{ "restore-input", "( xn ... x1 n -- flag )", p_restore_input, 0 },
	{ "parse", "( char \"ccc<char>\" -- c-addr u )", p_parse, 0 },
	{ "parse-name", "( \"name\" -- c-addr u )", p_parse_name, 0 },
	{ "word", "( char \"<chars>ccc<char>\" -- c-addr )", p_word, 0 },
	{ "char", "( \"name\" -- char )", p_char, 0 },
	{ "[char]", "( \"name\" -- )", p_bracket_char, WF_IMMEDIATE },
	{ "(", "( \"ccc<paren>\" -- )", p_paren, WF_IMMEDIATE },
	{ "\\", "( \"ccc<eol>\" -- )", p_backslash, WF_IMMEDIATE },
	{ "find", "( c-addr -- c-addr 0 | xt 1 | xt -1 )", p_find, 0 },
	{ "find-name", "( c-addr u -- xt | 0 )", p_find_name, 0 },
	{ "s\"", "( \"ccc<quote>\" -- c-addr u )", p_string_lit, WF_IMMEDIATE },
	{ "s\\\"", "( \"ccc<quote>\" -- c-addr u )", p_string_lit, WF_IMMEDIATE, (void *)1 },
	{ ".\"", "( \"ccc<quote>\" -- )", p_dot_quote, WF_IMMEDIATE },
	{ "c\"", "( \"ccc<quote>\" -- c-addr )", p_cquote, WF_IMMEDIATE },
	{ "sliteral", "( c-addr u -- )", p_sliteral, WF_IMMEDIATE | WF_COMPILE_ONLY },
	{ NULL, NULL, NULL, 0 }
};

/* ---- parsing for C words ---- */
int afd_parse_name(afd_vm *vm, const char **s, size_t *len)
{
	if (!vm->nsrc)
		return -16;
	int col = fth_parse_name(vm, s, len);
	if (*len)
		mark_token(vm, *s, *len, col);
	return 0;
}

int afd_parse_string(afd_vm *vm, const char **s, size_t *len)
{
	const char *p;
	cell in, n;
	if (!vm->nsrc)
		return -16;
	source_span(vm, &p, &in, &n);
	while (in < n && blank(p[in]))
		in++;
	if (in >= n || p[in] != '"')
		return afd_parse_name(vm, s, len);
	mark_token(vm, p + in, 1, (int)in);
	vm->sys->in = in + 1;
	int err = parse_quoted(vm, s, len);
	if (!err)
		vm->toklen = (size_t)(*s + *len - vm->tok) + 1;
	return err;
}

int afd_immediate(afd_vm *vm, afd_cell xt)
{
	if (!fth_xt_ok(vm, xt))
		return AFD_THROW_BAD_XT;
	vm->words[xt].flags |= WF_IMMEDIATE;
	return 0;
}

int afd_compile_string(afd_vm *vm, const char *s, size_t n)
{
	return vm->defining < 0 ? -14 : fth_compile_string(vm, s, n);
}

int afd_compile_xt(afd_vm *vm, afd_cell xt)
{
	return vm->defining < 0 ? -14 : fth_compile_xt(vm, xt);
}

int afd_push_string(afd_vm *vm, const char *s, size_t n)
{
	cell a = fth_transient(vm, s, n);
	if (!a)
		return -18;
	int err = fth_push(vm, a);
	return err ? err : fth_push(vm, (cell)n);
}

/* ---- the embedding API's entry points ---- */
static bool nested(const afd_vm *vm)
{
	return vm->nsrc > 0 || vm->level > 0;
}

static void start(afd_vm *vm)
{
	vm->errdetail[0] = 0;
	if (nested(vm))
		return;	/* called from a C primitive: the outer evaluation owns the state */
	vm->errset = 0;
	memset(&vm->err, 0, sizeof(vm->err));
	vm->tok = NULL;
	if (vm->level == 0 && vm->nsrc == 0)
		vm->steps = vm->max_steps;
}

static int finish(afd_vm *vm, int err)
{
	if (err && nested(vm)) {
		fth_set_error(vm, err);
		return err;	/* the caller's level unwinds its own state */
	}
	if (err) {
		fth_set_error(vm, err);
		while (vm->nsrc)
			pop_source(vm);
		fth_reset(vm);
	}
	afd_flush(vm);
	return err;
}

int afd_eval(afd_vm *vm, const char *src, size_t len, const char *name)
{
	return afd_eval_at(vm, src, len, name, 1);
}

int afd_eval_at(afd_vm *vm, const char *src, size_t len, const char *name, int line)
{
	start(vm);
	cell defining = vm->defining, state = vm->sys->state;
	int kind = name ? SRC_TEXT : SRC_TERMINAL;
	int file = file_index(vm, name ? name : "<stdin>");
	log_source(vm, name ? name : "<stdin>", src, len);
	int err = push_text(vm, kind, src, len, file, name ? -1 : 0);
	if (!err) {
		cur(vm)->line = line > 0 ? (uint32_t)line - 1 : 0;
		err = run_source(vm);
	}
	if (err && nested(vm) && vm->defining != defining) {
		fth_abandon_colon(vm);	/* a definition this text started, not the caller's */
		vm->sys->state = state;
	}
	return finish(vm, err);
}

int afd_include(afd_vm *vm, const char *path)
{
	start(vm);
	return finish(vm, fth_include_file(vm, path, strlen(path)));
}

int afd_execute(afd_vm *vm, afd_cell xt)
{
	start(vm);
	int err = fth_run(vm, xt);
	if (err && vm->level)
		return err;	/* nested (from a C primitive): the outer level reports it */
	return finish(vm, err);
}

/* A fingerprint of what a program can change that outlives an evaluation: the dictionary
 * and the data space below HERE (transient buffers above it do not count). */
uint64_t afd_fingerprint(const afd_vm *vm)
{
	uint64_t x = 0xcbf29ce484222325ull ^ (uint64_t)vm->nwords * 0x100000001b3ull;
	x = (x ^ (uint64_t)vm->sys->base) * 0x100000001b3ull;
	x = (x ^ (uint64_t)(vm->codehere - vm->code)) * 0x100000001b3ull;
	const unsigned char *p = (const unsigned char *)vm->dict0;	/* not >IN, STATE... */
	size_t n = (size_t)(vm->here - vm->dict0), i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t w;
		memcpy(&w, p + i, 8);
		x = (x ^ w) * 0x100000001b3ull;
		x ^= x >> 29;
	}
	for (; i < n; i++)
		x = (x ^ p[i]) * 0x100000001b3ull;
	return x;
}
