/*
 * Plays the kernel at boot with a generated C blob, for every CPU of its patch tables.
 *
 *   boot_check OUTDIR
 *
 * For each CPU of the blob, as a 2.6.15 kernel running on it would:
 *   1. copy the embedded image (the const array) into fresh memory;
 *   2. apply the CPU's .dynsym patch table from the C arrays (noting whether each entry's
 *      old bytes were there first);
 *   3. store the data-page distance into __kernel_datapage_offset (vdso_fixup_datapage);
 *   4. write the result to OUTDIR/<cpu>.so (the test compares it with `vdsotool patch`);
 *   5. map it with its data page after it and resolve symbols by name and version exactly
 *      as the execution harness does: vdsotool/verify/harness/harness.c is compiled in
 *      (its main renamed), so ELF resolution through .gnu.hash/.hash is not re-written;
 *   6. call __kernel_sync_dicache on freshly written code, and __kernel_get_syscall_map
 *      (which finds the data page through the word stored in step 3).
 *
 * Output, per CPU, three lines of key=value words (vdsotool.verify.harness.parse_line):
 *   boot cpu=NAME stale=0|1 sync=V sync_sysv=V gtod=V gtod_sysv=V
 *   icache rc=... first=... second=...     (the harness's icache command)
 *   map off=... count=... ...              (the harness's map command)
 * where V is the st_value a lookup finds through the GNU / SysV hash, -1 when none.
 * Built by tests/oracle/test_emit_boot.py with the harness's -DCFG_* flags, -DVDSO_PREFIX and
 * -DBLOB_HEADER, linked with the blob's .c, run under qemu-user (step 3 stores the word
 * in host byte order, which is the image's only on the target).
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
	memcpy(image + BLOB.datapage_offset_sym, &word, sizeof word);
}

static void write_file(const char *path, const unsigned char *data, unsigned long size)
{
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(data, 1, size, f) != size || fclose(f)) die("cannot write image");
}

static void boot(const struct vdsotool_cpu_patches *cpu, const char *outdir)
{
	unsigned long mapped = BLOB.pages * BLOB.page_size;
	unsigned char *copy = malloc(mapped);
	if (!copy) die("out of memory");
	memcpy(copy, BLOB.data, mapped);
	int stale = apply_table(copy, cpu);
	fixup_datapage(copy);
	char path[4096];
	snprintf(path, sizeof path, "%s/%s.so", outdir, cpu->name);
	write_file(path, copy, BLOB.size);
	free(copy);

	load(path); /* the harness maps the image with its data page after it */
	printf("boot cpu=%s stale=%d sync=%ld sync_sysv=%ld gtod=%ld gtod_sysv=%ld\n",
	       cpu->name, stale, lookup_gnu("__kernel_sync_dicache"),
	       lookup_sysv("__kernel_sync_dicache"), lookup_gnu("__kernel_gettimeofday"),
	       lookup_sysv("__kernel_gettimeofday"));
	cmd_icache("__kernel_sync_dicache");
	cmd_map(1);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	if (argc != 2) die("usage: boot_check OUTDIR");
	if (BLOB.page_size != PAGE) die("the harness maps 4096-byte pages");
	for (unsigned i = 0; i < BLOB.cpu_count; i++) boot(&BLOB.cpus[i], argv[1]);
	return 0;
}
