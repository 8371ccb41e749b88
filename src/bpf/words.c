/* words.c: the Forth words that compile, load, show and attach packet words.
 *   xdp-load   ( xt -- fd )          compile to eBPF and load as XDP (throws when refused)
 *   see-bpf    ( "name" -- )         print the compiled eBPF with the Forth source
 *   xdp-attach ( fd c-addr u -- link native? )  BPF link on an interface (native, else generic)
 *   xdp-update ( link fd -- )        replace the link's program atomically
 *   bpf-close  ( fd -- )             close a program or link (detaches a link)
 *   xdp-run    ( fd c-addr u -- verdict )  BPF_PROG_TEST_RUN on a packet in the data space
 * An error prints "file:line:col: WORD: reason" and throws -2 (ABORT") with it. */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include "bpf/cc.h"

static int fail(afd_vm *vm, const char *msg)
{
	fth_type(vm, msg, strlen(msg));
	fth_type(vm, "\n", 1);
	size_t n = strlen(msg);
	vm->abortlen = n < sizeof(vm->abortmsg) ? (cell)n : (cell)sizeof(vm->abortmsg);
	memcpy(vm->abortmsg, msg, (size_t)vm->abortlen);
	return -2;
}

static int w_xdp_load(afd_vm *vm, void *ctx)
{
	afd_cell xt;
	int err = afd_pop(vm, &xt);
	if (err)
		return err;
	struct bpfc_prog p;
	err = bpfc_compile(vm, ctx, xt, &p);
	err = err ? : bpfc_load(vm, &p, BPF_PROG_TYPE_XDP);
	if (err < 0) {
		err = fail(vm, p.err[0] ? p.err : strerror(-err));
		bpfc_prog_free(&p);
		return err;
	}
	bpfc_prog_free(&p);
	return afd_push(vm, p.fd);
}

static void out_write(afd_vm *vm, const char *s, size_t n)
{
	fth_type(vm, s, n);
}

static int w_see_bpf(afd_vm *vm, void *ctx)
{
	const char *s;
	size_t n;
	int err = afd_parse_name(vm, &s, &n);
	if (err || !n)
		return err ? err : -16;
	afd_cell xt = afd_find(vm, s, n);
	if (xt < 0)
		return -13;
	struct bpfc_prog p;
	err = bpfc_compile(vm, ctx, xt, &p);
	if (err) {
		err = fail(vm, p.err);
		bpfc_prog_free(&p);
		return err;
	}
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (f) {
		bpfc_print(vm, &p, f);
		fclose(f);
		out_write(vm, buf, len);
		free(buf);
	}
	bpfc_prog_free(&p);
	return 0;
}

static int w_xdp_attach(afd_vm *vm, void *ctx)
{
	const char *s;
	size_t n;
	afd_cell fd;
	int err = afd_pop_string(vm, &s, &n);
	err = err ? err : afd_pop(vm, &fd);
	if (err)
		return err;
	char name[64], why[160];
	snprintf(name, sizeof(name), "%.*s", (int)n, s);
	bool native;
	int link = bpfc_xdp_attach((int)fd, name, &native, why, sizeof(why));
	if (link < 0)
		return fail(vm, why);
	err = afd_push(vm, link);
	return err ? err : afd_push(vm, native ? -1 : 0);
}

static int w_xdp_update(afd_vm *vm, void *ctx)
{
	afd_cell link, fd;
	int err = afd_pop(vm, &fd);
	err = err ? err : afd_pop(vm, &link);
	if (err)
		return err;
	err = bpfc_link_update((int)link, (int)fd);
	return err ? fail(vm, strerror(-err)) : 0;
}

static int w_close(afd_vm *vm, void *ctx)
{
	afd_cell fd;
	int err = afd_pop(vm, &fd);
	if (!err && fd > 2)
		close((int)fd);
	return err;
}

static int w_xdp_run(afd_vm *vm, void *ctx)
{
	const char *s;
	size_t n;
	afd_cell fd;
	int err = afd_pop_string(vm, &s, &n);
	err = err ? err : afd_pop(vm, &fd);
	if (err)
		return err;
	uint32_t ret;
	err = bpfc_test_run((int)fd, s, (uint32_t)n, 1, &ret, NULL);
	return err ? fail(vm, strerror(-err)) : afd_push(vm, ret);
}

int bpfc_register_tools(afd_vm *vm, struct bpfc_ctx *ctx)
{
	static const struct { const char *name, *effect; afd_prim_fn fn; } t[] = {
		{ "xdp-load", "( xt -- fd )", w_xdp_load },
		{ "see-bpf", "( \"name\" -- )", w_see_bpf },
		{ "xdp-attach", "( fd c-addr u -- link native? )", w_xdp_attach },
		{ "xdp-update", "( link fd -- )", w_xdp_update },
		{ "bpf-close", "( fd -- )", w_close },
		{ "xdp-run", "( fd c-addr u -- verdict )", w_xdp_run },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(*t); i++)
		if (afd_register(vm, t[i].name, t[i].effect, t[i].fn, ctx) < 0)
			return -ENOMEM;
	return 0;
}
