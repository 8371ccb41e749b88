/* main.c: the afd command. Includes files and evaluates -e code in order, like gforth;
 * with no arguments on a terminal (or with -i) it starts a REPL with line editing. */
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <editline/readline.h>
#include <afd/forth.h>
#include "px/log.h"
#include "px/px.h"
#include "jit/jit.h"
#include "bpf/bpfc.h"

extern const struct { const char *name; const char *text; } afd_demo[];

static const char usage[] =
	"usage: afd [options] [FILE | -e CODE]...\n"
	"Include each FILE and evaluate each CODE in order, then exit.\n"
	"With no FILE or CODE, read Forth from standard input (a REPL on a terminal).\n"
	"\n"
	"  -e, --evaluate CODE   evaluate CODE\n"
	"  -i, --interactive     start the REPL after the files and code\n"
	"      --demo            run the demo: a load balancer on :8080 over two demo backends\n"
	"      --check FILE      load a configuration without serving it: exit 0 if it is good\n"
	"      --emit-qbe FILE   include FILE, print the QBE IL of its compilable words (doc/jit.md)\n"
	"      --emit-bpf WORD FILE...  load the files, compile the packet word WORD to eBPF,\n"
	"                        load it through the verifier (not attached) and print it\n"
	"      --max-steps N     step budget for each evaluation (0: none)\n"
	"      --data-size BYTES size of the data space (default 1048576)\n"
	"      --metrics ADDR:PORT  serve Prometheus metrics on http://ADDR:PORT/metrics\n"
	"                        (wins over metrics-listen in the configuration)\n"
	"      --access-log PATH one line per request to PATH (wins over access-log)\n"
	"      --event-log PATH  events to PATH instead of stderr (wins over event-log)\n"
	"      --log-level LEVEL error, warn, info (default) or debug (wins over log-level)\n"
	"      --admin PATH      the admin socket (wins over admin-socket in the configuration)\n"
	"      --pid-file PATH   write the serving process's PID there\n"
	"  -h, --help            show this help\n"
	"  -V, --version         show the version\n";

struct host {
	int tty;		/* stdin is a terminal: use libedit */
	int errors;
};

static void host_write(void *h, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(STDOUT_FILENO, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		buf += n;
		len -= (size_t)n;
	}
}

static int host_key(void *h)
{
	return getchar();
}

static ssize_t host_readline(void *hp, char *buf, size_t cap)
{
	struct host *h = hp;
	if (h->tty) {
		char *line = readline("");
		if (!line)
			return -1;
		size_t n = strlen(line);
		if (n > cap)
			n = cap;
		memcpy(buf, line, n);
		free(line);
		return (ssize_t)n;
	}
	if (!fgets(buf, (int)(cap < 1 ? 1 : cap), stdin))
		return -1;
	size_t n = strlen(buf);
	if (n && buf[n - 1] == '\n')
		n--;
	return (ssize_t)n;
}

static void report(afd_vm *vm)
{
	char msg[600];
	afd_format_error(vm, msg, sizeof(msg));
	fprintf(stderr, "%s\n", msg);
}

/* afd --emit-bpf WORD FILE...: the listing on stdout, 0 when the verifier accepts it. */
static int emit_bpf(const struct afd_opts *o, const char *word, int nfiles, char **files)
{
	afd_vm *vm = afd_new(o);
	struct bpfc_ctx *ctx = vm ? bpfc_attach(vm) : NULL;
	if (!ctx) {
		fprintf(stderr, "afd: cannot create the Forth VM: %s\n", strerror(errno));
		afd_free(vm);
		return 1;
	}
	int status = 0;
	for (int i = 0; i < nfiles && !status; i++)
		if (afd_include(vm, files[i])) {
			report(vm);
			status = 1;
		}
	afd_cell xt = status ? -1 : afd_find(vm, word, strlen(word));
	if (!status && xt < 0) {
		fprintf(stderr, "afd: --emit-bpf: %s: no such word\n", word);
		status = 1;
	}
	struct bpfc_prog p = { .fd = -1 };
	if (!status) {
		int err = bpfc_compile(vm, ctx, xt, &p);
		if (!err)
			bpfc_print(vm, &p, stdout);
		err = err ? : bpfc_load(vm, &p, BPF_PROG_TYPE_XDP);
		if (err) {
			fprintf(stderr, "%s\n", p.err[0] ? p.err : strerror(-err));
			status = 1;
		} else {
			printf("; %u instructions, accepted by the verifier\n", p.n);
			close(p.fd);
		}
	}
	afd_flush(vm);
	bpfc_prog_free(&p);
	bpfc_detach(ctx);
	afd_free(vm);
	return status;
}

/* Read-eval-print: one line at a time; errors are reported and the session goes on. */
static int repl(afd_vm *vm, struct host *h)
{
	char *line = NULL;
	size_t cap = 0;
	int lineno = 0;
	for (;;) {
		ssize_t n;
		char *edited = NULL;
		if (h->tty) {
			edited = readline("");
			if (!edited)
				break;
			if (*edited)
				add_history(edited);
			n = (ssize_t)strlen(edited);
		} else {
			n = getline(&line, &cap, stdin);
			if (n < 0)
				break;
		}
		int err = afd_eval_at(vm, edited ? edited : line, (size_t)n, NULL, ++lineno);
		free(edited);
		if (err == AFD_THROW_BYE)
			break;
		if (err && err != AFD_THROW_QUIT) {
			h->errors++;
			report(vm);
		} else if (h->tty) {
			fputs(afd_compiling(vm) ? " compiled\n" : " ok\n", stdout);
			fflush(stdout);
		}
	}
	free(line);
	return h->errors && !h->tty ? 1 : 0;
}

/* --access-log, --event-log, --log-level: set now, and pinned against the configuration. */
static int set_logs(const char *logs[2], const char *level)
{
	for (int i = 0; i < 2; i++) {
		if (!logs[i])
			continue;
		int err = px_log_set_path((enum px_log_which)i, logs[i]);
		if (err < 0) {
			fprintf(stderr, "afd: %s: %s\n", logs[i], strerror(-err));
			return err;
		}
		px_log_pin((enum px_log_which)i);
	}
	if (level) {
		int l = px_log_level_parse(level, strlen(level));
		if (l < 0) {
			fprintf(stderr, "afd: --log-level: not error, warn, info or debug: %s\n", level);
			return l;
		}
		px_log_set_level((enum px_log_level)l);
		px_log_pin_level();
	}
	return 0;
}

int main(int argc, char **argv)
{
	/* A VM's large tables (dictionary headers, 4 MiB) are calloc'd: with a fixed threshold
	 * they always come from mmap, zero pages for free. glibc's default threshold rises
	 * after the first such free, and every later VM (a reload, an admin change) would then
	 * pay a 4 MiB memset: 0.45 ms instead of 0.2 ms per VM. */
	mallopt(M_MMAP_THRESHOLD, 256 * 1024);
	struct host h = { .tty = isatty(STDIN_FILENO) };
	struct afd_opts o = {
		.sz = sizeof(o), .write = host_write, .key = host_key,
		.readline = host_readline, .host = &h,
	};
	int interactive = 0, actions = 0, demo = 0;
	const char *metrics = NULL, *check = NULL, *admin = NULL, *pid_file = NULL, *emit_qbe = NULL;
	const char *logs[2] = { NULL, NULL }, *level = NULL;	/* [enum px_log_which] */
	int64_t max_steps = 0;

	if (argc > 2 && !strcmp(argv[1], "--emit-bpf"))	/* afd --emit-bpf WORD FILE... */
		return emit_bpf(&o, argv[2], argc - 3, argv + 3);
	/* options first: they shape the VM */
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(usage, stdout);
			return 0;
		} else if (!strcmp(a, "-V") || !strcmp(a, "--version")) {
			printf("afd %s\n", afd_version());
			return 0;
		} else if (!strcmp(a, "-i") || !strcmp(a, "--interactive")) {
			interactive = 1;
		} else if (!strcmp(a, "--demo")) {
			demo = 1;
			actions++;
		} else if ((!strcmp(a, "--max-steps") || !strcmp(a, "--data-size")) && i + 1 < argc) {
			char *end;
			long long v = strtoll(argv[++i], &end, 0);
			if (*end || v < 0) {
				fprintf(stderr, "afd: %s: not a number: %s\n", a, argv[i]);
				return 2;
			}
			if (a[2] == 'm')
				max_steps = v;
			else
				o.data_size = (size_t)v;
		} else if (!strcmp(a, "--check") || !strcmp(a, "--emit-qbe")) {
			if (++i >= argc) {
				fprintf(stderr, "afd: %s needs a FILE\n%s", a, usage);
				return 2;
			}
			*(a[2] == 'c' ? &check : &emit_qbe) = argv[i];
			actions++;
		} else if (!strcmp(a, "--metrics")) {
			if (++i >= argc) {
				fprintf(stderr, "afd: --metrics needs ADDR:PORT\n%s", usage);
				return 2;
			}
			metrics = argv[i];
		} else if (!strcmp(a, "--access-log") || !strcmp(a, "--event-log") ||
			   !strcmp(a, "--log-level")) {
			if (++i >= argc) {
				fprintf(stderr, "afd: %s needs an argument\n%s", a, usage);
				return 2;
			}
			if (a[2] == 'l')
				level = argv[i];
			else
				logs[a[2] == 'a' ? PX_LOG_ACCESS : PX_LOG_EVENTS] = argv[i];
		} else if (!strcmp(a, "--admin") || !strcmp(a, "--pid-file")) {
			if (++i >= argc) {
				fprintf(stderr, "afd: %s needs a PATH\n%s", a, usage);
				return 2;
			}
			if (a[2] == 'a')
				admin = argv[i];
			else
				pid_file = argv[i];
		} else if ((!strcmp(a, "-e") || !strcmp(a, "--evaluate"))) {
			if (++i >= argc) {
				fprintf(stderr, "afd: -e needs an argument\n%s", usage);
				return 2;
			}
			actions++;
		} else if (a[0] == '-' && a[1]) {
			fprintf(stderr, "afd: unknown option %s\n%s", a, usage);
			return 2;
		} else {
			actions++;
		}
	}

	afd_vm *vm = afd_new(&o);
	if (!vm) {
		fprintf(stderr, "afd: cannot create the Forth VM: %s\n", strerror(errno));
		return 1;
	}
	afd_set_max_steps(vm, max_steps);
	struct px_vmctx *px = px_attach(vm);	/* the load balancer's words */
	if (!px) {
		fprintf(stderr, "afd: cannot set up the proxy: %s\n", strerror(errno));
		afd_free(vm);
		return 1;
	}
	struct bpfc_ctx *bpfc = bpfc_attach(vm);	/* packet words (doc/bpf.md) */
	px->argv = argv;
	px->admin_path = admin;
	px->pid_file = pid_file;
	px->data_size = o.data_size;
	if (metrics && px_metrics_option(px, metrics) < 0) {
		fprintf(stderr, "afd: --metrics: not IPV4:PORT: %s\n", metrics);
		px_detach(px);
		bpfc_detach(bpfc);
		afd_free(vm);
		return 2;
	}
	if (set_logs(logs, level) < 0) {
		px_detach(px);
		bpfc_detach(bpfc);
		afd_free(vm);
		return 2;
	}
	if (check) {	/* like nginx -t: evaluate it, let handle-requests check instead of serve */
		px->check_only = true;
		int err = afd_include(vm, check);
		if (err && err != AFD_THROW_BYE && vm && afd_last_error(vm)->code)
			report(vm);
		else if (!err && !px->checked)	/* no handle-requests: check what was built */
			err = px_config_check(px->cfg, stderr);
		bool good = !err || err == AFD_THROW_BYE;
		if (good)
			fprintf(stderr, "afd: %s: configuration ok\n", check);
		px_detach(px);
		bpfc_detach(bpfc);
		afd_free(vm);
		return good ? 0 : 1;
	}
	if (emit_qbe) {	/* the IL the JIT would give the file's words */
		int err = jit_emit_file(vm, emit_qbe, stdout);
		if (err && err != AFD_THROW_BYE)
			report(vm);
		px_detach(px);
		afd_free(vm);
		return err && err != AFD_THROW_BYE;
	}
	if (demo) {
		px_add_source(px, afd_demo[0].name, afd_demo[0].text);
		int err = afd_eval(vm, afd_demo[0].text, strlen(afd_demo[0].text), afd_demo[0].name);
		if (err && err != AFD_THROW_BYE)
			report(vm);
		px_detach(px);
		bpfc_detach(bpfc);
		afd_free(vm);
		return err && err != AFD_THROW_BYE;
	}

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		int err = 0;
		if (!strcmp(a, "--max-steps") || !strcmp(a, "--data-size") || !strcmp(a, "--metrics") ||
		    !strcmp(a, "--check") || !strcmp(a, "--admin") || !strcmp(a, "--pid-file") ||
		    !strcmp(a, "--access-log") || !strcmp(a, "--event-log") || !strcmp(a, "--log-level") ||
		    !strcmp(a, "--emit-qbe")) {
			i++;
			continue;
		} else if (!strcmp(a, "-e") || !strcmp(a, "--evaluate")) {
			i++;
			px_add_source(px, "-e", argv[i]);	/* a reload evaluates it again */
			err = afd_eval(vm, argv[i], strlen(argv[i]), "-e");
		} else if (a[0] == '-' && a[1]) {
			continue;	/* options, handled above */
		} else {
			px_add_source(px, a, NULL);	/* a reload reads the file again */
			err = afd_include(vm, a);
		}
		if (err == AFD_THROW_BYE) {
			px_detach(px);
			bpfc_detach(bpfc);
			afd_free(vm);
			return 0;
		}
		if (err == AFD_THROW_QUIT)
			break;
		if (err) {
			report(vm);
			px_detach(px);
			bpfc_detach(bpfc);
			afd_free(vm);
			return 1;
		}
	}

	int status = 0;
	if (interactive || actions == 0)
		status = repl(vm, &h);
	px_detach(px);
	bpfc_detach(bpfc);
	afd_free(vm);
	return status;
}
