/*
 * Checks a generated C blob and .incbin wrapper against the image file they embed.
 *
 *   blob_check IMAGE.so
 *
 * Built by tests/oracle/test_emit_c.py with -DVDSO_PREFIX=vdso32|vdso64 and
 * -DBLOB_HEADER='"<stem>-blob.h"', linked with <stem>-blob.c and <stem>-wrapper.S, by the
 * host gcc and by each cross gcc (then run under qemu-user).
 *
 * The bytes are compared here (the file is read at run time); everything else is printed,
 * one item per line, for the test to compare with what pyelftools and the CPU table say:
 *   bytes ok                       (or one line per embedded copy that differs)
 *   layout blob|incbin SIZE PAGE_SIZE PAGES MAPPED ALIGNMENT
 *   datapage_sym OFFSET
 *   sym NAME OFFSET
 *   cpu NAME PVR_MASK PVR_VALUE FEATURES COUNT
 *   select NAME CPU                (the entry a first-match PVR search finds for NAME's PVR)
 *   patch CPU OFFSET SIZE INDEX SYMBOL FIELD OLDHEX NEWHEX
 * Exit status 0 when both copies equal the image, 1 otherwise, 2 on a usage/IO error.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include BLOB_HEADER

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define BLOB CAT(VDSO_PREFIX, _blob)
#define IMAGE_ARRAY CAT(VDSO_PREFIX, _image)

/* The wrapper's labels. */
extern const unsigned char CAT(VDSO_PREFIX, _start)[], CAT(VDSO_PREFIX, _end)[];

static unsigned char *read_file(const char *path, long *size)
{
	FILE *f = fopen(path, "rb");
	if (!f) { perror(path); exit(2); }
	fseek(f, 0, SEEK_END);
	*size = ftell(f);
	fseek(f, 0, SEEK_SET);
	unsigned char *buf = malloc(*size ? *size : 1);
	if (!buf || fread(buf, 1, *size, f) != (size_t)*size) { perror("read"); exit(2); }
	fclose(f);
	return buf;
}

static int all_zero(const unsigned char *p, unsigned long n)
{
	for (unsigned long i = 0; i < n; i++)
		if (p[i]) return 0;
	return 1;
}

/* The largest power of two (up to 1 MiB) dividing the address. */
static unsigned long alignment_of(const void *p)
{
	unsigned long a = 1;
	while (a < (1UL << 20) && (uintptr_t)p % (a * 2) == 0) a *= 2;
	return a;
}

/* An embedded copy: the image's bytes, then zeros up to `mapped`. */
static int check_bytes(const char *what, const unsigned char *data, unsigned long mapped,
		       const unsigned char *file, long size)
{
	printf("layout %s %lu %lu %lu %lu %lu\n", what, BLOB.size, BLOB.page_size, BLOB.pages,
	       mapped, alignment_of(data));
	if ((unsigned long)size != BLOB.size || mapped < (unsigned long)size ||
	    memcmp(data, file, size) != 0) {
		printf("%s: bytes differ from the image\n", what);
		return 0;
	}
	if (!all_zero(data + size, mapped - size)) {
		printf("%s: padding is not zero\n", what);
		return 0;
	}
	return 1;
}

static void print_hex(const unsigned char *p, unsigned n)
{
	for (unsigned k = 0; k < n; k++) printf("%02x", p[k]);
}

/* How a kernel picks its CPU's table: the first entry whose (PVR & mask) == value. */
static const struct vdsotool_cpu_patches *cpu_for_pvr(unsigned int pvr)
{
	for (unsigned i = 0; i < BLOB.cpu_count; i++)
		if ((pvr & BLOB.cpus[i].pvr_mask) == BLOB.cpus[i].pvr_value) return &BLOB.cpus[i];
	return NULL;
}

static void print_tables(void)
{
	printf("datapage_sym %ld\n", BLOB.datapage_offset_sym);
	for (unsigned i = 0; i < BLOB.symbol_count; i++)
		printf("sym %s %lu\n", BLOB.symbols[i].name, BLOB.symbols[i].offset);
	for (unsigned i = 0; i < BLOB.cpu_count; i++) {
		const struct vdsotool_cpu_patches *c = &BLOB.cpus[i];
		printf("cpu %s %#x %#x %#llx %u\n", c->name, c->pvr_mask, c->pvr_value,
		       c->cpu_features, c->count);
		const struct vdsotool_cpu_patches *found = cpu_for_pvr(c->pvr_value);
		printf("select %s %s\n", c->name, found ? found->name : "-");
		for (unsigned j = 0; j < c->count; j++) {
			const struct vdsotool_patch *p = &c->patches[j];
			printf("patch %s %u %u %u %s %s ", c->name, p->offset, p->size,
			       p->dynsym_index, p->symbol, p->field);
			print_hex(p->old_bytes, p->size);
			printf(" ");
			print_hex(p->new_bytes, p->size);
			printf("\n");
		}
	}
}

int main(int argc, char **argv)
{
	if (argc != 2) { fprintf(stderr, "usage: blob_check IMAGE\n"); return 2; }
	long size;
	unsigned char *file = read_file(argv[1], &size);
	const unsigned char *start = CAT(VDSO_PREFIX, _start), *end = CAT(VDSO_PREFIX, _end);
	/* sizeof the array, not pages * page_size: the test compares the two */
	int ok = check_bytes("blob", BLOB.data, sizeof IMAGE_ARRAY, file, size);
	ok &= BLOB.data == IMAGE_ARRAY;
	ok &= check_bytes("incbin", start, (unsigned long)(end - start), file, size);
	if (ok) printf("bytes ok\n");
	print_tables();
	free(file);
	return ok ? 0 : 1;
}
