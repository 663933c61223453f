/*
 * Checks a generated C blob and .incbin wrapper against the image file they embed.
 *
 *   blob_check IMAGE.so
 *
 * Built by tests/test_emit_c.py with -DVDSO_PREFIX=vdso32|vdso64 and
 * -DBLOB_HEADER='"<stem>-blob.h"', linked with <stem>-blob.c and <stem>-wrapper.S.
 * Prints "bytes ok" (or what differs), then every compiled-in symbol and patch, one per
 * line, for the test to compare with what pyelftools and the Python tables say.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include BLOB_HEADER

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define BLOB CAT(VDSO_PREFIX, _blob)

extern const unsigned char CAT(VDSO_PREFIX, _start)[], CAT(VDSO_PREFIX, _end)[];

static unsigned char *read_file(const char *path, long *size)
{
	FILE *f = fopen(path, "rb");
	if (!f) { perror(path); exit(2); }
	fseek(f, 0, SEEK_END);
	*size = ftell(f);
	fseek(f, 0, SEEK_SET);
	unsigned char *buf = malloc(*size ? *size : 1);
	if (fread(buf, 1, *size, f) != (size_t)*size) { perror("read"); exit(2); }
	fclose(f);
	return buf;
}

static int all_zero(const unsigned char *p, unsigned long n)
{
	for (unsigned long i = 0; i < n; i++)
		if (p[i]) return 0;
	return 1;
}

/* The embedded copy: same bytes, zero padding to whole pages, page-aligned. */
static int check_bytes(const char *what, const unsigned char *data, unsigned long mapped,
		       const unsigned char *file, long size)
{
	int ok = 1;
	if (mapped % BLOB.page_size || mapped / BLOB.page_size != BLOB.pages) {
		printf("%s: mapped size %lu is not %lu pages\n", what, mapped, BLOB.pages);
		ok = 0;
	}
	if ((uintptr_t)data % BLOB.page_size) {
		printf("%s: not page-aligned\n", what);
		ok = 0;
	}
	if ((unsigned long)size != BLOB.size || mapped < (unsigned long)size ||
	    memcmp(data, file, size) != 0) {
		printf("%s: bytes differ from the image\n", what);
		ok = 0;
	} else if (!all_zero(data + size, mapped - size)) {
		printf("%s: padding is not zero\n", what);
		ok = 0;
	}
	return ok;
}

int main(int argc, char **argv)
{
	if (argc != 2) { fprintf(stderr, "usage: blob_check IMAGE\n"); return 2; }
	long size;
	unsigned char *file = read_file(argv[1], &size);
	const unsigned char *start = CAT(VDSO_PREFIX, _start), *end = CAT(VDSO_PREFIX, _end);
	int ok = check_bytes("blob", BLOB.data, BLOB.pages * BLOB.page_size, file, size);
	ok &= check_bytes("incbin", start, (unsigned long)(end - start), file, size);
	if (ok) printf("bytes ok\n");
	printf("datapage_sym %ld\n", BLOB.datapage_offset_sym);
	for (unsigned i = 0; i < BLOB.symbol_count; i++)
		printf("sym %s %lu\n", BLOB.symbols[i].name, BLOB.symbols[i].offset);
	for (unsigned i = 0; i < BLOB.cpu_count; i++) {
		const struct vdsotool_cpu_patches *c = &BLOB.cpus[i];
		printf("cpu %s %#x %#x %#llx %u\n", c->name, c->pvr_mask, c->pvr_value,
		       c->cpu_features, c->count);
		for (unsigned j = 0; j < c->count; j++) {
			const struct vdsotool_patch *p = &c->patches[j];
			printf("patch %s %u %u %u %s %s ", c->name, p->offset, p->size,
			       p->dynsym_index, p->symbol, p->field);
			for (unsigned k = 0; k < p->size; k++) printf("%02x", p->old_bytes[k]);
			printf(" ");
			for (unsigned k = 0; k < p->size; k++) printf("%02x", p->new_bytes[k]);
			printf("\n");
		}
	}
	return ok ? 0 : 1;
}
