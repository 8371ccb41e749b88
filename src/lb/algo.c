/* algo.c: the registry of balancing algorithms, a list in registration order.
 *
 * Each built-in algorithm lives in its own file as a filled struct lb_algo. They are
 * registered here by lb_algos_init rather than by constructors in their files: a linker
 * pulling objects out of a static library drops a file nothing refers to, constructor and
 * all, so the registry itself must refer to every built-in. Registration happens at
 * start-up (or on the first lookup), before worker threads pick. */
#include <pthread.h>
#include <string.h>
#include "priv.h"

static struct lb_algo *g_algos;

/* A name already registered stays with its first owner, which makes registering twice (and
 * lb_algos_init) harmless. */
void lb_algo_register(struct lb_algo *algo)
{
	struct lb_algo **p = &g_algos;
	for (; *p; p = &(*p)->next)
		if (*p == algo || !strcmp((*p)->name, algo->name))
			return;
	algo->next = NULL;
	*p = algo;
}

static void register_builtins(void)
{
	static struct lb_algo *const builtins[] = {
		&lb_algo_rr, &lb_algo_wrr, &lb_algo_leastconn, &lb_algo_p2c,
		&lb_algo_ewma, &lb_algo_srchash, &lb_algo_maglev,
	};
	for (size_t i = 0; i < sizeof(builtins) / sizeof(*builtins); i++)
		lb_algo_register(builtins[i]);
}

void lb_algos_init(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, register_builtins);
}

const struct lb_algo *lb_algo_find(const char *name)
{
	lb_algos_init();
	for (const struct lb_algo *a = g_algos; a; a = a->next)
		if (!strcmp(a->name, name))
			return a;
	return NULL;
}

const struct lb_algo *lb_algo_first(void)
{
	lb_algos_init();
	return g_algos;
}
