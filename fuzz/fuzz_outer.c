/* fuzz_outer.c: libFuzzer target for the outer interpreter. Any text is evaluated under a
 * step budget; the engine must never crash, leak or step outside its data space, and after
 * every uncaught error it must be clean (empty stack, interpreting). */
#include <stdlib.h>
#include <string.h>
#include <afd/forth.h>

static char out[64];
static size_t nout;

static void sink(void *h, const char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		out[nout++ % sizeof(out)] = buf[i];
}

static int no_sleep(afd_vm *vm, void *ctx)	/* MS would stall the fuzzer */
{
	afd_cell ms;
	return afd_pop(vm, &ms);
}

static afd_vm *fresh(void)
{
	struct afd_opts o = { .sz = sizeof(o), .data_size = 256 * 1024, .write = sink };
	afd_vm *vm = afd_new(&o);
	if (!vm)
		abort();
	afd_register(vm, "ms", "( u -- )", no_sleep, NULL);
	afd_set_max_steps(vm, 50000);
	return vm;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	static afd_vm *vm;
	static unsigned runs;
	if (!vm || ++runs % 2000 == 0) {	/* a new VM now and then: state accumulates */
		afd_free(vm);
		vm = fresh();
	}
	int err = afd_eval(vm, (const char *)data, size, "fuzz");
	/* after an uncaught error the VM must be clean: empty stack, interpreting */
	if (err && err != AFD_THROW_BYE && (afd_depth(vm) != 0 || afd_compiling(vm)))
		abort();
	afd_cell v;
	while (afd_depth(vm) > 0)
		afd_pop(vm, &v);
	return 0;
}
