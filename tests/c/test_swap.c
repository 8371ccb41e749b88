/* test_swap.c: a colon word's entry point swapped between threaded and native code by
 * another thread while the VM keeps calling it; THROW out of native code into CATCH. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "forth/vm.h"

static int passed, failed;
#define CHECK(c) do { if (c) passed++; else { failed++; \
	fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #c); } } while (0)

static atomic_long native_calls;
static atomic_int stop;
static atomic_long swaps;

static int native42(afd_vm *vm, void *ctx)	/* the same as `: f 40 2 + ;` */
{
	atomic_fetch_add(&native_calls, 1);
	return afd_push(vm, 42);
}

static int native_throw(afd_vm *vm, void *ctx) { return -123; }

struct swapper { afd_vm *vm; cell xt; };

static void *swap_loop(void *p)
{
	struct swapper *s = p;
	while (!atomic_load(&stop)) {
		fth_set_native(s->vm, s->xt, native42, NULL);
		usleep(50);
		fth_set_native(s->vm, s->xt, NULL, NULL);
		atomic_fetch_add(&swaps, 1);
		usleep(50);
	}
	return NULL;
}

static cell eval_top(afd_vm *vm, const char *src)
{
	cell v = -1;
	if (afd_eval(vm, src, strlen(src), "test") == 0)
		afd_pop(vm, &v);
	return v;
}

int main(void)
{
	afd_vm *vm = afd_new(NULL);
	CHECK(vm != NULL);
	const char *defs = ": f 40 2 + ; : g 0 100000 0 do f + loop ;";
	CHECK(afd_eval(vm, defs, strlen(defs), "defs") == 0);
	cell xt = afd_find(vm, "f", 1);
	CHECK(xt > 0);

	/* one swap, then back */
	CHECK(fth_set_native(vm, xt, native42, NULL) == 0);
	CHECK(eval_top(vm, "g") == 4200000);
	CHECK(atomic_load(&native_calls) == 100000);
	CHECK(fth_set_native(vm, xt, NULL, NULL) == 0);
	CHECK(eval_top(vm, "g") == 4200000);
	CHECK(atomic_load(&native_calls) == 100000);
	CHECK(fth_set_native(vm, afd_find(vm, "dup", 3), native42, NULL) < 0);

	/* swaps from another thread while the VM runs: every call sees one whole entry */
	struct swapper s = { vm, xt };
	pthread_t th;
	pthread_create(&th, NULL, swap_loop, &s);
	/* until both entries were seen and 100 swaps done: a busy machine may park the swapper
	 * for a while, so the bound is time, not a count */
	int good = 0, runs = 0;
	time_t until = time(NULL) + 20;
	for (;;) {
		good += eval_top(vm, "g") == 4200000;
		runs++;
		long nat = atomic_load(&native_calls) - 100000;
		if (runs >= 50 && atomic_load(&swaps) >= 100 && nat > 0 && nat < runs * 100000L)
			break;
		if (time(NULL) > until)
			break;
	}
	atomic_store(&stop, 1);
	pthread_join(th, NULL);
	fth_set_native(vm, xt, NULL, NULL);
	CHECK(good == runs);
	long n = atomic_load(&native_calls) - 100000;
	if (!(n > 0 && n < runs * 100000L))
		fprintf(stderr, "native calls during swaps: %ld of %ld\n", n, runs * 100000L);
	CHECK(n > 0 && n < runs * 100000L);	/* both entries were taken */

	/* THROW from native code crosses into Forth's CATCH, and out of it uncaught */
	CHECK(fth_set_native(vm, xt, native_throw, NULL) == 0);
	CHECK(eval_top(vm, "' f catch") == -123);
	CHECK(eval_top(vm, ": h 1 f ; 7 ' h catch nip") == -123);
	CHECK(afd_eval(vm, "f", 1, "t") == -123);
	CHECK(afd_depth(vm) == 0);
	afd_free(vm);
	printf("%d passed, %d failed\n", passed, failed);
	return failed != 0;
}
