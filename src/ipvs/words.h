/* words.h: the IPVS words (words.c, doc/ipvs.md) */
#ifndef AFD_IPVS_WORDS_H
#define AFD_IPVS_WORDS_H

#include <stdbool.h>
#include <stdint.h>
#include "afd/forth.h"

/* Register the IPVS words in vm; replay: a VM that replays the configuration (a worker),
 * whose words send nothing to the kernel. 0 or a negative errno. */
int ipvs_register_words(afd_vm *vm, bool replay);
/* The proxy's health checks changed a backend's state (px_health_set): the services that
 * follow its pool (ipvs-follow-health) give that destination weight 0, or back its own. */
void ipvs_health_changed(const char *pool, uint32_t ip, uint16_t port, uint32_t weight,
			 bool up);

#endif
