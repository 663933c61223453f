/*
 * Plays the kernel at boot with a generated C blob, for every CPU of its patch tables.
 *
 *   boot_check OUTDIR
 *
 * For each CPU: copy the embedded image, apply the CPU's .dynsym patch table from the C
 * arrays (checking the old bytes are there first), store the data-page distance into
 * __kernel_datapage_offset as the 2005 kernel does, write the result to OUTDIR/<cpu>.so,
 * then map it with its data page and resolve symbols by name and version exactly as the
 * execution harness does (vdsotool/verify/harness/harness.c is compiled in, its main
 * renamed), and call __kernel_sync_dicache on freshly written code.
 *
 * One line per CPU:
 *   boot cpu=NAME sync=<st_value seen> gtod=<st_value or -1 when hidden> stale=<0|1>
 * followed by the harness's "icache ..." line for __kernel_sync_dicache.
 * Built by tests/test_emit_boot.py with the harness's -DCFG_* flags, -DVDSO_PREFIX and
 * -DBLOB_HEADER, linked with the blob's .c.
 */
#define main harness_main
#include "harness.c"
#undef main

#include BLOB_HEADER

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define BLOB CAT(VDSO_PREFIX, _blob)

/* Apply one CPU's table to a copy; returns 1 when some old bytes were not as recorded. */
static int apply_table(unsigned char *image, const struct vdsotool_cpu_patches *cpu)
{
	int stale = 0;
	for (unsigned i = 0; i < cpu->count; i++) {
		const struct vdsotool_patch *p = &cpu->patches[i];
		if (memcmp(image + p->offset, p->old_bytes, p->size) != 0) stale = 1;
		memcpy(image + p->offset, p->new_bytes, p->size);
	}
	return stale;
}

/* vdso_fixup_datapage: the word holds the distance from itself to the data page. */
static void fixup_datapage(unsigned char *image)
{
	if (BLOB.datapage_offset_sym < 0) return;
	uint32_t word = (uint32_t)(BLOB.pages * BLOB.page_size - BLOB.datapage_offset_sym);
	memcpy(image + BLOB.datapage_offset_sym, &word, sizeof word); /* native = image order */
}

static void write_file(const char *path, const unsigned char *data, unsigned long size)
{
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(data, 1, size, f) != size || fclose(f)) die("cannot write image");
}

int main(int argc, char **argv)
{
	if (argc != 2) die("usage: boot_check OUTDIR");
	for (unsigned i = 0; i < BLOB.cpu_count; i++) {
		const struct vdsotool_cpu_patches *cpu = &BLOB.cpus[i];
		unsigned char *copy = malloc(BLOB.pages * BLOB.page_size);
		memcpy(copy, BLOB.data, BLOB.pages * BLOB.page_size);
		int stale = apply_table(copy, cpu);
		fixup_datapage(copy);
		char path[4096];
		snprintf(path, sizeof path, "%s/%s.so", argv[1], cpu->name);
		write_file(path, copy, BLOB.size);
		free(copy);

		load(path); /* the harness maps the image with its data page after it */
		printf("boot cpu=%s sync=%ld gtod=%ld stale=%d\n", cpu->name,
		       lookup("__kernel_sync_dicache"), lookup("__kernel_gettimeofday"), stale);
		cmd_icache("__kernel_sync_dicache");
		fflush(stdout);
	}
	return 0;
}
