// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * Prints the struct sim_config `dumped` of the generated header dumped.h (tools/sim-config-c.ts) as
 * JSON, every field of it and of its regions, 64-bit values as decimal strings: what a C program
 * that includes the header hands sim_create. test/native/sim-config-c.test.ts compares it, field by
 * field, with the SimConfig it was printed from.
 */
#include <inttypes.h>
#include <stdio.h>

#include "dumped.h"

static void str(const char *s)
{
	if (!s) {
		printf("null");
		return;
	}
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\' || c < 0x20 || c >= 0x7f)
			printf("\\u%04x", c);	/* bytes: the test sends ASCII */
		else
			putchar(c);
	}
	putchar('"');
}

int main(void)
{
	const struct sim_config *c = &dumped;
	uint32_t i, k;

	printf("{\"nr_regions\":%" PRIu32 ",\"num_irqs\":%" PRIu32 ",\"max_subregions\":%" PRIu32 ",\"shm_dir\":",
	       c->nr_regions, c->num_irqs, c->max_subregions);
	str(c->shm_dir);
	printf(",\"vendor_id\":%u,\"device_id\":%u,\"class_code\":%" PRIu32 ",\"msi\":%" PRIu32 ",\"msix\":%" PRIu32
	       ",\"no_reset\":%d,\"model\":%" PRIu32 ",\"iommu\":", (unsigned)c->vendor_id, (unsigned)c->device_id, c->class_code, c->msi, c->msix, c->no_reset, c->model);
	if (!c->iommu) {
		printf("null");
	} else {
		printf("{\"dma_limit\":%" PRIu32 ",\"ranges\":[", c->iommu->dma_limit);
		for (k = 0; k < c->iommu->nr_ranges; k++)
			printf("%s{\"start\":\"%" PRIu64 "\",\"end\":\"%" PRIu64 "\"}", k ? "," : "",
			       c->iommu->ranges[k].start, c->iommu->ranges[k].end);
		printf("]}");
	}
	printf(",\"regions\":[");
	for (i = 0; i < c->nr_regions; i++) {
		const struct sim_region_config *r = &c->regions[i];

		printf("%s{\"size\":\"%" PRIu64 "\",\"kind\":%d,\"readable\":%d,\"writable\":%d,\"mmap\":%d,"
		       "\"supported_attrs\":%" PRIu32 ",\"nr_sparse\":%" PRIu32 ",\"sparse_null\":%d,\"sparse\":[",
		       i ? "," : "", r->size, (int)r->kind, r->readable, r->writable, r->mmap, r->supported_attrs,
		       r->nr_sparse, r->sparse == NULL);
		for (k = 0; k < r->nr_sparse; k++)
			printf("%s{\"offset\":\"%" PRIu64 "\",\"size\":\"%" PRIu64 "\"}", k ? "," : "",
			       r->sparse[k].offset, r->sparse[k].size);
		printf("],\"has_type\":%d,\"type\":%" PRIu32 ",\"subtype\":%" PRIu32 ",\"msix_mappable\":%d,\"prefetchable\":%d}",
		       r->has_type, r->type, r->subtype, r->msix_mappable, r->prefetchable);
	}
	printf("]}\n");
	return 0;
}
