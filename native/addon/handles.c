// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * Which pointers are live handles, by kind: a JS External is accepted as a device or mapping handle
 * only when its pointer is one of ours, alive, of that kind. A hash set per thread (each Node-API
 * environment, main or worker, runs on its own, and externals cannot cross), so no lock: this check
 * runs on every hot call, where a Node-API type-tag check would cost more than the call.
 */
#include "addon.h"

#include <stdlib.h>

struct slot {
	void *p;		/* NULL: empty */
	int kind;		/* HANDLE_NONE with p set: a removed entry */
};

static _Thread_local struct slot *slots;
static _Thread_local size_t cap, used;	/* used counts removed entries too, until a rehash */

static size_t hash(const void *p, size_t mask)
{
	return (size_t)(((uintptr_t)p >> 4) * UINT64_C(0x9e3779b97f4a7c15) >> 17) & mask;
}

static int rehash(size_t ncap)
{
	struct slot *old = slots, *n = calloc(ncap, sizeof(*n));
	size_t ocap = cap;

	if (!n)
		return -1;
	slots = n;
	cap = ncap;
	used = 0;
	for (size_t i = 0; i < ocap; i++) {
		if (old[i].p && old[i].kind != HANDLE_NONE) {
			size_t j = hash(old[i].p, cap - 1);

			while (slots[j].p)
				j = (j + 1) & (cap - 1);
			slots[j] = old[i];
			used++;
		}
	}
	free(old);
	return 0;
}

int handle_add(void *p, int kind)
{
	size_t j;

	if ((used + 1) * 2 > cap && rehash(cap ? cap * 2 : 64) < 0)
		return -1;
	j = hash(p, cap - 1);
	while (slots[j].p)
		j = (j + 1) & (cap - 1);
	slots[j] = (struct slot){ p, kind };
	used++;
	return 0;
}

static struct slot *find(const void *p)
{
	if (!cap)
		return NULL;
	for (size_t j = hash(p, cap - 1); slots[j].p; j = (j + 1) & (cap - 1))
		if (slots[j].p == p && slots[j].kind != HANDLE_NONE)
			return &slots[j];
	return NULL;
}

void handle_del(void *p)
{
	struct slot *s = find(p);

	if (s)
		s->kind = HANDLE_NONE;
}

bool handle_is(const void *p, int kind)
{
	const struct slot *s = find(p);

	return s && s->kind == kind;
}
