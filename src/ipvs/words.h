/* words.h: the IPVS words (words.c, doc/ipvs.md) */
#ifndef AFD_IPVS_WORDS_H
#define AFD_IPVS_WORDS_H

#include <stdbool.h>
#include "afd/forth.h"

/* Register the IPVS words in vm; replay: a VM that replays the configuration (a worker),
 * whose words send nothing to the kernel. 0 or a negative errno. */
int ipvs_register_words(afd_vm *vm, bool replay);

#endif
