/* test_jit.c: the QBE JIT. The ELF loader on objects `as` makes (relocations, host symbols,
 * bad input); THROW through compiled code in both directions; address checks in compiled
 * code; compiled entries swapped while the VM calls them from another thread.
 * Needs qbe and as: without them every check is skipped, visibly. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "jit/jit.h"

static int passed, failed;
#define CHECK(c) do { if (c) passed++; else { failed++; \
	fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #c); } } while (0)

static cell eval_top(afd_vm *vm, const char *src)
{
	cell v = -77777;
	if (afd_eval(vm, src, strlen(src), "test") == 0)
		afd_pop(vm, &v);
	return v;
}

static int jit_word(afd_vm *vm, const char *name)
{
	cell xt = afd_find(vm, name, strlen(name));
	return xt > 0 ? jit_compile(vm, &xt, 1) : -1;
}

static bool native(afd_vm *vm, const char *name)
{
	cell xt = afd_find(vm, name, strlen(name));
	return xt > 0 && vm->words[xt].cfa != fth_kind_label(WK_COLON);
}

/* ---- the loader ---- */

static long host_add(long a, long b) { return a + b; }

static void *resolve(void *ctx, const char *name)
{
	return !strcmp(name, "host_add") ? (void *)host_add : NULL;
}

static void *resolve_none(void *ctx, const char *name) { return NULL; }

struct found { void *f, *g; int n; };
static void found(void *ctx, const char *name, void *addr)
{
	struct found *F = ctx;
	F->n++;
	if (!strcmp(name, "f"))
		F->f = addr;
	if (!strcmp(name, "g"))
		F->g = addr;
}

static char *assemble(const char *src, size_t *len)
{
	char s[] = "/tmp/afd-test-jit-XXXXXX";
	int fd = mkstemp(s);
	if (fd < 0)
		return NULL;
	close(fd);
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "as --64 -o %s -", s);
	FILE *p = popen(cmd, "w");
	fputs(src, p);
	char *obj = NULL;
	if (pclose(p) == 0) {
		FILE *f = fopen(s, "rb");
		obj = malloc(1 << 16);
		*len = fread(obj, 1, 1 << 16, f);
		fclose(f);
	}
	unlink(s);
	return obj;
}

static void test_loader(void)
{
	/* f: a PLT32 call to the host; g: a PC32 load of a cell that an R_X86_64_64 fills */
	const char *src =
		".text\n.globl f\nf:\n\tsubq $8, %rsp\n\tcall host_add@PLT\n\taddq $8, %rsp\n\tret\n"
		".globl g\ng:\n\tmovq tbl(%rip), %rax\n\tret\n"
		".data\ntbl:\n\t.quad host_add\n";
	size_t len = 0;
	char *obj = assemble(src, &len), err[200] = "";
	CHECK(obj != NULL);
	if (!obj)
		return;
	struct found F = { 0 };
	struct jit_image *img = NULL;
	CHECK(jit_load_elf(obj, len, resolve, found, &F, &img, err, sizeof(err)) == 0);
	CHECK(F.n == 2 && F.f && F.g);
	if (F.f && F.g) {
		CHECK(((long (*)(long, long))F.f)(40, 2) == 42);
		CHECK(((void *(*)(void))F.g)() == (void *)host_add);
	}
	/* bad objects are errors, not crashes: truncated, garbage, unresolved symbols */
	struct jit_image *bad = NULL;
	CHECK(jit_load_elf(obj, 40, resolve, found, &F, &bad, err, sizeof(err)) < 0);
	for (size_t cut = 64; cut < len; cut += 97) {
		bad = NULL;
		CHECK(jit_load_elf(obj, cut, resolve, found, &F, &bad, err, sizeof(err)) < 0 || bad);
		jit_unload(bad);
	}
	bad = NULL;
	CHECK(jit_load_elf("hello", 5, resolve, found, &F, &bad, err, sizeof(err)) < 0);
	CHECK(jit_load_elf(obj, len, resolve_none, found, &F, &bad, err, sizeof(err)) < 0);
	CHECK(strstr(err, "host_add") != NULL);
	jit_unload(img);
	free(obj);
}

/* ---- THROW and CATCH across compiled and interpreted code ---- */

static int c_throw(afd_vm *vm, void *ctx)	/* ( n -- ) an interpreted word that throws */
{
	cell n;
	int err = afd_pop(vm, &n);
	return err ? err : (int)n;
}

static void test_throw(afd_vm *vm)
{
	afd_register(vm, "c-throw", "( n -- )", c_throw, NULL);
	const char *defs =
		": t3 ( -- ) 3 throw ;  : t4 ( -- ) 1 2 t3 + drop ;\n"
		": t0 ( n -- n ) dup 0 throw 1+ ;\n"
		": tc ( n -- n ) 1 swap c-throw ;\n"
		": tbig ( -- ) -9223372036854775807 throw ;\n"
		": tdeep ( n -- n ) dup 0= if 55 throw then 1- recurse ;\n";
	CHECK(afd_eval(vm, defs, strlen(defs), "defs") == 0);
	CHECK(jit_word(vm, "t4") == 2);	/* t4 and the t3 it calls */
	CHECK(jit_word(vm, "t0") == 1 && jit_word(vm, "tc") == 1 && jit_word(vm, "tbig") == 1);
	CHECK(jit_word(vm, "tdeep") == 1);
	CHECK(native(vm, "t3") && native(vm, "t4") && native(vm, "tc") && native(vm, "tdeep"));
	/* compiled -> interpreted CATCH, the depth restored */
	CHECK(eval_top(vm, "9 ' t4 catch swap 9 = and") == 3);
	CHECK(eval_top(vm, "5 ' t0 catch drop") == 6);
	/* interpreted (a C word) throwing through compiled code */
	CHECK(eval_top(vm, "-77 ' tc catch nip") == -77);
	CHECK(eval_top(vm, "0 tc") == 1);
	/* a code wider than the int a native entry returns */
	CHECK(eval_top(vm, "' tbig catch") == -9223372036854775807LL);
	/* through 30 nested compiled frames */
	CHECK(eval_top(vm, "30 ' tdeep catch") == 55);
	CHECK(afd_eval(vm, "t4", 2, "t") == 3);	/* uncaught: the VM is clean after it */
	CHECK(afd_depth(vm) == 0);
	/* runaway recursion in compiled code: the return stack check, not a crash */
	const char *inf = ": down ( n -- n ) 1+ recurse ;";
	CHECK(afd_eval(vm, inf, strlen(inf), "t") == 0 && jit_word(vm, "down") == 1);
	CHECK(eval_top(vm, "0 ' down catch") == -5);
	/* the step budget still stops compiled loops */
	const char *spin = ": spin ( -- ) begin again ;";
	CHECK(afd_eval(vm, spin, strlen(spin), "t") == 0 && jit_word(vm, "spin") == 1);
	afd_set_max_steps(vm, 1000000);
	CHECK(afd_eval(vm, "spin", 4, "t") == AFD_THROW_STEPS);
	afd_set_max_steps(vm, 0);
}

/* ---- address checks ---- */

static void test_addresses(afd_vm *vm)
{
	const char *defs =
		": rd ( a -- x ) @ ;  : wr ( x a -- ) ! ;  : crd ( a -- c ) c@ ;  : cwr ( c a -- ) c! ;\n"
		": 2rd ( a -- x1 x2 ) 2@ ;  : sum ( a n -- x ) 0 -rot 0 do over i cells + @ + loop nip ;\n"
		"create buf 64 allot\n";
	CHECK(afd_eval(vm, defs, strlen(defs), "defs") == 0);
	const char *w[] = { "rd", "wr", "crd", "cwr", "2rd", "sum" };
	for (size_t i = 0; i < sizeof(w) / sizeof(*w); i++)
		CHECK(jit_word(vm, w[i]) == 1 && native(vm, w[i]));
	CHECK(eval_top(vm, "1234 buf wr buf rd") == 1234);
	CHECK(eval_top(vm, "65 buf cwr buf crd") == 65);
	CHECK(eval_top(vm, "0 ' rd catch nip") == -9);
	CHECK(eval_top(vm, "-1 ' rd catch nip") == -9);
	CHECK(eval_top(vm, "1 0 ' wr catch nip nip") == -9);
	CHECK(eval_top(vm, "1 -8 ' cwr catch nip nip") == -9);
	char src[160];
	/* the last cell of the data space is readable, one byte further is not */
	snprintf(src, sizeof(src), "%lld ' rd catch nip", (long long)(intptr_t)(vm->mem + vm->memsize - 7));
	CHECK(eval_top(vm, src) == -9);
	snprintf(src, sizeof(src), "%lld ' rd catch nip", (long long)(intptr_t)(vm->mem + vm->memsize - 8));
	CHECK(eval_top(vm, src) == 0);
	snprintf(src, sizeof(src), "%lld ' 2rd catch nip", (long long)(intptr_t)(vm->mem + vm->memsize - 8));
	CHECK(eval_top(vm, src) == -9);
	CHECK(eval_top(vm, "0 1000000 ' sum catch nip nip") == -9);
	CHECK(afd_depth(vm) == 0);
}

/* ---- swaps while the VM calls the word ---- */

static atomic_int stop;
static atomic_long swaps;
struct swapper { afd_vm *vm; cell xt; afd_prim_fn fn; };

static void *swap_loop(void *p)
{
	struct swapper *s = p;
	while (!atomic_load(&stop)) {
		fth_set_native(s->vm, s->xt, NULL, NULL);
		usleep(30);
		fth_set_native(s->vm, s->xt, s->fn, NULL);
		atomic_fetch_add(&swaps, 1);
		usleep(30);
	}
	return NULL;
}

static void test_swap(afd_vm *vm)
{
	const char *defs = ": f ( n -- n ) 3 * 1+ ;  : g ( -- n ) 0 100000 0 do i f + loop ;";
	CHECK(afd_eval(vm, defs, strlen(defs), "defs") == 0);
	CHECK(eval_top(vm, "g") == 14999850000LL + 100000);
	cell xt = afd_find(vm, "f", 1);
	CHECK(jit_word(vm, "f") == 1);
	struct swapper s = { vm, xt, vm->words[xt].native };
	pthread_t th;
	pthread_create(&th, NULL, swap_loop, &s);
	int good = 0, runs = 0;
	time_t until = time(NULL) + 20;
	while ((runs < 30 || atomic_load(&swaps) < 50) && time(NULL) <= until) {
		good += eval_top(vm, "g") == 14999850000LL + 100000;
		runs++;
	}
	atomic_store(&stop, 1);
	pthread_join(th, NULL);
	CHECK(good == runs && runs >= 30);
	CHECK(native(vm, "f"));
	CHECK(eval_top(vm, "g") == 14999850000LL + 100000);
}

/* ---- AFD_JIT=always: compiled at the first call, also a word at the xt of a forgotten one ---- */

static void test_always(void)
{
	setenv("AFD_JIT", "always", 1);
	afd_vm *vm = afd_new(NULL);
	unsetenv("AFD_JIT");
	CHECK(vm && vm->jit_counts);
	if (!vm)
		return;
	const char *a = "marker m  : a ( -- n ) 1 ;  : a2 ( -- n ) a 1+ ;";
	CHECK(afd_eval(vm, a, strlen(a), "t") == 0);
	CHECK(!native(vm, "a2"));
	CHECK(eval_top(vm, "a2") == 2);
	CHECK(native(vm, "a") && native(vm, "a2"));
	cell xa = afd_find(vm, "a", 1);
	const char *b = "m  : z ( -- ) ;  : b ( -- n ) 40 2 + ;";
	CHECK(afd_eval(vm, b, strlen(b), "t") == 0);
	CHECK(afd_find(vm, "b", 1) == xa && afd_find(vm, "a", 1) < 0);	/* the same xt */
	CHECK(!native(vm, "b"));
	CHECK(eval_top(vm, "b") == 42);
	CHECK(native(vm, "b"));
	CHECK(eval_top(vm, "b") == 42);
	afd_free(vm);
}

/* ---- AFD_JIT=auto: a word called FTH_JIT_HOT times is compiled by the JIT's thread ---- */

static void test_auto(void)
{
	setenv("AFD_JIT", "auto", 1);
	afd_vm *vm = afd_new(NULL);
	unsetenv("AFD_JIT");
	CHECK(vm && vm->jit_counts);
	if (!vm)
		return;
	const char *defs = ": hot ( n -- n ) 2* 1+ ;  : run ( -- n ) 0 100 0 do i hot + loop ;";
	CHECK(afd_eval(vm, defs, strlen(defs), "defs") == 0);
	CHECK(!native(vm, "hot"));
	CHECK(eval_top(vm, "run") == 10000);
	int good = 0, runs = 0;
	time_t until = time(NULL) + 20;
	while (!native(vm, "hot") && time(NULL) <= until) {	/* the swap comes while we call */
		good += eval_top(vm, "run") == 10000;
		runs++;
	}
	CHECK(native(vm, "hot") && good == runs);
	CHECK(eval_top(vm, "run") == 10000);
	/* redefined: the new word is the one found, whatever the JIT did to the old one */
	const char *redef = ": hot ( n -- n ) 3 * ;";
	CHECK(afd_eval(vm, redef, strlen(redef), "t") == 0);
	CHECK(eval_top(vm, "7 hot") == 21);
	CHECK(eval_top(vm, "run") == 10000);	/* run still calls the old one */
	afd_free(vm);	/* joins the JIT's thread */
}

int main(void)
{
	if (system("command -v qbe >/dev/null && command -v as >/dev/null") != 0) {
		printf("SKIP: qbe or as not installed (bash scripts/deps.sh jit)\n0 passed, 0 failed\n");
		return 0;
	}
	test_loader();
	afd_vm *vm = afd_new(NULL);
	CHECK(vm != NULL);
	if (vm) {
		test_throw(vm);
		test_addresses(vm);
		test_swap(vm);
		afd_free(vm);
	}
	test_always();
	test_auto();
	printf("%d passed, %d failed\n", passed, failed);
	return failed != 0;
}
